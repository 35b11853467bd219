"""Data Mining Lab Freiberg: institutes, lab staff, methods, funding bodies, projects, sample
types, samples and experiments.

Field names and limits follow the original API. Institutes, methods, funding bodies and sample
types are platform-wide catalogues; lab staff records are admin-only. Projects belong to an
organization (an addition: the original is one lab), samples and experiments to their project's
organization (``organization_field``, which ``core.tenancy``, ``core.access`` and
``core.deletion`` follow).

Files live in the default storage under the names the original documents
(``sample_info/<sample_id>.json``, ``supplementary_files/<sample_id>.zip``,
``experiment_files/<pk>.zip``, ``method_files/<pk>.zip``, ``project_files/<pk>.zip``; a file
replaced later may carry a suffix the storage adds), written by ``dmlf.services`` and served
only through the API's access-checking views. A deleted row's files leave the storage once the
transaction commits (``dmlf.signals``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models.functions import Lower

from core.models import Organization
from dmlf.sample_types import schema_check, schema_load

SAMPLE_ID_HELP = "a unique 20-character identifier for the sample"
FILE_NAME_LENGTH = 255


class Institute(models.Model):
    """A research institute: where samples are made and methods run."""

    name = models.CharField(max_length=255)
    # Null, not "", where there is none: the original API answers null.
    affiliation = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, help_text="if applicable: umbrella organization"
    )
    street = models.CharField(max_length=50)
    postcode = models.CharField(max_length=10)
    city = models.CharField(max_length=50)
    telephone = models.CharField(max_length=50, help_text="e.g. administration office")
    email = models.EmailField(help_text="e.g. administration office")
    date_registered = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A person of the lab (admin only: never in the API). An experiment names the person
    who ran it; one linked to a platform account is named by default in that user's
    experiments."""

    institute = models.ForeignKey(Institute, on_delete=models.PROTECT, related_name="staff_members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dmlf_staff",
        help_text="The person's platform account, if any.",
    )
    first_name = models.CharField(max_length=255)
    last_name = models.CharField(max_length=255)
    email = models.EmailField(unique=True)
    telephone = models.CharField(max_length=50)
    active = models.BooleanField(
        choices=[(True, "Active"), (False, "Inactive")],
        default=False,
        help_text="employment status",
    )
    date_registered = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "staff member"
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Method(models.Model):
    """A measurement or preparation method of an institute."""

    institute = models.ForeignKey(Institute, on_delete=models.PROTECT, related_name="methods")
    name = models.CharField(max_length=255)
    method_file = models.FileField(
        upload_to="method_files",
        max_length=FILE_NAME_LENGTH,
        null=True,
        blank=True,
        verbose_name="path to method files",
        help_text="A ZIP archive, stored as method_files/<id>.zip.",
    )
    date_registered = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class FundingBody(models.Model):
    """Who funds projects."""

    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "funding bodies"

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A funded project of an organization; its samples and experiments belong to the same
    organization."""

    organization_field = "organization"

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="dmlf_projects",
        help_text="The organization whose members see the project; fixed after create.",
    )
    funding_body = models.ForeignKey(FundingBody, on_delete=models.PROTECT)
    name = models.CharField(max_length=255)
    abbreviation = models.CharField(max_length=50)
    funding_number = models.CharField(max_length=50)
    funding_period_start = models.DateField()
    funding_period_end = models.DateField()
    project_file = models.FileField(
        upload_to="project_files",
        max_length=FILE_NAME_LENGTH,
        null=True,
        blank=True,
        verbose_name="path to project files",
        help_text="A ZIP archive, stored as project_files/<id>.zip.",
    )
    date_registered = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The user who created the project.",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class SampleType(models.Model):
    """A kind of sample; its ``schema`` (JSON Schema) says what a sample's ``sample_info``
    file holds."""

    name = models.CharField(max_length=255)
    schema = models.TextField(
        help_text=(
            "JSON Schema (draft 2020-12) of the sample_info files of this type: an object "
            'with its fields under "properties" (their order is the order sample-type-info '
            'shows) and the required ones under "required". A field allows null with '
            '"type": ["string", "null"]; "description" becomes its help_text.'
        ),
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="dmlf_sampletype_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            schema_check(self.schema or "")
        except ValueError as exc:
            raise ValidationError({"schema": str(exc)}) from exc

    @property
    def json_schema(self) -> dict:
        return schema_load(self.schema)


class Sample(models.Model):
    """A sample, identified by its ``sample_id`` (``yymmdd_hhmmss_iiaaaa``)."""

    organization_field = "project__organization"

    sample_id = models.CharField(
        max_length=20,
        primary_key=True,
        validators=[MinLengthValidator(20)],
        help_text=SAMPLE_ID_HELP,
    )
    institute = models.ForeignKey(Institute, on_delete=models.PROTECT, related_name="samples")
    method = models.ForeignKey(
        Method, on_delete=models.PROTECT, null=True, blank=True, related_name="samples"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="samples")
    sample_type = models.ForeignKey(SampleType, on_delete=models.PROTECT, related_name="samples")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="dmlf_samples",
        help_text="Who created the sample (the authenticated user).",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=SAMPLE_ID_HELP,
    )
    name = models.CharField(max_length=255, help_text="free text field")
    date_created = models.DateField(help_text="date of creation, rarely: delivery")
    sample_info = models.FileField(
        upload_to="sample_info",
        max_length=FILE_NAME_LENGTH,
        verbose_name="sample information file",
        help_text="link to sample type-specific information",
    )
    supplementary_file = models.FileField(
        upload_to="supplementary_files",
        max_length=FILE_NAME_LENGTH,
        null=True,
        blank=True,
        verbose_name="supplementary file path",
        help_text="if applicable: datasheet, etc.",
    )
    date_registered = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sample_id"]

    def __str__(self) -> str:
        return self.sample_id


class Experiment(models.Model):
    """An experiment on a sample, with its data as a ZIP archive."""

    organization_field = "project__organization"

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="experiments")
    method = models.ForeignKey(Method, on_delete=models.PROTECT, related_name="experiments")
    staff = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="experiments",
        help_text="Who ran it; by default the creating user's staff record, if any.",
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="experiments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="dmlf_experiments",
        help_text="Who created the experiment (the authenticated user).",
    )
    name = models.CharField(max_length=255, help_text="free text field")
    date_created = models.DateField(help_text="when was the data created")
    experiment_file = models.FileField(
        upload_to="experiment_files",
        max_length=FILE_NAME_LENGTH,
        verbose_name="experimental data file path",
    )
    date_registered = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

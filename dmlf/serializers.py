"""Input of the DMLF API (its output is ``dmlf.wire``).

Serializers with the original's fields and validation (``sample_id``, ``sample_info``
against its sample type, ZIP archives checked by ``dmlf.archives`` before anything is stored),
plus the platform's rules (foreign keys within the user's organizations and within the
object's own organization, ``core.tenancy``). Their OpenAPI components are named
``DMLF<Name>`` in the platform's document and ``<Name>`` in DMLF's own, as the original's.
The token serializers of DMLF's own login are here too.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core import tokens
from core.fields import BoundedJSONField
from core.files import upload_check_size
from core.prepared import PreparedQuery
from core.tenancy import OrganizationScopedSerializerMixin
from dmlf.archives import ArchiveRejected, zip_inspect
from dmlf.models import (
    SAMPLE_ID_HELP,
    Experiment,
    FundingBody,
    Institute,
    Method,
    Project,
    Sample,
    SampleType,
)
from dmlf.sample_types import SampleInfoInvalid, sample_info_validate

SAMPLE_ID_PATTERN = re.compile(r"[0-9]{6}_[0-9]{6}_[0-9]{6}")
SAMPLE_ID_TAKEN = "Sample ID already exists. Please provide a unique Sample ID."
INVALID_JSON = "Invalid JSON file. Please upload a valid JSON file."
INVALID_STRUCTURE = "Invalid JSON structure for the selected sample type"


# --- Validation --------------------------------------------------------------------------------


def highest_institute_and_method_ids() -> tuple[int | None, int | None]:
    """The highest institute id and the highest method id, in one query."""
    quote = connection.ops.quote_name
    tables = [quote(model._meta.db_table) for model in (Institute, Method)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX({quote('id')}) FROM {tables[0]}), "
            f"(SELECT MAX({quote('id')}) FROM {tables[1]})"
        )
        return cursor.fetchone()


def sample_id_check(value: str) -> None:
    """The original's rules for a new ``sample_id`` (``yymmdd_hhmmss_iiaaaa``): a real date in
    the past, a valid time, institute and method codes no higher than the highest institute
    and method ids. A ``serializers.ValidationError`` says which part is wrong."""
    if not SAMPLE_ID_PATTERN.fullmatch(value):
        raise serializers.ValidationError(
            "Sample ID must be in the format 'yymmdd_hhmmss_iiaaaa' (digits)."
        )
    try:
        date = dt.datetime.strptime(value[:6], "%y%m%d").date()
    except ValueError as exc:
        raise serializers.ValidationError("The date part of the Sample ID is not valid.") from exc
    if date >= timezone.now().date():
        raise serializers.ValidationError("The date part of the Sample ID must be in the past.")
    try:
        dt.datetime.strptime(value[7:13], "%H%M%S")
    except ValueError as exc:
        raise serializers.ValidationError("The time part of the Sample ID is not valid.") from exc
    highest_ids = highest_institute_and_method_ids()
    for code, model, label, highest in (
        (int(value[14:16]), Institute, "institution code", highest_ids[0]),
        (int(value[16:20]), Method, "method code", highest_ids[1]),
    ):
        noun = model._meta.verbose_name
        if highest is None:
            raise serializers.ValidationError(
                f"No {noun} is registered yet: the {label} {code} cannot refer to one."
            )
        if code > highest:
            raise serializers.ValidationError(
                f"The {label} {code} exceeds the highest {noun} id {highest}."
            )


def zip_upload_check(upload, what: str):
    """An uploaded ZIP archive over ``DMLF_ZIP_MAX_SIZE`` is a 413; one that is not a ZIP or
    declares too much (``dmlf.archives``) a 400."""
    upload_check_size(upload, limit=settings.DMLF_ZIP_MAX_SIZE, what=what)
    try:
        zip_inspect(upload)
    except ArchiveRejected as exc:
        raise serializers.ValidationError(str(exc)) from exc
    return upload


def sample_info_parse(upload) -> object:
    """The JSON document of an uploaded ``sample_info`` file (at most
    ``DMLF_SAMPLE_INFO_MAX_SIZE`` bytes, else a 413), bounded in depth like every JSON input."""
    upload_check_size(upload, limit=settings.DMLF_SAMPLE_INFO_MAX_SIZE, what="The sample_info file")
    upload.seek(0)
    raw = upload.read()
    upload.seek(0)
    try:
        return BoundedJSONField(binary=True, allow_null=True).run_validation(raw)
    except serializers.ValidationError as exc:
        detail = exc.detail[0] if isinstance(exc.detail, list) else exc.detail
        reason = "" if str(detail) == "Value must be valid JSON." else f" {detail}"
        raise serializers.ValidationError(f"{INVALID_JSON}{reason}") from exc


class SampleRelatedField(serializers.PrimaryKeyRelatedField):
    """A sample named by its ``sample_id``: anything that cannot be one is refused before the
    database is asked (PostgreSQL refuses a NUL character with an error, not a miss)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not SAMPLE_ID_PATTERN.fullmatch(data):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


#: Primary keys read by a compiled query: positive, below every backend's integer limit.
COMPILED_PK_LIMIT = 2**63


class CompiledRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by primary key, read by a query compiled once per model
    (``core.prepared``) when the field's queryset is the model's whole table (the catalogues:
    institutes, methods, sample types) and the key a plain positive integer; anything else
    (a queryset scoped to the user's organizations, a key of another shape) as DRF reads it,
    with the same errors."""

    _by_pk: dict = {}

    def to_internal_value(self, data):
        pk = data if type(data) is int else None
        if isinstance(data, str) and data.isascii() and data.isdigit() and len(data) < 19:
            pk = int(data)
        queryset = self.get_queryset()
        query = queryset.query
        plain = not (query.where or query.annotations or query.is_sliced or query.select_related)
        if pk is None or not 0 < pk < COMPILED_PK_LIMIT or self.pk_field is not None or not plain:
            return super().to_internal_value(data)
        model = queryset.model
        by_pk = self._by_pk.get(model)
        if by_pk is None:
            by_pk = self._by_pk.setdefault(
                model, PreparedQuery(lambda pk: model._default_manager.filter(pk=pk))
            )
        found = by_pk.instances(pk)
        if not found:
            self.fail("does_not_exist", pk_value=data)
        return found[0]


# --- Serializers -------------------------------------------------------------------------------


@extend_schema_serializer(component_name="DMLFInstitute")
class InstituteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Institute
        fields = [
            "id",
            "name",
            "affiliation",
            "street",
            "postcode",
            "city",
            "telephone",
            "email",
            "date_registered",
        ]


@extend_schema_serializer(component_name="DMLFMethod")
class MethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Method
        fields = ["id", "name", "method_file", "date_registered", "institute"]


@extend_schema_serializer(component_name="DMLFFundingBody")
class FundingBodySerializer(serializers.ModelSerializer):
    class Meta:
        model = FundingBody
        fields = ["id", "name"]


@extend_schema_serializer(component_name="DMLFSampleType")
class SampleTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SampleType
        fields = ["id", "name"]


@extend_schema_serializer(component_name="DMLFProject")
class ProjectSerializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
    """A project; created by a member of its ``organization`` (an addition to the original,
    where staff create them)."""

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "abbreviation",
            "funding_number",
            "funding_period_start",
            "funding_period_end",
            "project_file",
            "date_registered",
            "funding_body",
            "organization",
        ]
        read_only_fields = ["project_file", "date_registered"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        start, end = attrs.get("funding_period_start"), attrs.get("funding_period_end")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"funding_period_end": ["The funding period cannot end before it starts."]}
            )
        return attrs


@extend_schema_serializer(component_name="DMLFSample")
class SampleSerializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
    """A sample with its ``sample_info`` JSON file (required) and a ZIP ``supplementary_file``
    (optional). The ``user`` is the authenticated user."""

    serializer_related_field = CompiledRelatedField
    sample_id = serializers.CharField(min_length=20, max_length=20, help_text=SAMPLE_ID_HELP)
    sample_info = serializers.FileField(
        label="Sample information file",
        help_text="link to sample type-specific information",
    )
    supplementary_file = serializers.FileField(
        required=False,
        allow_null=True,
        label="Supplementary file path",
        help_text="if applicable: datasheet, etc.",
    )
    parent = SampleRelatedField(
        queryset=Sample.objects.all(), required=False, allow_null=True, help_text=SAMPLE_ID_HELP
    )

    class Meta:
        model = Sample
        fields = [
            "sample_id",
            "name",
            "date_created",
            "sample_info",
            "supplementary_file",
            "date_registered",
            "institute",
            "method",
            "project",
            "sample_type",
            "user",
            "parent",
        ]
        read_only_fields = ["date_registered", "user"]

    def validate_sample_id(self, value: str) -> str:
        if self.instance is not None:
            if value != self.instance.pk:
                raise serializers.ValidationError("The sample ID cannot be changed.")
            return value
        sample_id_check(value)
        if Sample.objects.filter(pk=value).exists():
            raise serializers.ValidationError(SAMPLE_ID_TAKEN)
        return value

    def validate_sample_info(self, upload):
        self._sample_info_document = sample_info_parse(upload)
        return upload

    def validate_supplementary_file(self, upload):
        if upload is None:
            return None
        return zip_upload_check(upload, "The supplementary_file")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance
        sample_type = attrs.get("sample_type") or getattr(instance, "sample_type", None)
        if "sample_info" in attrs:
            document = self._sample_info_document
        elif instance is not None and "sample_type" in attrs:
            # A new type for the stored document: it must match that type too.
            with instance.sample_info.open("rb") as stored:
                document = BoundedJSONField(binary=True, allow_null=True).run_validation(
                    stored.read()
                )
        else:
            document = None
        if document is not None and sample_type is not None:
            try:
                sample_info_validate(sample_type.json_schema, document)
            except SampleInfoInvalid as exc:
                raise serializers.ValidationError(
                    {"sample_info": [f"{INVALID_STRUCTURE}: {m}" for m in exc.messages]}
                ) from exc
        parent = attrs.get("parent")
        if parent is not None and instance is not None:
            self._check_no_cycle(parent, instance)
        return attrs

    @staticmethod
    def _check_no_cycle(parent: Sample, instance: Sample) -> None:
        """A sample cannot descend from itself."""
        seen = set()
        current = parent.pk
        while current is not None and current not in seen:
            if current == instance.pk:
                raise serializers.ValidationError(
                    {"parent": ["A sample cannot be its own parent or an ancestor's child."]}
                )
            seen.add(current)
            current = Sample.objects.filter(pk=current).values_list("parent_id", flat=True).first()


@extend_schema_serializer(component_name="DMLFExperiment")
class ExperimentSerializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
    """An experiment with its data as a ZIP ``experiment_file`` (required). ``staff`` is
    optional: without it, the authenticated user's staff record if there is one. The
    ``user`` is the authenticated user."""

    serializer_related_field = CompiledRelatedField
    experiment_file = serializers.FileField(label="Experimental data file path")
    sample = SampleRelatedField(queryset=Sample.objects.all(), help_text=SAMPLE_ID_HELP)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "date_created",
            "experiment_file",
            "date_registered",
            "sample",
            "method",
            "staff",
            "project",
            "user",
        ]
        read_only_fields = ["date_registered", "user"]

    def validate_experiment_file(self, upload):
        return zip_upload_check(upload, "The experiment_file")


# --- Tokens ------------------------------------------------------------------------------------


class DMLFTokenObtainPairSerializer(tokens.TokenObtainPairSerializer):
    """A username (or email) and a password in; a refresh token (valid 1 day) and an access
    token (1 hour) out, accepted only under ``/dmlf/``. Wrong credentials: 401
    ``{"detail": "No active account found with the given credentials"}``."""

    token_class = tokens.DMLFRefreshToken

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Documented as the original's, after the credentials (the answer itself is what
        # ``validate`` returns).
        for name in ("access", "refresh"):
            self.fields[name] = serializers.CharField(read_only=True)


class DMLFTokenRefreshSerializer(tokens.TokenRefreshSerializer):
    """A DMLF refresh token in; a new access token out (the refresh token stays valid for its
    day, as the original's)."""

    token_class = tokens.DMLFRefreshToken

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # As the original documents it: the access token, then the refresh token sent.
        self.fields.pop("refresh")
        self.fields["refresh"] = serializers.CharField(
            write_only=True, help_text="The refresh token of the DMLF login."
        )

"""ReJoule BatteryDB v2: batteries, EIS and BMS tests with their data, files and models.

Every object belongs to an organization (``core.models.OrganizationOwnedModel``). Field
names follow the BatteryDB contract. EIS data rows and BMS results carry their test's
organization, copied at ingestion, so that scoping millions of rows needs no join.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import OrganizationOwnedModel

# Longest free-form text a field takes (characters); the database does not limit text columns.
MAX_NOTES_LENGTH = 10_000


class Tracked(OrganizationOwnedModel):
    """An organization's object with free-form notes and project tags."""

    notes = models.TextField(
        blank=True, default="", max_length=MAX_NOTES_LENGTH, help_text="Free-form notes."
    )
    projects = models.ManyToManyField(
        "batterydb.Project",
        blank=True,
        related_name="%(class)ss",
        help_text="Projects this object is sorted into (same organization).",
    )

    class Meta(OrganizationOwnedModel.Meta):
        abstract = True


class CreatedBy(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The user who created the object.",
    )

    class Meta:
        abstract = True


class Project(OrganizationOwnedModel):
    """A grouping of devices, batteries and tests for sorting and organization."""

    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True, default="", max_length=MAX_NOTES_LENGTH)

    class Meta(OrganizationOwnedModel.Meta):
        indexes = [models.Index(fields=["organization", "name"], name="bdb_project_org_name")]

    def __str__(self) -> str:
        return self.name


class StoredFile(OrganizationOwnedModel, CreatedBy):
    """An uploaded file. BMS files, DBC files and model versions refer to it by id."""

    file = models.FileField(upload_to="batterydb/%Y/%m/")
    name = models.CharField(max_length=255, help_text="The file name as uploaded.")
    size = models.PositiveBigIntegerField(default=0, help_text="Size in bytes.")
    content_type = models.CharField(max_length=100, blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return self.name


class BatteryType(Tracked):
    """A categorization of batteries based on manufacturer specifications."""

    class Classification(models.TextChoices):
        CELL = "cell", "Cell"
        MODULE = "module", "Module"
        PACK = "pack", "Pack"

    model = models.CharField(max_length=200, help_text="Manufacturer's model name.")
    classification = models.CharField(
        max_length=10, choices=Classification.choices, blank=True, default=""
    )
    chemistry = models.CharField(max_length=100, blank=True, default="")
    default_vehicle_model = models.CharField(max_length=100, blank=True, default="")
    default_vehicle_make = models.CharField(max_length=100, blank=True, default="")
    default_vehicle_year = models.PositiveIntegerField(null=True, blank=True)
    vehicle_charging_protocol = models.CharField(max_length=100, blank=True, default="")
    nominal_voltage = models.FloatField(null=True, blank=True, help_text="Volts.")
    maximum_voltage = models.FloatField(null=True, blank=True, help_text="Volts.")
    minimum_voltage = models.FloatField(null=True, blank=True, help_text="Volts.")
    nominal_capacity = models.FloatField(null=True, blank=True, help_text="Ampere-hours.")
    nominal_energy = models.FloatField(null=True, blank=True, help_text="Watt-hours.")
    default_battery_model = models.ForeignKey(
        "batterydb.BatteryModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    default_battery_model_version = models.ForeignKey(
        "batterydb.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.model


class Battery(Tracked):
    """A battery unit: a cell, a module or a pack."""

    battery_id = models.CharField(max_length=200, help_text="Serial number or human id.")
    battery_type = models.ForeignKey(
        BatteryType, on_delete=models.PROTECT, null=True, blank=True, related_name="batteries"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text="The module or pack this battery is part of.",
    )

    class Meta(Tracked.Meta):
        verbose_name_plural = "batteries"
        indexes = [models.Index(fields=["organization", "battery_id"], name="bdb_battery_org_bid")]

    def __str__(self) -> str:
        return self.battery_id


class EISDevice(Tracked):
    """A ReJoule EIS measurement device."""

    device_id = models.CharField(max_length=100, help_text="The device's serial id.")
    is_cycler = models.BooleanField(default=False)
    software_version = models.CharField(max_length=64, blank=True, default="")
    build_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=50, blank=True, default="")

    class Meta(Tracked.Meta):
        verbose_name = "EIS device"
        indexes = [models.Index(fields=["organization", "device_id"], name="bdb_eisdev_org_did")]

    def __str__(self) -> str:
        return self.device_id


class EISTest(Tracked, CreatedBy):
    """A test performed by a ReJoule EIS device: a frequency sweep on one battery."""

    battery = models.ForeignKey(
        Battery, on_delete=models.PROTECT, null=True, blank=True, related_name="eis_tests"
    )
    device = models.ForeignKey(
        EISDevice, on_delete=models.PROTECT, null=True, blank=True, related_name="eis_tests"
    )
    status = models.CharField(max_length=50, blank=True, default="")
    bms_keys = models.TextField(
        blank=True, default="", max_length=10_000, help_text="The BMS keys of the test."
    )
    bms_data = models.JSONField(
        null=True, blank=True, help_text="Field for storing BMS data as a json."
    )
    start_frequency = models.FloatField(null=True, blank=True, help_text="Hz.")
    end_frequency = models.FloatField(null=True, blank=True, help_text="Hz.")
    points_per_decade = models.PositiveIntegerField(null=True, blank=True)
    target_periods = models.PositiveIntegerField(null=True, blank=True)
    ocv_duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    ocv_periods = models.FloatField(null=True, blank=True)
    battery_model = models.ForeignKey(
        "batterydb.BatteryModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    battery_model_version = models.ForeignKey(
        "batterydb.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    device_software_version = models.CharField(max_length=64, blank=True, default="")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta(Tracked.Meta):
        verbose_name = "EIS test"

    def __str__(self) -> str:
        return f"EIS test {self.pk}"


class EISData(models.Model):
    """One EIS data point: a parameter's value at a frequency of a test.

    ``frequency`` is null for OCV and test parameters. ``(test, frequency, parameter)`` is
    unique; since NULLs are distinct in unique indexes, two partial constraints enforce it.
    """

    organization_field = "organization"

    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        # A copy of the test's organization, which the test's own foreign key already
        # guarantees; a database constraint here would be checked again on every row of a
        # bulk COPY. Deleting an organization still cascades (Django's collector).
        db_constraint=False,
        editable=False,
        help_text="The test's organization, copied at ingestion.",
    )
    # Indexed by itself: the partial unique indexes below cannot serve a lookup by test alone,
    # which the database's own foreign key check runs for every deleted test.
    test = models.ForeignKey(EISTest, on_delete=models.CASCADE, related_name="data")
    frequency = models.FloatField(
        null=True, blank=True, help_text="Hz; null for OCV and test parameters."
    )
    parameter = models.CharField(max_length=64, help_text="For example z_real, z_imag, ocv.")
    value = models.FloatField()

    class Meta:
        ordering = ["id"]
        verbose_name = "EIS data point"
        verbose_name_plural = "EIS data"
        constraints = [
            models.UniqueConstraint(
                fields=["test", "frequency", "parameter"],
                condition=Q(frequency__isnull=False),
                name="bdb_eisdata_unique_point",
            ),
            models.UniqueConstraint(
                fields=["test", "parameter"],
                condition=Q(frequency__isnull=True),
                name="bdb_eisdata_unique_scalar",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test_id} {self.parameter}@{self.frequency}={self.value}"


class DBCFile(Tracked):
    """A CAN database (DBC) file for interpreting BMS data."""

    name = models.CharField(max_length=200, blank=True, default="")
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    summary = models.JSONField(
        default=dict, blank=True, help_text="Messages and signals found when the file was parsed."
    )

    class Meta(Tracked.Meta):
        verbose_name = "DBC file"

    def __str__(self) -> str:
        return self.name or f"DBC file {self.pk}"


class BMSTest(Tracked):
    """A test performed by a BMS device."""

    battery = models.ForeignKey(
        Battery, on_delete=models.PROTECT, null=True, blank=True, related_name="bms_tests"
    )
    device = models.ForeignKey(
        EISDevice, on_delete=models.PROTECT, null=True, blank=True, related_name="bms_tests"
    )
    default_dbc = models.ForeignKey(
        DBCFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_eis_test = models.ForeignKey(
        EISTest, on_delete=models.SET_NULL, null=True, blank=True, related_name="bms_tests"
    )
    linked_cycling_test = models.PositiveIntegerField(null=True, blank=True)
    cycling_step_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=50, blank=True, default="")
    device_software_version = models.CharField(max_length=64, blank=True, default="")

    class Meta(Tracked.Meta):
        verbose_name = "BMS test"

    def __str__(self) -> str:
        return f"BMS test {self.pk}"


class BMSResult(models.Model):
    """One BMS reading: a parameter's value at a time. ``(bms_test, timestamp, parameter)``
    is unique."""

    organization_field = "organization"

    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        # A copy of the test's organization, which the test's own foreign key already
        # guarantees; a database constraint here would be checked again on every row of a
        # bulk COPY. Deleting an organization still cascades (Django's collector).
        db_constraint=False,
        editable=False,
        help_text="The test's organization, copied at ingestion.",
    )
    bms_test = models.ForeignKey(
        BMSTest, on_delete=models.CASCADE, related_name="results", db_index=False
    )
    timestamp = models.DateTimeField()
    parameter = models.CharField(max_length=64)
    value = models.FloatField()
    source_file = models.ForeignKey(
        "BMSFile",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        # Like ``organization``: no constraint checked again on every row of a bulk COPY;
        # deleting the file deletes its rows (batterydb.services).
        db_constraint=False,
        editable=False,
        help_text="The BMS file (a CAN log) these rows were decoded from; empty for rows "
        "posted directly.",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "BMS result"
        constraints = [
            models.UniqueConstraint(
                fields=["bms_test", "timestamp", "parameter"], name="bdb_bmsresult_unique_point"
            ),
        ]
        indexes = [
            # Re-decoding or deleting a file finds its rows; rows posted directly (most) are
            # not in the index.
            models.Index(
                fields=["source_file"],
                name="bdb_bmsresult_source_file",
                condition=models.Q(source_file__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bms_test_id} {self.parameter}@{self.timestamp}={self.value}"


class BMSFile(Tracked):
    """A data file of a BMS test."""

    bms_test = models.ForeignKey(
        BMSTest, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    latest_batch = models.CharField(max_length=100, blank=True, default="")

    class Meta(Tracked.Meta):
        verbose_name = "BMS file"

    def __str__(self) -> str:
        return f"BMS file {self.pk}"


class BatteryModel(Tracked, CreatedBy):
    """A predictive model for one or more battery types."""

    name = models.CharField(max_length=200)
    battery_type = models.ManyToManyField(BatteryType, blank=True, related_name="battery_models")

    def __str__(self) -> str:
        return self.name


class ModelVersion(Tracked, CreatedBy):
    """A version of a battery model; files may be attached after creating it."""

    battery_model = models.ForeignKey(
        BatteryModel, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.CharField(max_length=64)
    file = models.ForeignKey(
        StoredFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    capacity_prediction_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="Depracated in favor of Output Indices"
    )
    soh_prediction_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="Depracated in favor of Output Indices"
    )
    grading_prediction_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="Depracated in favor of Output Indices"
    )
    confidence_score_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="Depracated in favor of Output Indices"
    )
    output_indices = models.JSONField(
        default=dict, blank=True, help_text="Name of each model output mapped to its index."
    )

    def __str__(self) -> str:
        return f"{self.battery_model_id} v{self.version}"


class ModelPrediction(Tracked, CreatedBy):
    """A model version's prediction for one EIS test."""

    battery_model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    test = models.ForeignKey(EISTest, on_delete=models.CASCADE, related_name="predictions")
    capacity_prediction = models.FloatField(null=True, blank=True)
    soh_prediction = models.FloatField(null=True, blank=True)
    grading_prediction = models.CharField(max_length=50, blank=True, default="")
    confidence_score = models.FloatField(null=True, blank=True)
    capacity_std = models.FloatField(null=True, blank=True)
    soh_std = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"prediction {self.pk}"


# The analyses live in their own module (this one would pass 500 lines); Django finds them here.
from batterydb.models_analysis import EISAnalysis, EISAnalysisPolicy  # noqa: E402, F401

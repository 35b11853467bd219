"""FilterSets of the BatteryDB resources: every filter the contract documents, plus
``created``/``updated`` dates and ``created_after``/``created_before``/``updated_after``/
``updated_before`` ranges."""

from __future__ import annotations

import django_filters
from django_filters.widgets import BooleanWidget

from batterydb.models import (
    Battery,
    BatteryModel,
    BatteryType,
    BMSFile,
    BMSResult,
    BMSTest,
    DBCFile,
    EISAnalysis,
    EISAnalysisPolicy,
    EISData,
    EISDevice,
    EISTest,
    ModelPrediction,
    ModelVersion,
    Project,
)
from core.fields import BoundedIsoDateTimeFilter
from core.filters import (
    CachedFormFilterSet,
    IdListFilter,
    IntegerFilter,
    TimestampedFilterSet,
    ValueListFilter,
)


class EISDataFilterSet(CachedFormFilterSet):
    """``test`` (repeatable, ``?test=1&test=2`` or ``?test=1,2``), ``parameter`` (likewise),
    ``frequency`` (exact, or ``frequency_min``/``frequency_max``, or ``frequency_isnull``)
    and ``value_min``/``value_max`` of EIS data."""

    id = django_filters.NumberFilter()
    # A plain ``test_id IN (...)``: the index on ``test_id`` serves it (PostgreSQL scans that
    # index for a few tests, the primary key in order for many), whether or not the
    # frequency is null.
    test = IdListFilter(field_name="test_id")
    organization = django_filters.NumberFilter(field_name="organization_id")
    parameter = ValueListFilter(field_name="parameter")
    frequency = django_filters.NumberFilter()
    frequency_min = django_filters.NumberFilter(field_name="frequency", lookup_expr="gte")
    frequency_max = django_filters.NumberFilter(field_name="frequency", lookup_expr="lte")
    frequency_isnull = django_filters.BooleanFilter(field_name="frequency", lookup_expr="isnull")
    value_min = django_filters.NumberFilter(field_name="value", lookup_expr="gte")
    value_max = django_filters.NumberFilter(field_name="value", lookup_expr="lte")

    class Meta:
        model = EISData
        fields = ["id", "test", "organization", "parameter", "frequency"]


class BMSResultFilterSet(CachedFormFilterSet):
    """``bms_test`` and ``parameter`` (repeatable or comma-separated), a ``timestamp``
    (exact instant) or ``timestamp_after``/``timestamp_before`` range, and
    ``value_min``/``value_max`` of BMS results."""

    id = django_filters.NumberFilter()
    bms_test = IdListFilter(field_name="bms_test_id")
    organization = django_filters.NumberFilter(field_name="organization_id")
    parameter = ValueListFilter(field_name="parameter")
    timestamp = BoundedIsoDateTimeFilter()
    timestamp_after = BoundedIsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    timestamp_before = BoundedIsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    value_min = django_filters.NumberFilter(field_name="value", lookup_expr="gte")
    value_max = django_filters.NumberFilter(field_name="value", lookup_expr="lte")

    class Meta:
        model = BMSResult
        fields = ["id", "bms_test", "organization", "parameter", "timestamp"]


# --- Resources --------------------------------------------------------------------------------
# Foreign keys filter by id (``NumberFilter``), which costs no query and reveals nothing about
# other organizations' objects; ``project`` filters on the ``projects`` many-to-many.


class ResourceFilterSet(TimestampedFilterSet):
    """``id`` and ``organization``, plus the created/updated dates and ranges."""

    id = IntegerFilter()
    organization = IntegerFilter(field_name="organization_id")


class ProjectTaggedFilterSet(ResourceFilterSet):
    """Adds ``project``: objects sorted into that project."""

    project = IntegerFilter(field_name="projects")


class ProjectFilterSet(ResourceFilterSet):
    name = django_filters.CharFilter()

    class Meta:
        model = Project
        fields = ["id", "organization", "name"]


class BatteryTypeFilterSet(ProjectTaggedFilterSet):
    model = django_filters.CharFilter()
    chemistry = django_filters.CharFilter()
    default_vehicle_model = django_filters.CharFilter()
    default_vehicle_make = django_filters.CharFilter()
    default_vehicle_year = IntegerFilter()
    vehicle_charging_protocol = django_filters.CharFilter()
    classification = django_filters.ChoiceFilter(choices=BatteryType.Classification.choices)

    class Meta:
        model = BatteryType
        fields = [
            "id",
            "organization",
            "model",
            "chemistry",
            "default_vehicle_model",
            "default_vehicle_make",
            "default_vehicle_year",
            "vehicle_charging_protocol",
            "classification",
            "project",
        ]


class BatteryFilterSet(ProjectTaggedFilterSet):
    battery_id = django_filters.CharFilter()
    battery_type = IntegerFilter(field_name="battery_type_id")
    parent = IntegerFilter(field_name="parent_id")

    class Meta:
        model = Battery
        fields = ["id", "organization", "battery_id", "battery_type", "parent", "project"]


class EISDeviceFilterSet(ProjectTaggedFilterSet):
    device_id = django_filters.CharFilter()
    status = django_filters.CharFilter()
    is_cycler = django_filters.BooleanFilter(widget=BooleanWidget())

    class Meta:
        model = EISDevice
        fields = ["id", "organization", "device_id", "status", "is_cycler", "project"]


class EISTestFilterSet(ProjectTaggedFilterSet):
    """Also ``completed`` (the day of ``completed_at``) and its ``_after``/``_before`` range."""

    battery = IntegerFilter(field_name="battery_id")
    device = IntegerFilter(field_name="device_id")
    status = django_filters.CharFilter()
    completed = django_filters.DateFilter(field_name="completed_at", lookup_expr="date")
    completed_after = BoundedIsoDateTimeFilter(field_name="completed_at", lookup_expr="gte")
    completed_before = BoundedIsoDateTimeFilter(field_name="completed_at", lookup_expr="lt")

    class Meta:
        model = EISTest
        fields = ["id", "organization", "battery", "device", "status", "project", "completed"]


class BMSTestFilterSet(ProjectTaggedFilterSet):
    battery = IntegerFilter(field_name="battery_id")
    device = IntegerFilter(field_name="device_id")
    linked_eis_test = IntegerFilter(field_name="linked_eis_test_id")
    linked_cycling_test = IntegerFilter()
    cycling_step_number = IntegerFilter()
    status = django_filters.CharFilter()

    class Meta:
        model = BMSTest
        fields = [
            "id",
            "organization",
            "battery",
            "device",
            "linked_eis_test",
            "linked_cycling_test",
            "cycling_step_number",
            "status",
            "project",
        ]


class BMSFileFilterSet(ProjectTaggedFilterSet):
    bms_test = IntegerFilter(field_name="bms_test_id")

    class Meta:
        model = BMSFile
        fields = ["id", "organization", "bms_test", "project"]


class DBCFileFilterSet(ProjectTaggedFilterSet):
    name = django_filters.CharFilter()

    class Meta:
        model = DBCFile
        fields = ["id", "organization", "name", "project"]


class BatteryModelFilterSet(ProjectTaggedFilterSet):
    """``battery_type`` matches models made for that battery type (many-to-many)."""

    battery_type = IntegerFilter(field_name="battery_type")
    name = django_filters.CharFilter()

    class Meta:
        model = BatteryModel
        fields = ["id", "organization", "battery_type", "name", "project"]


class ModelVersionFilterSet(ProjectTaggedFilterSet):
    battery_model = IntegerFilter(field_name="battery_model_id")
    version = django_filters.CharFilter()

    class Meta:
        model = ModelVersion
        fields = ["id", "organization", "battery_model", "version", "project"]


class ModelPredictionFilterSet(ProjectTaggedFilterSet):
    """``battery_model`` goes through the prediction's model version."""

    battery_model = IntegerFilter(field_name="battery_model_version__battery_model_id")
    battery_model_version = IntegerFilter(field_name="battery_model_version_id")
    test = IntegerFilter(field_name="test_id")

    class Meta:
        model = ModelPrediction
        fields = [
            "id",
            "organization",
            "battery_model",
            "battery_model_version",
            "test",
            "project",
        ]


class EISAnalysisPolicyFilterSet(django_filters.FilterSet):
    """Re-analysis policies by ``organization``."""

    organization = IntegerFilter(field_name="organization_id")

    class Meta:
        model = EISAnalysisPolicy
        fields = ["organization"]


class EISAnalysisFilterSet(TimestampedFilterSet):
    """EIS analyses by ``test`` (repeatable or comma-separated), ``battery`` (the test's),
    ``stale``, ``kk_passed``, the test's ``completed_after``/``completed_before`` and the
    analysis' ``created``/``updated`` dates and ranges."""

    test = IdListFilter(field_name="test_id")
    battery = IntegerFilter(field_name="test__battery_id")
    organization = IntegerFilter(field_name="organization_id")
    stale = django_filters.BooleanFilter(widget=BooleanWidget())
    kk_passed = django_filters.BooleanFilter(widget=BooleanWidget())
    completed_after = BoundedIsoDateTimeFilter(field_name="test__completed_at", lookup_expr="gte")
    completed_before = BoundedIsoDateTimeFilter(field_name="test__completed_at", lookup_expr="lt")

    class Meta:
        model = EISAnalysis
        fields = ["test", "battery", "organization", "stale", "kk_passed"]

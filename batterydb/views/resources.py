"""ViewSets of the BatteryDB resources under ``/api/v2/``.

Each is a short declaration: queryset (with the joins and prefetches that keep a list page at
a constant number of queries), serializer, FilterSet and ordering fields. Scoping, roles,
atomic writes and bulk create of JSON lists come from ``OrganizationScopedModelViewSet``.
The resources that carry an uploaded file are in ``batterydb.views.files``.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from batterydb import filters
from batterydb.models import (
    Battery,
    BatteryModel,
    BatteryType,
    BMSTest,
    EISDevice,
    EISTest,
    ModelPrediction,
    Project,
)
from batterydb.serializers import resources as serializers
from core.viewsets import OrganizationScopedModelViewSet

TIMESTAMPS = ["created_at", "updated_at"]


def projects_prefetch() -> Prefetch:
    """The ``projects`` ids of each row, in one query per page."""
    return Prefetch("projects", queryset=Project.objects.only("id"))


def crud_schema(name: str, plural: str):
    """OpenAPI summaries for a resource's CRUD operations."""
    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}"),
        create=extend_schema(
            summary=f"Create one {name}, or several from a JSON list",
            description=(
                "Send one object, or a JSON list of objects to create them all in one "
                "transaction (any bad item: 400 keyed by the item's index, nothing written). "
                'With `Prefer: return=minimal` a list answers `{"created": n}`. '
                "Creating requires the Member role in the organization."
            ),
        ),
        retrieve=extend_schema(summary=f"Retrieve a {name}"),
        update=extend_schema(summary=f"Replace a {name} (Member role)"),
        partial_update=extend_schema(summary=f"Update some fields of a {name} (Member role)"),
        destroy=extend_schema(summary=f"Delete a {name} (Owner role)"),
    )


class ResourceViewSet(OrganizationScopedModelViewSet):
    """Base of the BatteryDB resource viewsets, ordered by ``id`` unless asked otherwise.

    Ids are integers; a detail route does not restrict its pattern to digits (so that the
    schema shows the id as an integer), which is why nested collections such as
    ``batteries/types/`` are registered before ``batteries/``.
    """

    ordering = ["id"]


@crud_schema("project", "projects")
class ProjectViewSet(ResourceViewSet):
    """A grouping of devices, batteries, and tests for sorting and organization."""

    queryset = Project.objects.all()
    serializer_class = serializers.ProjectSerializer
    filterset_class = filters.ProjectFilterSet
    ordering_fields = ["id", "name", *TIMESTAMPS]


@crud_schema("battery type", "battery types")
class BatteryTypeViewSet(ResourceViewSet):
    """A categorization of batteries based on manufacturer specifications."""

    queryset = BatteryType.objects.prefetch_related(projects_prefetch())
    serializer_class = serializers.BatteryTypeSerializer
    filterset_class = filters.BatteryTypeFilterSet
    ordering_fields = [
        "id",
        "model",
        "chemistry",
        "classification",
        "default_vehicle_year",
        *TIMESTAMPS,
    ]


@crud_schema("battery", "batteries")
class BatteryViewSet(ResourceViewSet):
    """A battery unit that can be a cell, module, or pack."""

    queryset = Battery.objects.prefetch_related(projects_prefetch())
    serializer_class = serializers.BatterySerializer
    filterset_class = filters.BatteryFilterSet
    ordering_fields = ["id", "battery_id", *TIMESTAMPS]


@crud_schema("EIS device", "EIS devices")
class EISDeviceViewSet(ResourceViewSet):
    """A ReJoule EIS measurement device."""

    queryset = EISDevice.objects.prefetch_related(projects_prefetch())
    serializer_class = serializers.EISDeviceSerializer
    filterset_class = filters.EISDeviceFilterSet
    ordering_fields = ["id", "device_id", "status", "build_date", *TIMESTAMPS]


@crud_schema("EIS test", "EIS tests")
class EISTestViewSet(ResourceViewSet):
    """A test performed by a ReJoule EIS device."""

    queryset = EISTest.objects.select_related("created_by").prefetch_related(projects_prefetch())
    serializer_class = serializers.EISTestSerializer
    filterset_class = filters.EISTestFilterSet
    ordering_fields = ["id", "status", "completed_at", "battery", "device", *TIMESTAMPS]


@crud_schema("BMS test", "BMS tests")
class BMSTestViewSet(ResourceViewSet):
    """A test performed by a BMS device."""

    queryset = BMSTest.objects.prefetch_related(projects_prefetch())
    serializer_class = serializers.BMSTestSerializer
    filterset_class = filters.BMSTestFilterSet
    ordering_fields = ["id", "status", "cycling_step_number", *TIMESTAMPS]


@crud_schema("battery model", "battery models")
class BatteryModelViewSet(ResourceViewSet):
    """A predictive model for one or more battery types."""

    queryset = BatteryModel.objects.select_related("created_by").prefetch_related(
        projects_prefetch(),
        Prefetch("battery_type", queryset=BatteryType.objects.only("id")),
    )
    serializer_class = serializers.BatteryModelSerializer
    filterset_class = filters.BatteryModelFilterSet
    ordering_fields = ["id", "name", *TIMESTAMPS]


@crud_schema("model prediction", "model predictions")
class ModelPredictionViewSet(ResourceViewSet):
    """A model version's prediction for one EIS test."""

    queryset = ModelPrediction.objects.select_related("created_by").prefetch_related(
        projects_prefetch()
    )
    serializer_class = serializers.ModelPredictionSerializer
    filterset_class = filters.ModelPredictionFilterSet
    ordering_fields = [
        "id",
        "capacity_prediction",
        "soh_prediction",
        "confidence_score",
        *TIMESTAMPS,
    ]

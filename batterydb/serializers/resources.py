"""Serializers of the BatteryDB resources, with the fields the contract names.

Every serializer limits ``organization`` and each foreign key to the requesting user's
organizations and keeps foreign keys inside the object's own organization
(``OrganizationScopedSerializerMixin``). ``created_by`` is the creator's username, set from
the request. Files arrive as a multipart ``file`` part and are answered as the id of the
stored file, with a ``download`` link.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from batterydb.models import (
    Battery,
    BatteryModel,
    BatteryType,
    BMSFile,
    BMSTest,
    DBCFile,
    EISDevice,
    EISTest,
    ModelPrediction,
    ModelVersion,
    Project,
)
from batterydb.services.files import (
    DBCParseError,
    DBCTooLarge,
    dbc_parse,
    upload_display_name,
)
from core.exceptions import PayloadTooLarge
from core.fields import BoundedFieldsMixin
from core.tenancy import OrganizationScopedSerializerMixin

COMMON_READ_ONLY = ["id", "created_at", "updated_at"]


class ResourceSerializer(
    BoundedFieldsMixin, OrganizationScopedSerializerMixin, serializers.ModelSerializer
):
    """Base of the resource serializers: organization scoping, bounded JSON fields, and
    ``created_by`` set from the request on models that record it."""

    def create(self, validated_data):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        model = self.Meta.model
        if any(f.name == "created_by" for f in model._meta.concrete_fields):
            validated_data["created_by"] = user if user and user.is_authenticated else None
        return super().create(validated_data)


class CreatedByField(serializers.SlugRelatedField):
    """The creator's username, read-only; null when the creator's account is gone (or the
    object was made outside the API)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "Username of the user who created the object.")
        super().__init__(**kwargs)


class StoredFileUploadField(serializers.FileField):
    """A file: uploaded as a multipart part, answered as the id of the stored file."""

    def get_attribute(self, instance):
        return getattr(instance, f"{self.source}_id", None)

    def to_representation(self, value):
        return value


class StoredFileUploadFieldExtension(OpenApiSerializerFieldExtension):
    """In requests the file's bytes; in responses the integer id of the stored file."""

    target_class = StoredFileUploadField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return build_basic_type(OpenApiTypes.BINARY)
        return build_basic_type(OpenApiTypes.INT)


class DownloadLinkMixin(serializers.Serializer):
    """A read-only ``download`` field: the absolute URL of ``<detail>/download/``."""

    download_view_name = ""

    download = serializers.SerializerMethodField(
        help_text="Absolute URL that downloads the file (null when there is none)."
    )

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download(self, obj) -> str | None:
        if getattr(obj, "file_id", None) is None:
            return None
        return reverse(
            self.download_view_name, kwargs={"pk": obj.pk}, request=self.context.get("request")
        )


class ProjectSerializer(ResourceSerializer):
    class Meta:
        model = Project
        fields = ["id", "organization", "name", "notes", "created_at", "updated_at"]
        read_only_fields = COMMON_READ_ONLY


class BatteryTypeSerializer(ResourceSerializer):
    class Meta:
        model = BatteryType
        fields = [
            "id",
            "organization",
            "model",
            "classification",
            "chemistry",
            "default_vehicle_model",
            "default_vehicle_make",
            "default_vehicle_year",
            "vehicle_charging_protocol",
            "nominal_voltage",
            "maximum_voltage",
            "minimum_voltage",
            "nominal_capacity",
            "nominal_energy",
            "default_battery_model",
            "default_battery_model_version",
            "projects",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = COMMON_READ_ONLY

    def validate(self, attrs):
        attrs = super().validate(attrs)
        _check_version_of_model(
            self,
            attrs,
            model_field="default_battery_model",
            version_field="default_battery_model_version",
        )
        return attrs


class BatterySerializer(ResourceSerializer):
    class Meta:
        model = Battery
        fields = [
            "id",
            "organization",
            "battery_id",
            "battery_type",
            "parent",
            "projects",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = COMMON_READ_ONLY

    def validate_parent(self, parent: Battery | None) -> Battery | None:
        instance = self.instance if isinstance(self.instance, Battery) else None
        if parent is None or instance is None:
            return parent
        # Walk up from the new parent: meeting this battery would make a loop.
        seen, current = set(), parent
        while current is not None and current.pk not in seen:
            if current.pk == instance.pk:
                raise serializers.ValidationError("A battery cannot be part of itself.")
            seen.add(current.pk)
            current = current.parent
        return parent


class EISDeviceSerializer(ResourceSerializer):
    class Meta:
        model = EISDevice
        fields = [
            "id",
            "device_id",
            "organization",
            "is_cycler",
            "software_version",
            "build_date",
            "projects",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = COMMON_READ_ONLY


class EISTestSerializer(ResourceSerializer):
    created_by = CreatedByField()

    class Meta:
        model = EISTest
        fields = [
            "id",
            "organization",
            "battery",
            "device",
            "status",
            "projects",
            "notes",
            "bms_keys",
            "bms_data",
            "start_frequency",
            "end_frequency",
            "points_per_decade",
            "target_periods",
            "ocv_duration",
            "ocv_periods",
            "battery_model",
            "battery_model_version",
            "device_software_version",
            "created_at",
            "updated_at",
            "created_by",
            "completed_at",
        ]
        read_only_fields = [*COMMON_READ_ONLY, "created_by"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        _check_version_of_model(
            self, attrs, model_field="battery_model", version_field="battery_model_version"
        )
        return attrs


class BMSTestSerializer(ResourceSerializer):
    class Meta:
        model = BMSTest
        fields = [
            "id",
            "organization",
            "battery",
            "device",
            "default_dbc",
            "linked_eis_test",
            "linked_cycling_test",
            "cycling_step_number",
            "status",
            "projects",
            "notes",
            "created_at",
            "updated_at",
            "device_software_version",
        ]
        read_only_fields = COMMON_READ_ONLY


class BMSFileSerializer(DownloadLinkMixin, ResourceSerializer):
    """A BMS data file. Create with a multipart ``file`` part; ``file`` is optional on update,
    where a new upload replaces the stored file."""

    download_view_name = "batterydb:bms-file-download"

    file = StoredFileUploadField(
        help_text="The file reference that is storing this BMS file: upload it as a multipart "
        "part; answered as the stored file's id."
    )

    class Meta:
        model = BMSFile
        fields = [
            "id",
            "organization",
            "bms_test",
            "file",
            "download",
            "latest_batch",
            "projects",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = COMMON_READ_ONLY

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["file"].required = False
        return fields


class DBCFileSerializer(DownloadLinkMixin, ResourceSerializer):
    """A CAN database file. The upload must parse as DBC; ``summary`` lists what it holds."""

    download_view_name = "batterydb:dbc-file-download"

    file = StoredFileUploadField(
        help_text="The DBC file: upload it as a multipart part; answered as the stored file's id."
    )

    class Meta:
        model = DBCFile
        fields = [
            "id",
            "organization",
            "name",
            "file",
            "download",
            "summary",
            "projects",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*COMMON_READ_ONLY, "summary"]
        extra_kwargs = {"name": {"help_text": "Defaults to the uploaded file's name."}}

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["file"].required = False
        return fields

    def validate(self, attrs):
        attrs = super().validate(attrs)
        upload = attrs.get("file")
        if upload is None:
            return attrs
        try:
            attrs["summary"] = dbc_parse(upload=upload)
        except DBCTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from exc
        except DBCParseError as exc:
            raise serializers.ValidationError({"file": [str(exc)]}) from exc
        if not attrs.get("name") and (self.instance is None or not self.instance.name):
            max_length = DBCFile._meta.get_field("name").max_length
            attrs["name"] = upload_display_name(upload)[:max_length]
        return attrs


class BatteryModelSerializer(ResourceSerializer):
    created_by = CreatedByField()

    class Meta:
        model = BatteryModel
        fields = [
            "id",
            "organization",
            "battery_type",
            "name",
            "projects",
            "notes",
            "created_at",
            "updated_at",
            "created_by",
        ]
        read_only_fields = [*COMMON_READ_ONLY, "created_by"]


class ModelVersionSerializer(DownloadLinkMixin, ResourceSerializer):
    """A version of a battery model. A file may be attached at create or later, as a
    multipart ``file`` part."""

    download_view_name = "batterydb:model-version-download"

    created_by = CreatedByField()
    file = StoredFileUploadField(
        required=False,
        allow_null=True,
        help_text="The model file: upload it as a multipart part; answered as the stored "
        "file's id. Files may be attached after creating the model version; null detaches it.",
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "organization",
            "battery_model",
            "version",
            "file",
            "download",
            "capacity_prediction_index",
            "soh_prediction_index",
            "grading_prediction_index",
            "confidence_score_index",
            "output_indices",
            "projects",
            "notes",
            "created_at",
            "updated_at",
            "created_by",
        ]
        read_only_fields = [*COMMON_READ_ONLY, "created_by"]


class ModelPredictionSerializer(ResourceSerializer):
    created_by = CreatedByField()

    class Meta:
        model = ModelPrediction
        fields = [
            "id",
            "organization",
            "battery_model_version",
            "test",
            "capacity_prediction",
            "soh_prediction",
            "grading_prediction",
            "confidence_score",
            "capacity_std",
            "soh_std",
            "projects",
            "notes",
            "created_at",
            "updated_at",
            "created_by",
        ]
        read_only_fields = [*COMMON_READ_ONLY, "created_by"]


def _check_version_of_model(
    serializer: serializers.Serializer, attrs: dict, *, model_field: str, version_field: str
) -> None:
    """A model version given together with a model must be a version of that model."""
    instance = serializer.instance
    model = attrs[model_field] if model_field in attrs else getattr(instance, model_field, None)
    version = (
        attrs[version_field] if version_field in attrs else getattr(instance, version_field, None)
    )
    if model is not None and version is not None and version.battery_model_id != model.pk:
        raise serializers.ValidationError(
            {version_field: [f"Must be a version of battery model {model.pk}."]}
        )

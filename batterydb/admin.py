"""Admin pages for every BatteryDB model.

Foreign keys use autocompletion, so no page loads a whole related table into a select box.
The measurement tables (EIS data, BMS results) hold millions of rows: their change lists join
nothing, count at most ``LargeTablePaginator.CAP`` rows (an unfiltered PostgreSQL table is
estimated from its statistics), never count the whole table twice
(``show_full_result_count = False``) and offer no filter that has to scan a column. An
object's organization is read-only once it exists (``core.admin.OrganizationOwnedAdmin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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
    StoredFile,
)
from core.admin import LargeTablePaginator, OrganizationOwnedAdmin

ORGANIZATION_OWNED = ["organization", "created_at"]


class TrackedAdmin(OrganizationOwnedAdmin):
    autocomplete_fields = ["organization", "projects"]


@admin.register(Project)
class ProjectAdmin(OrganizationOwnedAdmin):
    list_display = ["id", "name", *ORGANIZATION_OWNED]
    list_select_related = ["organization"]
    search_fields = ["name"]


@admin.register(StoredFile)
class StoredFileAdmin(OrganizationOwnedAdmin):
    list_display = ["id", "name", "size", "content_type", "created_by", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "created_by"]
    search_fields = ["name", "=sha256"]
    list_filter = ["content_type", "organization"]
    autocomplete_fields = ["organization", "created_by"]
    readonly_fields = ["size", "sha256"]


@admin.register(BatteryType)
class BatteryTypeAdmin(TrackedAdmin):
    list_display = ["id", "model", "classification", "chemistry", *ORGANIZATION_OWNED]
    list_select_related = ["organization"]
    search_fields = ["model", "chemistry", "default_vehicle_make", "default_vehicle_model"]
    list_filter = ["classification", "chemistry", "organization"]
    autocomplete_fields = [
        "organization",
        "projects",
        "default_battery_model",
        "default_battery_model_version",
    ]


@admin.register(Battery)
class BatteryAdmin(TrackedAdmin):
    list_display = ["id", "battery_id", "battery_type", "parent", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "battery_type", "parent"]
    search_fields = ["battery_id"]
    autocomplete_fields = ["organization", "projects", "battery_type", "parent"]


@admin.register(EISDevice)
class EISDeviceAdmin(TrackedAdmin):
    list_display = ["id", "device_id", "status", "is_cycler", "software_version"]
    list_display += ORGANIZATION_OWNED
    list_select_related = ["organization"]
    search_fields = ["device_id", "software_version"]
    list_filter = ["is_cycler", "status", "organization"]


@admin.register(EISTest)
class EISTestAdmin(TrackedAdmin):
    list_display = ["id", "battery", "device", "status", "completed_at", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "battery", "device"]
    search_fields = ["=id", "battery__battery_id", "device__device_id"]
    # Tests number in the millions: no date hierarchy or status filter (both scan the table).
    list_filter = ["organization"]
    date_hierarchy = None
    paginator = LargeTablePaginator
    show_full_result_count = False
    autocomplete_fields = [
        "organization",
        "projects",
        "battery",
        "device",
        "battery_model",
        "battery_model_version",
        "created_by",
    ]


def _change_link(model, pk: int | None, label: str):
    if pk is None:
        return "-"
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    return format_html('<a href="{}">{} {}</a>', url, label, pk)


class EISParameterFilter(admin.SimpleListFilter):
    """The usual EIS parameters, without scanning the table for its distinct values."""

    title = "parameter"
    parameter_name = "parameter"
    PARAMETERS = ["z_real", "z_imag", "z_mod", "z_phase", "ocv"]

    def lookups(self, request, model_admin):
        return [(name, name) for name in self.PARAMETERS]

    def queryset(self, request, queryset):
        return queryset.filter(parameter=self.value()) if self.value() else queryset


class MeasurementAdmin(admin.ModelAdmin):
    """For tables with millions of rows: no joins, capped counts, the organization copied
    from the test on save (it is not editable)."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    list_select_related = False
    list_per_page = 100
    readonly_fields = ["organization"]

    def save_model(self, request, obj, form, change):
        obj.organization_id = self.test_of(obj).organization_id
        super().save_model(request, obj, form, change)


@admin.register(EISData)
class EISDataAdmin(MeasurementAdmin):
    list_display = ["id", "test_link", "frequency", "parameter", "value"]
    list_filter = [EISParameterFilter]
    search_fields = ["=test__id"]
    search_help_text = "An EIS test id."
    raw_id_fields = ["test"]

    @admin.display(description="test", ordering="test_id")
    def test_link(self, obj):
        return _change_link(EISTest, obj.test_id, "EIS test")

    def test_of(self, obj):
        return obj.test


@admin.register(BMSResult)
class BMSResultAdmin(MeasurementAdmin):
    list_display = ["id", "bms_test_link", "timestamp", "parameter", "value"]
    search_fields = ["=bms_test__id"]
    search_help_text = "A BMS test id."
    raw_id_fields = ["bms_test"]

    @admin.display(description="BMS test", ordering="bms_test_id")
    def bms_test_link(self, obj):
        return _change_link(BMSTest, obj.bms_test_id, "BMS test")

    def test_of(self, obj):
        return obj.bms_test


@admin.register(DBCFile)
class DBCFileAdmin(TrackedAdmin):
    list_display = ["id", "name", "file", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "file"]
    search_fields = ["name"]
    autocomplete_fields = ["organization", "projects", "file"]


@admin.register(BMSTest)
class BMSTestAdmin(TrackedAdmin):
    list_display = ["id", "battery", "device", "status", "cycling_step_number"]
    list_display += ORGANIZATION_OWNED
    list_select_related = ["organization", "battery", "device"]
    search_fields = ["=id", "battery__battery_id", "device__device_id"]
    list_filter = ["status", "organization"]
    autocomplete_fields = [
        "organization",
        "projects",
        "battery",
        "device",
        "default_dbc",
        "linked_eis_test",
    ]


@admin.register(BMSFile)
class BMSFileAdmin(TrackedAdmin):
    list_display = ["id", "bms_test", "file", "latest_batch", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "bms_test", "file"]
    search_fields = ["=id", "file__name", "latest_batch"]
    autocomplete_fields = ["organization", "projects", "bms_test", "file"]


@admin.register(BatteryModel)
class BatteryModelAdmin(TrackedAdmin):
    list_display = ["id", "name", "created_by", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "created_by"]
    search_fields = ["name"]
    autocomplete_fields = ["organization", "projects", "battery_type", "created_by"]


@admin.register(ModelVersion)
class ModelVersionAdmin(TrackedAdmin):
    list_display = ["id", "battery_model", "version", "file", *ORGANIZATION_OWNED]
    list_select_related = ["organization", "battery_model", "file"]
    search_fields = ["version", "battery_model__name"]
    autocomplete_fields = ["organization", "projects", "battery_model", "file", "created_by"]


@admin.register(ModelPrediction)
class ModelPredictionAdmin(TrackedAdmin):
    list_display = [
        "id",
        "battery_model_version",
        "test",
        "soh_prediction",
        "grading_prediction",
        *ORGANIZATION_OWNED,
    ]
    list_select_related = ["organization", "battery_model_version", "test"]
    search_fields = ["=id", "=test__id", "grading_prediction"]
    list_filter = ["grading_prediction", "organization"]
    autocomplete_fields = [
        "organization",
        "projects",
        "battery_model_version",
        "test",
        "created_by",
    ]


@admin.register(EISAnalysis)
class EISAnalysisAdmin(OrganizationOwnedAdmin):
    """EIS analyses, their results read-only (the job writes them). Adding one picks a test
    and starts its analysis with the default parameters; the action starts the selected
    analyses again with theirs; the job link leads to the job, whose page retries a failed
    one."""

    list_display = [
        "id",
        "test",
        "job_link",
        "stale",
        "kk_passed",
        "ohmic_resistance",
        "charge_transfer_resistance",
        "analysed_at",
        *ORGANIZATION_OWNED,
    ]
    list_select_related = ["organization", "job", "test"]
    list_filter = ["stale", "kk_passed"]
    search_fields = ["=test__id"]
    autocomplete_fields = ["test"]
    actions = ["restart_analyses"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["test"]
        return [*(f.name for f in EISAnalysis._meta.fields if f.name != "id"), "job_link"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        from batterydb.services.analysis import analysis_params, eis_analysis_start

        analysis = eis_analysis_start(test=obj.test, user=request.user, params=analysis_params())
        obj.pk, obj.organization_id = analysis.pk, analysis.organization_id

    def has_restart_permission(self, request) -> bool:
        return request.user.has_perm("batterydb.add_eisanalysis")

    @admin.display(description="job")
    def job_link(self, obj: EISAnalysis):
        if obj.job_id is None:
            return "-"
        url = reverse("admin:core_job_change", args=[obj.job_id])
        return format_html('<a href="{}">{} ({})</a>', url, obj.job_id, obj.job.status)

    @admin.action(description="Analyse the selected tests again", permissions=["restart"])
    def restart_analyses(self, request, queryset):
        from batterydb.services.analysis import analysis_params, eis_analysis_start

        started = 0
        for analysis in queryset.select_related("test__organization"):
            params = analysis.params or analysis_params()
            eis_analysis_start(test=analysis.test, user=request.user, params=params)
            started += 1
        self.message_user(request, f"{started} analysis job(s) started.")


@admin.register(EISAnalysisPolicy)
class EISAnalysisPolicyAdmin(admin.ModelAdmin):
    """Per organization: whether stale analyses are analysed again once the data are quiet."""

    list_display = ["organization", "auto_reanalyse", "quiet_minutes"]
    list_select_related = ["organization"]
    list_filter = ["auto_reanalyse"]
    autocomplete_fields = ["organization"]

"""Admin pages for passports, their grants and their history.

A passport is edited as its JSON document, checked against the BatteryPass schema like an API
body, and saved through ``passport.services`` so that every change keeps a version with what
it changed. The history is read-only: a version is never edited or reverted in place (a
revert is a new change, made by saving the old document). The passport list counts at most
``LargeTablePaginator.CAP`` rows and shows each passport's Annex XIII completeness.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from rest_framework.exceptions import ValidationError as APIValidationError

from core.admin import LargeTablePaginator, OrganizationOwnedAdmin
from passport import services
from passport.definitions import ID_FIELD
from passport.models import Passport, PassportGrant
from passport.schema import ID_MESSAGE, valid_id
from passport.serializers import passport_for_replace

HistoricalPassport = Passport.history.model


def _messages(detail) -> list[str]:
    """A DRF error detail ({path: [messages]}) as lines ``path: message``."""
    if isinstance(detail, dict):
        return [
            f"{path}: {message}" if path != "non_field_errors" else str(message)
            for path, messages in detail.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    return [str(item) for item in (detail if isinstance(detail, list) else [detail])]


class PassportForm(forms.ModelForm):
    """The id (fixed after create), the organization and the document (without the id)."""

    class Meta:
        model = Passport
        fields = ["battery_id", "organization", "document"]
        help_texts = {
            "document": "The BatteryPass as JSON, without batteryIDDMCCode and organization.",
        }

    def clean_battery_id(self):
        value = self.cleaned_data["battery_id"]
        if not valid_id(value):
            raise forms.ValidationError(ID_MESSAGE)
        return value

    def clean(self):
        cleaned = super().clean()
        battery_id = cleaned.get("battery_id") or self.instance.battery_id
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        if "document" not in cleaned or not battery_id or organization is None:
            return cleaned
        document = cleaned["document"]
        if isinstance(document, dict):
            document = {key: value for key, value in document.items() if key != ID_FIELD}
        try:
            cleaned["document"] = passport_for_replace(
                document, battery_id=battery_id, organization_id=organization.pk
            )
        except APIValidationError as exc:
            self.add_error("document", _messages(exc.detail))
        return cleaned


@admin.register(Passport)
class PassportAdmin(OrganizationOwnedAdmin):
    form = PassportForm
    list_display = [
        "battery_id",
        "organization",
        "battery_category",
        "version",
        "completeness_display",
        "complete",
        "updated_at",
    ]
    list_select_related = ["organization"]
    list_filter = ["complete", "organization"]
    search_fields = ["battery_id", "place_of_manufacturing"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = [
        "version",
        "completeness_display",
        "battery_category",
        "place_of_manufacturing",
        "created_by",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Annex XIII completeness", ordering="completeness")
    def completeness_display(self, obj: Passport) -> str:
        if obj.completeness is None:
            return "category unknown"
        return f"{obj.completeness:g} %"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("battery_id")
        return fields

    def save_model(self, request, obj, form, change):
        document = form.cleaned_data["document"]
        if not change:
            created = services.passport_create(
                organization_id=obj.organization_id,
                battery_id=obj.battery_id,
                document=document,
                user=request.user,
            )
            obj.pk = created.pk
            return
        current = services.passport_lock(passport=obj)
        services.passport_update(passport=current, document=document, user=request.user)

    def delete_model(self, request, obj):
        services.passport_delete(passport=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for passport in queryset:
            services.passport_delete(passport=passport, user=request.user)


@admin.register(PassportGrant)
class PassportGrantAdmin(admin.ModelAdmin):
    list_display = ["passport", "user", "access", "valid_until", "is_active", "created_at"]
    list_select_related = ["passport", "user"]
    list_filter = ["access"]
    search_fields = ["passport__battery_id", "user__email", "user__username"]
    autocomplete_fields = ["passport", "user"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description="in force", boolean=True)
    def is_active(self, obj: PassportGrant) -> bool:
        return obj.active

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(HistoricalPassport)
class PassportVersionAdmin(admin.ModelAdmin):
    """Every version of every passport, deleted ones included; read-only."""

    list_display = [
        "battery_id",
        "version",
        "kind",
        "history_user",
        "history_date",
        "organization",
    ]
    list_select_related = ["history_user", "organization"]
    list_filter = ["history_type"]
    search_fields = ["=battery_id"]
    search_help_text = "A batteryIDDMCCode."
    paginator = LargeTablePaginator
    show_full_result_count = False
    fields = [
        "battery_id",
        "version",
        "kind",
        "history_user",
        "history_date",
        "organization",
        "changes_display",
        "document",
    ]
    readonly_fields = fields

    @admin.display(description="kind", ordering="history_type")
    def kind(self, obj) -> str:
        return {"+": "created", "~": "changed", "-": "deleted"}.get(obj.history_type, "")

    @admin.display(description="changes")
    def changes_display(self, obj):
        rows = format_html_join(
            "",
            "<li><code>{}</code>: {} → {}</li>",
            ((change["path"], change["old"], change["new"]) for change in obj.changes or []),
        )
        return format_html("<ul>{}</ul>", rows)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

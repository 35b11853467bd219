"""Admin pages for users, organizations, memberships, API keys and background jobs, and the
bases every app's admin uses: organization-owned objects (organization read-only after
create) and a paginator for tables with millions of rows."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from rest_framework_api_key.admin import APIKeyModelAdmin

from core import deletion, jobs, services
from core.models import Job, Membership, Organization, User, UserAPIKey


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role"]
    search_fields = ["username", "email", "first_name", "last_name"]
    add_fieldsets = (
        (None, {"classes": ["wide"], "fields": ["username", "email", "password1", "password2"]}),
    )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations. Deleting one here goes through the same service as the API: every row
    it owns in every app, table by table, and its files after the commit, never loading the
    rows (an organization may hold millions of measurement rows)."""

    list_display = ["id", "name", "created_at"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name"]}),
        (
            "Profile",
            {
                "fields": list(Organization.PROFILE_FIELDS),
                "description": "Address and contact: the manufacturer information of the "
                "organization's battery passports (their public page and Catena-X export).",
            },
        ),
    ]

    def get_deleted_objects(self, objs, request):
        """What the confirmation page lists: the rows each organization owns, counted per
        model, instead of every object (Django's own listing loads them all)."""
        model_count: dict[str, int] = {}
        for organization in objs:
            for entry in deletion.deletion_plan():
                count = deletion.owned_rows(entry, organization.pk).count()
                if count:
                    name = str(entry.model._meta.verbose_name_plural)
                    model_count[name] = model_count.get(name, 0) + count
        summary = [f"{organization} and everything it owns" for organization in objs]
        return summary, model_count, set(), []

    def delete_model(self, request, obj):
        services.organization_delete(organization=obj)

    def delete_queryset(self, request, queryset):
        for organization in queryset:
            services.organization_delete(organization=organization)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ProtectedError as exc:
            blocking = sorted(
                {str(type(o)._meta.verbose_name_plural) for o in exc.protected_objects}
            )
            self.message_user(
                request,
                "Not deleted: objects of other organizations still refer to it "
                f"({', '.join(blocking)}).",
                level=messages.ERROR,
            )
            return redirect(reverse("admin:core_organization_change", args=[object_id]))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user"]
    list_filter = [*APIKeyModelAdmin.list_filter, "revoked"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


class OrganizationOwnedAdmin(admin.ModelAdmin):
    """Base of the admin of objects that belong to an organization: autocompletion and a
    filter by organization, which is read-only once the object exists (it never moves: rows
    elsewhere copy it)."""

    autocomplete_fields = ["organization"]
    list_filter = ["organization"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "organization" not in fields:
            fields.append("organization")
        return fields


class LargeTablePaginator(Paginator):
    """For change lists of tables with millions of rows: counts at most ``CAP`` matching rows;
    an unfiltered PostgreSQL table is estimated from ``pg_class.reltuples`` instead."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = _estimated_rows(queryset)
            if estimate is not None and estimate > self.CAP:
                return estimate
        return queryset.order_by()[: self.CAP].count()


def _estimated_rows(queryset) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Background jobs, read-only: their state is the workers' to write. Failed jobs can be
    queued again (the same retry as the API's)."""

    list_display = ["id", "kind", "organization", "status", "progress", "attempts", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["kind", "organization__name", "error"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["retry_jobs"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("core.change_job")

    @admin.action(description="Retry the selected failed jobs", permissions=["retry"])
    def retry_jobs(self, request, queryset):
        retried = 0
        for job in queryset:
            try:
                jobs.retry(job)
                retried += 1
            except jobs.JobStateError:
                pass
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} job(s) queued again; {skipped} had not failed.")

"""Admin pages of VoltStorage: product types, groups, products (with their latest data and
components), components and series.

The raw series and the rollups have composite primary keys, which Django's admin does not
support; they are read through the API (export, statistics). An object's organization is
read-only once it exists (``core.admin.OrganizationOwnedAdmin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join

from core.admin import OrganizationOwnedAdmin
from voltstorage.models import Component, Group, Product, ProductType, Series
from voltstorage.services import latest_message


@admin.register(ProductType)
class ProductTypeAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "base_type", "start_of_production"]
    search_fields = ["name"]


@admin.register(Group)
class GroupAdmin(OrganizationOwnedAdmin):
    list_display = ["id", "name", "organization", "owner", "created_at"]
    list_select_related = ["organization", "owner"]
    search_fields = ["name"]
    autocomplete_fields = ["organization", "owner"]


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0
    fields = ["name", "kind", "serial_number"]


@admin.register(Product)
class ProductAdmin(OrganizationOwnedAdmin):
    list_display = [
        "id",
        "serial_number",
        "type",
        "group",
        "organization",
        "installation_date",
        "last_received_at",
    ]
    list_select_related = ["organization", "type", "group"]
    list_filter = ["organization", "type"]
    search_fields = ["serial_number", "group__name"]
    autocomplete_fields = ["organization", "group", "owner", "type"]
    readonly_fields = ["last_received_at", "latest_data"]
    inlines = [ComponentInline]

    @admin.display(description="Latest data")
    def latest_data(self, product):
        series = Series.objects.filter(product=product, component__isnull=True).first()
        message = latest_message(series.latest if series else {})
        if not message["data"]:
            return "-"
        return format_html_join(", ", "{}: {}", message["data"].items())


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "kind", "product"]
    list_select_related = ["product"]
    search_fields = ["name", "product__serial_number"]
    autocomplete_fields = ["product"]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["id", "product", "component", "first_time", "last_time"]
    list_select_related = ["product", "component"]
    search_fields = ["product__serial_number"]
    readonly_fields = ["product", "component", "first_time", "last_time", "latest"]

    def has_add_permission(self, request):
        return False

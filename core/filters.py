"""Filtering shared by the apps: stable ordering and the created/updated date ranges."""

from __future__ import annotations

import django_filters
from rest_framework.filters import OrderingFilter

from core.fields import BoundedIsoDateTimeFilter


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` that always ends in the primary key, so pages never repeat or skip rows."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        pk_names = {"pk", queryset.model._meta.pk.name, queryset.model._meta.pk.attname}
        if not any(isinstance(t, str) and t.lstrip("-") in pk_names for t in ordering):
            ordering.append("pk")
        return ordering

    def get_default_ordering(self, view):
        return getattr(view, "ordering", None) or ["pk"]

    def filter_queryset(self, request, queryset, view):
        return queryset.order_by(*self.get_ordering(request, queryset, view))


class TimestampedFilterSet(django_filters.FilterSet):
    """``created``/``updated`` (a day or an exact instant) and their ``_after``/``_before``
    ranges, for models with ``created_at`` and ``updated_at``."""

    created = django_filters.DateFilter(field_name="created_at", lookup_expr="date")
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated = django_filters.DateFilter(field_name="updated_at", lookup_expr="date")
    updated_after = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

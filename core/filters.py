"""Filtering shared by the apps: stable ordering, the created/updated date ranges, repeatable
list filters (``?ids=1&ids=2`` and ``?ids=1,2``) and FilterSets whose form is built once.

A list filter of integers::

    class EISDataFilterSet(CachedFormFilterSet):
        test = IdListFilter(field_name="test_id")            # ?test=1&test=2, ?test=1,2
        parameter = ValueListFilter(field_name="parameter")  # ?parameter=ocv,z_real

Anything that is not an integer in an :class:`IdListFilter` is a 400 naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django import forms
from django_filters.filters import QuerySetRequestMixin
from django_filters.widgets import BaseCSVWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter

from core.fields import BoundedIsoDateTimeFilter

#: The range of PostgreSQL's ``bigint``, which every id column of the platform fits in.
MIN_BIGINT = -(2**63)
MAX_BIGINT = 2**63 - 1


def parse_id(raw: str) -> int | None:
    """``raw`` as an id: ASCII digits of a positive integer that fits a ``bigint``, else None.

    (``str.isdigit`` alone also accepts digits such as "¹" that ``int`` refuses.)"""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_BIGINT else None


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


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """An integer (an id, a year, a step number): anything else is a 400. For an
    organization, ``IntegerFilter(field_name="organization_id")``: unlike a model-choice
    filter it does not tell ids that exist from those that do not."""

    field_class = forms.IntegerField


class TimestampedFilterSet(django_filters.FilterSet):
    """``created``/``updated`` (a day or an exact instant) and their ``_after``/``_before``
    ranges, for models with ``created_at`` and ``updated_at``."""

    created = django_filters.DateFilter(field_name="created_at", lookup_expr="date")
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated = django_filters.DateFilter(field_name="updated_at", lookup_expr="date")
    updated_after = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")


# --- repeatable lists ---------------------------------------------------------------------------
def repeated_values(data: Mapping, name: str) -> list[str] | None:
    """Every value of the query parameter ``name``, repeated (``?a=1&a=2``) or comma-separated
    (``?a=1,2``) or both, stripped, empty parts dropped; None when the parameter is absent."""
    if not hasattr(data, "getlist"):
        value = data.get(name)
        values = None if value is None else [value]
    else:
        values = data.getlist(name) or None
    if values is None:
        return None
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


class RepeatableCSVWidget(BaseCSVWidget, forms.TextInput):
    """Reads every occurrence of the parameter and splits each at commas
    (:func:`repeated_values`)."""

    def value_from_datadict(self, data, files, name):
        return repeated_values(data, name)


class IdListFilter(django_filters.BaseInFilter):
    """Integers (ids), repeated or comma-separated, within PostgreSQL's ``bigint``; anything
    else is a 400. Matches rows whose field is any of them."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", RepeatableCSVWidget)
        kwargs.setdefault("min_value", MIN_BIGINT)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(*args, **kwargs)


class ValueListFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Strings, repeated or comma-separated. Matches rows whose field is any of them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", RepeatableCSVWidget)
        super().__init__(*args, **kwargs)


class CachedFormFilterSet(django_filters.FilterSet):
    """A FilterSet whose form class is built once per FilterSet class, not per request.

    django-filter builds the form class, with a field for each filter, on every request: a
    third of the filtering cost of a large list. Unless a filter depends on the request (a
    ``ModelChoiceFilter`` with a callable ``queryset``, whose choices are the user's), the
    class is the same every time, so it is kept on the FilterSet class. A subclass that adds
    or removes filters per request must not use this base."""

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_cached_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            if not any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
                cls._cached_form_class = form_class
        return form_class

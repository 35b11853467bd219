"""Filters of the passport list. A value a filter cannot read is a 400 naming it."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from passport.definitions import CATEGORY_MAX_LENGTH, ID_MAX_LENGTH, PLACE_MAX_LENGTH
from passport.models import Passport


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``, any case); anything else is an error, not ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class IntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField


class PassportFilterSet(django_filters.FilterSet):
    """``batteryCategory`` (exactly as written), ``organization`` (id), ``q`` (a part of the
    id or of the place of manufacture, ignoring case) and ``complete`` (Annex XIII)."""

    batteryCategory = django_filters.CharFilter(
        field_name="battery_category", max_length=CATEGORY_MAX_LENGTH
    )
    organization = IntegerFilter(field_name="organization_id", min_value=1, max_value=2**63 - 1)
    q = django_filters.CharFilter(
        method="filter_q", max_length=max(ID_MAX_LENGTH, PLACE_MAX_LENGTH)
    )
    complete = StrictBooleanFilter(field_name="complete")

    class Meta:
        model = Passport
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(battery_id__icontains=value) | Q(place_of_manufacturing__icontains=value)
        )

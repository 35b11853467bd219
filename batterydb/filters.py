"""FilterSets of the BatteryDB resources: every filter the contract documents, plus
``created``/``updated`` dates and ``created_after``/``created_before``/``updated_after``/
``updated_before`` ranges."""

from __future__ import annotations

import django_filters

from batterydb.models import BMSResult, EISData


class EISDataFilterSet(django_filters.FilterSet):
    """``test`` (repeatable), ``parameter``, ``frequency`` and value ranges of EIS data."""

    id = django_filters.NumberFilter()
    test = django_filters.BaseInFilter(field_name="test_id")
    organization = django_filters.NumberFilter(field_name="organization_id")
    parameter = django_filters.CharFilter()
    frequency = django_filters.NumberFilter()
    frequency_isnull = django_filters.BooleanFilter(field_name="frequency", lookup_expr="isnull")

    class Meta:
        model = EISData
        fields = ["id", "test", "organization", "parameter", "frequency"]


class BMSResultFilterSet(django_filters.FilterSet):
    """``bms_test`` (repeatable), ``parameter`` and a ``timestamp`` range of BMS results."""

    id = django_filters.NumberFilter()
    bms_test = django_filters.BaseInFilter(field_name="bms_test_id")
    organization = django_filters.NumberFilter(field_name="organization_id")
    parameter = django_filters.CharFilter()
    timestamp_after = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    timestamp_before = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = BMSResult
        fields = ["id", "bms_test", "organization", "parameter"]

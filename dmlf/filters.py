"""Exact-match filters on the fields of each DMLF list (the guide's ``?city=Freiberg``).

Foreign keys filter by id without looking the related object up (``?project=5`` never says
whether project 5 exists in an organization you are not in); a value that is not of the
field's type (a NUL character, an instant with an impossible UTC offset) is a 400 naming the
parameter.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db import models
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS

from core.fields import BoundedIsoDateTimeFilter
from dmlf.models import Experiment, FundingBody, Institute, Method, Project, Sample, SampleType

MIN_BIGINT, MAX_BIGINT = -(2**63), 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An integer id within the database's range (a larger one is a 400, not an overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_BIGINT)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(*args, **kwargs)


class DMLFFilterSet(django_filters.FilterSet):
    """Ids are integers within the database's range (:class:`IdFilter`); instants
    (``date_registered``) are read as the platform reads them, ISO 8601 with a UTC offset
    PostgreSQL accepts (``core.fields``)."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.AutoField: {"filter_class": IdFilter},
        models.BigAutoField: {"filter_class": IdFilter},
        models.DateTimeField: {"filter_class": BoundedIsoDateTimeFilter},
    }


class InstituteFilterSet(DMLFFilterSet):
    class Meta:
        model = Institute
        fields = [
            "id",
            "name",
            "affiliation",
            "street",
            "postcode",
            "city",
            "telephone",
            "email",
            "date_registered",
        ]


class MethodFilterSet(DMLFFilterSet):
    institute = IdFilter(field_name="institute_id")

    class Meta:
        model = Method
        fields = ["id", "name", "institute", "date_registered"]


class FundingBodyFilterSet(DMLFFilterSet):
    class Meta:
        model = FundingBody
        fields = ["id", "name"]


class SampleTypeFilterSet(DMLFFilterSet):
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = SampleType
        fields = ["id", "name"]


class ProjectFilterSet(DMLFFilterSet):
    funding_body = IdFilter(field_name="funding_body_id")
    organization = IdFilter(field_name="organization_id")

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "abbreviation",
            "funding_number",
            "funding_period_start",
            "funding_period_end",
            "funding_body",
            "organization",
            "date_registered",
        ]


class SampleFilterSet(DMLFFilterSet):
    institute = IdFilter(field_name="institute_id")
    method = IdFilter(field_name="method_id")
    project = IdFilter(field_name="project_id")
    sample_type = IdFilter(field_name="sample_type_id")
    user = IdFilter(field_name="user_id")
    parent = django_filters.CharFilter(field_name="parent_id")

    class Meta:
        model = Sample
        fields = [
            "sample_id",
            "name",
            "date_created",
            "institute",
            "method",
            "project",
            "sample_type",
            "user",
            "parent",
            "date_registered",
        ]


class ExperimentFilterSet(DMLFFilterSet):
    sample = django_filters.CharFilter(field_name="sample_id")
    method = IdFilter(field_name="method_id")
    staff = IdFilter(field_name="staff_id")
    project = IdFilter(field_name="project_id")
    user = IdFilter(field_name="user_id")

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "date_created",
            "sample",
            "method",
            "staff",
            "project",
            "user",
            "date_registered",
        ]

"""Exact-match filters on the fields of each DMLF list (the guide's ``?city=Freiberg``).

Foreign keys filter by id without looking the related object up (``?project=5`` never says
whether project 5 exists in an organization you are not in); a value that is not of the
field's type is a 400 naming the parameter.
"""

from __future__ import annotations

import django_filters

from dmlf.models import Experiment, FundingBody, Institute, Method, Project, Sample, SampleType


class InstituteFilterSet(django_filters.FilterSet):
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


class MethodFilterSet(django_filters.FilterSet):
    institute = django_filters.NumberFilter(field_name="institute_id")

    class Meta:
        model = Method
        fields = ["id", "name", "institute", "date_registered"]


class FundingBodyFilterSet(django_filters.FilterSet):
    class Meta:
        model = FundingBody
        fields = ["id", "name"]


class SampleTypeFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = SampleType
        fields = ["id", "name"]


class ProjectFilterSet(django_filters.FilterSet):
    funding_body = django_filters.NumberFilter(field_name="funding_body_id")
    organization = django_filters.NumberFilter(field_name="organization_id")

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


class SampleFilterSet(django_filters.FilterSet):
    institute = django_filters.NumberFilter(field_name="institute_id")
    method = django_filters.NumberFilter(field_name="method_id")
    project = django_filters.NumberFilter(field_name="project_id")
    sample_type = django_filters.NumberFilter(field_name="sample_type_id")
    user = django_filters.NumberFilter(field_name="user_id")
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


class ExperimentFilterSet(django_filters.FilterSet):
    sample = django_filters.CharFilter(field_name="sample_id")
    method = django_filters.NumberFilter(field_name="method_id")
    staff = django_filters.NumberFilter(field_name="staff_id")
    project = django_filters.NumberFilter(field_name="project_id")
    user = django_filters.NumberFilter(field_name="user_id")

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

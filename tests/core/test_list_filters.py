"""``core.filters``: repeatable list filters (``?ids=1&ids=2``, ``?ids=1,2``) and the FilterSet
whose form class is built once.

The FilterSets and the view are made here over ``Membership`` (a plain core table), through a
DRF viewset with django-filter's backend, as the apps use them.
"""

from __future__ import annotations

import django_filters
import pytest
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, serializers, viewsets
from rest_framework.test import APIRequestFactory

from core.filters import (
    MAX_BIGINT,
    CachedFormFilterSet,
    IdListFilter,
    StableOrderingFilter,
    ValueListFilter,
)
from core.models import Membership, Organization
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


class MembershipFilterSet(CachedFormFilterSet):
    organization = IdListFilter(field_name="organization_id")
    role = ValueListFilter(field_name="role")

    class Meta:
        model = Membership
        fields = ["organization", "role"]


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "role"]


def view(filterset_class=MembershipFilterSet):
    class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
        queryset = Membership.objects.all()
        serializer_class = MembershipSerializer
        filter_backends = [DjangoFilterBackend, StableOrderingFilter]
        authentication_classes: list = []
        permission_classes = [permissions.AllowAny]
        pagination_class = None

    MembershipViewSet.filterset_class = filterset_class
    return MembershipViewSet.as_view({"get": "list"})


def get(query: str, filterset_class=MembershipFilterSet):
    response = view(filterset_class)(APIRequestFactory().get(f"/memberships/?{query}"))
    response.render()
    return response


@pytest.fixture
def organizations():
    """Three organizations with a owner, a member and a viewer each."""
    made = OrganizationFactory.create_batch(3)
    for organization in made:
        for role in Membership.Role.values:
            MembershipFactory(organization=organization, role=role)
    return made


def organizations_of(response) -> list[int]:
    assert response.status_code == 200, response.content
    return sorted({row["organization"] for row in response.data})


@pytest.mark.parametrize(
    "query",
    [
        "organization={a}&organization={b}",
        "organization={a},{b}",
        "organization={a}&organization={b},{a}",
        "organization= {a} ,,{b}, ",
    ],
)
def test_ids_repeated_or_comma_separated_or_both(organizations, query):
    a, b, _ = organizations
    response = get(query.format(a=a.pk, b=b.pk))
    assert organizations_of(response) == sorted([a.pk, b.pk])
    assert len(response.data) == 6


def test_no_value_or_an_empty_one_filters_nothing(organizations):
    assert len(get("").data) == 9
    assert len(get("organization=").data) == 9


@pytest.mark.parametrize(
    "value", ["abc", "1,abc", "1.5", "1e3", str(MAX_BIGINT + 1), str(-(2**63) - 1)]
)
def test_anything_but_integers_in_range_is_a_400_naming_the_parameter(organizations, value):
    response = get(f"organization={value}")
    assert response.status_code == 400
    assert list(response.data) == ["organization"]


def test_the_largest_id_is_accepted_and_matches_nothing(organizations):
    assert get(f"organization={MAX_BIGINT}").data == []


def test_values_repeated_or_comma_separated(organizations):
    response = get("role=owner,viewer&role=viewer")
    assert response.status_code == 200
    assert sorted(row["role"] for row in response.data) == ["owner"] * 3 + ["viewer"] * 3


def test_filters_combine(organizations):
    a, _, c = organizations
    response = get(f"organization={a.pk},{c.pk}&role=member")
    assert [(row["organization"], row["role"]) for row in response.data] == [
        (a.pk, "member"),
        (c.pk, "member"),
    ]


# --- the form class, built once ------------------------------------------------------------------


def test_the_form_class_is_built_once_and_each_request_is_still_its_own(organizations):
    a, b, _ = organizations
    qs = Membership.objects.all()
    first = MembershipFilterSet({"organization": str(a.pk)}, queryset=qs)
    second = MembershipFilterSet({"organization": str(b.pk)}, queryset=qs)
    assert first.get_form_class() is second.get_form_class()
    assert {m.organization_id for m in first.qs} == {a.pk}
    assert {m.organization_id for m in second.qs} == {b.pk}
    bad = MembershipFilterSet({"organization": "x"}, queryset=qs)
    assert not bad.is_valid()
    assert MembershipFilterSet({"role": "owner"}, queryset=qs).is_valid()


def test_each_filterset_class_keeps_its_own_form_class():
    class RoleOnly(CachedFormFilterSet):
        role = ValueListFilter(field_name="role")

        class Meta:
            model = Membership
            fields = ["role"]

    qs = Membership.objects.none()
    roles = RoleOnly({}, queryset=qs).get_form_class()
    both = MembershipFilterSet({}, queryset=qs).get_form_class()
    assert roles is not both
    assert set(roles.base_fields) == {"role"}
    assert set(both.base_fields) == {"organization", "role"}


def visible_organizations(request):
    return Organization.objects.filter(name__startswith=request.GET.get("prefix", ""))


class ByRequestFilterSet(CachedFormFilterSet):
    """A filter whose choices depend on the request: its form cannot be kept."""

    organization = django_filters.ModelChoiceFilter(queryset=visible_organizations)

    class Meta:
        model = Membership
        fields = ["organization"]


def test_a_filter_whose_choices_depend_on_the_request_is_built_for_each_request(organizations):
    a, b, _ = organizations
    a.name, b.name = "Alpha", "Beta"
    Organization.objects.bulk_update([a, b], ["name"])
    assert organizations_of(get(f"prefix=Al&organization={a.pk}", ByRequestFilterSet)) == [a.pk]
    # Beta is not among the choices of a request that asks for the "Al" prefix.
    response = get(f"prefix=Al&organization={b.pk}", ByRequestFilterSet)
    assert response.status_code == 400
    assert organizations_of(get(f"prefix=Be&organization={b.pk}", ByRequestFilterSet)) == [b.pk]

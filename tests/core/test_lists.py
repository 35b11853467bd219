"""``core.lists``: lists answered as dict rows straight from ``values_list``, paged by the
keyset cursor of ``core.pagination`` like every list.

The viewset is made here over ``Membership`` (a plain core table), wire names differing from
the columns as they do in the apps (``organization`` for ``organization_id``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, viewsets
from rest_framework.test import APIRequestFactory

from core.filters import CachedFormFilterSet, IdListFilter, StableOrderingFilter
from core.lists import DictRowsMixin, dict_rows
from core.models import Membership
from core.pagination import LimitOffsetPagination
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("id", "organization_id", "user_id", "role")
WIRE_NAMES = ("id", "organization", "user", "role")


class MembershipFilterSet(CachedFormFilterSet):
    organization = IdListFilter(field_name="organization_id")

    class Meta:
        model = Membership
        fields = ["organization"]


class MembershipRowsViewSet(DictRowsMixin, viewsets.GenericViewSet):
    queryset = Membership.objects.all()
    columns = COLUMNS
    wire_names = WIRE_NAMES
    filterset_class = MembershipFilterSet
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["id", "organization", "role"]
    ordering = ["id"]
    pagination_class = LimitOffsetPagination
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]


list_view = MembershipRowsViewSet.as_view({"get": "list"})
detail_view = MembershipRowsViewSet.as_view({"get": "retrieve"})


def get(path: str, view=list_view, **kwargs):
    response = view(APIRequestFactory().get(path), **kwargs)
    response.render()
    assert response.status_code == 200, response.content
    return response.data


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def wire(membership: Membership) -> dict:
    return {
        "id": membership.pk,
        "organization": membership.organization_id,
        "user": membership.user_id,
        "role": membership.role,
    }


@pytest.fixture
def memberships():
    organizations = OrganizationFactory.create_batch(3)
    return [
        MembershipFactory(organization=organizations[i % 3], role=("owner", "viewer")[i % 2])
        for i in range(25)
    ]


def test_a_page_is_plain_dicts_with_the_wire_names(memberships):
    body = get("/rows/?limit=10")
    assert body["count"] == 25
    assert body["results"] == [wire(m) for m in memberships[:10]]
    assert all(type(row) is dict for row in body["results"])


def test_one_object_has_the_shape_of_a_list_row(memberships):
    target = memberships[7]
    assert get("/rows/7/", detail_view, pk=target.pk) == wire(target)


@pytest.mark.parametrize("ordering", ["id", "-id", "organization", "-role", "role,-organization"])
def test_following_next_returns_every_row_once_in_the_order_asked(memberships, ordering):
    seen, url = [], f"/rows/?limit=4&ordering={ordering}"
    while url:
        body = get(url)
        seen += body["results"]
        url = body["next"] and relative(body["next"])
    assert len(seen) == 25
    assert {row["id"] for row in seen} == {m.pk for m in memberships}
    whole = get(f"/rows/?limit=100&ordering={ordering}")["results"]
    assert seen == whole


def test_filters_apply_to_the_rows(memberships):
    organization = memberships[1].organization_id
    body = get(f"/rows/?organization={organization}&limit=100")
    assert body["results"] == [wire(m) for m in memberships if m.organization_id == organization]


def test_a_page_costs_the_same_queries_whatever_its_size(memberships, django_assert_num_queries):
    with django_assert_num_queries(2):  # count, page
        small = get("/rows/?limit=2")
    with django_assert_num_queries(2):
        large = get("/rows/?limit=25")
    with django_assert_num_queries(1):  # a cursor carries the count
        get(relative(small["next"]))
    assert len(large["results"]) == 25


def test_dict_rows_stays_a_queryset():
    MembershipFactory.create_batch(3)
    rows = dict_rows(Membership.objects.order_by("id"), COLUMNS, WIRE_NAMES)
    assert rows.count() == 3
    assert list(rows[1:2]) == [wire(Membership.objects.order_by("id")[1])]
    assert set(next(iter(dict_rows(Membership.objects.all(), ["role"])))) == {"role"}


def test_names_must_match_the_columns():
    with pytest.raises(ValueError, match="4 columns but 3 names"):
        dict_rows(Membership.objects.all(), COLUMNS, WIRE_NAMES[:3])

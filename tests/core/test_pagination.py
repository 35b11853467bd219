"""limit/offset pagination: cap, absolute links, keyset cursors, every row exactly once."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from core.models import Membership, Organization
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("organization-list")


@pytest.fixture
def member(db):
    """A user in no organization but those made below."""
    return UserFactory()


@pytest.fixture
def many_organizations(member):
    """1,010 organizations the user belongs to, with only three distinct names."""
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Org {i % 3}") for i in range(1010)
    )
    Membership.objects.bulk_create(
        Membership(user=member, organization=o, role=Membership.Role.VIEWER) for o in organizations
    )
    return organizations


def follow(client, url):
    ids, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    return ids, pages


def test_default_page_is_100_with_absolute_links(client_for, member, many_organizations):
    body = client_for(member).get(URL).json()
    assert body["count"] == 1010
    assert len(body["results"]) == 100
    assert body["previous"] is None
    assert body["next"].startswith("http://testserver/api/v2/organizations/?")


def test_huge_limit_returns_the_cap_not_an_error(client_for, member, many_organizations):
    response = client_for(member).get(URL, {"limit": 1_000_000_000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1000


@pytest.mark.parametrize("limit", ["0", "-5", "abc"])
def test_odd_limits_fall_back_to_sane_pages(client_for, member, many_organizations, limit):
    response = client_for(member).get(URL, {"limit": limit})
    assert response.status_code == 200
    assert 1 <= len(response.json()["results"]) <= 100


@pytest.mark.parametrize("ordering", [None, "name", "-name", "-created_at", "-id"])
def test_following_next_returns_every_row_exactly_once(
    client_for, member, many_organizations, ordering
):
    query = f"?limit=97&ordering={ordering}" if ordering else "?limit=97"
    ids, pages = follow(client_for(member), URL + query)
    assert sorted(ids) == sorted(o.pk for o in many_organizations)
    assert len(ids) == len(set(ids))
    assert pages == 11


def test_next_links_carry_a_keyset_cursor_and_keep_limit_offset(
    client_for, member, many_organizations
):
    body = client_for(member).get(URL, {"limit": 10}).json()
    query = parse_qs(urlparse(body["next"]).query)
    assert query["limit"] == ["10"] and query["offset"] == ["10"]
    assert "cursor" in query
    second = client_for(member).get(body["next"]).json()
    assert second["count"] == 1010
    assert second["results"][0]["id"] == many_organizations[10].pk
    assert "cursor" not in second["previous"]


def test_plain_offset_still_works(client_for, member, many_organizations):
    body = client_for(member).get(URL, {"limit": 5, "offset": 20}).json()
    assert [r["id"] for r in body["results"]] == [o.pk for o in many_organizations[20:25]]


def test_a_tampered_cursor_is_400(client_for, member, many_organizations):
    response = client_for(member).get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_cursor_used_with_another_ordering_is_400(client_for, member, many_organizations):
    next_link = client_for(member).get(URL, {"limit": 10}).json()["next"]
    response = client_for(member).get(next_link + "&ordering=name")
    assert response.status_code == 400


def test_last_page_has_no_next(client_for, member, many_organizations):
    body = client_for(member).get(URL, {"limit": 1000, "offset": 1000}).json()
    assert len(body["results"]) == 10
    assert body["next"] is None


@pytest.mark.parametrize("offset", [str(2**63), str(2**63 - 1), "99999999999999999999999", "-1"])
def test_an_offset_beyond_the_database_range_is_400(client_for, member, offset):
    response = client_for(member).get(URL, {"offset": offset})
    assert response.status_code == 400
    assert "offset" in response.json()


def test_a_huge_offset_within_range_is_an_empty_page(client_for, member, many_organizations):
    body = client_for(member).get(URL, {"offset": 2**62}).json()
    assert body["results"] == [] and body["next"] is None

"""A constant number of queries per request, whatever the number of passports, versions or
grants on the page, and whatever the reader's classes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory

pytestmark = pytest.mark.django_db


def queries(client, method: str, url: str, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code < 300, response.content
    return len(captured)


@pytest.fixture
def world(organization, other_organization):
    """Passports of two organizations and a user granted classes on some of the others'."""
    grantee = UserFactory()
    return {"grantee": grantee, "organization": organization, "other": other_organization}


def add_passports(world, count: int) -> None:
    for _ in range(count):
        PassportFactory(organization=world["organization"])
        other = PassportFactory(organization=world["other"])
        PassportGrantFactory(passport=other, user=world["grantee"], access="authorities")
        PassportGrantFactory(passport=other, user=world["grantee"], access="legitimate_interest")


@pytest.mark.parametrize("reader", ["anonymous", "owner", "grantee", "staff"])
def test_the_list_costs_the_same_for_3_and_for_30_passports(
    world, client_for, owner, staff, reader
):
    user = {"anonymous": None, "owner": owner, "grantee": world["grantee"], "staff": staff}
    client = client_for(user[reader])
    add_passports(world, 3)
    few = queries(client, "get", "/passport/batteryPass/")
    add_passports(world, 27)
    many = queries(client, "get", "/passport/batteryPass/")
    assert few == many
    # the credential's user, count, page (with whether the reader is a member of each row's
    # organization and holds a grant on it); then the grants on the page's passports the
    # reader holds some on, and the documents of those the grants open further
    assert many == {"anonymous": 2, "owner": 3, "grantee": 5, "staff": 3}[reader]


def test_reading_one_passport_is_one_query_anonymously(
    client_for, passport, django_assert_num_queries
):
    client = client_for(None)
    with django_assert_num_queries(1):
        client.get(f"/passport/batteryPass/{passport.battery_id}")
    with django_assert_num_queries(1):
        client.get(f"/passport/batteryPass/{passport.battery_id}/electrochemicalProperties")


def test_reading_one_passport_as_a_member_or_grantee(
    client_for, member, legitimate, passport, django_assert_num_queries
):
    url = f"/passport/batteryPass/{passport.battery_id}"
    with django_assert_num_queries(2):  # user, passport (and the membership)
        client_for(member).get(url)
    with django_assert_num_queries(2):
        client_for(member).get(f"{url}/stateOfBatteryProperties")
    with django_assert_num_queries(4):  # ... the grants, the document they open
        client_for(legitimate).get(url)


def test_the_history_costs_the_same_for_2_and_for_20_versions(client_for, member, passport):
    client = client_for(member)
    url = f"/passport/batteryPass/{passport.battery_id}"
    client.patch(url, {"warrantyPeriod": 1}, format="json")
    few = queries(client, "get", f"{url}/history")
    for years in range(2, 20):
        client.patch(url, {"warrantyPeriod": years}, format="json")
    assert queries(client, "get", f"{url}/history") == few


def test_the_grants_cost_the_same_for_1_and_for_10(client_for, member, passport):
    client = client_for(member)
    url = f"/passport/batteryPass/{passport.battery_id}/grants"
    PassportGrantFactory(passport=passport)
    few = queries(client, "get", url)
    for _ in range(9):
        PassportGrantFactory(passport=passport)
    assert queries(client, "get", url) == few


def test_a_write_is_a_bounded_number_of_queries(client_for, member, passport):
    client = client_for(member)
    url = f"/passport/batteryPass/{passport.battery_id}"
    first = queries(client, "patch", url, data={"warrantyPeriod": 1}, format="json")
    second = queries(client, "patch", url, data={"warrantyPeriod": 2}, format="json")
    assert first == second <= 8


def listed(client, url: str) -> tuple[int, int]:
    """The queries of a list request and the number of passports on its page."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()[0]["data"])


@pytest.mark.parametrize(
    "query",
    ["complete=true", "batteryCategory=electric vehicle battery", "q=bat", "limit=5&offset=2"],
)
def test_the_filtered_list_costs_the_same_for_3_and_for_30_passports(
    world, client_for, owner, query
):
    client = client_for(owner)
    url = f"/passport/batteryPass/?{query}"
    add_passports(world, 3)
    few, shown = listed(client, url)
    assert shown >= 3
    add_passports(world, 27)
    many, shown = listed(client, url)
    assert shown >= 5
    assert many == few == 3  # the user, the count, the page


@pytest.mark.parametrize("reader", ["anonymous", "member", "legitimate", "authority"])
def test_every_property_object_costs_the_same_for_its_reader(request, client_for, passport, reader):
    """A constant number per reader, the same for each of the seven property objects."""
    from passport.views import SECTION_VIEWSETS

    user = None if reader == "anonymous" else request.getfixturevalue(reader)
    client = client_for(user)
    counts = {
        section: queries(client, "get", f"/passport/batteryPass/{passport.battery_id}/{section}")
        for section in SECTION_VIEWSETS
    }
    assert len(counts) == 7
    assert set(counts.values()) == {
        {"anonymous": 1, "member": 2, "legitimate": 3, "authority": 3}[reader]
    }, counts


@pytest.mark.parametrize("reader", ["member", "legitimate", "authority"])
def test_a_version_costs_the_same_for_the_first_and_the_twentieth(
    request, client_for, member, passport, reader
):
    url = f"/passport/batteryPass/{passport.battery_id}"
    for years in range(1, 20):
        client_for(member).patch(url, {"warrantyPeriod": years}, format="json")
    client = client_for(request.getfixturevalue(reader))
    first = queries(client, "get", f"{url}/history/1")
    assert queries(client, "get", f"{url}/history/20") == first
    # the user, the passport (with the membership), the version; grantees' grants and the
    # document they open
    assert queries(client, "get", f"{url}/history/10") == first
    assert first == {"member": 4, "legitimate": 5, "authority": 5}[reader]


@pytest.mark.parametrize("reader", ["legitimate", "authority"])
def test_the_history_of_a_grantee_costs_the_same_for_2_and_for_20_versions(
    request, client_for, member, passport, reader
):
    url = f"/passport/batteryPass/{passport.battery_id}"
    client = client_for(request.getfixturevalue(reader))
    client_for(member).patch(url, {"warrantyPeriod": 1}, format="json")
    few = queries(client, "get", f"{url}/history")
    for years in range(2, 20):
        client_for(member).patch(url, {"warrantyPeriod": years}, format="json")
    assert queries(client, "get", f"{url}/history") == few == 6


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        ("anonymous", {"completeness": 1, "carrier.svg": 1, "carrier.png": 1}),
        ("member", {"completeness": 3, "carrier.svg": 2, "carrier.png": 2}),
        ("legitimate", {"completeness": 4, "carrier.svg": 2, "carrier.png": 2}),
    ],
)
def test_completeness_and_the_carriers_cost_a_fixed_number(
    request, client_for, passport, reader, expected
):
    user = None if reader == "anonymous" else request.getfixturevalue(reader)
    client = client_for(user)
    base = f"/passport/batteryPass/{passport.battery_id}"
    counts = {path: queries(client, "get", f"{base}/{path}") for path in expected}
    assert counts == expected


def test_the_list_page_costs_the_same_for_3_and_for_30_passports(world, owner, client):
    client.force_login(owner)
    add_passports(world, 3)
    few = queries(client, "get", "/passport/p/")
    add_passports(world, 27)
    assert queries(client, "get", "/passport/p/") == few
    assert queries(client, "get", "/passport/p/?q=EV&page=2") <= few


@pytest.mark.parametrize(
    ("reader", "expected"), [("member", 4), ("legitimate", 5), ("authority", 5)]
)
def test_the_page_of_a_passport_costs_a_fixed_number_for_a_reader_with_more_classes(
    request, client, passport, django_assert_num_queries, reader, expected
):
    """The session and its user, the passport (with the membership); grantees' grants and
    the document they open."""
    client.force_login(request.getfixturevalue(reader))
    with django_assert_num_queries(expected):
        response = client.get(f"/passport/p/{passport.battery_id}/")
    assert response.status_code == 200

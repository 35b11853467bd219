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
    # organization); then the grants on the page's passports of other organizations, and the
    # documents of those the grants open further
    assert many == {"anonymous": 2, "owner": 4, "grantee": 5, "staff": 3}[reader]


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

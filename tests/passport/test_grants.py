"""Grants of access classes: members (member role) of the passport's organization give and
withdraw them, its members read them; a grant is in force through its last day (UTC)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from passport.models import PassportGrant, today_utc
from tests.factories import UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory

pytestmark = pytest.mark.django_db


def grants_url(passport) -> str:
    return reverse(
        "passport:battery-pass-grant-list", kwargs={"batteryIDDMCCode": passport.battery_id}
    )


def grant_url(passport, grant_id) -> str:
    return reverse(
        "passport:battery-pass-grant-detail",
        kwargs={"batteryIDDMCCode": passport.battery_id, "grant_id": grant_id},
    )


def test_a_member_grants_lists_and_withdraws(client_for, member, passport):
    recycler = UserFactory(email="Recycler@Example.com")
    client = client_for(member)
    until = (today_utc() + dt.timedelta(days=30)).isoformat()
    created = client.post(
        grants_url(passport),
        {"email": "recycler@example.com", "access": "legitimate_interest", "validUntil": until},
        format="json",
    )
    assert created.status_code == 201, created.json()
    grant = created.json()
    assert grant["email"] == recycler.email
    assert grant["access"] == "legitimate_interest"
    assert grant["validUntil"] == until
    assert grant["active"] is True

    listed = client.get(grants_url(passport))
    assert listed.status_code == 200
    assert listed.json() == {"data": [grant]}
    assert listed["X-Total-Count"] == "1"

    assert client.delete(grant_url(passport, grant["id"])).status_code == 204
    assert not PassportGrant.objects.exists()
    assert client.delete(grant_url(passport, grant["id"])).status_code == 404


def test_a_grant_without_end(client_for, member, passport):
    UserFactory(email="authority@example.com")
    response = client_for(member).post(
        grants_url(passport),
        {"email": "authority@example.com", "access": "authorities"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["validUntil"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nobody@example.com", "access": "authorities"}, "email"),
        ({"email": "user@example.com", "access": "owner"}, "access"),
        ({"email": "user@example.com"}, "access"),
        ({"access": "authorities"}, "email"),
        (
            {"email": "user@example.com", "access": "authorities", "validUntil": "tomorrow"},
            "validUntil",
        ),
    ],
)
def test_bad_grants_are_a_400_naming_the_field(client_for, member, passport, body, field):
    UserFactory(email="user@example.com")
    response = client_for(member).post(grants_url(passport), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not PassportGrant.objects.exists()


def test_a_grant_ending_before_today_is_refused(client_for, member, passport):
    UserFactory(email="user@example.com")
    yesterday = (today_utc() - dt.timedelta(days=1)).isoformat()
    response = client_for(member).post(
        grants_url(passport),
        {"email": "user@example.com", "access": "authorities", "validUntil": yesterday},
        format="json",
    )
    assert response.status_code == 400
    assert "validUntil" in response.json()


def test_the_same_class_twice_is_a_409(client_for, member, passport):
    user = UserFactory(email="user@example.com")
    PassportGrantFactory(passport=passport, user=user, access="authorities")
    response = client_for(member).post(
        grants_url(passport), {"email": "user@example.com", "access": "authorities"}, format="json"
    )
    assert response.status_code == 409
    other = client_for(member).post(
        grants_url(passport),
        {"email": "user@example.com", "access": "legitimate_interest"},
        format="json",
    )
    assert other.status_code == 201


def test_an_expired_grant_is_listed_as_not_in_force(client_for, viewer, passport):
    PassportGrantFactory(passport=passport, valid_until=today_utc() - dt.timedelta(days=1))
    (grant,) = client_for(viewer).get(grants_url(passport)).json()["data"]
    assert grant["active"] is False


@pytest.mark.parametrize(
    ("who", "read", "give", "withdraw"),
    [
        ("anonymous", 401, 401, 401),
        ("outsider", 403, 403, 403),
        ("legitimate", 403, 403, 403),
        ("viewer", 200, 403, 403),
        ("member", 200, 201, 204),
        ("owner", 200, 201, 204),
        ("staff", 200, 201, 204),
    ],
)
def test_who_may_see_and_change_grants(
    request, client_for, passport, legitimate, who, read, give, withdraw
):
    client = client_for(None if who == "anonymous" else request.getfixturevalue(who))
    grant = PassportGrant.objects.get(user=legitimate)
    UserFactory(email="new@example.com")
    assert client.get(grants_url(passport)).status_code == read
    assert (
        client.post(
            grants_url(passport),
            {"email": "new@example.com", "access": "authorities"},
            format="json",
        ).status_code
        == give
    )
    assert client.delete(grant_url(passport, grant.pk)).status_code == withdraw


def test_grants_of_a_missing_passport_are_a_404(client_for, member):
    assert client_for(member).get("/passport/batteryPass/NOPE/grants/").status_code == 404


def test_a_grant_of_another_passport_is_not_found_here(client_for, member, passport, organization):
    other = PassportFactory(organization=organization)
    grant = PassportGrantFactory(passport=other)
    assert client_for(member).delete(grant_url(passport, grant.pk)).status_code == 404
    assert PassportGrant.objects.filter(pk=grant.pk).exists()


def test_a_grant_never_allows_writing(client_for, legitimate, passport):
    client = client_for(legitimate)
    url = f"/passport/batteryPass/{passport.battery_id}"
    assert client.patch(url, {"warrantyPeriod": 1}, format="json").status_code == 403
    assert client.put(f"{url}/stateOfBatteryProperties", {}, format="json").status_code == 403
    assert client.delete(url).status_code == 403


def test_deleting_the_passport_deletes_its_grants(client_for, owner, passport, legitimate):
    assert (
        client_for(owner).delete(f"/passport/batteryPass/{passport.battery_id}").status_code == 204
    )
    assert not PassportGrant.objects.exists()

"""The admin of passports, grants and history: lists with the completeness column, editing
the document through the same checks and versions as the API, a read-only history."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from passport.models import Passport, PassportGrant
from tests.factories import UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory

pytestmark = pytest.mark.django_db

HistoricalPassport = Passport.history.model


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="admin"))
    return client


def test_the_passport_list_shows_the_completeness(admin_client, passport, organization):
    PassportFactory(
        organization=organization, battery_id="PARTIAL", document={"batteryCategory": "LMT battery"}
    )
    PassportFactory(organization=organization, battery_id="ODD", document={"batteryCategory": "?"})
    response = admin_client.get(reverse("admin:passport_passport_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Annex XIII completeness" in page
    assert "100 %" in page and "category unknown" in page
    partial = Passport.objects.get(battery_id="PARTIAL").completeness
    assert f"{partial:g} %" in page
    filtered = admin_client.get(
        reverse("admin:passport_passport_changelist"), {"complete__exact": "0"}
    )
    assert (
        "PARTIAL" in filtered.content.decode()
        and passport.battery_id not in filtered.content.decode()
    )


def test_adding_a_passport_in_the_admin_keeps_version_1(admin_client, organization):
    response = admin_client.post(
        reverse("admin:passport_passport_add"),
        {
            "battery_id": "ADMIN-1",
            "organization": organization.pk,
            "document": json.dumps({"batteryCategory": "LMT battery", "warrantyPeriod": 2}),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    passport = Passport.objects.get(battery_id="ADMIN-1")
    assert passport.battery_category == "LMT battery"
    (first,) = HistoricalPassport.objects.filter(id=passport.pk)
    assert first.version == 1 and first.history_user.username == "admin"


def test_editing_the_document_in_the_admin_keeps_a_version(admin_client, passport):
    page = admin_client.get(reverse("admin:passport_passport_change", args=[passport.pk]))
    assert page.status_code == 200 and "Annex XIII completeness" in page.content.decode()
    document = dict(passport.document, warrantyPeriod=12)
    response = admin_client.post(
        reverse("admin:passport_passport_change", args=[passport.pk]),
        {"document": json.dumps(document)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    passport.refresh_from_db()
    assert passport.version == 2 and passport.document["warrantyPeriod"] == 12
    latest = HistoricalPassport.objects.filter(id=passport.pk).order_by("-version").first()
    assert latest.changes == [{"path": "warrantyPeriod", "old": 8, "new": 12}]


def test_an_invalid_document_is_refused_in_the_admin_with_its_paths(admin_client, passport):
    response = admin_client.post(
        reverse("admin:passport_passport_change", args=[passport.pk]),
        {"document": json.dumps({"hasStateOfBatteryProperties": {"stateOfHealth": "good"}})},
    )
    assert response.status_code == 200
    assert (
        "hasStateOfBatteryProperties.stateOfHealth: Must be a number" in response.content.decode()
    )
    passport.refresh_from_db()
    assert passport.version == 1


def test_a_bad_id_is_refused_in_the_admin(admin_client, organization):
    response = admin_client.post(
        reverse("admin:passport_passport_add"),
        {"battery_id": "no spaces", "organization": organization.pk, "document": "{}"},
    )
    assert response.status_code == 200
    assert not Passport.objects.exists()


def test_deleting_in_the_admin_keeps_the_history(admin_client, passport):
    response = admin_client.post(
        reverse("admin:passport_passport_delete", args=[passport.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Passport.objects.exists()
    kinds = list(
        HistoricalPassport.objects.filter(id=passport.pk).values_list("history_type", flat=True)
    )
    assert sorted(kinds) == ["+", "-"]


def test_the_history_is_listed_and_read_only(admin_client, passport):
    listing = admin_client.get(reverse("admin:passport_historicalpassport_changelist"))
    assert listing.status_code == 200
    assert passport.battery_id in listing.content.decode()
    version = HistoricalPassport.objects.get(id=passport.pk)
    page = admin_client.get(reverse("admin:passport_historicalpassport_change", args=[version.pk]))
    assert page.status_code == 200
    assert "<code>batteryIDDMCCode</code>" in page.content.decode()
    assert admin_client.get(reverse("admin:passport_historicalpassport_add")).status_code == 403


def test_grants_in_the_admin(admin_client, passport):
    grant = PassportGrantFactory(passport=passport)
    listing = admin_client.get(reverse("admin:passport_passportgrant_changelist"))
    assert listing.status_code == 200
    assert grant.user.username in listing.content.decode()
    user = UserFactory()
    response = admin_client.post(
        reverse("admin:passport_passportgrant_add"),
        {"passport": passport.pk, "user": user.pk, "access": "authorities", "valid_until": ""},
    )
    assert response.status_code == 302
    created = PassportGrant.objects.get(user=user)
    assert created.created_by.username == "admin"

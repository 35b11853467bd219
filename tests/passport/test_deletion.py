"""Deleting an organization deletes its passports, their grants and their history, and
leaves every other organization's alone."""

from __future__ import annotations

import pytest

from passport.models import Passport, PassportGrant
from tests.passport.factories import PassportFactory, PassportGrantFactory

pytestmark = pytest.mark.django_db

HistoricalPassport = Passport.history.model


def test_an_organization_goes_with_its_passports_grants_and_history(
    client_for, owner, organization, other_organization, passport, legitimate
):
    kept = PassportFactory(organization=other_organization, battery_id="KEPT")
    PassportGrantFactory(passport=kept)
    client_for(owner).patch(
        f"/passport/batteryPass/{passport.battery_id}", {"warrantyPeriod": 3}, format="json"
    )
    response = client_for(owner).delete(f"/api/v2/organizations/{organization.pk}/")
    assert response.status_code == 204, response.content
    assert list(Passport.objects.values_list("battery_id", flat=True)) == ["KEPT"]
    assert list(PassportGrant.objects.values_list("passport__battery_id", flat=True)) == ["KEPT"]
    assert set(HistoricalPassport.objects.values_list("battery_id", flat=True)) == {"KEPT"}

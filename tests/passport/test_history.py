"""History: every change keeps a version (who, when, what: JSON paths with old and new values),
through the whole passport or a property object; newest first, paged; each version readable
as it was; trimmed to the reader; kept after a delete for the organization and staff; a new
passport with the same id starts its own history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from passport.classes import AccessClass
from passport.models import Passport
from tests.factories import UserFactory
from tests.passport.factories import FULL_PASSPORT, PassportFactory, PassportGrantFactory

pytestmark = pytest.mark.django_db


def history(battery_id: str) -> str:
    return reverse("passport:battery-pass-history", kwargs={"batteryIDDMCCode": battery_id})


def version(battery_id: str, number: int) -> str:
    return reverse(
        "passport:battery-pass-version", kwargs={"batteryIDDMCCode": battery_id, "version": number}
    )


def detail(battery_id: str) -> str:
    return f"/passport/batteryPass/{battery_id}"


def test_creating_is_version_1_with_every_field_new(client_for, member):
    client = client_for(member)
    body = {
        "batteryIDDMCCode": "H-1",
        "warrantyPeriod": 8,
        "safetyMeasures": {"attachmentName": "s"},
    }
    client.post("/passport/batteryPass/", body, format="json")
    response = client.get(history("H-1"))
    assert response.status_code == 200
    (first,) = response.json()["data"]
    assert first["version"] == 1
    assert first["by"] == member.username
    assert dt.datetime.fromisoformat(first["at"]).tzinfo is not None
    assert first["changes"] == [
        {"path": "batteryIDDMCCode", "old": None, "new": "H-1"},
        {"path": "safetyMeasures", "old": None, "new": {"attachmentName": "s"}},
        {"path": "warrantyPeriod", "old": None, "new": 8},
    ]


def test_every_change_keeps_a_version_with_its_json_paths(client_for, member, owner, passport):
    client = client_for(member)
    materials = [
        dict(m) for m in FULL_PASSPORT["hasCellChemistryProperties"]["cathodeActiveMaterials"]
    ]
    materials[2] = {**materials[2], "materialWeight": 6200}
    client.patch(
        detail(passport.battery_id),
        {"hasCellChemistryProperties": {"cathodeActiveMaterials": materials}, "warrantyPeriod": 10},
        format="json",
    )
    client_for(owner).patch(
        f"{detail(passport.battery_id)}/stateOfBatteryProperties",
        {"stateOfHealth": 96, "statusBattery": None},
        format="json",
    )
    response = client.get(history(passport.battery_id))
    assert response["X-Total-Count"] == "3"
    third, second, first = response.json()["data"]
    assert [third["version"], second["version"], first["version"]] == [3, 2, 1]
    assert second["by"] == member.username and third["by"] == owner.username
    assert second["changes"] == [
        {
            "path": "hasCellChemistryProperties.cathodeActiveMaterials[2].materialWeight",
            "old": 6100,
            "new": 6200,
        },
        {"path": "warrantyPeriod", "old": 8, "new": 10},
    ]
    assert third["changes"] == [
        {"path": "hasStateOfBatteryProperties.stateOfHealth", "old": 97.5, "new": 96},
        {"path": "hasStateOfBatteryProperties.statusBattery", "old": "original", "new": None},
    ]
    passport.refresh_from_db()
    assert passport.version == 3


def test_a_write_that_changes_nothing_keeps_no_version(client_for, member, passport):
    client = client_for(member)
    assert (
        client.patch(detail(passport.battery_id), {"warrantyPeriod": 8}, format="json").status_code
        == 200
    )
    assert client.get(history(passport.battery_id))["X-Total-Count"] == "1"


def test_a_version_reads_as_the_passport_was(client_for, member, passport):
    client = client_for(member)
    client.put(detail(passport.battery_id), {"batteryCategory": "LMT battery"}, format="json")
    (then,) = client.get(version(passport.battery_id, 1)).json()["data"]
    then.pop("organization")
    then.pop("hasElectrochemicalProperties")
    assert then == {**FULL_PASSPORT, "batteryIDDMCCode": passport.battery_id}
    (now,) = client.get(version(passport.battery_id, 2)).json()["data"]
    assert now["batteryCategory"] == "LMT battery" and "warrantyPeriod" not in now
    assert client.get(version(passport.battery_id, 3)).status_code == 404
    assert client.get(version(passport.battery_id, 0)).status_code == 404


def test_the_history_is_paged_newest_first(client_for, member, passport):
    client = client_for(member)
    for years in range(1, 5):
        client.patch(detail(passport.battery_id), {"warrantyPeriod": years}, format="json")
    page = client.get(history(passport.battery_id), {"limit": 2, "offset": 1})
    assert [v["version"] for v in page.json()["data"]] == [4, 3]
    assert page["X-Total-Count"] == "5"
    assert 'rel="next"' in page["Link"] and 'rel="prev"' in page["Link"]


def test_changes_are_trimmed_to_the_reader(client_for, member, passport):
    client_for(member).patch(
        detail(passport.battery_id),
        {
            "hasStateOfBatteryProperties": {"stateOfHealth": 90},  # point 4
            "hasCellChemistryProperties": {"testReportsResults": {"attachmentName": "new"}},  # 3
            "warrantyPeriod": 9,  # point 1
        },
        format="json",
    )
    seen = {}
    for access in (AccessClass.LEGITIMATE_INTEREST, AccessClass.AUTHORITIES):
        user = UserFactory()
        PassportGrantFactory(passport=passport, user=user, access=access)
        latest = client_for(user).get(history(passport.battery_id)).json()["data"][0]
        seen[access] = [change["path"] for change in latest["changes"]]
    assert seen[AccessClass.LEGITIMATE_INTEREST] == [
        "hasStateOfBatteryProperties.stateOfHealth",
        "warrantyPeriod",
    ]
    assert seen[AccessClass.AUTHORITIES] == [
        "hasCellChemistryProperties.testReportsResults.attachmentName",
        "warrantyPeriod",
    ]


def test_a_change_of_a_whole_object_shows_only_its_visible_part(client_for, member, organization):
    PassportFactory(organization=organization, battery_id="WHOLE", document={})
    client_for(member).patch(
        detail("WHOLE"),
        {"hasBatteryCycleLifeProperties": {"expectedLifetime": 3000, "chargeDischargeCycles": 12}},
        format="json",
    )
    authority = UserFactory()
    PassportGrantFactory(
        passport=Passport.objects.get(battery_id="WHOLE"), user=authority, access="authorities"
    )
    latest = client_for(authority).get(history("WHOLE")).json()["data"][0]
    assert latest["changes"] == [
        {"path": "hasBatteryCycleLifeProperties", "old": None, "new": {"expectedLifetime": 3000}}
    ]


def test_after_a_delete_the_organization_and_staff_still_read_the_history(
    client_for, owner, viewer, staff, outsider, legitimate, passport
):
    client_for(owner).patch(detail(passport.battery_id), {"warrantyPeriod": 2}, format="json")
    assert client_for(owner).delete(detail(passport.battery_id)).status_code == 204
    for reader in (viewer, staff):
        response = client_for(reader).get(history(passport.battery_id))
        assert response.status_code == 200
        assert [v["version"] for v in response.json()["data"]] == [2, 1]
        (was,) = client_for(reader).get(version(passport.battery_id, 2)).json()["data"]
        assert was["warrantyPeriod"] == 2
    for stranger in (outsider, legitimate):
        assert client_for(stranger).get(history(passport.battery_id)).status_code == 404


def test_creating_the_id_again_starts_a_new_history(client_for, owner, passport):
    client = client_for(owner)
    client.patch(detail(passport.battery_id), {"warrantyPeriod": 2}, format="json")
    client.delete(detail(passport.battery_id))
    created = client.post(
        "/passport/batteryPass/", {"batteryIDDMCCode": passport.battery_id}, format="json"
    )
    assert created.status_code == 201
    response = client.get(history(passport.battery_id))
    (only,) = response.json()["data"]
    assert only["version"] == 1
    assert only["changes"] == [
        {"path": "batteryIDDMCCode", "old": None, "new": passport.battery_id}
    ]
    assert client.get(version(passport.battery_id, 2)).status_code == 404


def test_the_history_of_a_missing_id_is_a_404(client_for, member):
    assert client_for(member).get(history("NEVER")).status_code == 404

"""Annex XIII completeness: by category (recognised in any case), missing or empty fields by
point with a percentage, "category unknown" otherwise; the list filter and the stored
columns."""

from __future__ import annotations

import pytest
from django.urls import reverse

from passport.completeness import REQUIRED, completeness_of
from passport.models import Passport
from tests.passport.conftest import document_of
from tests.passport.factories import PassportFactory, PassportGrantFactory, full_passport

pytestmark = pytest.mark.django_db


def completeness(battery_id: str) -> str:
    return reverse("passport:battery-pass-completeness", kwargs={"batteryIDDMCCode": battery_id})


def test_a_complete_ev_passport(client_for, member, passport):
    body = client_for(member).get(completeness(passport.battery_id)).json()
    assert body["status"] == "complete" and body["complete"] is True
    assert body["category"] == "electric vehicle battery"
    assert body["percentage"] == 100.0
    assert set(body["points"]) == {"1", "2", "3", "4"}
    assert all(point["missing"] == [] for point in body["points"].values())


@pytest.mark.parametrize(
    ("written", "category"),
    [
        ("LMT battery", "LMT battery"),
        ("lmt BATTERY", "LMT battery"),
        ("  Electric Vehicle Battery ", "electric vehicle battery"),
        ("INDUSTRIAL battery", "industrial battery"),
        ("Stationary Battery Energy Storage System", "stationary battery energy storage system"),
    ],
)
def test_the_documented_categories_are_recognised_in_any_case(written, category):
    assert completeness_of(full_passport(batteryCategory=written)).category == category


@pytest.mark.parametrize("written", ["EV", "electric vehicle", "portable battery", "", 5])
def test_anything_else_is_category_unknown(client_for, member, organization, written):
    document = document_of("UNK", batteryCategory=written)
    if not isinstance(written, str):
        document.pop("batteryCategory")
    PassportFactory(organization=organization, battery_id="UNK", document=document)
    body = client_for(member).get(completeness("UNK")).json()
    assert body["status"] == "category unknown"
    assert body["category"] is None and body["percentage"] is None
    assert body["complete"] is False and body["points"] == {}
    stored = Passport.objects.get(battery_id="UNK")
    assert stored.completeness is None and stored.complete is False


def test_missing_and_empty_fields_are_listed_by_point(client_for, member, organization):
    document = document_of(
        "GAPS",
        placeOfManufacturing="  ",  # blank: point 1
        safetyMeasures={"attachmentName": ""},  # empty object: point 2
        hasRenewableContentShare=[],  # empty list: point 1
    )
    del document["hasCellChemistryProperties"]["testReportsResults"]  # point 3
    del document["hasStateOfBatteryProperties"]["stateOfHealth"]  # point 4
    PassportFactory(organization=organization, battery_id="GAPS", document=document)
    body = client_for(member).get(completeness("GAPS")).json()
    assert body["status"] == "incomplete" and body["complete"] is False
    points = body["points"]
    assert points["1"]["missing"] == ["placeOfManufacturing", "hasRenewableContentShare"]
    assert points["2"]["missing"] == ["safetyMeasures"]
    assert points["3"]["missing"] == ["hasCellChemistryProperties.testReportsResults"]
    assert points["4"]["missing"] == ["hasStateOfBatteryProperties.stateOfHealth"]
    required = len(REQUIRED["electric vehicle battery"])
    assert sum(p["required"] for p in points.values()) == required
    assert body["percentage"] == round(100 * (required - 5) / required, 1)
    assert Passport.objects.get(battery_id="GAPS").completeness == body["percentage"]


def test_ev_and_the_other_categories_require_different_fields():
    ev = completeness_of(full_passport())
    document = full_passport(batteryCategory="LMT battery")
    del document["hasEelectrochemicalProperties"]["capacityThresholdExhaustion"]  # EV only
    lmt = completeness_of(document)
    assert ev.complete and lmt.complete
    del document["hasBatteryCycleLifeProperties"]["energyThroughput"]  # Annex VII Part A
    assert completeness_of(document).points[4].missing == [
        "hasBatteryCycleLifeProperties.energyThroughput"
    ]
    ev_document = full_passport()
    del ev_document["hasBatteryCycleLifeProperties"]["energyThroughput"]
    assert completeness_of(ev_document).complete


def test_readers_see_the_details_of_their_points_only(client_for, anonymous, passport):
    public = anonymous.get(completeness(passport.battery_id)).json()
    assert set(public["points"]) == {"1"}
    assert public["complete"] is True
    grantee = PassportGrantFactory(passport=passport, access="authorities").user
    assert set(client_for(grantee).get(completeness(passport.battery_id)).json()["points"]) == {
        "1",
        "2",
        "3",
    }


def test_the_list_filters_on_completeness(anonymous, organization, passport):
    PassportFactory(organization=organization, battery_id="HALF", document={"warrantyPeriod": 1})
    PassportFactory(
        organization=organization,
        battery_id="ODD",
        document=document_of("ODD", batteryCategory="?"),
    )

    def ids(value):
        envelope = anonymous.get("/passport/batteryPass/", {"complete": value}).json()[0]
        return [p["batteryIDDMCCode"] for p in envelope["data"]]

    assert ids("false") == ["HALF", "ODD"]
    assert ids("true") == [passport.battery_id]


def test_the_stored_completeness_follows_every_change(client_for, member, passport):
    client = client_for(member)
    client.patch(
        f"/passport/batteryPass/{passport.battery_id}/stateOfBatteryProperties",
        {"stateOfHealth": None},
        format="json",
    )
    passport.refresh_from_db()
    assert passport.complete is False and passport.completeness < 100
    client.patch(
        f"/passport/batteryPass/{passport.battery_id}/stateOfBatteryProperties",
        {"stateOfHealth": 90},
        format="json",
    )
    passport.refresh_from_db()
    assert passport.complete is True and passport.completeness == 100.0

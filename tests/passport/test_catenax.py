"""The Catena-X export (``?format=catenax``): the passport as a Catena-X battery pass 3.0.1,
the manufacturer from the organization's profile, the rest from the passport and its
extension fields; never an invented value (a missing one is a 422 naming it), trimmed to the
reader, and valid against the published JSON Schema."""

from __future__ import annotations

import json

import orjson
import pytest
from jsonschema import Draft4Validator, FormatChecker

from core.models import Organization
from passport import catenax
from passport.catenax import without_required
from tests.factories import UserFactory
from tests.passport.factories import (
    MANUFACTURER_PROFILE,
    PassportFactory,
    PassportGrantFactory,
    catenax_passport,
)

pytestmark = pytest.mark.django_db

MEDIA_TYPE = "application/vnd.catenax.battery-pass+json"
ID = "NMC-2024.07:A~001_x"
URL = f"/passport/batteryPass/{ID}"
#: The published schema, as the repository keeps it.
PUBLISHED = json.loads(catenax.SCHEMA_FILE.read_text())


def validate(data: dict, *, complete: bool) -> list[str]:
    """The problems of ``data`` against the published schema (``required`` relaxed unless
    ``complete``)."""
    document = PUBLISHED if complete else without_required(PUBLISHED)
    validator = Draft4Validator(document, format_checker=FormatChecker())
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(data)
    ]


@pytest.fixture
def manufacturer(organization):
    Organization.objects.filter(pk=organization.pk).update(**MANUFACTURER_PROFILE)
    organization.refresh_from_db()
    return organization


def create(organization, document: dict | None = None, **changes):
    """A passport of ``organization``: ``document`` (the Catena-X sample by default) with
    ``changes``."""
    document = {**(document or catenax_passport(ID)), **changes}
    document.pop("batteryIDDMCCode")
    return PassportFactory(organization=organization, battery_id=ID, document=document)


def export(client, url: str = URL):
    return client.get(f"{url}?format=catenax")


def test_a_complete_passport_read_with_every_class_validates_against_the_schema(
    manufacturer, owner, client_for
):
    create(manufacturer)

    response = export(client_for(owner))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == MEDIA_TYPE
    data = orjson.loads(response.content)
    assert validate(data, complete=True) == []
    assert set(data) == set(PUBLISHED["required"]) | {"document"}


def test_the_mapping_reads_the_passport_and_the_profile_as_they_are(
    manufacturer, owner, client_for
):
    create(manufacturer)

    data = orjson.loads(export(client_for(owner)).content)

    assert data["batteryIdentification"] == {
        "batteryIDDMCCode": ID,
        "batteryType": "Lithium-ion NMC 811",
        "batteryModel": "EV-Pack 75",
    }
    assert data["manufacturer"] == {
        "name": manufacturer.name,
        "address": {
            "thoroughfare": {"technicalKey": "STREET", "value": "Hauptstrasse", "number": "1"},
            "locality": {"technicalKey": "CITY", "value": "Musterstadt"},
            "country": {"shortName": "DE"},
            "postCode": {"value": "01234", "technicalKey": "REGULAR"},
        },
        "contact": {
            "website": "https://example.org",
            "phoneNumber": "+49 30 1234567",
            "email": "batteries@example.org",
        },
    }
    assert data["manufacturing"]["dateOfManufacturing"] == "2024-07-15"
    assert data["datePlacedOnMarket"] == "2024-08-01"
    electrochemical = data["electrochemicalProperties"]
    # The documented passport holds voltages as strings; Catena-X as numbers.
    assert electrochemical["batteryVoltage"] == {
        "minVoltage": 280,
        "nominalVoltage": 355,
        "maxVoltage": 403,
    }
    assert electrochemical["internalResistance"] == {
        "cellInternalResistance": 0.8,
        "packInternalResistance": 95,
        "packInternalResistanceIncrease": 10,
    }
    assert electrochemical["batteryEnergy"]["energyRoundtripEfficiency"] == 95.5
    assert data["temperatureRangeIdleState"] == {
        "temperatureRangeIdleStateLowerLimit": -30,
        "temperatureRangeIdleStateUpperLimit": 55,
    }
    # Materials keep name, mass fraction and weight (hazards are not in the 3.0.1 model).
    assert data["cellChemistry"]["anodeActiveMaterials"] == [
        {"materialPercentageMassFraction": 95, "materialWeight": 61000, "materialName": "Graphite"}
    ]
    components = data["composition"]["components"]
    assert components["componentsPartNumber"] == ["BMS-778-01"]
    assert components["componentsSupplier"] == [
        {
            "componentsSupplierName": "Example Electronics GmbH",
            "address": {
                "thoroughfare": {
                    "technicalKey": "STREET",
                    "value": "Industriestrasse",
                    "number": "5",
                },
                "locality": {"technicalKey": "CITY", "value": "Beispielstadt"},
                "country": {"shortName": "DE-BE"},
                "postCode": {"value": "12345", "technicalKey": "REGULAR"},
            },
            "contact": {
                "website": "https://example-electronics.test",
                "phoneNumber": "+49 30 1234567",
                "email": "spares@example-electronics.test",
            },
        }
    ]
    assert data["document"]["testReportsResults"] == [
        {
            "title": "UN 38.3 test report",
            "fileLocation": "https://example.org/docs/un-38.3-test-report.pdf",
        }
    ]
    assert set(data["document"]) == {
        "declarationOfConformity",
        "testReportsResults",
        "safetyMeasures",
        "batteryDismantlingProcedure",
        "vehicleDismantlingProcedure",
        "responsibleSourcing",
    }


def test_the_media_type_in_accept_asks_for_the_export_too(manufacturer, owner, client_for):
    create(manufacturer)
    response = client_for(owner).get(URL, HTTP_ACCEPT=MEDIA_TYPE)
    assert response.status_code == 200
    assert response["Content-Type"] == MEDIA_TYPE
    assert "batteryIdentification" in orjson.loads(response.content)


def test_an_anonymous_export_is_trimmed_to_point_1_and_validates_with_required_relaxed(
    manufacturer, client_for
):
    create(manufacturer)

    response = export(client_for(None))

    assert response.status_code == 200, response.content
    data = orjson.loads(response.content)
    assert validate(data, complete=False) == []
    assert validate(data, complete=True) != []
    # Point 2 (composition, parts, dismantling, safety), 3 (test reports) and 4 (state,
    # fades, increases) are nowhere.
    assert "stateOfBattery" not in data
    assert set(data["cellChemistry"]) == {"recyclateContentActiveMaterials"}
    assert "components" not in data["composition"]
    assert set(data["document"]) == {"declarationOfConformity", "responsibleSourcing"}
    assert "capacityFade" not in data["electrochemicalProperties"]
    assert "powerFade" not in data["electrochemicalProperties"]["batteryPower"]
    assert (
        "packInternalResistanceIncrease"
        not in data["electrochemicalProperties"]["internalResistance"]
    )
    body = response.content.decode()
    for restricted in ("BMS-778-01", "Industriestrasse", "UN 38.3", "Dismantling manual", "97.5"):
        assert restricted not in body
    # Point 1, the manufacturer included, is all there.
    assert data["manufacturer"]["name"] == manufacturer.name
    assert data["electrochemicalProperties"]["ratedCapacity"] == 150


@pytest.mark.parametrize(
    ("reader", "seen", "unseen"),
    [
        ("legitimate", {"stateOfBattery"}, {"testReportsResults"}),
        ("authority", {"testReportsResults"}, {"stateOfBattery"}),
    ],
)
def test_grantees_get_their_classes(manufacturer, client_for, reader, seen, unseen):
    passport = create(manufacturer)
    user = UserFactory()
    access = {"legitimate": "legitimate_interest", "authority": "authorities"}[reader]
    PassportGrantFactory(passport=passport, user=user, access=access)

    data = orjson.loads(export(client_for(user)).content)

    keys = set(data) | set(data.get("document", {}))
    assert seen <= keys
    assert not unseen & keys
    assert validate(data, complete=False) == []


def test_every_missing_required_value_is_a_422_naming_it(organization, owner, client_for):
    document = catenax_passport(ID, dateOfManufacturing="2024-07")
    for key in ("batteryModel", "datePlacedOnMarket"):
        document.pop(key)
    del document["hasStateOfBatteryProperties"]["stateOfHealth"]
    create(organization, document)

    response = export(client_for(owner))

    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    problems = response.json()
    assert set(problems) == {
        "batteryIdentification.batteryModel",
        "datePlacedOnMarket",
        "manufacturing.dateOfManufacturing",
        "stateOfBattery.stateOfHealth",
        # The organization has no profile yet.
        "manufacturer.address.thoroughfare.value",
        "manufacturer.address.thoroughfare.number",
        "manufacturer.address.locality.value",
        "manufacturer.address.postCode.value",
        "manufacturer.address.country.shortName",
        "manufacturer.contact",
    }
    assert problems["datePlacedOnMarket"] == [
        "Required by Catena-X: fill in `datePlacedOnMarket` of the passport (an extension field)."
    ]
    assert problems["manufacturing.dateOfManufacturing"] == [
        "Catena-X needs a full date (YYYY-MM-DD); `dateOfManufacturing` holds '2024-07'."
    ]
    assert (
        "hasStateOfBatteryProperties.stateOfHealth" in problems["stateOfBattery.stateOfHealth"][0]
    )
    assert f"profile of organization {organization.pk}" in problems["manufacturer.contact"][0]


def test_a_reader_is_told_only_of_what_they_may_see(manufacturer, client_for):
    document = catenax_passport(ID)
    del document["hasStateOfBatteryProperties"]  # point 4
    del document["hasCompositionProperties"]["componentsProperties"]  # point 2
    create(manufacturer, document)

    assert export(client_for(None)).status_code == 200


def test_suppliers_and_materials_are_checked_item_by_item(manufacturer, owner, client_for):
    document = catenax_passport(ID)
    composition = document["hasCompositionProperties"]
    del composition["componentsProperties"][0]["involvedSupplierComponents"][0]["postalAddress"][
        "city"
    ]
    del document["hasCellChemistryProperties"]["anodeActiveMaterials"][0]["materialName"]
    create(manufacturer, document)

    problems = export(client_for(owner)).json()

    assert set(problems) == {
        "composition.components.componentsSupplier[0].address.locality.value",
        "cellChemistry.anodeActiveMaterials[0].materialName",
    }
    assert (
        "involvedSupplierComponents[0].postalAddress.city"
        in problems["composition.components.componentsSupplier[0].address.locality.value"][0]
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"warrantyPeriod": 0}, "warrantyPeriod"),
        ({"dateOfManufacturing": "2024-02-30"}, "manufacturing.dateOfManufacturing"),
    ],
)
def test_a_value_catena_x_refuses_is_a_422_naming_it(manufacturer, owner, client_for, change, path):
    create(manufacturer, **change)
    response = export(client_for(owner))
    assert response.status_code == 422
    assert list(response.json()) == [path]


def test_a_voltage_that_is_no_number_is_named(manufacturer, owner, client_for):
    passport = create(manufacturer)
    document = passport.document
    document["hasEelectrochemicalProperties"]["voltageProperties"]["nomimalVoltage"] = "3.7 V"
    document["hasEelectrochemicalProperties"]["voltageProperties"]["maxVoltage"] = "about four"
    client_for(owner).put(URL, {"batteryIDDMCCode": ID, **document}, format="json")

    response = export(client_for(owner))

    assert response.json() == {
        "electrochemicalProperties.batteryVoltage.maxVoltage": [
            "Catena-X needs a number of volts; "
            "`hasEelectrochemicalProperties.voltageProperties.maxVoltage` holds 'about four'."
        ]
    }


def test_errors_of_the_export_are_json(client_for):
    response = export(client_for(None), "/passport/batteryPass/NOPE")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_list_has_no_catena_x_form(manufacturer, client_for):
    create(manufacturer)
    response = client_for(None).get("/passport/batteryPass/?format=catenax")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_export_costs_a_fixed_number_of_queries(
    manufacturer, client_for, django_assert_num_queries
):
    create(manufacturer)
    with django_assert_num_queries(2):  # the passport, its organization
        assert export(client_for(None)).status_code == 200


# --- the extension fields in the passport API -----------------------------------------------
def test_extension_fields_are_validated_by_the_passport_schema(member, client_for, organization):
    body = catenax_passport("EXT-1")
    body["datePlacedOnMarket"] = "2024-02-30"
    body["placeOfManufacturingAddress"]["country"] = "Germany"
    body["placeOfManufacturingAddress"]["floor"] = "3"
    body["hasCompositionProperties"]["compositionOfBatteryMaterials"][0]["materialWeight"] = -1

    response = client_for(member).post("/passport/batteryPass", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "datePlacedOnMarket": ["Must be a date (YYYY-MM-DD) that exists."],
        "hasCompositionProperties.compositionOfBatteryMaterials[0].materialWeight": [
            "Must be at least 0."
        ],
        "placeOfManufacturingAddress.country": [
            "Must match the pattern ^[A-Z]{2}(-[A-Z0-9]{1,3})?$."
        ],
        "placeOfManufacturingAddress.floor": ["Unknown field."],
    }


def test_extension_fields_round_trip_and_are_trimmed_by_their_point(
    member, client_for, organization
):
    body = catenax_passport("EXT-2")
    created = client_for(member).post("/passport/batteryPass", body, format="json")
    assert created.status_code == 201, created.content

    mine = client_for(member).get("/passport/batteryPass/EXT-2").json()["data"][0]
    public = client_for(None).get("/passport/batteryPass/EXT-2").json()["data"][0]

    assert {key: mine[key] for key in body} == body
    for key in ("batteryModel", "batteryType", "datePlacedOnMarket", "placeOfManufacturingAddress"):
        assert public[key] == body[key]
    assert (
        public["hasCompositionProperties"]["compositionOfBatteryMaterials"]
        == body["hasCompositionProperties"]["compositionOfBatteryMaterials"]
    )
    # A supplier's address is part of point 2, with the components.
    assert "componentsProperties" not in public["hasCompositionProperties"]
    assert "Industriestrasse" not in json.dumps(public)

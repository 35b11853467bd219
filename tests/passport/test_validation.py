"""Validation of passport bodies: types and ranges by JSON path, every problem in one answer,
unknown keys refused except in the partly known objects, the id's rules, the platform's JSON
limits; nothing is written when a body is refused."""

from __future__ import annotations

import pytest

from passport.models import Passport
from passport.schema import document_errors, json_path, path_parts
from tests.passport.factories import full_passport

pytestmark = pytest.mark.django_db

LIST = "/passport/batteryPass/"


def post(client, body):
    return client.post(LIST, body, format="json")


def test_wrong_types_are_named_by_their_json_path_all_at_once(client_for, member):
    body = full_passport("TYPES")
    body["cO2FootprintTotal"] = "72.5"
    body["hasEelectrochemicalProperties"]["voltageProperties"]["nomimalVoltage"] = 355
    body["hasCellChemistryProperties"]["cathodeActiveMaterials"][2]["materialWeight"] = "6100"
    body["hasCompositionProperties"]["leadSymbol"] = "no"
    body["hasRenewableContentShare"] = {"materialName": "Aluminium"}
    body["hasCellChemistryProperties"]["anodeActiveMaterials"] = ["Graphite"]
    body["warrantyPeriod"] = True
    response = post(client_for(member), body)
    assert response.status_code == 400
    assert response.json() == {
        "cO2FootprintTotal": ["Must be a number, not a string."],
        "hasCellChemistryProperties.anodeActiveMaterials[0]": ["Must be an object, not a string."],
        "hasCellChemistryProperties.cathodeActiveMaterials[2].materialWeight": [
            "Must be a number, not a string."
        ],
        "hasCompositionProperties.leadSymbol": ["Must be a boolean (true or false), not a string."],
        "hasEelectrochemicalProperties.voltageProperties.nomimalVoltage": [
            "Must be a string, not a number."
        ],
        "hasRenewableContentShare": ["Must be an array, not an object."],
        "warrantyPeriod": ["Must be a number, not a boolean."],
    }
    assert not Passport.objects.exists()


def test_null_is_not_a_value(client_for, member):
    response = post(client_for(member), {"batteryIDDMCCode": "N", "dateOfService": None})
    assert response.status_code == 400
    assert response.json() == {"dateOfService": ["Must be a string, not null."]}


def test_errors_under_the_one_e_spelling_name_that_spelling(client_for, member):
    body = {"batteryIDDMCCode": "E1", "hasElectrochemicalProperties": {"ratedCapacity": "x"}}
    response = post(client_for(member), body)
    assert response.json() == {
        "hasElectrochemicalProperties.ratedCapacity": ["Must be a number, not a string."]
    }


CHEMISTRY = "hasCellChemistryProperties"
ELECTRO = "hasEelectrochemicalProperties"
PERCENT = "materialPercentageMassFraction"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["hasStateOfBatteryProperties", "stateOfHealth"], 100.5, "Must be at most 100."),
        (["hasStateOfBatteryProperties", "stateOfCharge"], -1, "Must be at least 0."),
        ([CHEMISTRY, "cathodeActiveMaterials", 0, PERCENT], 101, "Must be at most 100."),
        ([ELECTRO, "capacityThresholdExhaustion"], 150, "Must be at most 100."),
        ([CHEMISTRY, "anodeActiveMaterials", 0, "materialWeight"], -0.1, "Must be at least 0."),
        (["hasPhysicalDimensionsProperties", "weight"], -510, "Must be at least 0."),
        (["hasPhysicalDimensionsProperties", "length"], -1, "Must be at least 0."),
        ([ELECTRO, "ratedCapacity"], -150, "Must be at least 0."),
        ([ELECTRO, "remainingCapacity"], -1, "Must be at least 0."),
        (["hasBatteryEnergyProperties", "certifiedUsableBatteryEnergy"], -1, "Must be at least 0."),
        (["hasRenewableContentShare", 0, PERCENT], 200, "Must be at most 100."),
    ],
)
def test_out_of_range_values_are_refused(client_for, member, path, value, message):
    body = full_passport("RANGE")
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    response = post(client_for(member), body)
    assert response.status_code == 400
    assert response.json() == {json_path(path): [message]}


def test_negative_temperatures_and_currents_are_fine(client_for, member):
    body = full_passport("COLD")
    body["hasEelectrochemicalProperties"]["temperatureProperties"]["minimalTemperatureUsage"] = -40
    body["hasEelectrochemicalProperties"]["voltageProperties"]["minimalOperatinCurrent"] = -500
    assert post(client_for(member), body).status_code == 201


def test_unknown_keys_are_refused_where_the_schema_is_known(client_for, member):
    body = full_passport("EXTRA")
    body["colour"] = "blue"
    body["hasStateOfBatteryProperties"]["mood"] = "fine"
    body["hasEelectrochemicalProperties"]["voltageProperties"]["typo"] = 1
    body["hasCellChemistryProperties"]["cathodeActiveMaterials"][1]["purity"] = 99
    body["hasCompositionProperties"]["componentsProperties"][0]["involvedSupplierComponents"][0][
        "fax"
    ] = "none"
    response = post(client_for(member), body)
    assert response.status_code == 400
    assert response.json() == {
        "colour": ["Unknown field."],
        "hasCellChemistryProperties.cathodeActiveMaterials[1].purity": ["Unknown field."],
        "hasCompositionProperties.componentsProperties[0].involvedSupplierComponents[0].fax": [
            "Unknown field."
        ],
        "hasEelectrochemicalProperties.voltageProperties.typo": ["Unknown field."],
        "hasStateOfBatteryProperties.mood": ["Unknown field."],
    }


def test_partly_known_objects_keep_extra_keys(client_for, member):
    body = full_passport("OPEN")
    body["safetyMeasures"]["attachmentChecksum"] = "sha256:abc"
    body["hasRenewableContentShare"][0]["source"] = {"plant": "Oslo"}
    body["hasCompositionProperties"]["componentsProperties"][0]["weight"] = 1.5
    body["hasCellChemistryProperties"]["cathodeActiveMaterials"][0]["hazardousProperties"][
        "pictogram"
    ] = "GHS08"
    client = client_for(member)
    created = post(client, body)
    assert created.status_code == 201, created.json()
    (answered,) = client.get(f"{LIST}OPEN").json()["data"]
    assert answered["safetyMeasures"]["attachmentChecksum"] == "sha256:abc"
    assert answered["hasRenewableContentShare"][0]["source"] == {"plant": "Oslo"}
    assert answered["hasCompositionProperties"]["componentsProperties"][0]["weight"] == 1.5
    hazards = answered["hasCellChemistryProperties"]["cathodeActiveMaterials"][0]
    assert hazards["hazardousProperties"]["pictogram"] == "GHS08"


@pytest.mark.parametrize(
    "battery_id",
    ["", "a" * 129, "with space", "slash/inside", "ümlaut", "semi;colon", ".", "..", 42, None],
)
def test_bad_ids_are_refused(client_for, member, battery_id):
    response = post(client_for(member), {"batteryIDDMCCode": battery_id})
    assert response.status_code == 400
    assert "batteryIDDMCCode" in response.json()
    assert not Passport.objects.exists()


@pytest.mark.parametrize("battery_id", ["a", "a" * 128, "...", "Z-9.0_1~2:3", "0"])
def test_good_ids_are_taken(client_for, member, battery_id):
    assert post(client_for(member), {"batteryIDDMCCode": battery_id}).status_code == 201


def test_the_id_is_required(client_for, member):
    response = post(client_for(member), {"batteryCategory": "LMT battery"})
    assert response.json() == {"batteryIDDMCCode": ["This field is required."]}


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "body",
    [
        "a string",
        42,
        {"batteryIDDMCCode": "NUL", "dateOfService": "2024\u0000"},
        {"batteryIDDMCCode": "DEEP", "safetyMeasures": {"x": nested(40)}},
    ],
)  # fmt: skip
def test_bodies_the_platform_refuses_are_a_400(client_for, member, body):
    response = post(client_for(member), body)
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Passport.objects.exists()


def test_a_form_body_is_not_read(client_for, member):
    response = client_for(member).post(LIST, {"batteryIDDMCCode": "FORM"}, format="multipart")
    assert response.status_code == 415


def test_organization_must_be_an_id(client_for, member):
    response = post(client_for(member), {"batteryIDDMCCode": "O", "organization": "mine"})
    assert response.status_code == 400
    assert "organization" in response.json()


def test_json_paths_read_back():
    for parts in (["a", "b", 2, "c"], ["x.y", 0], ['we"ird\\', "k"], [3]):
        assert path_parts(json_path(parts)) == parts
    assert json_path(["hasCellChemistryProperties", "cathodeActiveMaterials", 2, "x"]) == (
        "hasCellChemistryProperties.cathodeActiveMaterials[2].x"
    )


def test_the_documented_sample_is_valid():
    assert document_errors(full_passport()) == {}


def test_numbers_beyond_10_to_the_15_are_refused_anywhere(client_for, member):
    """PostgreSQL would give 1e300 back as an integer of 301 digits, which no answer could
    hold: such numbers are refused, in the documented fields and in kept extra keys alike."""
    body = full_passport("HUGE")
    body["cO2FootprintTotal"] = 1e16
    body["safetyMeasures"]["pages"] = 1e300
    body["hasRenewableContentShare"][0]["tons"] = [-(10**20)]
    response = post(client_for(member), body)
    assert response.status_code == 400
    assert response.json() == {
        "cO2FootprintTotal": ["Must be at most 1000000000000000."],
        "hasRenewableContentShare[0].tons[0]": [
            "Must be between -1000000000000000 and 1000000000000000."
        ],
        "safetyMeasures.pages": ["Must be between -1000000000000000 and 1000000000000000."],
    }


def test_numbers_up_to_10_to_the_15_read_back(client_for, member):
    body = full_passport("BIG")
    body["hasBatteryCycleLifeProperties"]["energyThroughput"] = 10**15
    body["safetyMeasures"]["pages"] = -(10**15)
    client = client_for(member)
    assert post(client, body).status_code == 201
    (answered,) = client.get(f"{LIST}BIG").json()["data"]
    assert answered["hasBatteryCycleLifeProperties"]["energyThroughput"] == 10**15
    assert answered["safetyMeasures"]["pages"] == -(10**15)

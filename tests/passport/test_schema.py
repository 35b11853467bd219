"""The passport API in the OpenAPI document: every operation, with the Passport components."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/passport/batteryPass/", "get"),
    ("/passport/batteryPass/", "post"),
    ("/passport/batteryPass/{batteryIDDMCCode}/", "get"),
    ("/passport/batteryPass/{batteryIDDMCCode}/", "put"),
    ("/passport/batteryPass/{batteryIDDMCCode}/", "patch"),
    ("/passport/batteryPass/{batteryIDDMCCode}/", "delete"),
    ("/passport/batteryPass/{batteryIDDMCCode}/grants/", "get"),
    ("/passport/batteryPass/{batteryIDDMCCode}/grants/", "post"),
    ("/passport/batteryPass/{batteryIDDMCCode}/grants/{grant_id}/", "delete"),
    ("/passport/batteryPass/{batteryIDDMCCode}/history/", "get"),
    ("/passport/batteryPass/{batteryIDDMCCode}/history/{version}/", "get"),
    ("/passport/batteryPass/{batteryIDDMCCode}/completeness/", "get"),
    ("/passport/batteryPass/{batteryIDDMCCode}/carrier.svg/", "get"),
    ("/passport/batteryPass/{batteryIDDMCCode}/carrier.png/", "get"),
    *(
        (f"/passport/batteryPass/{{batteryIDDMCCode}}/{section}/", method)
        for section in (
            "electrochemicalProperties",
            "compositionProperties",
            "batteryCycleLifeProperties",
            "cellChemistryProperties",
            "physicalDimensionsProperties",
            "batteryEnergyProperties",
            "stateOfBatteryProperties",
        )
        for method in ("get", "put", "patch")
    ),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_every_operation_is_documented_with_its_tag(schema):
    found = {
        (path, method)
        for path, operations in schema["paths"].items()
        if path.startswith("/passport/")
        for method in operations
        if method != "parameters"
    }
    assert found == OPERATIONS
    for path, method in OPERATIONS:
        assert schema["paths"][path][method]["tags"] == ["passport"]


def test_answers_refer_to_the_passport_components(schema):
    paths = schema["paths"]
    listed = paths["/passport/batteryPass/"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/PassportEnvelope"},
    }
    assert set(listed["headers"]) == {"X-Total-Count", "Link"}
    created = paths["/passport/batteryPass/"]["post"]
    assert created["requestBody"]["content"]["application/json"]["schema"] == {
        "allOf": [{"$ref": "#/components/schemas/PassportBatteryPass"}],
        "required": ["batteryIDDMCCode"],
    }
    assert {"201", "400", "401", "403", "409"} <= set(created["responses"])
    section = paths["/passport/batteryPass/{batteryIDDMCCode}/stateOfBatteryProperties/"]["get"]
    assert section["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PassportStateOfBatteryProperties"
    }
    components = schema["components"]["schemas"]
    passport = components["PassportBatteryPass"]["properties"]
    assert {"hasEelectrochemicalProperties", "hasElectrochemicalProperties", "organization"} <= set(
        passport
    )
    assert "nomimalVoltage" in components["PassportVoltageProperties"]["properties"]
    assert components["PassportAttachement"]["additionalProperties"] is True
    assert components["PassportStateOfBatteryProperties"]["additionalProperties"] is False


def test_public_reads_need_no_credential_in_the_schema(schema):
    detail = schema["paths"]["/passport/batteryPass/{batteryIDDMCCode}/"]
    assert {} in detail["get"]["security"]
    assert {} not in detail["put"]["security"]
    history = schema["paths"]["/passport/batteryPass/{batteryIDDMCCode}/history/"]["get"]
    assert {} not in history["security"]


def test_the_catena_x_export_is_documented_on_the_detail(schema):
    detail = schema["paths"]["/passport/batteryPass/{batteryIDDMCCode}/"]["get"]
    answers = detail["responses"]
    assert answers["200"]["content"]["application/vnd.catenax.battery-pass+json"]["schema"] == {
        "$ref": "#/components/schemas/PassportCatenaXBatteryPass"
    }
    assert answers["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationErrors"
    }
    formats = [p for p in detail["parameters"] if p["name"] == "format"]
    assert formats[0]["schema"]["enum"] == ["catenax", "json"]
    components = schema["components"]["schemas"]
    root = components["PassportCatenaXBatteryPass"]
    assert {"manufacturer", "batteryIdentification", "datePlacedOnMarket"} <= set(
        root["properties"]
    )
    # An export is trimmed to its reader: nothing is declared required.
    assert not any("required" in components[name] for name in components if "CatenaX" in name)


def test_the_qr_codes_are_public_images(schema):
    for kind, media_type in (("svg", "image/svg+xml"), ("png", "image/png")):
        path = f"/passport/batteryPass/{{batteryIDDMCCode}}/carrier.{kind}/"
        operation = schema["paths"][path]["get"]
        assert list(operation["responses"]["200"]["content"]) == [media_type]
        assert operation["responses"]["404"]["content"]["application/json"]
        assert {} in operation["security"]
        assert "400" not in operation["responses"]  # no query parameters

"""The demo data hook: a few valid passports for the demo organization, once, the first a
complete public example that exports to Catena-X."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from jsonschema import Draft4Validator, FormatChecker

from core.management.commands.setupdemo import DEMO_ORGANIZATION
from core.models import Organization
from passport import catenax, demo
from passport.definitions import ID_FIELD
from passport.models import Passport
from passport.schema import document_errors
from tests.passport.factories import PassportFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("battery_id", list(demo.PASSPORTS))
def test_every_demo_passport_is_a_valid_body(battery_id):
    assert document_errors({ID_FIELD: battery_id, **demo.PASSPORTS[battery_id]}) == {}


def test_the_hook_fills_the_organization_once(organization, owner):
    assert demo.create_demo_data(organization=organization) is True
    assert demo.create_demo_data(organization=organization) is False

    passports = Passport.objects.filter(organization=organization).order_by("battery_id")
    assert [p.battery_id for p in passports] == sorted(demo.PASSPORTS)
    assert {p.version for p in passports} == {1}
    assert {p.created_by for p in passports} == {owner}
    example = passports.get(battery_id=demo.PUBLIC_EXAMPLE)
    assert example.complete and example.completeness == 100


def test_the_public_example_exports_to_catena_x_and_has_a_page(organization, owner, client_for):
    demo.create_demo_data(organization=organization)
    url = f"/passport/batteryPass/{demo.PUBLIC_EXAMPLE}"

    response = client_for(owner).get(f"{url}?format=catenax")

    assert response.status_code == 200, response.content
    schema = json.loads(catenax.SCHEMA_FILE.read_text())
    errors = list(
        Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(response.json())
    )
    assert errors == []
    assert client_for(None).get(f"{url}?format=catenax").status_code == 200
    page = Client().get(f"/passport/p/{demo.PUBLIC_EXAMPLE}/")
    assert page.status_code == 200
    assert "Batteriestrasse 12, 10115 Berlin, DE" in page.content.decode()


def test_the_profile_is_filled_only_where_empty(organization):
    Organization.objects.filter(pk=organization.pk).update(city="Potsdam")
    organization.refresh_from_db()

    demo.create_demo_data(organization=organization)

    organization.refresh_from_db()
    assert organization.city == "Potsdam"
    assert organization.street == demo.PROFILE["street"]


def test_ids_another_organization_holds_get_a_suffix(organization, other_organization):
    PassportFactory(organization=other_organization, battery_id=demo.PUBLIC_EXAMPLE)

    demo.create_demo_data(organization=organization)

    ids = set(
        Passport.objects.filter(organization=organization).values_list("battery_id", flat=True)
    )
    assert f"{demo.PUBLIC_EXAMPLE}-{organization.pk}" in ids
    assert "DEMO-LMT-0001" in ids


def test_setupdemo_adds_the_passports(db):
    out = io.StringIO()
    call_command("setupdemo", stdout=out, stderr=io.StringIO())
    organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    assert Passport.objects.filter(organization=organization).count() == len(demo.PASSPORTS)
    assert "passport" in out.getvalue()

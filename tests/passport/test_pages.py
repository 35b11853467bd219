"""The web pages: the public page of a passport (its QR code's address), grouped by the
regulation's sections with units, trimmed to the reader, HTML errors, no inline script or
style; the list of the passports of one's organizations, linked from the navigation."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from core.models import Organization
from tests.factories import UserFactory
from tests.passport.conftest import document_of
from tests.passport.factories import (
    MANUFACTURER_PROFILE,
    PassportFactory,
    PassportGrantFactory,
    attachment,
    catenax_passport,
)

pytestmark = pytest.mark.django_db

ID = "EV-0001"
PAGE = f"/passport/p/{ID}/"

POINT_1 = [
    "General battery and manufacturer information",
    "Materials and composition",
    "Carbon footprint",
    "Responsible sourcing",
    "Recycled and renewable content",
    "Performance and durability",
    "Labels and conformity",
    "Waste prevention and collection",
]
POINT_2 = "Composition, parts and dismantling"
POINT_3 = "Test reports"
POINT_4 = "This battery: state of health, use and events"
#: Values of points 2, 3 and 4 in the sample passport.
RESTRICTED = {
    2: ["BMS-778-01", "Dismantling manual", "Safety measures", "PVDF binder"],
    3: ["UN 38.3 test report"],
    4: ["29\u202f500\u202f000", "2024-09-01", "97.5 %"],
}


def text_of(response) -> str:
    """The page's visible text, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    # Thin spaces (thousands) stay: only ASCII whitespace collapses.
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def manufacturer(organization):
    Organization.objects.filter(pk=organization.pk).update(**MANUFACTURER_PROFILE)
    organization.refresh_from_db()
    return organization


@pytest.fixture
def passport(manufacturer):
    document = catenax_passport(ID)
    document.pop("batteryIDDMCCode")
    return PassportFactory(organization=manufacturer, battery_id=ID, document=document)


def test_anyone_reads_the_public_part_by_section_with_units(passport, manufacturer):
    response = browser().get(PAGE)

    assert response.status_code == 200
    text = text_of(response)
    positions = [text.index(title) for title in POINT_1]
    assert positions == sorted(positions)
    for shown in (
        f"Manufacturer {manufacturer.name}",
        "Manufacturer's address Hauptstrasse 1, 01234 Musterstadt, DE",
        "Manufacturer's email batteries@example.org",
        "Battery category electric vehicle battery",
        "Rated capacity 150 Ah",
        "Nominal voltage 355 V",
        "Weight 510.5 kg",
        "Length 2\u202f100 mm",
        "Carbon footprint, total 72.5 kg CO₂e",
        "Warranty period 8 years",
        "Temperature range when idle -30 to 55 °C",
        "Expected lifetime 3\u202f000 cycles",
        "Cell internal resistance 0.8 mΩ",
        "Lead symbol no",
        "Date placed on the market 2024-08-01",
    ):
        assert shown in text, shown
    assert "You see: public information " in text


def test_the_page_shows_the_qr_code_and_its_address(passport, client_for):
    html = browser().get(PAGE).content.decode()
    assert f'<img src="/passport/batteryPass/{ID}/carrier.svg"' in html
    assert f'href="http://testserver{PAGE}"' in html
    assert f'href="/passport/batteryPass/{ID}/carrier.png"' in html
    assert f'href="/passport/batteryPass/{ID}/?format=catenax"' in html


@pytest.mark.parametrize(
    ("reader", "points"),
    [
        ("anonymous", {1}),
        ("outsider", {1}),
        ("legitimate_interest", {1, 2, 4}),
        ("authorities", {1, 2, 3}),
        ("viewer", {1, 2, 3, 4}),
        ("staff", {1, 2, 3, 4}),
    ],
)
def test_each_reader_sees_the_sections_of_their_classes(
    passport, reader, points, outsider, viewer, staff
):
    user = {"anonymous": None, "outsider": outsider, "viewer": viewer, "staff": staff}.get(reader)
    if reader in {"legitimate_interest", "authorities"}:
        user = UserFactory()
        PassportGrantFactory(passport=passport, user=user, access=reader)

    text = text_of(browser(user).get(PAGE))

    for point, title in ((2, POINT_2), (3, POINT_3), (4, POINT_4)):
        assert (title in text) == (point in points), title
        for value in RESTRICTED[point]:
            assert (value in text) == (point in points), value
    assert all(title in text for title in POINT_1)


def test_a_missing_passport_is_the_sites_html_404(db):
    response = browser().get("/passport/p/NOPE/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Battery data platform" in response.content.decode()


def test_the_page_answers_without_the_trailing_slash_and_refuses_writes(passport):
    assert browser().get(PAGE[:-1]).status_code == 200
    refused = browser().post(PAGE)
    assert refused.status_code == 405
    assert refused["Content-Type"].startswith("text/html")


def test_no_inline_script_or_style_and_a_strict_policy(passport):
    response = browser().get(PAGE)
    html = response.content.decode()
    assert "<script" not in html
    assert " style=" not in html and "<style" not in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy


def test_only_web_links_become_links_and_text_is_escaped(manufacturer):
    document = document_of("XSS-1")
    document["safetyMeasures"] = attachment("x")
    document["dueDiligenceReport"] = {
        "attachmentName": "<script>alert(1)</script>",
        "attachmentURL": "javascript:alert(1)",
    }
    document["carbonFootprintStudyLink"] = "https://example.org/study"
    PassportFactory(organization=manufacturer, battery_id="XSS-1", document=document)

    html = browser().get("/passport/p/XSS-1/").content.decode()

    assert 'href="javascript:' not in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.org/study" rel="noopener noreferrer">' in html


def test_the_page_costs_one_query_for_anyone(passport, django_assert_num_queries):
    client = browser()
    with django_assert_num_queries(1):
        assert client.get(PAGE).status_code == 200


# --- the list of passports -------------------------------------------------------------------
def test_the_list_needs_a_login(db):
    response = browser().get("/passport/p/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_members_list_their_organizations_passports(passport, member, other_organization, staff):
    PassportFactory(organization=other_organization, battery_id="OTHER-1")

    mine = text_of(browser(member).get("/passport/p/"))
    everything = text_of(browser(staff).get("/passport/p/"))

    assert ID in mine and "OTHER-1" not in mine
    assert "electric vehicle battery" in mine
    assert ID in everything and "OTHER-1" in everything


def test_the_list_searches_by_identifier(passport, member):
    PassportFactory(organization=passport.organization, battery_id="LMT-0002")
    text = text_of(browser(member).get("/passport/p/?q=lmt"))
    assert "LMT-0002" in text and ID not in text


def test_the_navigation_links_to_the_list(member):
    html = browser(member).get("/accounts/profile/").content.decode()
    assert '<a href="/passport/p/">Battery passports</a>' in html

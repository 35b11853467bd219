"""Who sees what (Annex XIII, Art. 77(2)) and who may change what.

The passport of these tests carries a marker in every field of points 2, 3 and 4 (text
``restricted-<point>-<n>``, numbers ``77.<point><nnn>``, all valid values), so that any leak
of a restricted value, anywhere in an answer, shows up in the answer's text."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.services import api_key_create, api_key_revoke
from passport.classes import ANNEX_XIII, TREE, AccessClass
from passport.definitions import DEFINITIONS, SECTIONS
from passport.models import today_utc
from passport.schema import document_errors
from tests.conftest import jwt_for
from tests.factories import MembershipFactory, UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory, full_passport

pytestmark = pytest.mark.django_db

MARKER = re.compile(r"restricted-(\d)-\d+|77\.(\d)\d{3}")


def marked_document() -> dict:
    """The full sample (without id) with every value of points 2 to 4 replaced by markers."""
    counter = iter(range(1000))

    def mark(value, point):
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return f"restricted-{point}-{next(counter)}"
        if isinstance(value, int | float):
            return float(f"77.{point}{next(counter):03d}")
        if isinstance(value, list):
            return [mark(item, point) for item in value]
        return {key: mark(item, point) for key, item in value.items()}

    def walk(value, node):
        if isinstance(node, int):
            return value if node == 1 else mark(value, node)
        return {key: walk(item, node[key]) for key, item in value.items()}

    document = walk(full_passport("SECRET-1"), TREE)
    document.pop("batteryIDDMCCode")
    return document


def leaked_points(text: str) -> set[int]:
    return {int(a or b) for a, b in MARKER.findall(text)}


def has_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null(item) for item in value.values())
    if isinstance(value, list):
        return any(has_null(item) for item in value)
    return False


@pytest.fixture
def secret(organization, owner):
    return PassportFactory(
        organization=organization, battery_id="SECRET-1", document=marked_document()
    )


def url(name: str, **kwargs) -> str:
    return reverse(f"passport:{name}", kwargs={"batteryIDDMCCode": "SECRET-1", **kwargs})


def every_read_url() -> list[str]:
    return [
        "/passport/batteryPass/",
        url("battery-pass-detail"),
        *[url(f"battery-pass-{section}") for section in SECTIONS],
        url("battery-pass-history"),
        url("battery-pass-version", version=1),
        url("battery-pass-completeness"),
    ]


# --- the table --------------------------------------------------------------------------------
def _leaf_paths(node, prefix=""):
    for key, child in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(child, int):
            yield path
        else:
            yield from _leaf_paths(child, path)


def test_every_field_of_the_schema_is_in_exactly_one_line_of_the_table():
    assert sorted(_leaf_paths(TREE)) == sorted(ANNEX_XIII)
    top_level = set(DEFINITIONS["BatteryPass"]["properties"])
    assert {path.split(".")[0] for path in ANNEX_XIII} == top_level


def test_each_line_cites_the_item_of_its_point():
    for path, (point, citation) in ANNEX_XIII.items():
        assert point in (1, 2, 3, 4), path
        assert citation.startswith(str(point)), (path, citation)


def test_the_marked_passport_marks_every_restricted_point_with_valid_values(secret):
    assert leaked_points(json.dumps(secret.document)) == {2, 3, 4}
    assert document_errors({"batteryIDDMCCode": "SECRET-1", **secret.document}) == {}


# --- anonymous readers ------------------------------------------------------------------------
def test_anonymous_never_sees_anything_restricted(secret, anonymous):
    answered = 0
    for read_url in every_read_url():
        for variant in (read_url, read_url.rstrip("/")):
            response = anonymous.get(variant)
            assert response.status_code in (200, 401), (variant, response.status_code)
            assert leaked_points(response.content.decode()) == set(), variant
            answered += response.status_code == 200
    assert answered == 2 * (3 + len(SECTIONS))  # list, detail, sections, completeness


def test_anonymous_sees_the_public_point_without_nulls(secret, anonymous):
    (passport,) = anonymous.get(url("battery-pass-detail")).json()["data"]
    assert passport["batteryCategory"] == "electric vehicle battery"
    assert passport["hasEelectrochemicalProperties"]["ratedCapacity"] == 150
    assert "hasStateOfBatteryProperties" not in passport
    assert "safetyMeasures" not in passport
    assert "testReportsResults" not in passport["hasCellChemistryProperties"]
    assert "capacityFade" not in passport["hasEelectrochemicalProperties"]
    assert not has_null(passport)


def test_a_property_object_with_nothing_visible_is_an_empty_object(secret, anonymous):
    response = anonymous.get(url("battery-pass-stateOfBatteryProperties"))
    assert response.status_code == 200
    assert response.json() == {}


def test_anonymous_history_needs_credentials(secret, anonymous):
    assert anonymous.get(url("battery-pass-history")).status_code == 401
    assert anonymous.get(url("battery-pass-version", version=1)).status_code == 401


# --- the classes ------------------------------------------------------------------------------
@pytest.fixture
def readers(secret, organization, owner, member, viewer, outsider, staff):
    """Every kind of reader of ``secret``, by name."""
    grantees = {}
    for name, classes in {
        "legitimate": [AccessClass.LEGITIMATE_INTEREST],
        "authority": [AccessClass.AUTHORITIES],
        "both": [AccessClass.LEGITIMATE_INTEREST, AccessClass.AUTHORITIES],
    }.items():
        user = UserFactory(username=name)
        for access in classes:
            PassportGrantFactory(passport=secret, user=user, access=access)
        grantees[name] = user
    return {
        "anonymous": None,
        "outsider": outsider,
        **grantees,
        "viewer": viewer,
        "member": member,
        "owner": owner,
        "staff": staff,
    }


SEES = {
    "anonymous": set(),
    "outsider": set(),
    "legitimate": {2, 4},
    "authority": {2, 3},
    "both": {2, 3, 4},
    "viewer": {2, 3, 4},
    "member": {2, 3, 4},
    "owner": {2, 3, 4},
    "staff": {2, 3, 4},
}


@pytest.mark.parametrize("reader", list(SEES))
def test_each_class_sees_its_points_in_list_detail_and_property_objects(
    readers, client_for, reader
):
    client = client_for(readers[reader])
    detail = client.get(url("battery-pass-detail"))
    assert leaked_points(detail.content.decode()) == SEES[reader]
    assert not has_null(detail.json())
    listed = client.get("/passport/batteryPass/")
    assert leaked_points(listed.content.decode()) == SEES[reader]
    seen = set()
    for section in SECTIONS:
        seen |= leaked_points(client.get(url(f"battery-pass-{section}")).content.decode())
    assert seen == SEES[reader]


@pytest.mark.parametrize("reader", list(SEES))
def test_each_class_sees_its_points_in_the_history(readers, client_for, reader):
    client = client_for(readers[reader])
    history = client.get(url("battery-pass-history"))
    version = client.get(url("battery-pass-version", version=1))
    if not SEES[reader]:
        expected = 401 if reader == "anonymous" else 403
        assert (history.status_code, version.status_code) == (expected, expected)
        return
    assert history.status_code == 200
    assert leaked_points(history.content.decode()) == SEES[reader]
    assert leaked_points(version.content.decode()) == SEES[reader]


def test_a_grant_until_today_is_in_force_and_one_until_yesterday_is_not(secret, client_for):
    today, yesterday = UserFactory(), UserFactory()
    PassportGrantFactory(passport=secret, user=today, valid_until=today_utc())
    PassportGrantFactory(
        passport=secret, user=yesterday, valid_until=today_utc() - dt.timedelta(days=1)
    )
    detail = url("battery-pass-detail")
    assert leaked_points(client_for(today).get(detail).content.decode()) == {2, 4}
    assert leaked_points(client_for(yesterday).get(detail).content.decode()) == set()
    assert client_for(yesterday).get(url("battery-pass-history")).status_code == 403


def test_a_grant_on_another_passport_does_not_apply(secret, organization, client_for):
    user = UserFactory()
    PassportGrantFactory(
        passport=PassportFactory(organization=organization), user=user, access="authorities"
    )
    assert leaked_points(client_for(user).get(url("battery-pass-detail")).content.decode()) == set()


def test_the_list_trims_each_passport_to_its_own_classes(
    secret, organization, other_organization, outsider, client_for
):
    mine = PassportFactory(organization=other_organization, battery_id="MINE")
    user = outsider
    PassportGrantFactory(passport=secret, user=user, access="authorities")
    (envelope,) = client_for(user).get("/passport/batteryPass/").json()
    by_id = {p["batteryIDDMCCode"]: p for p in envelope["data"]}
    assert leaked_points(json.dumps(by_id["SECRET-1"])) == {2, 3}
    assert "hasStateOfBatteryProperties" in by_id[mine.battery_id]  # their own: everything


# --- writing ----------------------------------------------------------------------------------
WRITES = {
    "put": lambda client: client.put(url("battery-pass-detail"), {}, format="json"),
    "patch": lambda client: client.patch(url("battery-pass-detail"), {}, format="json"),
    "section": lambda client: client.patch(
        url("battery-pass-stateOfBatteryProperties"), {"stateOfCharge": 50}, format="json"
    ),
    "delete": lambda client: client.delete(url("battery-pass-detail")),
    "create": lambda client: client.post(
        "/passport/batteryPass/", {"batteryIDDMCCode": "NEW-1"}, format="json"
    ),
}

EXPECTED = {
    # reader: put, patch, section, delete, create
    "anonymous": (401, 401, 401, 401, 401),
    "outsider": (403, 403, 403, 403, 201),  # creates in their own organization
    "legitimate": (403, 403, 403, 403, 403),
    "authority": (403, 403, 403, 403, 403),
    "both": (403, 403, 403, 403, 403),
    "viewer": (403, 403, 403, 403, 403),
    "member": (200, 200, 200, 403, 201),
    "owner": (200, 200, 200, 204, 201),
    "staff": (200, 200, 200, 204, 400),  # staff in no organization must name one
}


@pytest.mark.parametrize("reader", list(EXPECTED))
@pytest.mark.parametrize("write", list(WRITES))
def test_who_may_write(readers, client_for, reader, write):
    response = WRITES[write](client_for(readers[reader]))
    expected = EXPECTED[reader][list(WRITES).index(write)]
    assert response.status_code == expected, response.content


def test_staff_create_in_the_organization_they_name(staff, client_for, organization):
    response = client_for(staff).post(
        "/passport/batteryPass/",
        {"batteryIDDMCCode": "STAFF-1", "organization": organization.pk},
        format="json",
    )
    assert response.status_code == 201


def test_a_viewer_of_an_organization_cannot_create_there(client_for, viewer, organization):
    response = client_for(viewer).post(
        "/passport/batteryPass/",
        {"batteryIDDMCCode": "V-1", "organization": organization.pk},
        format="json",
    )
    assert response.status_code == 403


def test_a_member_who_is_only_viewer_in_the_named_organization_is_refused(
    client_for, member, other_organization
):
    MembershipFactory(user=member, organization=other_organization, role="viewer")
    response = client_for(member).post(
        "/passport/batteryPass/",
        {"batteryIDDMCCode": "V-2", "organization": other_organization.pk},
        format="json",
    )
    assert response.status_code == 403


# --- credentials ------------------------------------------------------------------------------
def test_every_credential_scheme_reads_as_its_user(secret, member, key_client, client_for):
    _, key = api_key_create(user=member, name="laptop")
    key_reader = APIClient()
    key_reader.credentials(HTTP_AUTHORIZATION=f"User {key}")
    session = APIClient()
    session.force_login(member)
    for client in (key_reader, client_for(member), session):
        response = client.get(url("battery-pass-detail"))
        assert leaked_points(response.content.decode()) == {2, 3, 4}
    assert key_client(member).patch(url("battery-pass-detail"), {}, format="json").status_code == (
        200
    )


def test_a_bad_credential_is_a_401_even_where_anonymous_may_read(secret, member):
    revoked_key, revoked = api_key_create(user=member, name="old")
    api_key_revoke(api_key=revoked_key)
    expired_key, expired = api_key_create(
        user=member, name="soon", expiry_date=timezone.now() + dt.timedelta(seconds=30)
    )
    expired_key.expiry_date = timezone.now() - dt.timedelta(seconds=1)
    expired_key.save()
    for header in (
        "Bearer not-a-token",
        f"Bearer {jwt_for(member)}x",
        f"User {revoked}",
        f"User {expired}",
        "User no.such-key",
    ):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        for read_url in ("/passport/batteryPass/", url("battery-pass-detail")):
            assert client.get(read_url).status_code == 401, header

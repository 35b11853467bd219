"""``eis/data/``: lists straight from tuples, bulk writes in one transaction (COPY on
PostgreSQL), the permission matrix, filters, query counts, the keyset cursor, and bad input
that writes nothing."""

from __future__ import annotations

import json
import math

import orjson
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from batterydb.models import EISData
from batterydb.services import ingest
from core import copy as core_copy
from core import services
from tests.batterydb.factories import EISTestFactory

pytestmark = pytest.mark.django_db

LIST = reverse("batterydb:eis-data-list")
FIELDS = ["id", "organization", "test", "frequency", "parameter", "value"]
FREQUENCIES = [10_000 / 10 ** (i / 7) for i in range(42)]


def detail(pk: int) -> str:
    return reverse("batterydb:eis-data-detail", args=[pk])


def post_json(client, body, *, prefer: str | None = None, url: str = LIST, raw: bool = False):
    extra = {"HTTP_PREFER": prefer} if prefer else {}
    content = body if raw else _dumps(body)
    return client.post(url, data=content, content_type="application/json", **extra)


def _dumps(body) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:  # integers beyond 64 bits
        return json.dumps(body).encode()


def sweep(test_id: int, parameters=("z_real", "z_imag"), frequencies=FREQUENCIES) -> list[dict]:
    return [
        {"test": test_id, "frequency": f, "parameter": p, "value": round(i * 0.001 + 0.01, 6)}
        for i, f in enumerate(frequencies)
        for p in parameters
    ]


def store(test, n: int) -> list[int]:
    """``n`` points of ``test`` straight in the database, in id order."""
    EISData.objects.bulk_create(
        EISData(
            organization_id=test.organization_id,
            test=test,
            frequency=float(i + 1),
            parameter="z_real",
            value=i / 1000,
        )
        for i in range(n)
    )
    return list(EISData.objects.filter(test=test).order_by("id").values_list("id", flat=True))


@pytest.fixture
def eis_test(organization):
    return EISTestFactory(organization=organization)


@pytest.fixture
def other_test(other_organization):
    return EISTestFactory(organization=other_organization)


# --- happy paths -------------------------------------------------------------------------------
def test_bulk_post_creates_every_row_and_answers_them_with_ids(client_for, member, eis_test):
    ocv = {"test": eis_test.pk, "frequency": None, "parameter": "ocv", "value": 3.71}
    body = [*sweep(eis_test.pk), ocv]
    response = post_json(client_for(member), body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert len(data) == 85
    assert list(data[0]) == FIELDS
    assert data[0]["organization"] == eis_test.organization_id
    assert data[-1] == {
        "id": data[-1]["id"],
        "organization": eis_test.organization_id,
        "test": eis_test.pk,
        "frequency": None,
        "parameter": "ocv",
        "value": 3.71,
    }
    stored = list(EISData.objects.order_by("id").values_list("id", "frequency", "parameter"))
    assert [row["id"] for row in data] == [row[0] for row in stored]
    assert [(r["frequency"], r["parameter"]) for r in body] == [s[1:] for s in stored]


def test_prefer_return_minimal_answers_a_count(client_for, member, eis_test):
    response = post_json(client_for(member), sweep(eis_test.pk), prefer="return=minimal")
    assert response.status_code == 201
    assert response.json() == {"created": 84}
    assert response["Preference-Applied"] == "return=minimal"
    assert EISData.objects.filter(test=eis_test, organization=eis_test.organization).count() == 84


def test_minimal_write_on_postgresql_uses_binary_copy(client_for, member, eis_test, monkeypatch):
    calls = []
    original = core_copy.binary_copy
    monkeypatch.setattr(
        core_copy, "binary_copy", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    response = post_json(client_for(member), sweep(eis_test.pk), prefer="return=minimal")
    assert response.status_code == 201
    assert calls == ([1] if connection.vendor == "postgresql" else [])
    values = list(EISData.objects.order_by("id").values_list("frequency", "parameter", "value"))
    assert values == [(r["frequency"], r["parameter"], r["value"]) for r in sweep(eis_test.pk)]


def test_a_single_json_object_answers_an_object(client_for, member, eis_test):
    row = {"test": eis_test.pk, "frequency": 1000, "parameter": "z_real", "value": 1}
    response = post_json(client_for(member), row)
    assert response.status_code == 201
    assert response.json()["frequency"] == 1000.0
    assert response.json()["value"] == 1.0
    assert EISData.objects.get().value == 1.0


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_a_form_row_with_numeric_strings_is_parsed(client_for, member, eis_test, encoding):
    body = {
        "test": str(eis_test.pk),
        "frequency": "1000.5",
        "parameter": "z_imag",
        "value": "-0.25",
    }
    client = client_for(member)
    if encoding == "form":
        from urllib.parse import urlencode

        response = client.post(
            LIST, data=urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(LIST, data=body, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["frequency"] == 1000.5
    assert response.json()["value"] == -0.25


def test_a_form_row_without_frequency_is_a_scalar(client_for, member, eis_test):
    response = client_for(member).post(
        LIST, data={"test": eis_test.pk, "parameter": "ocv", "value": "3.7"}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["frequency"] is None


def test_a_form_row_with_bad_numbers_is_400(client_for, member, eis_test):
    body = {"test": "x", "frequency": "nan", "parameter": "z", "value": "inf"}
    response = client_for(member).post(LIST, data=body, format="multipart")
    assert response.status_code == 400
    # One object, so the errors are keyed by field like every other endpoint's.
    assert set(response.json()) == {"test", "frequency", "value"}
    assert EISData.objects.count() == 0


def test_list_is_in_insertion_order_with_the_contract_fields(client_for, member, eis_test):
    post_json(client_for(member), sweep(eis_test.pk))
    response = client_for(member).get(LIST, {"test": eis_test.pk})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 84
    assert len(data["results"]) == 84
    assert list(data["results"][0]) == FIELDS
    ids = [row["id"] for row in data["results"]]
    assert ids == sorted(ids)
    assert data["results"][0]["frequency"] == FREQUENCIES[0]


def test_retrieve_answers_one_row(client_for, viewer, eis_test):
    (pk,) = store(eis_test, 1)
    response = client_for(viewer).get(detail(pk))
    assert response.status_code == 200
    assert response.json() == {
        "id": pk,
        "organization": eis_test.organization_id,
        "test": eis_test.pk,
        "frequency": 1.0,
        "parameter": "z_real",
        "value": 0.0,
    }


def test_the_browsable_api_renders_the_list(client_for, member, eis_test):
    store(eis_test, 3)
    response = client_for(member).get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"z_real" in response.content


def test_an_api_key_reads_the_list(api_client, member, eis_test):
    store(eis_test, 2)
    _, key = services.api_key_create(user=member, name="laptop")
    api_client.credentials(HTTP_AUTHORIZATION=f"User {key}")
    response = api_client.get(LIST, {"test": eis_test.pk})
    assert response.status_code == 200
    assert response.json()["count"] == 2


# --- updates and deletes --------------------------------------------------------------------
def test_put_replaces_and_patch_updates_a_row(client_for, member, eis_test):
    (pk,) = store(eis_test, 1)
    client = client_for(member)
    response = client.put(
        detail(pk),
        {"test": eis_test.pk, "frequency": 5.0, "parameter": "z_imag", "value": -1.5},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["parameter"] == "z_imag"
    response = client.patch(detail(pk), {"value": 2.5}, format="json")
    assert response.status_code == 200
    row = EISData.objects.get(pk=pk)
    assert (row.frequency, row.parameter, row.value) == (5.0, "z_imag", 2.5)


def test_put_echoing_id_and_organization_is_accepted(client_for, member, eis_test):
    (pk,) = store(eis_test, 1)
    client = client_for(member)
    row = client.get(detail(pk)).json()
    row["value"] = 9.0
    response = client.put(detail(pk), row, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == row


def test_patch_onto_an_existing_point_is_400(client_for, member, eis_test):
    _first, second = store(eis_test, 2)
    response = client_for(member).patch(detail(second), {"frequency": 1.0}, format="json")
    assert response.status_code == 400
    assert "already stored" in str(response.json())
    assert EISData.objects.get(pk=second).frequency == 2.0


def test_patch_with_nan_like_or_bad_values_is_400(client_for, member, eis_test):
    (pk,) = store(eis_test, 1)
    client = client_for(member)
    for body in ({"value": "1.0"}, {"value": True}, {"frequency": -1}, {"parameter": ""}):
        response = client.patch(detail(pk), body, format="json")
        assert response.status_code == 400, body
    assert EISData.objects.get(pk=pk).value == 0.0


def test_moving_a_row_to_another_organizations_test_is_400(
    client_for, member, eis_test, other_test
):
    (pk,) = store(eis_test, 1)
    response = client_for(member).patch(detail(pk), {"test": other_test.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"test": [f'Invalid pk "{other_test.pk}" - object does not exist.']}
    assert EISData.objects.get(pk=pk).test_id == eis_test.pk


def test_owner_deletes_a_row(client_for, owner, eis_test):
    (pk,) = store(eis_test, 1)
    assert client_for(owner).delete(detail(pk)).status_code == 204
    assert not EISData.objects.exists()


# --- permissions ---------------------------------------------------------------------------------
ROW = {"frequency": 10.0, "parameter": "z_real", "value": 0.5}


@pytest.mark.parametrize(
    ("role", "list_", "get", "post", "put", "patch", "delete"),
    [
        ("anonymous", 401, 401, 401, 401, 401, 401),
        ("outsider", 200, 404, 400, 404, 404, 404),
        ("viewer", 200, 200, 403, 403, 403, 403),
        ("member", 200, 200, 201, 200, 200, 403),
        ("owner", 200, 200, 201, 200, 200, 204),
        ("staff", 200, 200, 201, 200, 200, 204),
    ],
)
def test_permission_matrix(
    request, client_for, eis_test, role, list_, get, post, put, patch, delete
):
    (pk,) = store(eis_test, 1)
    user = None if role == "anonymous" else request.getfixturevalue(role)
    client = client_for(user)
    body = {"test": eis_test.pk, **ROW}
    response = client.get(LIST)
    assert response.status_code == list_
    if role == "outsider":
        assert response.json()["count"] == 0
    assert client.get(detail(pk)).status_code == get
    response = post_json(client, [body])
    assert response.status_code == post
    if post == 400:
        assert response.json() == {
            "0": {"test": [f'Invalid pk "{eis_test.pk}" - object does not exist.']}
        }
    expected_rows = 2 if post == 201 else 1
    assert EISData.objects.count() == expected_rows
    put_body = {"test": eis_test.pk, "frequency": 20.0, "parameter": "z_imag", "value": 1.0}
    assert client.put(detail(pk), put_body, format="json").status_code == put
    assert client.patch(detail(pk), {"value": 2.0}, format="json").status_code == patch
    assert client.delete(detail(pk)).status_code == delete
    assert EISData.objects.filter(pk=pk).exists() == (delete != 204)


def test_a_viewer_writing_to_a_test_of_their_viewer_organization_is_403_even_if_member_elsewhere(
    client_for, viewer, eis_test, other_organization
):
    from core.models import Membership
    from tests.factories import MembershipFactory

    MembershipFactory(user=viewer, organization=other_organization, role=Membership.Role.MEMBER)
    response = post_json(client_for(viewer), [{"test": eis_test.pk, **ROW}])
    assert response.status_code == 403
    assert EISData.objects.count() == 0


def test_a_row_pointing_at_another_organizations_test_fails_the_whole_batch(
    client_for, member, eis_test, other_test
):
    body = [{"test": eis_test.pk, **ROW}, {"test": other_test.pk, **ROW}]
    response = post_json(client_for(member), body, prefer="return=minimal")
    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert "test" in response.json()["1"]
    assert EISData.objects.count() == 0


def test_staff_writes_to_any_organization(client_for, staff, other_test):
    response = post_json(client_for(staff), [{"test": other_test.pk, **ROW}])
    assert response.status_code == 201
    assert response.json()[0]["organization"] == other_test.organization_id


# --- filters and ordering ------------------------------------------------------------------------
def test_filters(client_for, member, organization):
    first, second, third = (EISTestFactory(organization=organization) for _ in range(3))
    client = client_for(member)
    for test in (first, second, third):
        body = sweep(test.pk, frequencies=FREQUENCIES[:3])
        body.append({"test": test.pk, "parameter": "ocv", "value": 3.7})
        assert post_json(client, body, prefer="return=minimal").status_code == 201

    def count(**params):
        response = client.get(LIST, params)
        assert response.status_code == 200, response.json()
        return response.json()["count"]

    assert count() == 21
    assert count(test=first.pk) == 7
    assert client.get(f"{LIST}?test={first.pk}&test={second.pk}").json()["count"] == 14
    assert count(test=f"{first.pk},{third.pk}") == 14
    assert count(parameter="z_real") == 9
    assert count(parameter="z_real,ocv") == 12
    assert count(frequency=FREQUENCIES[1]) == 6
    assert count(frequency_isnull="true") == 3
    assert count(frequency_min=FREQUENCIES[1]) == 12
    assert count(test=first.pk, value_min=0.011) == 5
    assert client.get(LIST, {"test": "abc"}).status_code == 400


def test_ordering_by_frequency_then_id(client_for, member, eis_test):
    post_json(client_for(member), sweep(eis_test.pk, frequencies=FREQUENCIES[:5]))
    results = client_for(member).get(LIST, {"ordering": "frequency"}).json()["results"]
    assert [r["frequency"] for r in results] == sorted(r["frequency"] for r in results)
    pairs = [(r["frequency"], r["id"]) for r in results]
    assert pairs == sorted(pairs)


# --- pagination -----------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [10, 1000])
def test_list_query_count_does_not_depend_on_the_page_size(
    client_for, member, eis_test, django_assert_num_queries, limit
):
    store(eis_test, 1001)
    client = client_for(member)
    # JWT user, count, page (the memberships are a subquery of both).
    with django_assert_num_queries(3):
        response = client.get(LIST, {"limit": limit})
    assert len(response.json()["results"]) == limit
    next_link = response.json()["next"]
    # Following the cursor: no count any more.
    with django_assert_num_queries(2):
        client.get(next_link)


@pytest.mark.parametrize("params", [{}, {"ordering": "-value"}, {"ordering": "parameter"}])
def test_following_next_returns_every_row_exactly_once(client_for, member, organization, params):
    tests = [EISTestFactory(organization=organization) for _ in range(2)]
    expected = []
    for test in tests:
        expected += store(test, 60)
    client = client_for(member)
    url, seen = LIST, []
    query = {"limit": 7, **params}
    while url:
        response = client.get(url, query)
        assert response.status_code == 200
        seen += [row["id"] for row in response.json()["results"]]
        url, query = response.json()["next"], None
        assert url is None or "cursor=" in url
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


def test_following_next_with_a_test_filter_stays_in_the_test(client_for, member, organization):
    tests = [EISTestFactory(organization=organization) for _ in range(3)]
    expected = {test.pk: store(test, 25) for test in tests}
    client = client_for(member)
    url, seen = f"{LIST}?test={tests[1].pk}&limit=10", []
    while url:
        data = client.get(url).json()
        assert data["count"] == 25
        seen += [row["id"] for row in data["results"]]
        assert {row["test"] for row in data["results"]} == {tests[1].pk}
        url = data["next"]
        assert url is None or (f"test={tests[1].pk}" in url and "cursor=" in url)
    assert seen == expected[tests[1].pk]


def test_page_size_is_capped_at_ten_thousand(client_for, member, eis_test):
    store(eis_test, 10_050)
    data = client_for(member).get(LIST, {"limit": 50_000}).json()
    assert len(data["results"]) == 10_000
    assert data["count"] == 10_050
    assert "limit=10000" in data["next"]
    assert len(client_for(member).get(LIST).json()["results"]) == 100


# --- bad input writes nothing ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        b'[{"test": 1, "frequency": NaN, "parameter": "z_real", "value": 1.0}]',
        b'[{"test": 1, "frequency": 1.0, "parameter": "z_real", "value": 1e999}]',
        b'[{"test": 1, "frequency": 1.0, "parameter": "z_real", "value": -Infinity}]',
        b'[{"test": 1, "frequency": 1.0,',
    ],
    ids=["nan", "1e999", "infinity", "truncated"],
)
def test_json_that_is_not_json_is_400(client_for, member, eis_test, raw):
    raw = raw.replace(b'"test": 1', f'"test": {eis_test.pk}'.encode())
    response = post_json(client_for(member), raw, raw=True)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert EISData.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"value": "0.5"}, "value", "A valid number is required."),
        ({"value": True}, "value", "A valid number is required."),
        ({"value": None}, "value", "This field may not be null."),
        ({"frequency": "10"}, "frequency", "A valid number is required."),
        ({"frequency": False}, "frequency", "A valid number is required."),
        ({"frequency": 0}, "frequency", None),
        ({"frequency": -10.0}, "frequency", None),
        ({"test": "1"}, "test", "Incorrect type. Expected pk value, received str."),
        ({"test": True}, "test", "Incorrect type. Expected pk value, received bool."),
        ({"test": 10**20}, "test", None),
        ({"parameter": ""}, "parameter", "This field may not be blank."),
        ({"parameter": "x" * 65}, "parameter", None),
        ({"parameter": 5}, "parameter", "Not a valid string."),
        ({"parameter": "z\x00"}, "parameter", None),
        ({"unit": "ohm"}, "unit", "Unknown field."),
        ({"organization": 1}, "organization", None),
    ],
)
def test_a_bad_item_fails_the_batch_with_errors_by_index(
    client_for, member, eis_test, row, field, message
):
    good = {"test": eis_test.pk, **ROW}
    bad = {**good, "frequency": 20.0, **row}
    response = post_json(client_for(member), [good, bad, good | {"frequency": 30.0}])
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["1"]
    assert field in errors["1"]
    if message:
        assert errors["1"][field] == [message]
    assert EISData.objects.count() == 0


@pytest.mark.parametrize("missing", ["test", "parameter", "value"])
def test_a_missing_key_is_400(client_for, member, eis_test, missing):
    row = {"test": eis_test.pk, **ROW}
    del row[missing]
    response = post_json(client_for(member), [row])
    assert response.status_code == 400
    assert response.json() == {"0": {missing: ["This field is required."]}}


def test_items_that_are_not_objects_are_400(client_for, member):
    response = post_json(client_for(member), [1, "x", None])
    assert response.status_code == 400
    assert set(response.json()) == {"0", "1", "2"}


@pytest.mark.parametrize("body", [[], 5, "rows"])
def test_an_empty_list_or_a_scalar_is_400(client_for, member, body):
    assert post_json(client_for(member), body).status_code == 400


def test_duplicates_within_a_batch_are_400(client_for, member, eis_test):
    body = sweep(eis_test.pk, frequencies=FREQUENCIES[:3])
    body.append(dict(body[1], value=99.0))
    body.append({"test": eis_test.pk, "parameter": "ocv", "value": 1.0})
    body.append({"test": eis_test.pk, "frequency": None, "parameter": "ocv", "value": 2.0})
    response = post_json(client_for(member), body, prefer="return=minimal")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["6", "8"]
    assert "Duplicate of item 1" in errors["6"]["non_field_errors"][0]
    assert "Duplicate of item 7" in errors["8"]["non_field_errors"][0]
    assert EISData.objects.count() == 0


@pytest.mark.parametrize("prefer", [None, "return=minimal"])
def test_duplicates_of_stored_points_are_400_and_write_nothing(
    client_for, member, eis_test, prefer
):
    client = client_for(member)
    assert post_json(client, sweep(eis_test.pk, frequencies=FREQUENCIES[:2])).status_code == 201
    before = list(EISData.objects.values_list("id", "value"))
    body = sweep(eis_test.pk, frequencies=FREQUENCIES[1:4])  # the first two points are stored
    body.append({"test": eis_test.pk, "parameter": "ocv", "value": 3.7})
    response = post_json(client, body, prefer=prefer)
    assert response.status_code == 400
    errors = response.json()
    assert [key for key in errors if key.isdigit()] == ["0", "1"]
    assert "already stored" in errors["0"]["non_field_errors"][0]
    assert errors["non_field_errors"] == ["2 rows repeat points already stored."]
    assert sorted(EISData.objects.values_list("id", "value")) == sorted(before)


@pytest.mark.parametrize(
    ("query", "prefer"),
    [
        ("?on_conflict=replace", None),
        ("?on_conflict=replace", "return=minimal"),
        ("", "resolution=merge-duplicates"),
        ("", "return=minimal, resolution=merge-duplicates"),
    ],
)
def test_replacing_stored_points_keeps_their_ids(client_for, member, eis_test, query, prefer):
    client = client_for(member)
    first = sweep(eis_test.pk, frequencies=FREQUENCIES[:2])
    first.append({"test": eis_test.pk, "parameter": "ocv", "value": 3.7})
    stored = post_json(client, first).json()
    body = [dict(row, value=row["value"] + 100) for row in first[1:]]  # 3 stored + ocv
    body += sweep(eis_test.pk, frequencies=FREQUENCIES[2:3])  # 2 new
    response = post_json(client, body, prefer=prefer, url=LIST + query)
    assert response.status_code == 201, response.json()
    assert "resolution=merge-duplicates" in response["Preference-Applied"]
    if prefer and "minimal" in prefer:
        assert response.json() == {"created": 2, "replaced": 4}
    else:
        data = response.json()
        assert [row["id"] for row in data[:4]] == [row["id"] for row in stored[1:]]
        assert [row["value"] for row in data] == [row["value"] for row in body]
    values = dict(EISData.objects.values_list("id", "value"))
    assert len(values) == 7
    assert values[stored[0]["id"]] == first[0]["value"]
    assert values[stored[4]["id"]] == 103.7


def test_an_unknown_on_conflict_is_400(client_for, member, eis_test):
    response = post_json(
        client_for(member), [{"test": eis_test.pk, **ROW}], url=LIST + "?on_conflict=x"
    )
    assert response.status_code == 400
    assert EISData.objects.count() == 0


def test_ten_thousand_rows_pass_and_ten_thousand_and_one_are_400(client_for, member, organization):
    tests = [EISTestFactory(organization=organization) for _ in range(40)]
    body = [
        {"test": test.pk, "frequency": float(f), "parameter": "z_real", "value": 0.5}
        for test in tests
        for f in range(1, 251)
    ]
    client = client_for(member)
    response = post_json(client, [*body, dict(body[0], frequency=999.0)], prefer="return=minimal")
    assert response.status_code == 400
    assert "At most 10000 rows" in response.json()["non_field_errors"][0]
    assert EISData.objects.count() == 0
    response = post_json(client, body, prefer="return=minimal")
    assert response.status_code == 201
    assert response.json() == {"created": 10_000}


def test_an_oversized_body_is_413_json(client_for, member):
    body = b"[" + b" " * (settings.API_MAX_BULK_BODY_SIZE + 1) + b"]"
    response = post_json(client_for(member), body, raw=True)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "too large" in response.json()["detail"]
    assert EISData.objects.count() == 0


def test_values_round_trip_exactly(client_for, member, eis_test):
    values = [math.pi, -1e-300, 1.7976931348623157e308, 5e-324, 0.1 + 0.2]
    body = [
        {"test": eis_test.pk, "frequency": float(i + 1), "parameter": "z", "value": v}
        for i, v in enumerate(values)
    ]
    assert post_json(client_for(member), body, prefer="return=minimal").status_code == 201
    results = client_for(member).get(LIST).json()["results"]
    assert [row["value"] for row in results] == values


def test_minimal_write_keeps_nulls_and_multibyte_parameters(client_for, member, eis_test):
    body = [
        {"test": eis_test.pk, "frequency": None, "parameter": "température", "value": 25.5},
        {"test": eis_test.pk, "frequency": 0.1, "parameter": "Z_réel_Ω", "value": -0.0},
        {"test": eis_test.pk, "parameter": "温度", "value": 1e-310},
    ]
    response = post_json(client_for(member), body, prefer="return=minimal")
    assert response.status_code == 201
    stored = list(EISData.objects.order_by("id").values_list("frequency", "parameter", "value"))
    assert stored == [(r.get("frequency"), r["parameter"], r["value"]) for r in body]
    assert all(row.organization_id == eis_test.organization_id for row in EISData.objects.all())


def test_the_browsable_api_renders_a_row_and_options_describe_the_fields(
    client_for, member, eis_test
):
    (pk,) = store(eis_test, 1)
    client = client_for(member)
    response = client.get(detail(pk), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"z_real" in response.content
    options = client.options(LIST).json()
    assert set(options["actions"]["POST"]) == set(FIELDS)


def test_replacing_with_a_point_twice_in_the_batch_is_400(client_for, member, eis_test):
    row = {"test": eis_test.pk, **ROW}
    response = post_json(
        client_for(member), [row, dict(row, value=2.0)], url=LIST + "?on_conflict=replace"
    )
    assert response.status_code == 400
    assert "Duplicate of item 0" in response.json()["1"]["non_field_errors"][0]
    assert EISData.objects.count() == 0


def _delete_the_test_during_the_write(monkeypatch, test):
    """Delete ``test`` inside the write's transaction, just before the rows go in, bypassing
    Django's cascade: the database itself then refuses the batch (a foreign key), as it does
    when another request deletes the test while a batch is being written."""
    original = ingest._insert

    def insert(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM batterydb_eistest WHERE id = %s", [test.pk])
        return original(*args, **kwargs)

    monkeypatch.setattr(ingest, "_insert", insert)


@pytest.mark.django_db(transaction=True)  # the foreign key is checked when the write commits
@pytest.mark.parametrize("prefer", [None, "return=minimal"])
def test_a_test_deleted_during_the_write_is_409(client_for, member, eis_test, monkeypatch, prefer):
    _delete_the_test_during_the_write(monkeypatch, eis_test)
    response = post_json(client_for(member), sweep(eis_test.pk), prefer=prefer)
    assert response.status_code == 409, response.json()
    assert "Retry" in response.json()["detail"]
    assert EISData.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_test_deleted_during_a_replacing_write_is_409_not_already_stored(
    client_for, member, eis_test, monkeypatch
):
    store(eis_test, 3)
    before = sorted(EISData.objects.values_list("id", "value"))
    rows = [
        {"test": eis_test.pk, "frequency": float(i + 1), "parameter": "z_real", "value": 9.0}
        for i in range(5)
    ]
    _delete_the_test_during_the_write(monkeypatch, eis_test)
    response = post_json(client_for(member), rows, url=LIST + "?on_conflict=replace")
    assert response.status_code == 409, response.json()
    assert sorted(EISData.objects.values_list("id", "value")) == before


@pytest.mark.parametrize("prefer", ["return=minimal", None])
def test_a_bulk_write_costs_the_same_queries_for_10_or_1000_rows(
    client_for, member, organization, prefer
):
    from django.test.utils import CaptureQueriesContext

    tests = [EISTestFactory(organization=organization) for _ in range(2)]
    client = client_for(member)
    counts = []
    for test, n in zip(tests, (10, 1000), strict=True):
        body = [
            {"test": test.pk, "frequency": float(i + 1), "parameter": "z_real", "value": 0.5}
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert post_json(client, body, prefer=prefer).status_code == 201
        counts.append(len(queries))
    if connection.vendor == "postgresql" or prefer:
        assert counts[0] == counts[1]
    else:  # bulk_create on SQLite: one INSERT per 999 parameters
        assert counts[1] - counts[0] == math.ceil(1000 * 5 / 999) - 1


def test_put_without_frequency_makes_it_null(client_for, member, eis_test):
    (pk,) = store(eis_test, 1)
    body = {"test": eis_test.pk, "parameter": "ocv", "value": 3.7}
    response = client_for(member).put(detail(pk), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["frequency"] is None
    assert EISData.objects.get(pk=pk).frequency is None


def test_single_object_writes_answer_errors_by_field(client_for, member, eis_test):
    client = client_for(member)
    response = post_json(client, {"test": eis_test.pk, "frequency": -1, "parameter": "z"})
    assert response.status_code == 400
    assert response.json() == {
        "frequency": ["Must be a positive number of hertz, or null for OCV and test parameters."],
        "value": ["This field is required."],
    }
    (pk,) = store(eis_test, 1)
    response = client.patch(detail(pk), {"frequency": "high"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"frequency": ["A valid number is required."]}
    first = {"test": eis_test.pk, "frequency": 1.0, "parameter": "z_real", "value": 1.0}
    response = post_json(client, first)
    assert response.status_code == 400
    assert "already stored" in response.json()["non_field_errors"][0]


def test_the_browsable_api_form_posts_a_row(member, eis_test):
    """The HTML form sends the CSRF token along with the row's fields."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    page = client.get(LIST, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    response = client.post(
        LIST,
        {
            "csrfmiddlewaretoken": token,
            "test": str(eis_test.pk),
            "frequency": "100",
            "parameter": "z_real",
            "value": "0.25",
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    assert EISData.objects.get().value == 0.25

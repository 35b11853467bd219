"""``bms/results/``: the same machinery as EIS data, with points keyed by
``(bms_test, timestamp, parameter)`` and timestamps that must carry an offset."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.db import connection
from django.urls import reverse

from batterydb.models import BMSResult
from core import copy as core_copy
from tests.batterydb.factories import BMSTestFactory

pytestmark = pytest.mark.django_db

LIST = reverse("batterydb:bms-result-list")
FIELDS = ["id", "organization", "bms_test", "timestamp", "parameter", "value"]
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def detail(pk: int) -> str:
    return reverse("batterydb:bms-result-detail", args=[pk])


def post_json(client, body, *, prefer: str | None = None, url: str = LIST):
    extra = {"HTTP_PREFER": prefer} if prefer else {}
    return client.post(url, data=orjson.dumps(body), content_type="application/json", **extra)


def readings(test_id: int, seconds: int, parameters=("pack_voltage", "pack_current")):
    return [
        {
            "bms_test": test_id,
            "timestamp": (T0 + dt.timedelta(seconds=s)).isoformat().replace("+00:00", "Z"),
            "parameter": p,
            "value": 396.5 + s,
        }
        for s in range(seconds)
        for p in parameters
    ]


def store(test, n: int) -> list[int]:
    BMSResult.objects.bulk_create(
        BMSResult(
            organization_id=test.organization_id,
            bms_test=test,
            timestamp=T0 + dt.timedelta(seconds=i),
            parameter="pack_voltage",
            value=float(i),
        )
        for i in range(n)
    )
    return list(BMSResult.objects.filter(bms_test=test).order_by("id").values_list("id", flat=True))


@pytest.fixture
def bms_test(organization):
    return BMSTestFactory(organization=organization)


@pytest.fixture
def other_bms_test(other_organization):
    return BMSTestFactory(organization=other_organization)


def test_bulk_post_creates_rows_with_utc_timestamps(client_for, member, bms_test):
    body = readings(bms_test.pk, 3)
    body.append(
        {
            "bms_test": bms_test.pk,
            "timestamp": "2024-05-01T14:00:00.250+02:00",
            "parameter": "soc",
            "value": 0.8,
        }
    )
    response = post_json(client_for(member), body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert list(data[0]) == FIELDS
    assert data[0]["timestamp"] == "2024-05-01T12:00:00Z"
    assert data[-1]["timestamp"] == "2024-05-01T12:00:00.250000Z"
    assert data[-1]["organization"] == bms_test.organization_id
    stored = BMSResult.objects.get(parameter="soc")
    assert stored.timestamp == dt.datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)
    listed = client_for(member).get(LIST, {"bms_test": bms_test.pk}).json()["results"]
    assert listed == data


def test_minimal_write_uses_copy_on_postgresql(client_for, member, bms_test, monkeypatch):
    calls = []
    original = core_copy.binary_copy
    monkeypatch.setattr(
        core_copy, "binary_copy", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    response = post_json(client_for(member), readings(bms_test.pk, 50), prefer="return=minimal")
    assert response.status_code == 201
    assert response.json() == {"created": 100}
    assert calls == ([1] if connection.vendor == "postgresql" else [])
    first = BMSResult.objects.order_by("id").first()
    assert (first.timestamp, first.parameter, first.value) == (T0, "pack_voltage", 396.5)


def test_a_form_row_works(client_for, member, bms_test):
    body = {
        "bms_test": str(bms_test.pk),
        "timestamp": "2024-05-01T12:00:00Z",
        "parameter": "pack_voltage",
        "value": "396.5",
    }
    response = client_for(member).post(LIST, data=body, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["value"] == 396.5


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        ("2024-05-01T12:00:00", "naive timestamps are not accepted"),
        ("2024-05-01", "naive timestamps are not accepted"),
        ("yesterday", "wrong format"),
        (1714564800, "wrong format"),
        (None, "may not be null"),
    ],
)
def test_bad_timestamps_are_400(client_for, member, bms_test, timestamp, message):
    row = {"bms_test": bms_test.pk, "timestamp": timestamp, "parameter": "v", "value": 1.0}
    response = post_json(client_for(member), [row])
    assert response.status_code == 400
    assert message in response.json()["0"]["timestamp"][0]
    assert BMSResult.objects.count() == 0


@pytest.mark.parametrize(
    "row",
    [
        {"value": "1.0"},
        {"value": False},
        {"bms_test": "1"},
        {"parameter": ""},
        {"extra": 1},
        {"id": 5},
    ],
)
def test_bad_items_fail_the_batch(client_for, member, bms_test, row):
    good = readings(bms_test.pk, 2)
    bad = {**good[0], "parameter": "other", **row}
    response = post_json(client_for(member), [*good, bad])
    assert response.status_code == 400
    assert list(response.json()) == ["4"]
    assert BMSResult.objects.count() == 0


def test_missing_keys_are_400(client_for, member):
    response = post_json(client_for(member), [{"value": 1.0}])
    assert response.status_code == 400
    assert set(response.json()["0"]) == {"bms_test", "timestamp", "parameter"}


def test_the_same_instant_in_two_offsets_is_a_duplicate_within_the_batch(
    client_for, member, bms_test
):
    rows = [
        {
            "bms_test": bms_test.pk,
            "timestamp": "2024-05-01T12:00:00Z",
            "parameter": "v",
            "value": 1.0,
        },
        {
            "bms_test": bms_test.pk,
            "timestamp": "2024-05-01T14:00:00+02:00",
            "parameter": "v",
            "value": 2.0,
        },
    ]
    response = post_json(client_for(member), rows)
    assert response.status_code == 400
    assert "Duplicate of item 0" in response.json()["1"]["non_field_errors"][0]
    assert BMSResult.objects.count() == 0


@pytest.mark.parametrize("prefer", [None, "return=minimal"])
def test_duplicates_of_stored_results_are_400_unless_replaced(client_for, member, bms_test, prefer):
    client = client_for(member)
    assert post_json(client, readings(bms_test.pk, 2)).status_code == 201
    before = sorted(BMSResult.objects.values_list("id", "value"))
    body = [dict(row, value=-1.0) for row in readings(bms_test.pk, 3)]
    response = post_json(client, body, prefer=prefer)
    assert response.status_code == 400
    assert [key for key in response.json() if key.isdigit()] == ["0", "1", "2", "3"]
    assert sorted(BMSResult.objects.values_list("id", "value")) == before
    response = post_json(client, body, prefer=prefer, url=f"{LIST}?on_conflict=replace")
    assert response.status_code == 201, response.json()
    if prefer:
        assert response.json() == {"created": 2, "replaced": 4}
    else:
        assert [row["id"] for row in response.json()[:4]] == [pk for pk, _ in before]
    assert set(BMSResult.objects.values_list("value", flat=True)) == {-1.0}
    assert BMSResult.objects.count() == 6


@pytest.mark.parametrize(
    ("role", "get", "post", "patch", "delete"),
    [
        ("anonymous", 401, 401, 401, 401),
        ("outsider", 404, 400, 404, 404),
        ("viewer", 200, 403, 403, 403),
        ("member", 200, 201, 200, 403),
        ("owner", 200, 201, 200, 204),
        ("staff", 200, 201, 200, 204),
    ],
)
def test_permission_matrix(request, client_for, bms_test, role, get, post, patch, delete):
    (pk,) = store(bms_test, 1)
    client = client_for(None if role == "anonymous" else request.getfixturevalue(role))
    assert client.get(detail(pk)).status_code == get
    assert post_json(client, readings(bms_test.pk, 1)[1:]).status_code == post
    assert client.patch(detail(pk), {"value": 5.0}, format="json").status_code == patch
    assert client.delete(detail(pk)).status_code == delete


def test_a_result_pointing_at_another_organizations_test_is_400(
    client_for, member, bms_test, other_bms_test
):
    body = readings(bms_test.pk, 1) + readings(other_bms_test.pk, 1)
    response = post_json(client_for(member), body)
    assert response.status_code == 400
    assert set(response.json()) == {"2", "3"}
    assert "bms_test" in response.json()["2"]
    assert BMSResult.objects.count() == 0


def test_patch_moves_a_result_in_time(client_for, member, bms_test):
    first, second = store(bms_test, 2)
    client = client_for(member)
    response = client.patch(
        detail(second), {"timestamp": "2024-06-01T00:00:00+01:00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["timestamp"] == "2024-05-31T23:00:00Z"
    response = client.patch(detail(second), {"timestamp": "2024-05-01T12:00:00Z"}, format="json")
    assert response.status_code == 400  # the point of ``first``
    assert BMSResult.objects.get(pk=first).timestamp == T0


def test_filters(client_for, member, organization):
    tests = [BMSTestFactory(organization=organization) for _ in range(2)]
    client = client_for(member)
    for test in tests:
        post_json(client, readings(test.pk, 5), prefer="return=minimal")

    def count(params):
        response = client.get(LIST, params)
        assert response.status_code == 200, response.json()
        return response.json()["count"]

    assert count({}) == 20
    assert count({"bms_test": tests[0].pk}) == 10
    assert count({"bms_test": f"{tests[0].pk},{tests[1].pk}"}) == 20
    assert count({"parameter": "pack_current"}) == 10
    assert count({"timestamp_after": "2024-05-01T12:00:02Z"}) == 12
    assert (
        count(
            {"timestamp_after": "2024-05-01T12:00:02Z", "timestamp_before": "2024-05-01T12:00:04Z"}
        )
        == 8
    )
    assert count({"timestamp": "2024-05-01T12:00:01Z", "bms_test": tests[1].pk}) == 2
    assert client.get(LIST, {"timestamp_after": "soon"}).status_code == 400


@pytest.mark.parametrize("limit", [10, 1000])
def test_list_query_count_does_not_depend_on_the_page_size(
    client_for, member, bms_test, django_assert_num_queries, limit
):
    store(bms_test, 1001)
    client = client_for(member)
    # JWT user, count, page (the memberships are a subquery of both).
    with django_assert_num_queries(3):
        response = client.get(LIST, {"limit": limit})
    assert len(response.json()["results"]) == limit


@pytest.mark.parametrize("ordering", [None, "timestamp", "-timestamp"])
def test_following_next_returns_every_row_exactly_once(client_for, member, bms_test, ordering):
    expected = store(bms_test, 45)
    client = client_for(member)
    query = {"limit": 8, **({"ordering": ordering} if ordering else {})}
    url, seen, timestamps = LIST, [], []
    while url:
        data = client.get(url, query).json()
        seen += [row["id"] for row in data["results"]]
        timestamps += [row["timestamp"] for row in data["results"]]
        url, query = data["next"], None
    assert sorted(seen) == expected and len(set(seen)) == 45
    if ordering:
        assert timestamps == sorted(timestamps, reverse=ordering.startswith("-"))


def test_minimal_write_keeps_microseconds_and_instants(client_for, member, bms_test):
    stamps = [
        "2024-05-01T12:00:00.000001Z",
        "1999-12-31T23:59:59.999999-05:00",
        "2024-02-29T00:00:00+14:00",
    ]
    body = [
        {"bms_test": bms_test.pk, "timestamp": s, "parameter": f"cell_{i}", "value": 3.3}
        for i, s in enumerate(stamps)
    ]
    response = post_json(client_for(member), body, prefer="return=minimal")
    assert response.status_code == 201
    stored = list(BMSResult.objects.order_by("id").values_list("timestamp", flat=True))
    assert stored == [dt.datetime.fromisoformat(s) for s in stamps]


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
@pytest.mark.parametrize("prefer", [None, "return=minimal"])
def test_a_timestamp_beyond_the_years_in_utc_is_400(
    client_for, member, bms_test, timestamp, prefer
):
    rows = readings(bms_test.pk, 2)
    rows[1]["timestamp"] = timestamp
    response = post_json(client_for(member), rows, prefer=prefer)
    assert response.status_code == 400
    assert "Out of range" in response.json()["1"]["timestamp"][0]
    assert BMSResult.objects.count() == 0


def test_a_single_object_answers_errors_by_field(client_for, member, bms_test):
    body = {"bms_test": bms_test.pk, "timestamp": "2024-05-01T12:00:00", "parameter": "v"}
    response = post_json(client_for(member), body)
    assert response.status_code == 400
    assert set(response.json()) == {"timestamp", "value"}
    (pk,) = store(bms_test, 1)
    response = client_for(member).patch(detail(pk), {"value": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"value": ["A valid number is required."]}

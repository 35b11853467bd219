"""Following ``next`` on the BatteryDB endpoints returns every row exactly once, whatever
the ordering, NULLs included (number, date, datetime and foreign key columns)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.batterydb.factories import (
    BatteryFactory,
    BMSTestFactory,
    EISDataFactory,
    EISDeviceFactory,
    EISTestFactory,
)

pytestmark = pytest.mark.django_db


def walk(client, url: str, query: dict) -> list[int]:
    seen: list[int] = []
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        url, query = body["next"], None
    return seen


def test_eis_tests_by_completed_at_walk_every_row(client_for, member, organization):
    """The issue's case: 4 tests, 2 of them never completed, one per page."""
    now = timezone.now()
    tests = [
        EISTestFactory(organization=organization, completed_at=when)
        for when in (now, None, now - dt.timedelta(days=1), None)
    ]
    client = client_for(member)
    for ordering in ("completed_at", "-completed_at"):
        seen = walk(client, reverse("batterydb:eis-test-list"), {"ordering": ordering, "limit": 1})
        assert sorted(seen) == sorted(t.pk for t in tests), ordering


def test_eis_data_by_frequency_keeps_the_ocv_row(client_for, member, organization):
    test = EISTestFactory(organization=organization)
    rows = [EISDataFactory(test=test, frequency=f, parameter="z_real") for f in (10.0, 1.0, 0.1)]
    rows.append(EISDataFactory(test=test, frequency=None, parameter="ocv", value=3.7))
    client = client_for(member)
    for ordering in ("frequency", "-frequency"):
        seen = walk(
            client,
            reverse("batterydb:eis-data-list"),
            {"test": test.pk, "ordering": ordering, "limit": 1},
        )
        assert sorted(seen) == sorted(r.pk for r in rows), ordering


@pytest.mark.parametrize(
    "url_name,ordering,make",
    [
        (
            "batterydb:bms-test-list",
            "cycling_step_number",
            lambda org, i: BMSTestFactory(
                organization=org, cycling_step_number=None if i % 3 == 0 else i % 4
            ),
        ),
        (
            "batterydb:eis-device-list",
            "build_date",
            lambda org, i: EISDeviceFactory(
                organization=org, build_date=None if i % 2 else dt.date(2024, 1, 1 + i % 3)
            ),
        ),
        (
            "batterydb:eis-test-list",
            "battery",
            lambda org, i: EISTestFactory(
                organization=org, battery=None if i % 2 else BatteryFactory(organization=org)
            ),
        ),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_nullable_orderings_walk_every_row_once(
    client_for, member, organization, url_name, ordering, make, descending
):
    objects = [make(organization, i) for i in range(11)]
    ordering = ("-" if descending else "") + ordering
    seen = walk(client_for(member), reverse(url_name), {"ordering": ordering, "limit": 2})
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(o.pk for o in objects)

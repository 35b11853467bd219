"""Concurrent writers against the live server: creates of one id give one passport and 409s
naming the id; merges of different fields all survive, each in its own version."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.conf import settings

from passport.models import Passport
from tests.conftest import jwt_for
from tests.passport.factories import full_passport

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason=(
            "PostgreSQL only (set DATABASE_URL): SQLite's in-memory test database, shared "
            "between the live server's threads, refuses concurrent writers ('table is locked') "
            "instead of making them wait as the platform's SQLite file does"
        ),
    ),
    pytest.mark.django_db(transaction=True),
]


def in_parallel(base_url: str, token: str, requests: list[tuple[str, str, dict]]) -> list:
    """Sends ``(method, path, body)`` requests from as many threads, released at once."""
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def send(index: int) -> None:
        method, path, body = requests[index]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
            barrier.wait()
            try:
                answers[index] = client.request(method, path, json=body)
            except BaseException as exc:  # reported by the assertion below
                answers[index] = exc

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(answer, httpx.Response) for answer in answers), answers
    return answers


def test_concurrent_creates_of_one_id_give_one_passport_and_409s(live_server, member):
    body = full_passport("RACE-1")
    answers = in_parallel(
        live_server.url, jwt_for(member), [("POST", "/passport/batteryPass", body)] * 10
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 9, [answer.text for answer in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert "RACE-1" in answer.json()["detail"]
    assert Passport.objects.filter(battery_id="RACE-1").count() == 1


def test_concurrent_merges_of_different_fields_all_survive(live_server, member):
    token = jwt_for(member)
    (created,) = in_parallel(
        live_server.url, token, [("POST", "/passport/batteryPass", {"batteryIDDMCCode": "M-1"})]
    )
    assert created.status_code == 201
    fields = [
        "warrantyPeriod",
        "cO2FootprintTotal",
        "encounteredNegativeEvents",
        "remainingPowerCapability",
    ]
    answers = in_parallel(
        live_server.url,
        token,
        [
            ("PATCH", "/passport/batteryPass/M-1", {name: index})
            for index, name in enumerate(fields)
        ],
    )
    assert [answer.status_code for answer in answers] == [200] * len(fields)
    passport = Passport.objects.get(battery_id="M-1")
    assert {name: passport.document[name] for name in fields} == {
        name: index for index, name in enumerate(fields)
    }
    versions = sorted(passport.history.values_list("version", flat=True))
    assert versions == list(range(1, len(fields) + 2))

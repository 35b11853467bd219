"""Concurrent creates of one sample_id against the live server on PostgreSQL: one sample, the
original's 400 for every other request (never a 409 or 500), and only the winner's files."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from django.conf import settings

from dmlf.models import Sample
from tests.conftest import jwt_for
from tests.dmlf import factories as f
from tests.dmlf.conftest import SAMPLE_ID, stored_files

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason=(
            "PostgreSQL only (set DATABASE_URL): SQLite's in-memory test database, shared "
            "between the live server's threads, refuses concurrent writers"
        ),
    ),
    pytest.mark.django_db(transaction=True),
]

RACERS = 10


def test_concurrent_creates_of_one_sample_id(live_server, member, project, institute, method):
    types = f.builtin_sample_types()
    data = {
        "sample_id": SAMPLE_ID,
        "name": "mock sample",
        "institute": str(institute.pk),
        "project": str(project.pk),
        "method": str(method.pk),
        "parent": "",
        "sample_type": str(types["Battery"].pk),
        "date_created": "2024-06-16",
    }
    archive = f.zip_bytes()
    barrier = threading.Barrier(RACERS)
    answers: list = [None] * RACERS

    def send(index: int) -> None:
        files = {
            "sample_info": ("info.json", json.dumps(f.GUIDE_SAMPLE_INFO), "application/json"),
            "supplementary_file": ("sample.zip", archive, "application/zip"),
        }
        headers = {"Authorization": f"Bearer {jwt_for(member)}"}
        with httpx.Client(base_url=live_server.url, timeout=60, headers=headers) as client:
            request = client.build_request("POST", "/dmlf/samples/", data=data, files=files)
            barrier.wait()
            try:
                answers[index] = client.send(request)
            except BaseException as exc:  # reported by the assertion below
                answers[index] = exc

    threads = [threading.Thread(target=send, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(answer, httpx.Response) for answer in answers), answers
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [400] * (RACERS - 1), [answer.text for answer in answers]
    for answer in answers:
        if answer.status_code == 400:
            assert answer.json() == {
                "sample_id": ["Sample ID already exists. Please provide a unique Sample ID."]
            }
    sample = Sample.objects.get()
    assert stored_files(settings) == sorted(
        [sample.sample_info.name, sample.supplementary_file.name]
    )

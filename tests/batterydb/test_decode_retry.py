"""Retrying a failed decoding through ``/api/v2/jobs/{id}/retry/``: only the file's latest
decoding may run again, so that an old one never overwrites the rows of the one after it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from batterydb.models import BMSResult
from tests.batterydb.factories import (
    BMSFileFactory,
    BMSResultFactory,
    BMSTestFactory,
    DBCFileFactory,
)
from tests.batterydb.test_decode import T0, database, decode, frames, write_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def bms_file(organization, tmp_path):
    """A candump log of ``test_decode``'s frames, in a BMS test whose default DBC reads it."""
    dbc = DBCFileFactory(
        organization=organization, file__content=database().as_dbc_string().encode()
    )
    bms_test = BMSTestFactory(organization=organization, default_dbc=dbc)
    content = write_log(frames(database()), tmp_path / "drive.log")
    return BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name="drive.log"
    )


@pytest.fixture
def writer(client_for, member):
    return client_for(member)


def retry(client, job_id: int):
    return client.post(reverse("job-retry", args=[job_id]))


def test_the_latest_failed_decoding_is_retried_and_then_succeeds(writer, bms_file, run_jobs):
    bms_test = bms_file.bms_test
    inside = dt.datetime.fromtimestamp(T0 + 0.1, dt.UTC)
    blocking = BMSResultFactory(bms_test=bms_test, parameter="Pack.Voltage", timestamp=inside)
    failed = decode(writer, bms_file, run_jobs)
    assert failed["status"] == "failed"
    blocking.delete()

    response = retry(writer, failed["id"])

    assert response.status_code == 202
    run_jobs()
    assert writer.get(reverse("job-detail", args=[failed["id"]])).json()["status"] == "succeeded"
    assert BMSResult.objects.filter(source_file=bms_file.pk).count() == 170


def test_a_failed_decoding_replaced_by_a_newer_one_is_not_retried(writer, bms_file, run_jobs):
    bms_test = bms_file.bms_test
    inside = dt.datetime.fromtimestamp(T0 + 0.1, dt.UTC)
    blocking = BMSResultFactory(bms_test=bms_test, parameter="Pack.Voltage", timestamp=inside)
    old = decode(writer, bms_file, run_jobs)
    assert old["status"] == "failed"
    blocking.delete()
    assert decode(writer, bms_file, run_jobs)["status"] == "succeeded"

    response = retry(writer, old["id"])

    assert response.status_code == 409
    assert "A newer decoding of this file exists" in response.json()["detail"]
    assert writer.get(reverse("job-detail", args=[old["id"]])).json()["status"] == "failed"
    assert BMSResult.objects.filter(source_file=bms_file.pk).count() == 170

"""POST/GET /api/v2/bms/files/{id}/decode/: a CAN log decoded with a DBC file into BMS results.

The DBC is built here with cantools (a choice signal, a signed scaled one, an extended id),
the logs are written by python-can's own writers from frames cantools encoded, and the
stored results are compared with cantools' decoding of the same frames."""

from __future__ import annotations

import datetime as dt

import can
import pytest
from cantools.database import Database
from cantools.database.can import Message, Signal
from cantools.database.conversion import BaseConversion
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batterydb.models import BMSResult
from core.jobs import Job
from tests.batterydb.factories import (
    BMSFileFactory,
    BMSResultFactory,
    BMSTestFactory,
    DBCFileFactory,
)

T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z
UNKNOWN_ID = 0x7E8


def database(*, voltage_scale: float = 0.01, long_name: bool = False) -> Database:
    pack = Message(
        0x101,
        "Pack",
        8,
        [
            Signal("Voltage", 0, 16, conversion=BaseConversion.factory(scale=voltage_scale)),
            Signal(
                "Current",
                16,
                16,
                is_signed=True,
                conversion=BaseConversion.factory(scale=0.1, offset=-5),
            ),
            Signal(
                "State",
                32,
                8,
                conversion=BaseConversion.factory(
                    choices={0: "Idle", 1: "Charging", 2: "Discharging"}
                ),
            ),
        ],
    )
    cells = Message(
        0x18FF50E5,
        "CellTemps" + ("_" * 60 if long_name else ""),
        2,
        [
            Signal("Min", 0, 8, conversion=BaseConversion.factory(offset=-40)),
            Signal("Max", 8, 8, conversion=BaseConversion.factory(offset=-40)),
        ],
        is_extended_frame=True,
    )
    return Database(messages=[pack, cells])


def frames(db: Database, count: int = 50, *, start: float = T0) -> list[can.Message]:
    """``count`` Pack frames every 10 ms, a CellTemps frame every 5th, and an unknown id."""
    result = []
    for index in range(count):
        timestamp = start + index * 0.01
        pack = db.get_message_by_name("Pack")
        data = pack.encode(
            {"Voltage": 350 + index * 0.01, "Current": -12.5 + index, "State": index % 3}
        )
        result.append(
            can.Message(timestamp=timestamp, arbitration_id=0x101, is_extended_id=False, data=data)
        )
        if index % 5 == 0:
            cells = db.messages[1]
            data = cells.encode({"Min": 20 + index % 7, "Max": 30 + index % 9})
            result.append(
                can.Message(
                    timestamp=timestamp + 0.002,
                    arbitration_id=cells.frame_id,
                    is_extended_id=True,
                    data=data,
                )
            )
        if index % 10 == 0:
            result.append(
                can.Message(
                    timestamp=timestamp + 0.004,
                    arbitration_id=UNKNOWN_ID,
                    is_extended_id=False,
                    data=b"\x02\x01\x0c",
                )
            )
    return result


def write_log(messages: list[can.Message], path) -> bytes:
    with can.Logger(str(path)) as logger:
        for message in messages:
            logger.on_message_received(message)
    return path.read_bytes()


def expected_rows(db: Database, messages: list[can.Message]) -> set[tuple]:
    """``(timestamp, parameter, value)`` as cantools decodes each known frame."""
    rows = set()
    for message in messages:
        try:
            definition = db.get_message_by_frame_id(message.arbitration_id)
        except KeyError:
            continue
        when = dt.datetime.fromtimestamp(round(message.timestamp, 6), tz=dt.UTC)
        for name, value in definition.decode(message.data, decode_choices=False).items():
            rows.add((when, f"{definition.name}.{name}", float(value)))
    return rows


def stored_rows(bms_file) -> set[tuple]:
    return {
        (timestamp, parameter, value)
        for timestamp, parameter, value in BMSResult.objects.filter(
            source_file=bms_file.pk
        ).values_list("timestamp", "parameter", "value")
    }


def reported_progress(monkeypatch) -> list[float]:
    """The fractions jobs report from now on, in order (each still written as usual)."""
    from core.jobs import runner

    seen: list[float] = []
    reported = runner.Progress.__call__

    def spy(self, fraction):
        seen.append(fraction)
        return reported(self, fraction)

    monkeypatch.setattr(runner.Progress, "__call__", spy)
    return seen


def url(bms_file) -> str:
    return reverse("batterydb:bms-file-decode", kwargs={"pk": bms_file.pk})


@pytest.fixture
def dbc(organization):
    return DBCFileFactory(
        organization=organization, file__content=database().as_dbc_string().encode()
    )


@pytest.fixture
def bms_test(organization, dbc):
    return BMSTestFactory(organization=organization, default_dbc=dbc)


@pytest.fixture
def log_frames():
    return frames(database())


@pytest.fixture
def bms_file(organization, bms_test, log_frames, tmp_path):
    content = write_log(log_frames, tmp_path / "drive.log")
    return BMSFileFactory(
        organization=organization,
        bms_test=bms_test,
        file__content=content,
        file__name="drive.log",
    )


@pytest.fixture
def writer(client_for, member):
    return client_for(member)


def decode(client, bms_file, run_jobs, body=None, query: str = "") -> dict:
    """POST, run the queued job, and GET the outcome."""
    response = client.post(url(bms_file) + query, body or {}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    run_jobs()
    answer = client.get(url(bms_file))
    assert answer.status_code == 200
    return answer.json()


# --- decoding -----------------------------------------------------------------------------------
def test_a_candump_log_is_decoded_into_exactly_its_values(writer, bms_file, log_frames, run_jobs):
    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    summary = job["result"]
    expected = expected_rows(database(), log_frames)
    assert stored_rows(bms_file) == expected
    assert summary["frames"] == len(log_frames) == 50 + 10 + 5
    assert summary["decoded_frames"] == 60
    assert summary["messages"] == 2
    assert summary["signals"] == 5
    assert summary["rows"] == len(expected) == 50 * 3 + 10 * 2
    assert summary["unknown_frames"] == 5
    assert summary["unknown_frame_ids"] == {"0x7E8": 5}
    assert dt.datetime.fromisoformat(summary["start"]) == dt.datetime.fromtimestamp(T0, dt.UTC)
    assert dt.datetime.fromisoformat(summary["end"]) == dt.datetime.fromtimestamp(
        round(T0 + 0.49, 6), dt.UTC
    )
    assert summary["format"] == "candump"


def test_results_are_listed_by_the_api_with_choices_as_numbers(
    writer, bms_file, bms_test, run_jobs
):
    decode(writer, bms_file, run_jobs)

    response = writer.get(
        reverse("batterydb:bms-result-list"),
        {"bms_test": bms_test.pk, "parameter": "Pack.State", "limit": 100},
    )

    rows = response.json()["results"]
    assert [row["value"] for row in rows[:4]] == [0.0, 1.0, 2.0, 0.0]
    assert rows[0]["timestamp"].startswith("2024-05-01T12:00:00")


@pytest.mark.parametrize("suffix", ["asc", "blf", "trc"])
def test_vector_and_pcan_logs_are_decoded_alike(
    writer, organization, bms_test, log_frames, run_jobs, tmp_path, suffix
):
    content = write_log(log_frames, tmp_path / f"drive.{suffix}")
    bms_file = BMSFileFactory(
        organization=organization,
        bms_test=bms_test,
        file__content=content,
        file__name=f"drive.{suffix}",
    )

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["format"] == suffix
    expected = expected_rows(database(), log_frames)
    stored = stored_rows(bms_file)
    assert {(p, v) for _, p, v in stored} == {(p, v) for _, p, v in expected}
    # TRC keeps milliseconds with 3 decimals (a microsecond); the others microseconds.
    for (when, *_), (want, *_) in zip(sorted(stored), sorted(expected), strict=True):
        assert abs((when - want).total_seconds()) < 2e-6


def test_decoding_again_with_a_changed_dbc_replaces_the_files_rows_only(
    writer, organization, bms_file, bms_test, log_frames, run_jobs
):
    direct = BMSResultFactory(bms_test=bms_test, parameter="soc", value=80.0)
    other_file = BMSFileFactory(organization=organization, bms_test=bms_test)
    other_row = BMSResultFactory(
        bms_test=bms_test, parameter="x", value=1.0, source_file=other_file
    )
    decode(writer, bms_file, run_jobs)
    changed = database(voltage_scale=0.02)
    new_dbc = DBCFileFactory(
        organization=organization, file__content=changed.as_dbc_string().encode()
    )

    job = decode(writer, bms_file, run_jobs, {"dbc": new_dbc.pk})

    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["dbc"] == new_dbc.pk
    assert stored_rows(bms_file) == expected_rows(changed, log_frames)
    assert BMSResult.objects.filter(pk__in=[direct.pk, other_row.pk]).count() == 2


def test_deleting_the_file_deletes_its_rows_in_one_statement(
    client_for, owner, bms_file, bms_test, run_jobs
):
    client = client_for(owner)
    decode(client, bms_file, run_jobs)
    kept = BMSResultFactory(bms_test=bms_test, parameter="soc")
    assert BMSResult.objects.filter(source_file=bms_file.pk).count() == 170

    table = BMSResult._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        response = client.delete(reverse("batterydb:bms-file-detail", kwargs={"pk": bms_file.pk}))

    assert response.status_code == 204
    assert not BMSResult.objects.filter(source_file=bms_file.pk).exists()
    assert BMSResult.objects.filter(pk=kept.pk).exists()
    touching = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("DELETE"), touching


def test_a_log_overlapping_points_of_another_source_fails_whole_naming_the_overlap(
    writer, bms_file, bms_test, run_jobs
):
    inside = dt.datetime.fromtimestamp(T0 + 0.105, dt.UTC)
    stored = BMSResultFactory(
        bms_test=bms_test, parameter="Pack.Voltage", timestamp=inside, value=1.0
    )

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert "Pack.Voltage: 1 points from 2024-05-01T12:00:00.105000+00:00" in job["error"]
    assert "on_conflict=replace" in job["error"]
    assert not BMSResult.objects.filter(source_file=bms_file.pk).exists()
    stored.refresh_from_db()
    assert stored.value == 1.0


def test_replace_lets_the_log_replace_what_it_overlaps(writer, bms_file, bms_test, run_jobs):
    inside = dt.datetime.fromtimestamp(T0 + 0.10, dt.UTC)
    stored = BMSResultFactory(
        bms_test=bms_test, parameter="Pack.Voltage", timestamp=inside, value=1.0
    )
    outside = BMSResultFactory(
        bms_test=bms_test,
        parameter="Pack.Voltage",
        timestamp=dt.datetime.fromtimestamp(T0 + 60, dt.UTC),
        value=2.0,
    )

    job = decode(writer, bms_file, run_jobs, query="?on_conflict=replace")

    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["replaced_rows"] == 1
    assert not BMSResult.objects.filter(pk=stored.pk).exists()
    assert BMSResult.objects.filter(pk=outside.pk).exists()
    value = BMSResult.objects.get(
        bms_test=bms_test, parameter="Pack.Voltage", timestamp=inside
    ).value
    assert value == pytest.approx(350.10)


def test_two_frames_of_a_message_at_one_time_fail_the_job_and_write_nothing(
    writer, organization, bms_test, run_jobs, tmp_path
):
    messages = frames(database(), 5)
    messages.append(messages[0])
    content = write_log(messages, tmp_path / "twice.log")
    bms_file = BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name="a.log"
    )

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert "two values of one parameter at the same time" in job["error"]
    assert not BMSResult.objects.filter(bms_test=bms_test).exists()


# --- bad logs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"time,voltage\n0,3.7\n", "drive.log", "Line 1 is not a candump log line"),
        (b"(1714564800.0) can0 101#ZZ\n", "drive.log", "Line 1 is not a candump log line"),
        (b"\x00\x01garbage" * 40, "drive.blf", "Not a Vector BLF log"),
        (b"MDF     4.10    " + bytes(100), "drive.mf4", "MF4"),
        (b"time,voltage\n0,3.7\n", "drive.csv", "does not say which CAN log format"),
        (b"", "empty.log", "no CAN data frames"),
        (b"date Wed May 1 12:00:00.000 2024\nbase hex timestamps absolute\n", "x.asc", "no CAN"),
    ],
)
def test_a_file_that_is_not_a_can_log_fails_the_job_with_a_clear_error(
    writer, organization, bms_test, run_jobs, content, name, message
):
    bms_file = BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name=name
    )

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert message in job["error"]
    assert not BMSResult.objects.filter(bms_test=bms_test).exists()


def test_a_log_with_no_frame_of_the_dbc_fails_naming_its_ids(
    writer, organization, bms_test, run_jobs, tmp_path
):
    messages = [
        can.Message(timestamp=T0 + i, arbitration_id=0x321, is_extended_id=False, data=b"\x01")
        for i in range(3)
    ]
    bms_file = BMSFileFactory(
        organization=organization,
        bms_test=bms_test,
        file__content=write_log(messages, tmp_path / "x.log"),
        file__name="x.log",
    )

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert "None of the log's 3 frames" in job["error"] and "0x321" in job["error"]


def test_a_parameter_name_longer_than_the_column_fails_naming_it(
    writer, organization, bms_file, run_jobs
):
    long = DBCFileFactory(
        organization=organization,
        file__content=database(long_name=True).as_dbc_string().encode(),
    )

    job = decode(writer, bms_file, run_jobs, {"dbc": long.pk})

    assert job["status"] == "failed"
    assert "CellTemps____" in job["error"] and "64 characters" in job["error"]
    assert not BMSResult.objects.exists()


# --- the request --------------------------------------------------------------------------------
def test_no_dbc_given_and_no_default_is_a_400_on_dbc(writer, organization, run_jobs):
    bms_file = BMSFileFactory(
        organization=organization, bms_test=BMSTestFactory(organization=organization)
    )

    response = writer.post(url(bms_file), {}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["dbc"]
    assert not Job.objects.exists()


def test_a_dbc_of_another_organization_is_a_400_on_dbc(writer, bms_file, other_organization):
    foreign = DBCFileFactory(organization=other_organization)

    response = writer.post(url(bms_file), {"dbc": foreign.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["dbc"]


def test_a_file_without_a_bms_test_is_a_400(writer, organization):
    bms_file = BMSFileFactory(organization=organization, bms_test=None)

    response = writer.post(url(bms_file), {}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["bms_test"]


def test_a_second_decoding_while_one_is_queued_is_a_409(writer, bms_file):
    first = writer.post(url(bms_file), {}, format="json")
    second = writer.post(url(bms_file), {}, format="json")

    assert first.status_code == 202
    assert second.status_code == 409
    assert f"job {first.json()['id']}" in second.json()["detail"]


def test_get_before_any_decoding_is_a_404(writer, bms_file):
    assert writer.get(url(bms_file)).status_code == 404


@pytest.mark.parametrize(
    ("who", "post", "get"),
    [
        ("anonymous", 401, 401),
        ("outsider", 404, 404),
        ("viewer", 403, 200),
        ("member", 202, 200),
        ("owner", 202, 200),
    ],
)
def test_permissions(request, client_for, member, bms_file, who, post, get):
    client_for(member).post(url(bms_file), {}, format="json")  # so that GET has a job
    Job.objects.update(status="failed")  # and a new one may start
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)

    assert client.post(url(bms_file), {}, format="json").status_code == post
    assert client.get(url(bms_file)).status_code == get


def test_progress_is_reported_while_the_log_is_read(
    writer, organization, bms_test, run_jobs, tmp_path, monkeypatch
):
    from batterydb.readers import can_logs

    monkeypatch.setattr(can_logs, "PROGRESS_EVERY", 100)
    content = write_log(frames(database(), 1000), tmp_path / "long.log")
    bms_file = BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name="a.log"
    )
    seen = reported_progress(monkeypatch)

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded"
    assert len(seen) >= 5
    assert seen == sorted(seen)
    assert 0 < seen[0] < 0.9 and seen[-1] == 0.9


# --- deletion and limits ------------------------------------------------------------------------
def test_deleting_the_bms_test_or_the_organization_deletes_the_decoded_rows(
    client_for, owner, organization, bms_file, bms_test, run_jobs
):
    client = client_for(owner)
    decode(client, bms_file, run_jobs)
    BMSResultFactory(bms_test=bms_test, parameter="soc")
    assert BMSResult.objects.count() == 171

    response = client.delete(reverse("batterydb:bms-test-detail", kwargs={"pk": bms_test.pk}))

    assert response.status_code == 204
    assert not BMSResult.objects.exists()


def test_an_organization_with_decoded_rows_is_deleted_whole(
    client_for, owner, organization, bms_file, bms_test, run_jobs
):
    client = client_for(owner)
    decode(client, bms_file, run_jobs)
    BMSResultFactory(bms_test=bms_test, parameter="soc")

    response = client.delete(reverse("organization-detail", args=[organization.pk]))

    assert response.status_code == 204
    assert not BMSResult.objects.exists()


def test_a_blf_container_expanding_past_the_limit_fails_the_job(
    writer, organization, bms_test, log_frames, run_jobs, tmp_path, monkeypatch
):
    from batterydb.readers import can_logs

    monkeypatch.setattr(can_logs, "MAX_BLF_CONTAINER_BYTES", 256)
    content = write_log(log_frames, tmp_path / "drive.blf")
    bms_file = BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name="d.blf"
    )

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert "a container expands beyond" in job["error"]
    assert not BMSResult.objects.exists()


def test_a_failed_decoding_can_be_started_again_and_then_succeeds(
    writer, bms_file, bms_test, run_jobs
):
    inside = dt.datetime.fromtimestamp(T0 + 0.1, dt.UTC)
    blocking = BMSResultFactory(bms_test=bms_test, parameter="Pack.Voltage", timestamp=inside)
    assert decode(writer, bms_file, run_jobs)["status"] == "failed"
    blocking.delete()

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded"
    assert BMSResult.objects.filter(source_file=bms_file.pk).count() == 170


def test_a_dbc_id_beyond_the_database_integers_is_a_400(writer, bms_file):
    response = writer.post(url(bms_file), {"dbc": 2**63}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["dbc"]


def test_unknown_ids_past_the_tracked_limit_are_still_counted(
    writer, bms_file, log_frames, run_jobs, monkeypatch
):
    from batterydb.services import decode as service

    monkeypatch.setattr(service, "MAX_TRACKED_IDS", 0)

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded"
    assert job["result"]["unknown_frames"] == 5
    assert job["result"]["unknown_frame_ids"] == {}
    assert stored_rows(bms_file) == expected_rows(database(), log_frames)

"""MF4 (ASAM MDF 4) CAN logs decoded through POST /api/v2/bms/files/{id}/decode/.

The logs are written by python-can's MF4Writer (asammdf underneath: deflate-compressed,
transposed blocks) from frames cantools encoded with the DBC built in ``test_decode``; the
stored results are compared with cantools' decoding of the same frames. Broken files are
made from a good one: cut short, a compressed block damaged, a block lying about its size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import can
import pytest

from batterydb.models import BMSResult
from tests.batterydb.factories import BMSFileFactory, BMSTestFactory, DBCFileFactory
from tests.batterydb.test_decode import (
    T0,
    database,
    decode,
    expected_rows,
    frames,
    reported_progress,
    stored_rows,
    write_log,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A DZ block: common header (24 bytes), original block type (2), zip type (1), reserved (1),
# zip parameter (4), original size (8), compressed size (8), then the compressed bytes.
DZ_ORIGINAL_SIZE = slice(32, 40)
DZ_HEADER = 48


@pytest.fixture
def bms_test(organization):
    dbc = DBCFileFactory(
        organization=organization, file__content=database().as_dbc_string().encode()
    )
    return BMSTestFactory(organization=organization, default_dbc=dbc)


@pytest.fixture
def writer(client_for, member):
    return client_for(member)


@pytest.fixture
def log_frames():
    return frames(database(), 200)


@pytest.fixture
def mf4(log_frames, tmp_path) -> bytes:
    return write_log(log_frames, tmp_path / "drive.mf4")


def bms_file_of(organization, bms_test, content: bytes, name: str = "drive.mf4"):
    return BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name=name
    )


def first_dz_block(content: bytes) -> int:
    start = content.find(b"##DZ")
    assert start > 0, "the writer compresses its data blocks"
    return start


# --- decoding -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["drive.mf4", "drive.MF4", "drive.log"])
def test_an_mf4_log_is_decoded_into_exactly_its_values(
    writer, organization, bms_test, log_frames, mf4, run_jobs, name
):
    bms_file = bms_file_of(organization, bms_test, mf4, name)

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    summary = job["result"]
    expected = expected_rows(database(), log_frames)
    assert stored_rows(bms_file) == expected
    assert summary["format"] == "mf4"
    assert summary["frames"] == len(log_frames) == 200 + 40 + 20
    assert summary["decoded_frames"] == 240
    assert summary["rows"] == len(expected) == 200 * 3 + 40 * 2
    assert summary["unknown_frame_ids"] == {"0x7E8": 20}
    assert summary["start"] == "2024-05-01T12:00:00+00:00"


def test_remote_and_error_frames_of_an_mf4_log_are_left_out(
    writer, organization, bms_test, log_frames, run_jobs, tmp_path
):
    extra = [
        can.Message(timestamp=T0 + 0.5, arbitration_id=0x101, is_remote_frame=True, dlc=8),
        can.Message(timestamp=T0 + 0.6, is_error_frame=True),
    ]
    content = write_log(log_frames + extra, tmp_path / "drive.mf4")
    bms_file = bms_file_of(organization, bms_test, content)

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["frames"] == len(log_frames)
    assert stored_rows(bms_file) == expected_rows(database(), log_frames)


def test_decoding_an_mf4_log_again_replaces_its_rows(
    writer, organization, bms_test, log_frames, mf4, run_jobs
):
    bms_file = bms_file_of(organization, bms_test, mf4)
    decode(writer, bms_file, run_jobs)
    changed = database(voltage_scale=0.02)
    new_dbc = DBCFileFactory(
        organization=organization, file__content=changed.as_dbc_string().encode()
    )

    job = decode(writer, bms_file, run_jobs, {"dbc": new_dbc.pk})

    assert job["status"] == "succeeded", job["error"]
    assert stored_rows(bms_file) == expected_rows(changed, log_frames)


def test_an_mf4_log_read_in_many_fragments_gives_the_same_rows_and_follows_its_progress(
    writer, organization, bms_test, log_frames, mf4, run_jobs, monkeypatch
):
    from batterydb.readers import can_logs

    monkeypatch.setattr(can_logs, "MF4_FRAGMENT_BYTES", 84 * 16)  # 16 records at a time
    bms_file = bms_file_of(organization, bms_test, mf4)
    seen = reported_progress(monkeypatch)

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "succeeded", job["error"]
    assert stored_rows(bms_file) == expected_rows(database(), log_frames)
    assert len(seen) >= 10
    assert seen == sorted(seen)
    assert 0 < seen[0] < 0.1 and seen[-1] == 0.9


# --- broken files -------------------------------------------------------------------------------
def cut_short(content: bytes) -> bytes:
    return content[: len(content) // 2]


def damaged_block(content: bytes) -> bytes:
    start = first_dz_block(content) + DZ_HEADER
    return content[:start] + b"\xff" * 64 + content[start + 64 :]


def lying_block(content: bytes) -> bytes:
    """The first compressed block declares half the size its bytes expand to."""
    start = first_dz_block(content)
    where = slice(start + DZ_ORIGINAL_SIZE.start, start + DZ_ORIGINAL_SIZE.stop)
    size = int.from_bytes(content[where], "little")
    return content[: where.start] + (size // 2).to_bytes(8, "little") + content[where.stop :]


def overcounted(content: bytes) -> bytes:
    """The first channel group (the data frames') counts 100 records more than it holds."""
    start = content.find(b"##CG")
    links = int.from_bytes(content[start + 16 : start + 24], "little")
    where = start + 24 + links * 8 + 8  # after the links, the record id, then the count
    count = int.from_bytes(content[where : where + 8], "little")
    return content[:where] + (count + 100).to_bytes(8, "little") + content[where + 8 :]


@pytest.mark.parametrize(
    ("breaking", "message"),
    [
        (cut_short, "Not a valid MF4 (ASAM MDF) log: the file is damaged or cut short"),
        (damaged_block, "a compressed data block is damaged"),
        (lying_block, "a compressed data block expands beyond the"),
        (overcounted, "channel group 0 holds 260 of the 360 records its header counts"),
        (lambda content: b"MDF     4.10    " + bytes(100), "Not a valid MF4 (ASAM MDF) log"),
        (lambda content: b"not an MDF file" * 10, "Not an MF4 (ASAM MDF) log"),
    ],
    ids=["cut-short", "damaged-block", "lying-block", "overcounted", "header-only", "not-mdf"],
)
def test_a_broken_mf4_log_fails_the_job_with_a_clear_error_and_stores_nothing(
    writer, organization, bms_test, mf4, run_jobs, breaking, message
):
    bms_file = bms_file_of(organization, bms_test, breaking(mf4))

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert message in job["error"], job["error"]
    assert not BMSResult.objects.filter(bms_test=bms_test).exists()


def test_an_mf4_block_larger_than_the_limit_fails_the_job(
    writer, organization, bms_test, mf4, run_jobs, monkeypatch
):
    from batterydb.readers import can_logs

    monkeypatch.setattr(can_logs, "MAX_MF4_BLOCK_BYTES", 1024)
    bms_file = bms_file_of(organization, bms_test, mf4)

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert "exceeds 1,024 bytes" in job["error"]
    assert not BMSResult.objects.exists()


def test_an_mf4_file_with_no_can_frames_fails_saying_so(
    writer, organization, bms_test, run_jobs, tmp_path
):
    from asammdf import MDF, Signal

    mdf = MDF(version="4.10")
    mdf.append([Signal([1.0, 2.0], [0.0, 1.0], name="Temperature")])
    saved = mdf.save(tmp_path / "temperature.mf4", compression=0)
    mdf.close()
    bms_file = bms_file_of(organization, bms_test, Path(saved).read_bytes())

    job = decode(writer, bms_file, run_jobs)

    assert job["status"] == "failed"
    assert "no CAN data frames (read as a mf4 log)" in job["error"]


# --- imports ------------------------------------------------------------------------------------
def test_reading_other_logs_and_dbc_files_does_not_import_asammdf(log_frames, tmp_path):
    """python-can imports asammdf (and pandas) when imported; the decoding's other readers and
    the DBC parsing leave it out, and an MF4 log read afterwards in the same process is read."""
    asc, mf4 = tmp_path / "drive.asc", tmp_path / "drive.mf4"
    write_log(log_frames, asc)
    write_log(log_frames, mf4)
    program = f"""
import json, sys
from batterydb.parsers import dbc_summary
from batterydb.readers.can_logs import read_frames

def heavy():
    return sorted(name for name in ("asammdf", "pandas") if name in sys.modules)

summary = dbc_summary({database().as_dbc_string().encode()!r}, max_messages=9, max_names=9)
after_dbc = heavy()
asc = sum(1 for _ in read_frames({str(asc)!r}, "asc"))
after_asc = heavy()
mf4 = sum(1 for _ in read_frames({str(mf4)!r}, "mf4"))
print(json.dumps([summary["message_count"], after_dbc, asc, after_asc, mf4]))
"""
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    count = len(log_frames)
    assert json.loads(result.stdout) == [2, [], count, [], count]

"""Decoding a CAN log into BMS results, beside storing the same rows through the bulk path.

    .venv/bin/python -m bench.bench_decode [--frames 1000000] [--database bench_decode]

Creates a fresh PostgreSQL database, migrates it, and stores a candump log of ``--frames``
frames (20 messages of a 20-message DBC in turn, one frame every 50 µs, 4 signals each, one
of them a choice signal) as a BMS file of a BMS test. Then:

1. **decode**: a fresh Python process (as a job worker would be) decodes the file with the
   DBC through ``batterydb.services.decode.bms_file_decode``, the code the job runs: copy from
   the storage, read and decode streaming, spool, then one transaction with the COPY. Its
   wall time and its peak resident memory (``VmHWM``, the interpreter and Django included)
   are reported.
2. **bulk path**: the rows are deleted, and the same decoded rows (read back from the log
   beforehand, not timed) are stored through ``bms_results_ingest`` (the ``Prefer:
   return=minimal`` POST's service: binary COPY) in batches of ``--batch`` rows, each its own
   transaction, timing only the calls.

Printed: frames/s and rows/s of each, their ratio (the target: decoding at least half the
bulk path's rate), and the decoding process's peak memory (the target: under 300 MB whatever
the log's size; ``--frames`` changes the size).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness

DATABASE = "bench_decode"
MESSAGES = 20
SIGNALS = 4
T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z
STEP = 0.00005  # 50 µs between frames
VARIANTS = 64  # payloads per message, cycled


def dbc_database():
    """20 messages of 8 bytes, ids 0x100 up, each with 3 scaled 16-bit signals and a choice."""
    from cantools.database import Database
    from cantools.database.can import Message, Signal
    from cantools.database.conversion import BaseConversion

    messages = []
    for number in range(MESSAGES):
        signals = [
            Signal(
                f"CellVoltage_{index}",
                16 * index,
                16,
                conversion=BaseConversion.factory(scale=0.001),
            )
            for index in range(SIGNALS - 1)
        ]
        signals.append(
            Signal(
                "State",
                48,
                8,
                conversion=BaseConversion.factory(choices={0: "Idle", 1: "Charge", 2: "Drive"}),
            )
        )
        messages.append(Message(0x100 + number, f"BMS_Module_{number:02d}", 8, signals))
    return Database(messages=messages)


def write_log(path: Path, frames: int) -> None:
    """A candump -L log: message ``i % 20`` at ``T0 + i * STEP``, payloads cycled."""
    database = dbc_database()
    payloads = []
    for message in database.messages:
        payloads.append(
            [
                message.encode(
                    {
                        **{
                            f"CellVoltage_{i}": 3.2 + (variant * 7 + i) % 100 / 100
                            for i in range(3)
                        },
                        "State": variant % 3,
                    }
                )
                .hex()
                .upper()
                for variant in range(VARIANTS)
            ]
        )
    with open(path, "w") as log:
        for index in range(frames):
            number = index % MESSAGES
            data = payloads[number][(index // MESSAGES) % VARIANTS]
            log.write(f"({T0 + index * STEP:.6f}) can0 {0x100 + number:03X}#{data}\n")


def make_world(log_path: Path) -> dict:
    from django.core.files import File
    from django.core.files.base import ContentFile

    from batterydb.models import Battery, BMSFile, BMSTest, DBCFile, StoredFile
    from core.models import Organization

    organization = Organization.objects.create(name="Bench")
    battery = Battery.objects.create(organization=organization, battery_id="BENCH-1")
    dbc_text = dbc_database().as_dbc_string().encode()

    dbc_stored = StoredFile.objects.create(
        organization=organization,
        name="bench.dbc",
        size=len(dbc_text),
        file=ContentFile(dbc_text, name="bench.dbc"),
    )
    dbc = DBCFile.objects.create(organization=organization, name="bench.dbc", file=dbc_stored)
    test = BMSTest.objects.create(organization=organization, battery=battery, default_dbc=dbc)
    with open(log_path, "rb") as handle:
        log_stored = StoredFile.objects.create(
            organization=organization,
            name="drive.log",
            size=log_path.stat().st_size,
            file=File(handle, name="drive.log"),
        )
    bms_file = BMSFile.objects.create(organization=organization, bms_test=test, file=log_stored)
    return {"organization": organization.pk, "test": test.pk, "file": bms_file.pk, "dbc": dbc.pk}


# --- the decoding process -------------------------------------------------------------------------
def child(bms_file_id: int, dbc_id: int) -> None:
    """Runs in a fresh process: decode, then print the time, the summary and VmHWM."""
    import django

    django.setup()
    from batterydb.models import BMSFile, DBCFile
    from batterydb.services.decode import bms_file_decode

    baseline = _status_kb("VmRSS")
    bms_file = BMSFile.objects.select_related("file").get(pk=bms_file_id)
    dbc = DBCFile.objects.select_related("file").get(pk=dbc_id)
    reports: list[tuple[float, float]] = []
    start = time.perf_counter()
    summary = bms_file_decode(
        bms_file=bms_file,
        dbc=dbc,
        progress=lambda fraction: reports.append((fraction, time.perf_counter() - start)),
    )
    seconds = time.perf_counter() - start
    # The log is read and decoded when the progress reaches 0.9; the transaction follows.
    read_seconds = max(at for fraction, at in reports if fraction <= 0.9)
    peak = _status_kb("VmHWM")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "read_decode_spool_seconds": read_seconds,
                "summary": summary,
                "peak_rss_mb": peak / 1024,
                "baseline_rss_mb": baseline / 1024,
                "progress_reports": len(reports),
            }
        )
    )


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(f"{field}:"))


def run_child(env: dict, world: dict) -> dict:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_decode",
            "--child",
            str(world["file"]),
            str(world["dbc"]),
        ],
        env=env,
        cwd=harness.PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if completed.returncode != 0:
        raise harness.BenchError(f"the decoding process failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the bulk path --------------------------------------------------------------------------------
def decoded_batches(log_path: Path, test_id: int, batch: int):
    """The log's rows as ``bms_results_ingest`` takes them, ``batch`` at a time."""
    import datetime as dt

    from batterydb.readers.can_logs import read_frames

    database = dbc_database()
    by_id = {message.frame_id: message for message in database.messages}
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    rows: list[tuple] = []
    for timestamp, frame_id, _, data in read_frames(log_path, "candump"):
        message = by_id[frame_id]
        when = epoch + dt.timedelta(microseconds=round(timestamp * 1_000_000))
        for name, value in message.decode(data, decode_choices=False).items():
            rows.append((test_id, when, f"{message.name}.{name}", value))
        if len(rows) >= batch:
            yield rows
            rows = []
    if rows:
        yield rows


def bulk(log_path: Path, world: dict, batch: int) -> dict:
    from django.db import connection

    from batterydb.services.ingest import bms_results_ingest

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM batterydb_bmsresult")
        cursor.execute("VACUUM ANALYZE batterydb_bmsresult")
    organization_of = {world["test"]: world["organization"]}
    seconds, rows = 0.0, 0
    for chunk in decoded_batches(log_path, world["test"], batch):
        start = time.perf_counter()
        bms_results_ingest(
            rows=chunk, organization_of=organization_of, replace=False, returning=False
        )
        seconds += time.perf_counter() - start
        rows += len(chunk)
    return {"seconds": seconds, "rows": rows}


def run(args: argparse.Namespace, env: dict, folder: Path) -> None:
    from django.db import connection

    log_path = folder / "drive.log"
    with harness.timed(f"writing a {args.frames:,}-frame candump log"):
        write_log(log_path, args.frames)
    world = make_world(log_path)
    harness.close_django_connections()
    with harness.timed("decoding in a fresh process"):
        decoded = run_child(env, world)
    summary = decoded["summary"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM batterydb_bmsresult")
        (stored,) = cursor.fetchone()
    assert stored == summary["rows"], (stored, summary["rows"])
    with harness.timed("the same rows through bms_results_ingest"):
        bulk_result = bulk(log_path, world, args.batch)
    assert bulk_result["rows"] == summary["rows"]
    frames, rows = summary["frames"], summary["rows"]
    decode_fps = frames / decoded["seconds"]
    bulk_fps = frames / bulk_result["seconds"]
    harness.print_table(
        ["path", "seconds", "frames/s", "rows/s", "peak RSS MB", "RSS after setup MB"],
        [
            [
                "decode (read, decode, spool, COPY)",
                f"{decoded['seconds']:.1f}",
                f"{decode_fps:,.0f}",
                f"{rows / decoded['seconds']:,.0f}",
                f"{decoded['peak_rss_mb']:.0f}",
                f"{decoded['baseline_rss_mb']:.0f}",
            ],
            [
                f"bms_results_ingest, {args.batch:,}-row batches",
                f"{bulk_result['seconds']:.1f}",
                f"{bulk_fps:,.0f}",
                f"{rows / bulk_result['seconds']:,.0f}",
                "",
                "",
            ],
        ],
        title=(
            f"{frames:,} frames, {rows:,} rows ({summary['messages']} messages, "
            f"{summary['signals']} signals), PostgreSQL"
        ),
    )
    ratio = decode_fps / bulk_fps
    print(f"decoding rate / bulk path rate: {ratio:.2f} (target >= 0.5)")
    print(
        f"decoding process peak RSS: {decoded['peak_rss_mb']:.0f} MB (target < 300 MB), "
        f"of which {decoded['baseline_rss_mb']:.0f} MB before decoding (Python, Django, apps)"
    )
    read = decoded["read_decode_spool_seconds"]
    print(
        f"decoding's phases: copy, read, decode and spool {read:.1f} s; "
        f"the transaction (overlap check, COPY, commit) {decoded['seconds'] - read:.1f} s; "
        f"{decoded['progress_reports']} progress reports"
    )
    if args.json:
        harness.write_json(args.json, {"decode": decoded, "bulk": bulk_result, "ratio": ratio})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames in the log")
    parser.add_argument("--batch", type=int, default=100_000, help="rows per bulk-path call")
    parser.add_argument("--database", default=DATABASE, help="created afresh, then dropped")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as folder:
        with harness.timed("fresh database and migrations"):
            database_url = harness.fresh_database(args.database, args.postgres_url)
            media = str(Path(folder) / "media")
            env = harness.bench_env(
                database_url, redis_url=None, extra={"DJANGO_MEDIA_ROOT": media}
            )
            harness.migrate(env)
            harness.setup_django(env)
        try:
            run(args, env, Path(folder))
        finally:
            harness.close_django_connections()
            harness.drop_database(args.database, args.postgres_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

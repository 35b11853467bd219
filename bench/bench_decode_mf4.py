"""Decoding an MF4 (ASAM MDF 4) CAN log into BMS results: time and the process's peak memory.

    .venv/bin/python -m bench.bench_decode_mf4 [--frames 1000000] [--compression 2]

``bench_decode``'s log (20 messages of its 20-message DBC in turn, one frame every 50 µs, 4
signals each) written as MF4 bus logging, as python-can's MF4Writer lays it out (a
``CAN_DataFrame`` channel group of 84-byte records, 64 data bytes each), by asammdf in bulk,
``--compression`` 0 (none), 1 (deflate) or 2 (transposed deflate, MF4Writer's default). It is
stored as a BMS file of a BMS test on a fresh PostgreSQL database, and a fresh Python process
(as a job worker would be) decodes it through ``batterydb.services.decode.bms_file_decode``,
as ``bench_decode`` does for candump. Printed: its wall time, frames/s and rows/s, the time
until the log was read and decoded, and its peak resident memory (``VmHWM``; the target:
under 300 MB whatever the log's size).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import harness
from bench.bench_decode import MESSAGES, STEP, T0, VARIANTS, dbc_database, make_world, run_child

DATABASE = "bench_decode_mf4"
RECORDS_AT_ONCE = 100_000


def record_type():
    """The record of python-can's MF4Writer (``can.io.mf4.STD_DTYPE``)."""
    import numpy as np

    return np.dtype(
        [
            ("CAN_DataFrame.BusChannel", "<u1"),
            ("CAN_DataFrame.ID", "<u4"),
            ("CAN_DataFrame.IDE", "<u1"),
            ("CAN_DataFrame.DLC", "<u1"),
            ("CAN_DataFrame.DataLength", "<u1"),
            ("CAN_DataFrame.DataBytes", "(64,)u1"),
            ("CAN_DataFrame.Dir", "<u1"),
            ("CAN_DataFrame.EDL", "<u1"),
            ("CAN_DataFrame.BRS", "<u1"),
            ("CAN_DataFrame.ESI", "<u1"),
        ]
    )


def write_mf4(path: Path, frames: int, compression: int) -> None:
    """Message ``i % 20`` at ``T0 + i * STEP``, its payloads cycled, as ``bench_decode``."""
    import numpy as np
    from asammdf import MDF, Signal
    from asammdf.blocks.v4_blocks import SourceInformation
    from asammdf.blocks.v4_constants import BUS_TYPE_CAN, SOURCE_BUS

    database = dbc_database()
    payloads = np.zeros((MESSAGES, VARIANTS, 8), dtype=np.uint8)
    for number, message in enumerate(database.messages):
        for variant in range(VARIANTS):
            values = {f"CellVoltage_{i}": 3.2 + (variant * 7 + i) % 100 / 100 for i in range(3)}
            data = message.encode({**values, "State": variant % 3})
            payloads[number, variant] = np.frombuffer(data, dtype=np.uint8)
    kind = record_type()
    mdf = MDF(version="4.10")
    mdf.header.start_time = datetime.fromtimestamp(T0, UTC)
    source = SourceInformation(source_type=SOURCE_BUS, bus_type=BUS_TYPE_CAN)
    mdf.append(
        Signal(
            name="CAN_DataFrame",
            samples=np.array([], dtype=kind),
            timestamps=np.array([], dtype="<f8"),
            source=source,
        )
    )
    for start in range(0, frames, RECORDS_AT_ONCE):
        index = np.arange(start, min(start + RECORDS_AT_ONCE, frames))
        records = np.zeros(len(index), dtype=kind)
        number = index % MESSAGES
        records["CAN_DataFrame.ID"] = 0x100 + number
        records["CAN_DataFrame.DLC"] = 8
        records["CAN_DataFrame.DataLength"] = 8
        records["CAN_DataFrame.DataBytes"][:, :8] = payloads[number, (index // MESSAGES) % VARIANTS]
        mdf.extend(0, [(index * STEP, None), (records, None)])
    mdf.save(path, compression=compression, overwrite=True)
    mdf.close()


def run(args: argparse.Namespace, env: dict, folder: Path) -> None:
    from django.db import connection

    from batterydb.models import BMSFile

    log_path = folder / "drive.mf4"
    with harness.timed(f"writing a {args.frames:,}-frame MF4 log"):
        write_mf4(log_path, args.frames, args.compression)
    world = make_world(log_path)
    stored = BMSFile.objects.select_related("file").get(pk=world["file"]).file
    stored.name = "drive.mf4"
    stored.save(update_fields=["name"])
    harness.close_django_connections()
    with harness.timed("decoding in a fresh process"):
        decoded = run_child(env, world)
    summary = decoded["summary"]
    assert summary["format"] == "mf4", summary
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM batterydb_bmsresult")
        (stored,) = cursor.fetchone()
    assert stored == summary["rows"] == 4 * args.frames, (stored, summary["rows"])
    seconds, read = decoded["seconds"], decoded["read_decode_spool_seconds"]
    harness.print_table(
        ["log", "MB", "seconds", "frames/s", "rows/s", "read+decode s", "peak RSS MB", "setup MB"],
        [
            [
                f"MF4, compression {args.compression}",
                f"{log_path.stat().st_size / 2**20:.0f}",
                f"{seconds:.1f}",
                f"{summary['frames'] / seconds:,.0f}",
                f"{summary['rows'] / seconds:,.0f}",
                f"{read:.1f}",
                f"{decoded['peak_rss_mb']:.0f}",
                f"{decoded['baseline_rss_mb']:.0f}",
            ]
        ],
        title=f"{summary['frames']:,} frames, {summary['rows']:,} rows, PostgreSQL",
    )
    print(
        f"decoding process peak RSS: {decoded['peak_rss_mb']:.0f} MB (target < 300 MB), "
        f"of which {decoded['baseline_rss_mb']:.0f} MB before decoding"
    )
    if args.json:
        harness.write_json(args.json, {"decode": decoded, "compression": args.compression})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames in the log")
    parser.add_argument("--compression", type=int, choices=(0, 1, 2), default=2)
    parser.add_argument("--database", default=DATABASE, help="created afresh, then dropped")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-decode-mf4-") as folder:
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

"""Bulk writes through binary COPY, without HTTP: what the write path itself costs.

    .venv/bin/python -m bench.bench_copy [--batches 40] [--rounds 3] [--database bench_copy]

Creates a fresh PostgreSQL database, migrates it and writes 5,040-row batches (20 tests x 42
frequencies x 6 parameters, or 20 BMS tests x 252 timestamps) through the services that the
``Prefer: return=minimal`` POSTs call, each batch in its own transaction, which is then rolled
back (so every batch meets the same table and no commit's disk flush blurs the figures):

* ``eis_data_ingest`` and ``bms_results_ingest`` (``returning=False``): the COPY writer of
  ``core.copy`` behind BatteryDB's ingestion;
* a raw reference: the same EIS rows encoded by hand with ``struct`` (``bench_batterydb``'s
  ``encode_binary``) and written with one ``copy.write``, the ceiling of the database.

For each, per batch: the best and median wall time, this process's CPU time (encoding and
the client side of the protocol) and the CPU time of the database's backends. The best of
``--rounds`` rounds is kept, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

from bench import harness
from bench.bench_batterydb import FREQUENCIES, PARAMETERS, TESTS_PER_REQUEST, encode_binary

DATABASE = "bench_copy"
BMS_PARAMETERS = ("pack_voltage", "pack_current", "soc", "max_cell_temp")
T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def make_world() -> dict:
    """An organization with 20 EIS tests and 20 BMS tests; their ids."""
    from batterydb.models import Battery, BMSTest, EISTest
    from core.models import Organization

    organization = Organization.objects.create(name="Bench")
    battery = Battery.objects.create(organization=organization, battery_id="BENCH-1")
    eis = EISTest.objects.bulk_create(
        EISTest(organization=organization, battery=battery) for _ in range(TESTS_PER_REQUEST)
    )
    bms = BMSTest.objects.bulk_create(
        BMSTest(organization=organization, battery=battery) for _ in range(TESTS_PER_REQUEST)
    )
    return {
        "organization": organization.pk,
        "eis": [test.pk for test in eis],
        "bms": [test.pk for test in bms],
    }


def eis_rows(tests: list[int]) -> list[tuple]:
    return [
        (test, frequency, parameter, (test % 97) / 1000 + i / 10_000)
        for test in tests
        for i, frequency in enumerate(FREQUENCIES)
        for parameter in PARAMETERS
    ]


def bms_rows(tests: list[int]) -> list[tuple]:
    seconds = len(FREQUENCIES) * len(PARAMETERS) // len(BMS_PARAMETERS)  # 63: 5,040 rows
    return [
        (test, T0 + dt.timedelta(milliseconds=250 * i), parameter, 3.7 + i / 1000)
        for test in tests
        for i in range(seconds)
        for parameter in BMS_PARAMETERS
    ]


def measure(write: Callable[[], None], batches: int, database: str) -> dict:
    """Run ``write`` ``batches`` times, each in a transaction rolled back afterwards."""
    from django.db import transaction

    walls, cpus = [], []
    db_before = harness.database_backends_cpu(database)
    for _ in range(batches):
        wall, cpu = time.perf_counter(), time.process_time()
        with transaction.atomic():
            write()
            transaction.set_rollback(True)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    db_cpu = harness.database_backends_cpu(database) - db_before
    return {
        "best_ms": min(walls) * 1e3,
        "median_ms": statistics.median(walls) * 1e3,
        "cpu_ms": statistics.median(cpus) * 1e3,
        "db_cpu_ms": db_cpu / batches * 1e3,
    }


def run(args: argparse.Namespace) -> list[list[str]]:
    from django.db import connection

    from batterydb.services.ingest import bms_results_ingest, eis_data_ingest

    world = make_world()
    organization = world["organization"]
    eis = eis_rows(world["eis"])
    bms = bms_rows(world["bms"])
    eis_orgs = dict.fromkeys(world["eis"], organization)
    bms_orgs = dict.fromkeys(world["bms"], organization)
    raw = [(organization, *row) for row in eis]
    assert len(eis) == len(bms) == len(raw) == 5040

    def raw_copy() -> None:
        sql = (
            "COPY batterydb_eisdata (organization_id, test_id, frequency, parameter, value) "
            "FROM STDIN (FORMAT BINARY)"
        )
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.write(encode_binary(raw))

    cases = {
        "EIS data, eis_data_ingest": lambda: eis_data_ingest(
            rows=eis, organization_of=eis_orgs, replace=False, returning=False
        ),
        "BMS results, bms_results_ingest": lambda: bms_results_ingest(
            rows=bms, organization_of=bms_orgs, replace=False, returning=False
        ),
        "EIS data, raw COPY of pre-encoded bytes": raw_copy,
    }
    for write in cases.values():  # warm up: connection, prepared types, caches
        measure(write, 3, args.database)
    results: dict[str, list[dict]] = {label: [] for label in cases}
    for round_ in range(args.rounds):
        with harness.timed(f"round {round_ + 1}"):
            for label, write in cases.items():
                results[label].append(measure(write, args.batches, args.database))
    table = []
    for label, rounds in results.items():
        best = min(rounds, key=lambda result: result["median_ms"])
        table.append(
            [
                label,
                f"{best['best_ms']:.2f}",
                f"{best['median_ms']:.2f}",
                f"{best['cpu_ms']:.2f}",
                f"{best['db_cpu_ms']:.2f}",
                f"{5040 / best['median_ms'] * 1e3:,.0f}",
            ]
        )
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=40, help="batches per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is kept")
    parser.add_argument("--database", default=DATABASE, help="created afresh, then dropped")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with harness.timed("fresh database and migrations"):
        database_url = harness.fresh_database(args.database, args.postgres_url)
        env = harness.bench_env(database_url, redis_url=None)
        harness.migrate(env)
        harness.setup_django(env)
    try:
        table = run(args)
    finally:
        harness.close_django_connections()
        harness.drop_database(args.database, args.postgres_url)
    harness.print_table(
        ["5,040 rows a batch", "best ms", "median ms", "client CPU ms", "db CPU ms", "rows/s"],
        table,
        title="Binary COPY writes (PostgreSQL, one connection, rolled back)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

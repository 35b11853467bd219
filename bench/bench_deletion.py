"""Deleting an organization that holds a million measurement rows, through the HTTP API.

    .venv/bin/python -m bench.bench_deletion [--rows 1000000] [--other-rows 1000000]

Creates a fresh PostgreSQL database (``bench_deletion``), migrates it and builds two
organizations of the same shape: ``--rows`` measurement rows each (70% EIS data: tests of 42
frequencies x 4 parameters plus an OCV row without frequency; 30% BMS results), batteries,
devices, projects, a DBC file that the BMS tests use (a PROTECT key inside the organization),
BMS files with their bytes on disk. The second organization is the bystander: it shows that the
deletion never scans other organizations' rows, and it must come out untouched.

Then gunicorn (production settings, sync workers, the deployment's timeout from
``deploy/gunicorn.conf.py``) serves the API, and the organization's owner sends
``DELETE /api/v2/organizations/{id}/`` with an API key. Printed: the request's wall time against
the worker timeout, rows deleted per second, CPU of the server and of PostgreSQL, the worker's
peak memory before and after, the plans of the batch statements, and the checks that every row
and file of the organization is gone and nothing of the bystander.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import runpy
import struct
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import harness
from bench.bench_batterydb import encode_binary

DATABASE = "bench_deletion"
FREQUENCIES = [10_000 / 10 ** (i / 7) for i in range(42)]
EIS_PARAMETERS = ("z_real", "z_imag", "z_mod", "z_phase")
EIS_ROWS_PER_TEST = len(FREQUENCIES) * len(EIS_PARAMETERS) + 1  # + the OCV row
BMS_PARAMETERS = ("pack_voltage", "pack_current", "soc")
BMS_TESTS = 20
BMS_FILES = 40
EIS_SHARE = 0.7
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


# --- data ----------------------------------------------------------------------------------------
def make_organization(name: str, owner) -> dict:
    """An organization owned by ``owner`` with every kind of object but the measurements."""
    from django.core.files.base import ContentFile

    from batterydb.models import (
        Battery,
        BatteryType,
        BMSFile,
        BMSTest,
        DBCFile,
        EISDevice,
        Project,
        StoredFile,
    )
    from core import services

    organization = services.organization_create(name=name, owner=owner)
    project = Project.objects.create(organization=organization, name=f"{name} project")
    battery_type = BatteryType.objects.create(organization=organization, model="NMC-50Ah")
    battery = Battery.objects.create(
        organization=organization, battery_id=f"{name}-1", battery_type=battery_type
    )
    battery.projects.add(project)
    device = EISDevice.objects.create(organization=organization, device_id=f"{name}-dev")
    dbc_file = StoredFile.objects.create(
        organization=organization,
        name="pack.dbc",
        file=ContentFile(b'VERSION ""\n', name="pack.dbc"),
    )
    dbc = DBCFile.objects.create(organization=organization, name="pack.dbc", file=dbc_file)
    bms_tests = BMSTest.objects.bulk_create(
        BMSTest(organization=organization, battery=battery, device=device, default_dbc=dbc)
        for _ in range(BMS_TESTS)
    )
    paths = [dbc_file.file.path]
    for i in range(BMS_FILES):
        stored = StoredFile.objects.create(
            organization=organization,
            name=f"run-{i}.csv",
            file=ContentFile(b"timestamp,pack_voltage\n" * 100, name=f"run-{i}.csv"),
        )
        BMSFile.objects.create(
            organization=organization, bms_test=bms_tests[i % BMS_TESTS], file=stored
        )
        paths.append(stored.file.path)
    return {
        "organization": organization,
        "battery": battery,
        "device": device,
        "bms_tests": [test.pk for test in bms_tests],
        "paths": paths,
        "next_second": {},
    }


def load_measurements(database_url: str, world: dict, rows: int) -> int:
    """COPY about ``rows`` measurement rows into the organization; returns how many."""
    import psycopg

    from batterydb.models import EISTest

    organization_id = world["organization"].pk
    eis_tests = max(1, round(rows * EIS_SHARE / EIS_ROWS_PER_TEST))
    tests = EISTest.objects.bulk_create(
        EISTest(organization_id=organization_id, battery=world["battery"], device=world["device"])
        for _ in range(eis_tests)
    )
    test_ids = [test.pk for test in tests]
    bms_rows = max(0, rows - eis_tests * EIS_ROWS_PER_TEST)
    share, extra = divmod(bms_rows, len(world["bms_tests"]))
    written = 0
    with psycopg.connect(database_url) as conn:
        for start in range(0, len(test_ids), 200):
            chunk = test_ids[start : start + 200]
            eis = [
                (organization_id, test_id, frequency, parameter, 0.01 + i / 1000)
                for test_id in chunk
                for i, frequency in enumerate(FREQUENCIES)
                for parameter in EIS_PARAMETERS
            ]
            with conn.cursor() as cursor:
                with cursor.copy(
                    "COPY batterydb_eisdata (organization_id, test_id, frequency, parameter, "
                    "value) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.write(encode_binary(eis))
                with cursor.copy(
                    "COPY batterydb_eisdata (organization_id, test_id, parameter, value) FROM STDIN"
                ) as copy:
                    for test_id in chunk:
                        copy.write_row((organization_id, test_id, "ocv", 3.7))
            written += len(eis) + len(chunk)
        for index, test_id in enumerate(world["bms_tests"]):
            count = share + (1 if index < extra else 0)
            if not count:
                continue
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    "COPY batterydb_bmsresult (organization_id, bms_test_id, timestamp, "
                    "parameter, value) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                first = world["next_second"].get(test_id, 0)
                copy.write(encode_bms(organization_id, test_id, count, first))
                world["next_second"][test_id] = first + -(-count // len(BMS_PARAMETERS))
            written += count
        conn.commit()
    return written


_BMS_FIELDS = struct.Struct("!hiqiqiq")
_BMS_VALUE = struct.Struct("!id")


def encode_bms(organization_id: int, test_id: int, count: int, first_second: int) -> bytes:
    """A binary COPY stream of ``count`` BMS results of one test, a reading per parameter
    every second from ``first_second``."""
    out = bytearray(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
    start = int((dt.datetime(2024, 5, 1, tzinfo=dt.UTC) - _PG_EPOCH).total_seconds() * 1e6)
    names = [struct.pack("!i", len(p)) + p.encode() for p in BMS_PARAMETERS]
    for i in range(count):
        second, parameter = divmod(i, len(BMS_PARAMETERS))
        second += first_second
        out += _BMS_FIELDS.pack(5, 8, organization_id, 8, test_id, 8, start + second * 1_000_000)
        out += names[parameter]
        out += _BMS_VALUE.pack(8, 396.5 + parameter)
    out += b"\xff\xff"
    return bytes(out)


def counts(organization_id: int) -> dict[str, int]:
    """Rows of the organization in every table that refers to organizations (a scan per
    table: only for checking)."""
    from django.apps import apps

    from core.models import Organization

    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Organization:
                found[model._meta.label] = model._base_manager.filter(
                    **{field.name: organization_id}
                ).count()
    return found


def plans(organization_id: int) -> list[str]:
    """The plans of the statements that delete a batch of measurement rows."""
    from django.db import connection

    from batterydb.models import BMSTest, EISTest

    tests = list(EISTest.objects.filter(organization_id=organization_id).values_list("pk")[:500])
    bms = list(BMSTest.objects.filter(organization_id=organization_id).values_list("pk")[:500])
    eis_ids = ",".join(str(pk) for (pk,) in tests)
    bms_ids = ",".join(str(pk) for (pk,) in bms)
    statements = [
        f"DELETE FROM batterydb_eisdata WHERE test_id IN ({eis_ids})",
        f"DELETE FROM batterydb_bmsresult WHERE bms_test_id IN ({bms_ids})",
        # The foreign key check the database runs at commit for each deleted test.
        f"SELECT 1 FROM ONLY batterydb_eisdata x WHERE {tests[0][0]} = test_id FOR KEY SHARE OF x",
    ]
    lines = []
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(f"EXPLAIN (COSTS OFF) {statement}")
            plan = " / ".join(row[0].strip() for row in cursor.fetchall())
            lines.append(f"{statement[:40]}...: {plan[:150]}")
    return lines


def peak_rss_mb(server: harness.Server) -> float:
    """The largest peak resident memory (VmHWM) among the server's worker processes."""
    peak = 0.0
    for pid in _tree(server.process.pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def _tree(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(raw[raw.rfind(")") + 2 :].split()[1])
    tree, changed = {root}, True
    while changed:
        new = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= new
        changed = bool(new)
    return tree


def request(server: harness.Server, method: str, path: str, headers: dict, timeout: float):
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        start = time.perf_counter()
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - start
    finally:
        conn.close()


# --- main ----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="measurement rows to delete")
    parser.add_argument(
        "--other-rows", type=int, default=None, help="the bystander's rows (default: --rows)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    timeout = runpy.run_path(str(harness.PROJECT_DIR / "deploy" / "gunicorn.conf.py"))["timeout"]
    print(f"bench_deletion: {harness.CPU_COUNT} CPUs, gunicorn timeout {timeout}s")
    media = tempfile.TemporaryDirectory(prefix="bench-deletion-media-")
    with harness.timed("fresh database and migrations"):
        database_url = harness.fresh_database(DATABASE, args.postgres_url)
        env = harness.bench_env(database_url, extra={"DJANGO_MEDIA_ROOT": media.name})
        harness.migrate(env)
        harness.setup_django(env)
    try:
        rows, ok = run(args, env, database_url, timeout)
    finally:
        harness.close_django_connections()
        if not args.keep:
            harness.drop_database(DATABASE, args.postgres_url)
        media.cleanup()
    harness.print_table(
        ["measurement", "figure"], rows, title="Deleting an organization (PostgreSQL, gunicorn)"
    )
    return 0 if ok else 1


def run(args, env: dict[str, str], database_url: str, timeout: float) -> tuple[list, bool]:
    import psycopg

    from core import services
    from core.models import User

    owner = User.objects.create_user(username="owner", email="owner@example.com", password=None)
    _, key = services.api_key_create(user=owner, name="bench")
    headers = {"Authorization": f"User {key}"}
    with harness.timed("two organizations with files"):
        doomed = make_organization("Doomed", owner)
        bystander = make_organization("Bystander", owner)
    with harness.timed(f"measurement rows ({args.rows:,} + {args.other_rows or args.rows:,})"):
        # The bystander's rows first and last, so that the doomed rows sit between them.
        half = (args.other_rows or args.rows) // 2
        load_measurements(database_url, bystander, half)
        measured = load_measurements(database_url, doomed, args.rows)
        load_measurements(database_url, bystander, (args.other_rows or args.rows) - half)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    organization_id = doomed["organization"].pk
    before_doomed = counts(organization_id)
    before_bystander = counts(bystander["organization"].pk)
    statement_plans = plans(organization_id)
    harness.close_django_connections()

    extra = [f"--timeout={int(timeout)}"]
    with harness.gunicorn_server(env, workers=args.workers, extra_args=extra) as server:
        # Every worker imports the URLconf and views on its first request: not measured.
        for _ in range(args.workers * 2):
            request(server, "GET", "/api/v2/organizations/", headers, 30)
        peak_before = peak_rss_mb(server)
        app_cpu, db_cpu = server.cpu_seconds(), harness.database_backends_cpu(DATABASE)
        status, body, elapsed = request(
            server, "DELETE", f"/api/v2/organizations/{organization_id}/", headers, timeout + 30
        )
        app_cpu = server.cpu_seconds() - app_cpu
        db_cpu = harness.database_backends_cpu(DATABASE) - db_cpu
        peak_after = peak_rss_mb(server)

    after_doomed = counts(organization_id)
    after_bystander = counts(bystander["organization"].pk)
    files_left = sum(Path(path).exists() for path in doomed["paths"])
    bystander_files = sum(Path(path).exists() for path in bystander["paths"])
    deleted = sum(before_doomed.values())
    checks = {
        "answer 204": status == 204,
        "within the worker timeout": elapsed < timeout,
        "no row of the organization left": not any(after_doomed.values()),
        "its files gone from storage": files_left == 0,
        "the bystander untouched": after_bystander == before_bystander
        and bystander_files == len(bystander["paths"]),
    }
    if status != 204:
        print(f"DELETE answered {status}: {body[:500]!r}")
    rows = [
        ["measurement rows of the organization", f"{measured:,}"],
        ["rows of the organization in all tables", f"{deleted:,}"],
        ["rows of the bystander (kept)", f"{sum(before_bystander.values()):,}"],
        ["stored files of the organization", f"{len(doomed['paths'])}"],
        ["DELETE /api/v2/organizations/{id}/: seconds", f"{elapsed:.2f}"],
        ["gunicorn worker timeout: seconds", f"{timeout:.0f}"],
        ["rows deleted per second", f"{deleted / elapsed:,.0f}"],
        ["CPU seconds: server / PostgreSQL", f"{app_cpu:.2f} / {db_cpu:.2f}"],
        ["worker peak RSS MiB: before / after", f"{peak_before:.0f} / {peak_after:.0f}"],
        *([f"check: {name}", "ok" if passed else "FAILED"] for name, passed in checks.items()),
    ]
    print("Plans of the batch statements:")
    for line in statement_plans:
        print(f"  {line}")
    return rows, all(checks.values())


if __name__ == "__main__":
    raise SystemExit(main())

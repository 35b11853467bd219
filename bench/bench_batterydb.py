"""BatteryDB measurement data: bulk ingestion and listing against their raw references.

    .venv/bin/python -m bench.bench_batterydb [--requests 40] [--duration 8] [--rows 1000000]

Creates a fresh PostgreSQL database (``bench_batterydb``), migrates it, makes a member of an
organization with an API key, starts gunicorn (production settings, sync workers) and
measures, printing every figure next to its reference in one table:

(a) raw binary COPY from two connections at once into a table shaped like
    ``batterydb_eisdata`` (same columns, indexes, unique and foreign-key constraints), one
    5,040-row batch per transaction: with psycopg's ``write_row`` and with pre-encoded
    buffers (the database's ceiling);
(b) bulk POST of EIS data over HTTP with the API key, 5,040 rows per request (20 tests x 42
    frequencies x 6 parameters), ``Prefer: return=minimal``, two clients at once with
    pre-serialized bodies: rows/s and p50/p99 per request, full validation included;
(c) the same without ``return=minimal`` (``bulk_create``, rows answered with their ids);
(d) the list endpoint against plain Django ``values()`` views with the same pagination at
    ``limit=1000`` (requests/s with wrk), and the time of a page at the start and near the end
    of a 1,000,000-row table when following ``next`` (offsets for the plain view);
(e) the guide's ``get_eis_test_data`` for one 42-frequency test, and the server-side report.

(a) and (b) run in alternating rounds (``--rounds``, 2 by default) and the best round of each
is kept, since the machine may be shared. Targets: (b) >= 50% of (a) and >= 100,000 rows/s
with p99 < 150 ms; the list >= 80% of the plain view's requests/s; a deep page as fast as the
first.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import struct
import sys
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import orjson

from bench import harness

DATABASE = "bench_batterydb"
TESTS_PER_REQUEST = 20
FREQUENCIES = [10_000 / 10 ** (i / 7) for i in range(42)]
PARAMETERS = ("z_real", "z_imag", "z_mod", "z_phase", "current", "voltage")
ROWS_PER_REQUEST = TESTS_PER_REQUEST * len(FREQUENCIES) * len(PARAMETERS)  # 5,040
COPY_COLUMNS = "(organization_id, test_id, frequency, parameter, value)"
COPY_TYPES = ("int8", "int8", "float8", "text", "float8")
LIST_LIMIT = 1000


# --- data ----------------------------------------------------------------------------------------
def make_world() -> dict:
    """An organization, a member with an API key; returns ids and the key header."""
    from core import services
    from core.models import Membership, Organization, User

    organization = Organization.objects.create(name="Bench")
    user = User.objects.create_user(username="bench", email="bench@example.com", password=None)
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.MEMBER)
    _, key = services.api_key_create(user=user, name="bench")
    return {"organization": organization.pk, "headers": {"Authorization": f"User {key}"}}


def make_tests(organization_id: int, n: int) -> list[int]:
    from batterydb.models import Battery, EISTest

    battery = Battery.objects.create(organization_id=organization_id, battery_id="BENCH-1")
    tests = EISTest.objects.bulk_create(
        EISTest(organization_id=organization_id, battery=battery) for _ in range(n)
    )
    return [test.pk for test in tests]


def batch_rows(organization_id: int, test_ids: Sequence[int]) -> list[tuple]:
    return [
        (organization_id, test_id, frequency, parameter, (test_id % 97) / 1000 + i / 10_000)
        for test_id in test_ids
        for i, frequency in enumerate(FREQUENCIES)
        for parameter in PARAMETERS
    ]


def batch_body(rows: list[tuple]) -> bytes:
    return orjson.dumps(
        [{"test": t, "frequency": f, "parameter": p, "value": v} for _, t, f, p, v in rows]
    )


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_FIELDS = struct.Struct("!hiqiqid")
_VALUE = struct.Struct("!id")


def encode_binary(rows: list[tuple]) -> bytes:
    """A whole binary COPY stream (signature, tuples, trailer) for rows with frequencies."""
    out = bytearray(_SIGNATURE)
    names: dict[str, bytes] = {}
    for organization_id, test_id, frequency, parameter, value in rows:
        name = names.get(parameter)
        if name is None:
            encoded = parameter.encode()
            name = names[parameter] = struct.pack("!i", len(encoded)) + encoded
        out += _FIELDS.pack(5, 8, organization_id, 8, test_id, 8, frequency)
        out += name
        out += _VALUE.pack(8, value)
    out += b"\xff\xff"
    return bytes(out)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# --- (a) raw COPY --------------------------------------------------------------------------------
def raw_copy(database_url: str, batches: list[list[tuple]], *, encoded: bool) -> dict:
    """Two connections COPY the batches (one transaction each) into a fresh eisdata-shaped
    table; returns rows/s and per-batch latencies."""
    import psycopg

    table = "bench_eisdata_copy"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} (LIKE batterydb_eisdata INCLUDING ALL)")
        for column, target in (
            ("organization_id", "core_organization"),
            ("test_id", "batterydb_eistest"),
        ):
            conn.execute(
                f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
                "DEFERRABLE INITIALLY DEFERRED"
            )
    payloads = [encode_binary(rows) for rows in batches] if encoded else batches
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(part: list) -> None:
        with psycopg.connect(database_url) as conn:
            for payload in part:
                start = time.perf_counter()
                with (
                    conn.cursor() as cursor,
                    cursor.copy(f"COPY {table} {COPY_COLUMNS} FROM STDIN (FORMAT BINARY)") as copy,
                ):
                    if encoded:
                        copy.write(payload)
                    else:
                        copy.set_types(COPY_TYPES)
                        for row in payload:
                            copy.write_row(row)
                conn.commit()
                with lock:
                    latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(payloads[i::2],)) for i in range(2)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    rows = sum(len(b) for b in batches)
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        conn.execute(f"DROP TABLE {table}")
    if stored != rows:
        raise harness.BenchError(f"raw COPY stored {stored} rows, expected {rows}")
    return {"rows": rows, "seconds": elapsed, "rows_s": rows / elapsed, "latencies": latencies}


# --- (b), (c) HTTP -------------------------------------------------------------------------
def post_batches(
    server: harness.Server, bodies: list[bytes], headers: dict[str, str], *, minimal: bool
) -> dict:
    """Two clients POST the bodies at once on keep-alive connections; every answer must be
    201. Returns rows/s, latencies and the CPU the server and database spent."""
    path = "/api/v2/eis/data/"
    request_headers = {**headers, "Content-Type": "application/json"}
    if minimal:
        request_headers["Prefer"] = "return=minimal"
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    host = urlsplit(server.base_url)

    def client(part: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
        try:
            for body in part:
                start = time.perf_counter()
                conn.request("POST", path, body=body, headers=request_headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status != 201:
                        failures.append(f"{response.status}: {payload[:300]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(bodies[i::2],)) for i in range(2)]
    app_before = server.cpu_seconds()
    db_before = harness.database_backends_cpu(DATABASE)
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    app_cpu = server.cpu_seconds() - app_before
    db_cpu = harness.database_backends_cpu(DATABASE) - db_before
    if failures:
        raise harness.BenchError(f"{len(failures)} POSTs failed, first: {failures[0]}")
    rows = len(bodies) * ROWS_PER_REQUEST
    return {
        "rows": rows,
        "seconds": elapsed,
        "rows_s": rows / elapsed,
        "latencies": latencies,
        "app_cpu_us_row": 1e6 * app_cpu / rows,
        "db_cpu_us_row": 1e6 * db_cpu / rows,
    }


# --- (d) lists -----------------------------------------------------------------------------------
def top_up(database_url: str, organization_id: int, target: int) -> int:
    """COPY EIS data of new tests until the table holds ``target`` rows."""
    import psycopg

    from batterydb.models import EISData

    missing = target - EISData.objects.count()
    per_test = len(FREQUENCIES) * len(PARAMETERS)
    tests = make_tests(organization_id, max(0, -(-missing // per_test)))
    rows = batch_rows(organization_id, tests)[: max(0, missing)]
    with psycopg.connect(database_url) as conn:
        for start in range(0, len(rows), 50_000):
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    f"COPY batterydb_eisdata {COPY_COLUMNS} FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.write(encode_binary(rows[start : start + 50_000]))
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE batterydb_eisdata")
    return EISData.objects.count()


class Client:
    """One keep-alive connection for sequential timed GETs."""

    def __init__(self, server: harness.Server, headers: dict[str, str] | None = None):
        parts = urlsplit(server.base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = headers or {}

    def get(self, url: str) -> tuple[float, dict]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        start = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise harness.BenchError(f"GET {path}: {response.status} {body[:300]!r}")
        return elapsed, orjson.loads(body)

    def close(self) -> None:
        self.conn.close()


def walk_next(server: harness.Server, headers: dict[str, str], total: int) -> dict:
    """Follow ``next`` from the first page to the last; time every page."""
    client = Client(server, headers)
    url = server.url(f"/api/v2/eis/data/?limit={LIST_LIMIT}")
    times, seen = [], 0
    while url:
        elapsed, data = client.get(url)
        times.append(elapsed)
        seen += len(data["results"])
        url = data["next"]
    client.close()
    if seen != total:
        raise harness.BenchError(f"following next returned {seen} rows, expected {total}")
    return {
        "pages": len(times),
        "first_ms": times[0] * 1e3,
        "start_ms": statistics.median(times[1:11]) * 1e3,
        "end_ms": statistics.median(times[-11:-1]) * 1e3,
    }


def timed_gets(server: harness.Server, path: str, headers=None, n: int = 10) -> float:
    client = Client(server, headers)
    client.get(server.url(path))
    times = [client.get(server.url(path))[0] for _ in range(n)]
    client.close()
    return statistics.median(times) * 1e3


# --- main ----------------------------------------------------------------------------------------
def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="POSTs of 5,040 rows in (b)")
    parser.add_argument("--bulk-create-requests", type=int, default=10, help="POSTs in (c)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of (a) and (b), the best of each is kept"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="table size for (d)")
    parser.add_argument("--duration", type=float, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"bench_batterydb: {harness.CPU_COUNT} CPUs, gunicorn {args.workers} sync workers")
    harness.wrk_path()
    with harness.timed("fresh database and migrations"):
        database_url = harness.fresh_database(DATABASE, args.postgres_url)
        env = harness.bench_env(database_url, settings_module="bench.batterydb_settings")
        harness.migrate(env)
        harness.setup_django(env)
    try:
        rows = run(args, env, database_url)
    finally:
        harness.close_django_connections()
        if not args.keep:
            harness.drop_database(DATABASE, args.postgres_url)
    harness.print_table(
        ["measurement", "figure", "reference", "ratio / target"],
        rows,
        title="BatteryDB measurement data (PostgreSQL, gunicorn, loopback)",
    )
    return 0


def run(args: argparse.Namespace, env: dict[str, str], database_url: str) -> list[list[str]]:
    from batterydb.models import EISData

    world = make_world()
    organization, headers = world["organization"], world["headers"]
    n_post, n_bulk, rounds = args.requests, args.bulk_create_requests, args.rounds
    with harness.timed("tests and request bodies"):
        tests = make_tests(organization, (n_post * rounds + n_bulk) * TESTS_PER_REQUEST)
        groups = [tests[i : i + TESTS_PER_REQUEST] for i in range(0, len(tests), 20)]
        batches = [batch_rows(organization, group) for group in groups]
        bodies = [batch_body(rows) for rows in batches]
    table: list[list[str]] = []

    def best(results: list[dict]) -> dict:
        return max(results, key=lambda result: result["rows_s"])

    with harness.gunicorn_server(env, workers=args.workers) as server:
        # Every worker imports the URLconf and views on its first request: not measured.
        harness.run_wrk(
            server.url("/api/v2/eis/data/?limit=10"), duration=2, connections=6, headers=headers
        )
        raw_rows, raw_buf, minimal = [], [], []
        for r in range(rounds):
            part = slice(r * n_post, (r + 1) * n_post)
            with harness.timed(f"round {r + 1}: (a) raw COPY, (b) POST return=minimal"):
                raw_rows.append(raw_copy(database_url, batches[part], encoded=False))
                raw_buf.append(raw_copy(database_url, batches[part], encoded=True))
                minimal.append(post_batches(server, bodies[part], headers, minimal=True))
        raw_rows, raw_buf, minimal = best(raw_rows), best(raw_buf), best(minimal)
        reference = max(raw_rows["rows_s"], raw_buf["rows_s"])
        with harness.timed("(c) POST bulk_create"):
            full = post_batches(server, bodies[n_post * rounds :], headers, minimal=False)
        stored = EISData.objects.count()
        if stored != (n_post * rounds + n_bulk) * ROWS_PER_REQUEST:
            raise harness.BenchError(f"{stored} rows stored after the POSTs")

        for label, result in (
            ("(a) raw COPY, write_row, 2 conns", raw_rows),
            ("(a) raw COPY, pre-encoded, 2 conns", raw_buf),
        ):
            table.append([f"{label}: rows/s", fmt(result["rows_s"]), "", ""])
            table.append(
                [
                    f"{label}: p50/p99 ms per 5,040",
                    f"{percentile(result['latencies'], 50) * 1e3:.0f} / "
                    f"{percentile(result['latencies'], 99) * 1e3:.0f}",
                    "",
                    "",
                ]
            )
        ratio = minimal["rows_s"] / reference
        table.append(
            [
                "(b) POST 5,040 rows, minimal (COPY), 2 clients: rows/s",
                fmt(minimal["rows_s"]),
                fmt(reference),
                f"{ratio:.0%} (>= 50%, >= 100,000)",
            ]
        )
        table.append(
            [
                "(b) p50 / p99 ms per request",
                f"{percentile(minimal['latencies'], 50) * 1e3:.0f} / "
                f"{percentile(minimal['latencies'], 99) * 1e3:.0f}",
                "",
                "p99 < 150",
            ]
        )
        table.append(
            [
                "(b) CPU us per row: app / database",
                f"{minimal['app_cpu_us_row']:.2f} / {minimal['db_cpu_us_row']:.2f}",
                "",
                "",
            ]
        )
        table.append(
            [
                "(c) POST 5,040 rows, bulk_create + ids, 2 clients: rows/s",
                fmt(full["rows_s"]),
                fmt(minimal["rows_s"]),
                f"{full['rows_s'] / minimal['rows_s']:.0%} of (b)",
            ]
        )
        table.append(
            [
                "(c) p50 / p99 ms per request",
                f"{percentile(full['latencies'], 50) * 1e3:.0f} / "
                f"{percentile(full['latencies'], 99) * 1e3:.0f}",
                "",
                "",
            ]
        )
        table.append(
            [
                "(c) CPU us per row: app / database",
                f"{full['app_cpu_us_row']:.2f} / {full['db_cpu_us_row']:.2f}",
                "",
                "",
            ]
        )

    with harness.timed(f"(d) top up to {args.rows:,} rows"):
        total = top_up(database_url, organization, args.rows)

    with harness.gunicorn_server(env, workers=args.workers) as server:
        four = ",".join(str(t) for t in tests[:4])  # 4 x 252 = 1,008 rows
        query = f"?test={four}&limit={LIST_LIMIT}"
        load = {
            "duration": args.duration,
            "connections": args.connections,
            "warmup": 2,
            "database": DATABASE,
        }
        with harness.timed("(d) wrk: list endpoint vs plain views"):
            drf = harness.measure(
                server, f"/api/v2/eis/data/{query}", label="drf", headers=headers, **load
            )
            plain = harness.measure(
                server, f"/bench/batterydb/eis-data-plain/{query}", label="plain", **load
            )
            plain_orjson = harness.measure(
                server, f"/bench/batterydb/eis-data-plain-orjson/{query}", label="orjson", **load
            )
        for label, m in (
            ("(d) list limit=1000, DRF + API key", drf),
            ("(d) plain Django values() + JsonResponse", plain),
            ("(d) plain Django values() + orjson", plain_orjson),
        ):
            table.append([f"{label}: req/s", fmt(m.rps), "", ""])
        table[-3][2] = fmt(plain_orjson.rps)
        table[-3][3] = (
            f"{drf.rps / plain_orjson.rps:.0%} of orjson, "
            f"{drf.rps / plain.rps:.0%} of JsonResponse (>= 80%)"
        )
        table.append(
            [
                "(d) p50 ms: DRF / plain / plain orjson",
                f"{drf.wrk.p50:.1f} / {plain.wrk.p50:.1f} / {plain_orjson.wrk.p50:.1f}",
                "",
                "",
            ]
        )
        table.append(
            [
                "(d) CPU ms per request (app+db): DRF / plain orjson",
                f"{drf.cpu_ms_per_request:.2f} / {plain_orjson.cpu_ms_per_request:.2f}",
                "",
                "",
            ]
        )

        with harness.timed(f"(d) following next through {total:,} rows"):
            walk = walk_next(server, headers, total)
            plain_first = timed_gets(
                server, f"/bench/batterydb/eis-data-plain-orjson/?limit={LIST_LIMIT}"
            )
            plain_end = timed_gets(
                server,
                f"/bench/batterydb/eis-data-plain-orjson/"
                f"?limit={LIST_LIMIT}&offset={total - 2 * LIST_LIMIT}",
            )
        table.append(
            [
                f"(d) next through {total:,} rows: first page ms (with count)",
                f"{walk['first_ms']:.1f}",
                f"{plain_first:.1f}",
                "plain, offset 0",
            ]
        )
        table.append(
            [
                f"(d) page ms, pages 2-11 vs last 10 of {walk['pages']}",
                f"{walk['start_ms']:.1f} / {walk['end_ms']:.1f}",
                f"{plain_end:.1f}",
                f"plain at offset {total - 2 * LIST_LIMIT:,}",
            ]
        )

        with harness.timed("(e) the guide's get_eis_test_data and the report"):
            from tests.batterydb.test_guide_clients import guide_get_eis_test_data

            url = server.url("/api/v2/")
            user_key = headers["Authorization"]
            get_eis_test_data = guide_get_eis_test_data(url, user_key)
            get_eis_test_data(tests[-1], url, user_key)
            calls = []
            for test_id in tests[5:25]:
                start = time.perf_counter()
                df = get_eis_test_data(test_id, url, user_key)
                calls.append(time.perf_counter() - start)
                if df.shape != (42, 6):
                    raise harness.BenchError(f"get_eis_test_data gave {df.shape}")
            report_one = timed_gets(server, f"/api/v2/eis/tests/report/?test={tests[30]}", headers)
            many = ",".join(str(t) for t in tests[100:200])
            report_100 = timed_gets(server, f"/api/v2/eis/tests/report/?test={many}", headers, 5)
        table.append(
            [
                "(e) guide get_eis_test_data, 42 freq (3 pages): ms per call",
                f"{statistics.median(calls) * 1e3:.1f}",
                "",
                "median of 20",
            ]
        )
        table.append(
            [
                "(e) server-side report: 1 test / 100 tests, ms",
                f"{report_one:.1f} / {report_100:.1f}",
                "",
                "",
            ]
        )
    return table


if __name__ == "__main__":
    sys.exit(main())

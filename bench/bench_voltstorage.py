"""VoltStorage: ingestion, storage density, export, simplification, statistics and the live
stream, each figure next to its reference in the same run.

    .venv/bin/python -m bench.bench_voltstorage            # about 6 minutes
    .venv/bin/python -m bench.bench_voltstorage --quick    # smaller, about 2 minutes

Creates a fresh PostgreSQL database (``bench_voltstorage``) with Redis, migrates it, makes a
member of an organization with an API key and products, and measures:

(a) storage: a month of 1 Hz data of one product written by the simulator (its time, the
    target is under a minute), then the bytes per value on disk, indexes included, of the
    month's partitions (11 fields a sample), and of the same rows with 10 fields;
(b) ingestion over HTTP: two clients, one product each, POST 500 samples x 10 fields per
    request to gunicorn with an API key (validation, binary COPY, rollups, latest data,
    broadcast): values/s and p50/p99 per request, against raw binary ``COPY`` of the same rows
    into the same table from two connections, 500 rows per transaction;
(c) export of 1,000,000 values as CSV (10 fields, ``tz``, ``precision``) under gunicorn and
    under uvicorn: values/s, time to the first byte, the server's memory growth, against
    ``COPY (SELECT ...) TO STDOUT`` of the same rows read by psycopg; and the whole month (26
    million values) for the memory growth whatever the size;
(d) Ramer-Douglas-Peucker on the month's power curves and state of charge at tolerances 0.01
    and 0.001: points/s of the simplification alone;
(e) statistics: a year of data at one sample a minute, then a year of hourly buckets through
    gunicorn (median and p99 of 20 requests), and reading one series' rollups of a day and a
    month in the database against a ``date_trunc`` GROUP BY over the raw 1 Hz rows;
(f) WebSocket: one product with 100 and with 1,000 subscribers spread over two uvicorn
    processes on the Redis layer; each message is an ingestion through the ingestion service
    in the benchmark's process (write, commit, broadcast); every message must reach every
    subscriber; latency from just before the ingestion (so including it) to receipt,
    deliveries per second; uvicorn as the ws service runs it (no per-message-deflate),
    and the 1,000 again with uvicorn's default (deflate on) beside it.

Targets (issue 9): (b) >= 200,000 values/s with p99 < 150 ms; (a) <= 16 bytes per value and
the month under 60 s; (c) >= 1,000,000 values/s, first byte < 100 ms, memory growth < 20 MB;
(d) >= 5,000,000 points/s; (e) a year of hourly buckets < 50 ms median, rollups < 5 ms per
series; (f) every message delivered, p99 < 50 ms at 100 and < 250 ms at 1,000 subscribers,
>= 15,000 deliveries/s.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

import numpy as np
import orjson

from bench import harness

DATABASE = "bench_voltstorage"
DAY_MS = 86_400_000
SAMPLES_PER_REQUEST = 500
# The ten fields of the ingestion benchmark: the catalogue without powerElectronicsPower.
TEN_FIELDS = (
    "gridPower",
    "householdPower",
    "inverterPower",
    "pvPower",
    "stateOfCharge",
    "status",
    "storagePower",
    "dcVoltage",
    "electrolyteTemperature",
    "pumpTemperature",
)


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def percentile(values, q: float) -> float:
    return harness.percentile(values, q)


# --- world -----------------------------------------------------------------------------------
def make_world() -> dict:
    import datetime as dt

    from core import services
    from core.models import Membership, User
    from voltstorage.models import Product, ProductType

    user = User.objects.create_user(username="bench", email="bench@example.com", password=None)
    organization = services.organization_create(name="Bench", owner=user)
    member = User.objects.create_user(username="device", email="device@example.com")
    Membership.objects.create(user=member, organization=organization, role="member")
    _, key = services.api_key_create(user=member, name="bench")
    kind = ProductType.objects.create(name="VoltStorage SMART", start_of_production=dt.date.today())

    def product(serial: str, zone: str = "Europe/Berlin"):
        return Product.objects.create(
            organization=organization, type=kind, serial_number=serial, timezone=zone
        )

    return {
        "key": key,
        "headers": {"Authorization": f"User {key}"},
        "month": product("MONTH-1HZ"),
        "year": product("YEAR-1MIN"),
        "clients": [product("INGEST-A"), product("INGEST-B")],
        "copies": [product("COPY-A"), product("COPY-B")],
        "stream": product("STREAM"),
    }


# --- (a) storage -----------------------------------------------------------------------------
def partitions_size(database_url: str) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), "
            "coalesce(sum(pg_relation_size(c.oid)), 0), count(*) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'voltstorage_sample'::regclass"
        ).fetchone()


def storage(world, database_url: str, days: float) -> dict:
    import psycopg

    from voltstorage.management.commands.voltstorage_simulate import simulate_product
    from voltstorage.models import Sample

    product = world["month"]
    end_ms = int(time.time() * 1000) // 1000 * 1000 - 2 * DAY_MS
    start_ms = end_ms - int(days * DAY_MS)
    began = time.perf_counter()
    count = simulate_product(product, start_ms=start_ms, end_ms=end_ms, interval_ms=1000, seed=1)
    seconds = time.perf_counter() - began
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE voltstorage_sample")
    total, heap, partitions = partitions_size(database_url)
    values = Sample.objects.count() * 11
    # The same rows with ten fields (powerElectronicsPower left out) in one plain table.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ten_fields")
        conn.execute("CREATE TABLE bench_ten_fields (LIKE voltstorage_sample INCLUDING ALL)")
        conn.execute(
            "INSERT INTO bench_ten_fields SELECT * FROM voltstorage_sample ORDER BY series_id, time"
        )
        conn.execute("UPDATE bench_ten_fields SET power_electronics_power = NULL")
        conn.execute("VACUUM FULL bench_ten_fields")
        ten_total = conn.execute("SELECT pg_total_relation_size('bench_ten_fields')").fetchone()[0]
        ten_rows = conn.execute("SELECT count(*) FROM bench_ten_fields").fetchone()[0]
        conn.execute("DROP TABLE bench_ten_fields")
    return {
        "samples": count,
        "seconds": seconds,
        "partitions": partitions,
        "bytes_per_value": total / values,
        "heap_per_value": heap / values,
        "ten_bytes_per_value": ten_total / (ten_rows * 10),
        "start_ms": start_ms,
        "end_ms": end_ms,
    }


# --- (b) ingestion ---------------------------------------------------------------------------
def ten_field_batches(start_ms: int, requests: int, seed: int) -> tuple[list, list[bytes]]:
    """``requests`` consecutive batches of 500 samples at 1 Hz with ten fields: the rows (for
    COPY) and the JSON bodies."""
    from voltstorage import catalogue, simulation

    count = requests * SAMPLES_PER_REQUEST
    times, values = simulation.simulate(
        start_ms=start_ms, end_ms=start_ms + count * 1000, interval_ms=1000, seed=seed
    )
    columns = [catalogue.INDEX[name] for name in TEN_FIELDS]
    rows, bodies = [], []
    for first in range(0, count, SAMPLES_PER_REQUEST):
        part_t = times[first : first + SAMPLES_PER_REQUEST]
        part_v = values[first : first + SAMPLES_PER_REQUEST][:, columns]
        samples = []
        for t, row in zip(part_t.tolist(), part_v.tolist(), strict=True):
            data = dict(zip(TEN_FIELDS, row, strict=True))
            data["status"] = int(data["status"])
            samples.append({"time": t / 1000, "data": data})
        bodies.append(orjson.dumps(samples))
        full = np.full((len(part_t), len(catalogue.FIELDS)), np.nan)
        full[:, columns] = part_v
        rows.append((part_t, full))
    return rows, bodies


def post_all(server: harness.Server, paths: list[str], bodies: list[list[bytes]], headers) -> dict:
    """One client per path, each POSTing its bodies in order on a keep-alive connection."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    parts = urlsplit(server.base_url)
    request_headers = {**headers, "Content-Type": "application/json"}

    def client(path: str, own: list[bytes]) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            for body in own:
                start = time.perf_counter()
                conn.request("POST", path, body=body, headers=request_headers)
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed * 1e3)
                    if response.status != 201:
                        failures.append(f"{response.status}: {payload[:300]!r}")
        finally:
            conn.close()

    threads = [
        threading.Thread(target=client, args=(path, own))
        for path, own in zip(paths, bodies, strict=True)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise harness.BenchError(f"{len(failures)} POSTs failed, first: {failures[0]}")
    values = sum(len(own) for own in bodies) * SAMPLES_PER_REQUEST * len(TEN_FIELDS)
    return {"values_s": values / elapsed, "latencies": latencies, "seconds": elapsed}


def copy_reference(database_url: str, series_ids: list[int], batches: list[list]) -> dict:
    """Two connections COPY the rows (500 a transaction) into the raw series, binary, each
    into a series of its own (as the two HTTP clients write a product each)."""
    import psycopg

    from voltstorage.services import SAMPLE_COLUMNS, sample_rows

    names = ", ".join(f'"{name}"' for name, _ in SAMPLE_COLUMNS)
    types = [pg_type for _, pg_type in SAMPLE_COLUMNS]
    prepared = [
        [list(sample_rows(series_id, t, v)) for t, v in part]
        for series_id, part in zip(series_ids, batches, strict=True)
    ]
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(part) -> None:
        try:
            copy_batches(part)
        except BaseException as exc:  # reported after the threads end
            errors.append(exc)

    def copy_batches(part) -> None:
        with psycopg.connect(database_url) as conn:
            for rows in part:
                start = time.perf_counter()
                with (
                    conn.cursor() as cursor,
                    cursor.copy(
                        f"COPY voltstorage_sample ({names}) FROM STDIN (FORMAT BINARY)"
                    ) as copy,
                ):
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
                with lock:
                    latencies.append((time.perf_counter() - start) * 1e3)

    threads = [threading.Thread(target=worker, args=(part,)) for part in prepared]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise harness.BenchError(f"raw COPY failed: {errors[0]}")
    values = sum(len(rows) for part in prepared for rows in part) * len(TEN_FIELDS)
    return {"values_s": values / elapsed, "latencies": latencies}


def ingestion(world, server, database_url: str, requests: int) -> dict:
    from voltstorage import partitions

    start_ms = int(time.time() * 1000) // 1000 * 1000 - 4 * DAY_MS
    per_client = requests // 2
    rows_a, bodies_a = ten_field_batches(start_ms, per_client + 5, seed=11)
    rows_b, bodies_b = ten_field_batches(start_ms, per_client + 5, seed=12)
    days = partitions.days_of([start_ms, start_ms + (per_client + 5) * 500_000])
    partitions.ensure_partitions(days)
    paths = [f"/voltstorage/rest/products/{p.pk}/data" for p in world["clients"]]
    # Warm-up: the first requests of each worker import code and fill caches.
    post_all(server, paths, [bodies_a[:5], bodies_b[:5]], world["headers"])
    http_result = post_all(server, paths, [bodies_a[5:], bodies_b[5:]], world["headers"])
    from voltstorage.models import Series

    copy_series = [Series.objects.create(product=product).pk for product in world["copies"]]
    reference = copy_reference(database_url, copy_series, [rows_a[5:], rows_b[5:]])
    return {"http": http_result, "copy": reference}


# --- (c) export ------------------------------------------------------------------------------
def export_url(series_product_id: int, start_ms: int, end_ms: int) -> str:
    fields = ",".join(TEN_FIELDS)
    return (
        f"/voltstorage/rest/data/export.csv?productId={series_product_id}&from={start_ms / 1000}"
        f"&to={(end_ms - 1) / 1000}&fields={fields}&tz=60&precision=6"
    )


def timed_download(server: harness.Server, path: str, headers) -> dict:
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    with harness.PeakMemory(server.process.pid) as memory:
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        first = response.read(1)
        first_byte = time.perf_counter() - start
        size = 1
        while chunk := response.read(1 << 20):
            size += len(chunk)
        elapsed = time.perf_counter() - start
    conn.close()
    if response.status != 200:
        raise harness.BenchError(f"export answered {response.status}: {first!r}")
    return {
        "seconds": elapsed,
        "first_byte_ms": first_byte * 1e3,
        "bytes": size,
        "growth_mb": memory.growth_mb,
    }


def copy_out_reference(database_url: str, series_id: int, start_ms: int, end_ms: int) -> float:
    import datetime as dt

    import psycopg

    columns = ", ".join(f'"{name}"' for name in columns_of(TEN_FIELDS))
    start = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC)
    end = dt.datetime.fromtimestamp((end_ms - 1) / 1000, dt.UTC)
    with psycopg.connect(database_url) as conn, psycopg.ClientCursor(conn) as cursor:
        statement = cursor.mogrify(
            f'COPY (SELECT "time", {columns} FROM voltstorage_sample WHERE series_id = %s '
            'AND "time" >= %s AND "time" <= %s ORDER BY "time") TO STDOUT',
            [series_id, start, end],
        )
        began = time.perf_counter()
        size = 0
        with cursor.copy(statement) as copy:
            for data in copy:
                size += len(data)
        return time.perf_counter() - began


def columns_of(names) -> list[str]:
    from voltstorage import catalogue

    return [catalogue.BY_NAME[name].column for name in names]


# --- (d) Ramer-Douglas-Peucker -------------------------------------------------------------
def rdp_speed(world, start_ms: int, end_ms: int) -> list[dict]:
    """The export's simplification alone (``exporters.rdp_blocks``: every field of a window of
    samples at once) over the month's powers and state of charge, read beforehand."""
    from voltstorage import catalogue
    from voltstorage.exporters import field_ranges, rdp_blocks, sample_blocks
    from voltstorage.models import Series

    series = Series.objects.get(product=world["month"], component__isnull=True)
    names = ("pvPower", "householdPower", "gridPower", "inverterPower", "stateOfCharge")
    fields = [catalogue.BY_NAME[name] for name in names]
    blocks = list(sample_blocks(series.pk, fields, start_ms, end_ms))
    points = sum(values.size for _, values in blocks)
    ranges = field_ranges(series.pk, fields, start_ms, end_ms)
    results = []
    for tolerance in (0.01, 0.001):
        began = time.perf_counter()
        kept = sum(
            int((~np.isnan(values)).sum())
            for _, values in rdp_blocks(iter(blocks), ranges * tolerance)
        )
        elapsed = time.perf_counter() - began
        results.append(
            {"tolerance": tolerance, "points_s": points / elapsed, "kept": kept / points}
        )
    return results


# --- (e) statistics --------------------------------------------------------------------------
def statistics_figures(world, server, database_url, month) -> dict:
    import datetime as dt

    import psycopg

    from voltstorage.management.commands.voltstorage_simulate import simulate_product
    from voltstorage.models import Series

    product = world["year"]
    end_ms = int(time.time() * 1000) // 60_000 * 60_000 - 2 * DAY_MS
    start_ms = end_ms - 365 * DAY_MS
    began = time.perf_counter()
    simulate_product(product, start_ms=start_ms, end_ms=end_ms, interval_ms=60_000, seed=5)
    simulated = time.perf_counter() - began
    client = http.client.HTTPConnection(
        urlsplit(server.base_url).hostname, urlsplit(server.base_url).port, timeout=60
    )

    def get(path: str) -> tuple[float, list]:
        began = time.perf_counter()
        client.request("GET", path, headers=world["headers"])
        response = client.getresponse()
        body = response.read()
        if response.status != 200:
            raise harness.BenchError(f"statistics answered {response.status}: {body[:200]!r}")
        return time.perf_counter() - began, orjson.loads(body)

    base = f"/voltstorage/rest/products/{product.pk}/statistics"
    year = f"{base}?timespan=hour&tstart={start_ms // 1000}&tend={end_ms // 1000}"
    get(year)
    times, buckets = [], None
    for _ in range(20):
        elapsed, buckets = get(year)
        times.append(elapsed * 1e3)
    days = []
    for _ in range(10):
        days.append(get(f"{base}?timespan=day&tstart={start_ms // 1000}&tend={end_ms // 1000}")[0])
    client.close()

    # Reading one series' rollups against a GROUP BY over its raw 1 Hz rows.
    series = Series.objects.get(product=world["month"], component__isnull=True)
    day_start = dt.datetime.fromtimestamp(month["start_ms"] / 1000 + 86400, dt.UTC)
    windows = {"a day": dt.timedelta(days=1), "the month": dt.timedelta(days=29)}
    reads = {}
    with psycopg.connect(database_url) as conn:
        for label, span in windows.items():
            args = [series.pk, day_start, day_start + span]
            rollup_sql = (
                "SELECT start, pv_power_count, pv_power_sum, pv_power_energy_in, "
                "household_power_energy_in, grid_power_energy_in, grid_power_energy_out "
                "FROM voltstorage_hourrollup WHERE series_id = %s AND start >= %s "
                "AND start < %s ORDER BY start"
            )
            raw_sql = (
                "SELECT date_trunc('hour', \"time\"), count(pv_power), sum(pv_power), "
                "sum(greatest(pv_power, 0)), sum(greatest(household_power, 0)), "
                "sum(greatest(grid_power, 0)), sum(greatest(-grid_power, 0)) "
                'FROM voltstorage_sample WHERE series_id = %s AND "time" >= %s '
                'AND "time" < %s GROUP BY 1 ORDER BY 1'
            )
            reads[label] = {
                name: statistics.median(
                    [timed_query(conn, sql, args) for _ in range(7 if name == "raw" else 21)]
                )
                for name, sql in (("rollups", rollup_sql), ("raw", raw_sql))
            }
    return {
        "simulated_s": simulated,
        "buckets": len(buckets),
        "year_median_ms": statistics.median(times),
        "year_p99_ms": percentile(times, 99),
        "year_days_ms": statistics.median(days) * 1e3,
        "reads": reads,
    }


def timed_query(conn, sql: str, args) -> float:
    began = time.perf_counter()
    conn.execute(sql, args).fetchall()
    return (time.perf_counter() - began) * 1e3


# --- (f) WebSocket ---------------------------------------------------------------------------
def sockets(
    world,
    env,
    subscribers: int,
    messages: int,
    processes: int,
    interval: float,
    *,
    deflate: bool = False,
):
    """Subscribers of one product over two uvicorn processes; each message is an ingestion of
    one sample through the ingestion service in this process (its write, its commit, its
    broadcast through Redis), whose sample time, taken just before, is the send time. The
    servers run as the ws service does, without per-message-deflate; ``deflate`` turns it on
    (uvicorn's default; the client offers it), for comparison."""
    from voltstorage.services import product_data_ingest
    from voltstorage.validators import CheckedBody, SeriesBatch

    product = world["stream"]
    key = world["key"]
    status_column = 6  # the catalogue's status

    def send(i: int) -> None:
        now_ms = round(time.time() * 1000)
        values = np.full((1, 11), np.nan)
        values[0, status_column] = i
        batch = SeriesBatch(component_id=None, times=np.array([now_ms]), values=values)
        product_data_ingest(product=product, checked=CheckedBody(batches=[batch], samples=1))

    def match(frame: dict):
        data = frame.get("data") or {}
        if frame.get("type") != "latest-data" or "status" not in data:
            return None
        return data["status"], frame["time"]

    with contextlib.ExitStack() as stack:
        extra = ["--ws-per-message-deflate=true"] if deflate else []
        servers = [
            stack.enter_context(harness.uvicorn_server(env, workers=1, extra_args=extra))
            for _ in range(2)
        ]
        urls = [
            server.base_url.replace("http://", "ws://")
            + f"/voltstorage/rest/products/{product.pk}/stream?key={key}"
            for server in servers
        ]
        send(10_000_000)  # the first broadcast opens this process's Redis connections
        cpu_before = sum(server.cpu_seconds() for server in servers)
        result = harness.socket_load(
            urls,
            subscribers=subscribers,
            send=send,
            match=match,
            messages=messages,
            interval=interval,
            processes=processes,
        )
        cpu = sum(server.cpu_seconds() for server in servers) - cpu_before
    result.server_cpu_us_per_delivery = 1e6 * cpu / max(result.delivered, 1)
    return result


# --- main ------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--days", type=float, default=30, help="days of 1 Hz data in (a)")
    parser.add_argument("--requests", type=int, default=400, help="ingestion POSTs in (b)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--messages", type=int, default=60, help="stream messages in (f)")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--only",
        default="abcdef",
        help="the sections to run, such as 'f' or 'be' (a runs "
        "whenever c, d or e do: they read its month)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.requests, args.messages = 3, 120, 30
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"bench_voltstorage: {harness.CPU_COUNT} CPUs, gunicorn {args.workers} sync workers")
    with harness.timed("fresh database and migrations"):
        database_url = harness.fresh_database(DATABASE, args.postgres_url)
        env = harness.bench_env(database_url, args.redis_url)
        harness.migrate(env)
        harness.setup_django(env)
    try:
        figures = run(args, env, database_url)
    finally:
        harness.close_django_connections()
        if not args.keep:
            harness.drop_database(DATABASE, args.postgres_url)
    if args.json:
        harness.write_json(args.json, figures)
    return 0


def run(args, env, database_url) -> dict:
    world = make_world()
    figures: dict = {}
    rows: list[list[object]] = []
    sections = set(args.only)
    month = None
    if sections & set("acde"):
        month = section_storage(args, world, database_url, figures, rows)
    with harness.gunicorn_server(env, workers=args.workers) as web:
        if "b" in sections:
            section_ingestion(args, world, web, database_url, figures, rows)
        if "c" in sections:
            section_export(env, world, web, database_url, month, figures, rows)
        if "d" in sections:
            section_rdp(world, month, figures, rows)
        if "e" in sections:
            section_statistics(world, web, database_url, month, figures, rows)
    if "f" in sections:
        section_stream(args, env, world, figures, rows)
    harness.print_table(
        ["measurement", "figure", "reference", "target"],
        rows,
        title="VoltStorage (PostgreSQL, Redis, gunicorn and uvicorn on loopback)",
    )
    return figures


def section_storage(args, world, database_url, figures, rows) -> dict:
    with harness.timed(f"(a) {args.days:g} days of 1 Hz data by the simulator"):
        month = storage(world, database_url, args.days)
    figures["storage"] = month
    rows += [
        [
            f"(a) simulator: {args.days:g} days at 1 Hz",
            f"{month['samples']:,} samples in {month['seconds']:.1f} s",
            "—",
            "a month < 60 s",
        ],
        [
            "(a) bytes/value, 11 fields, partitioned",
            f"{month['bytes_per_value']:.2f} (heap {month['heap_per_value']:.2f})",
            f"{month['partitions']} partitions",
            "<= 16",
        ],
        ["(a) bytes/value, 10 fields", f"{month['ten_bytes_per_value']:.2f}", "—", "<= 16"],
    ]
    return month


def section_ingestion(args, world, web, database_url, figures, rows) -> None:
    with harness.timed("(b) ingestion over HTTP and raw COPY"):
        ingest = ingestion(world, web, database_url, args.requests)
    figures["ingestion"] = ing = {
        "http_values_s": ingest["http"]["values_s"],
        "http_p50_ms": percentile(ingest["http"]["latencies"], 50),
        "http_p99_ms": percentile(ingest["http"]["latencies"], 99),
        "copy_values_s": ingest["copy"]["values_s"],
        "copy_p99_ms": percentile(ingest["copy"]["latencies"], 99),
    }
    rows += [
        [
            "(b) POST 500x10, 2 clients, values/s",
            fmt(ing["http_values_s"]),
            f"COPY {fmt(ing['copy_values_s'])}",
            f"{ing['http_values_s'] / ing['copy_values_s']:.0%} of COPY; >= 200,000",
        ],
        [
            "(b) POST p50 / p99 ms",
            f"{ing['http_p50_ms']:.1f} / {ing['http_p99_ms']:.1f}",
            f"COPY p99 {ing['copy_p99_ms']:.1f}",
            "p99 < 150",
        ],
    ]


def section_export(env, world, web, database_url, month, figures, rows) -> None:
    from voltstorage.models import Series

    series = Series.objects.get(product=world["month"], component__isnull=True)
    samples = min(100_000, month["samples"])
    million_end = month["start_ms"] + samples * 1000  # 100,000 samples x 10 fields
    with harness.timed("(c) export"):
        reference_s = copy_out_reference(database_url, series.pk, month["start_ms"], million_end)
        path = export_url(world["month"].pk, month["start_ms"], million_end)
        whole = export_url(world["month"].pk, month["start_ms"], month["end_ms"])
        # One worker, warmed up: the growth measured is that of the process that exports, not
        # a worker's first request (its imports) elsewhere in the tree.
        with harness.gunicorn_server(env, workers=1) as wsgi:
            timed_download(wsgi, path, world["headers"])
            gunicorn_export = timed_download(wsgi, path, world["headers"])
            gunicorn_whole = timed_download(wsgi, whole, world["headers"])
        with harness.uvicorn_server(env, workers=1) as asgi:
            timed_download(asgi, path, world["headers"])
            uvicorn_export = timed_download(asgi, path, world["headers"])
            uvicorn_whole = timed_download(asgi, whole, world["headers"])
    values = samples * len(TEN_FIELDS)
    whole_values = month["samples"] * len(TEN_FIELDS)
    figures["export"] = {
        "values": values,
        "reference_values_s": values / reference_s,
        "gunicorn": gunicorn_export,
        "uvicorn": uvicorn_export,
        "gunicorn_whole": gunicorn_whole,
        "uvicorn_whole": uvicorn_whole,
    }
    for name, one, every in (
        ("gunicorn", gunicorn_export, gunicorn_whole),
        ("uvicorn", uvicorn_export, uvicorn_whole),
    ):
        speed = values / one["seconds"]
        rows += [
            [
                f"(c) export.csv {values / 1e6:g}M values, {name}, values/s",
                fmt(speed),
                f"COPY TO STDOUT {fmt(values / reference_s)}",
                f"{speed * reference_s / values:.0%} of COPY; >= 1,000,000",
            ],
            [
                f"(c) {name}: first byte ms, memory growth MiB",
                f"{one['first_byte_ms']:.0f} ms, +{one['growth_mb']:.1f} MiB",
                f"{whole_values / 1e6:.0f}M values: +{every['growth_mb']:.1f} MiB, "
                f"{fmt(whole_values / every['seconds'])}/s",
                "< 100 ms, < 20 MiB",
            ],
        ]


def section_rdp(world, month, figures, rows) -> None:
    with harness.timed("(d) Ramer-Douglas-Peucker"):
        rdp = rdp_speed(world, month["start_ms"], month["end_ms"])
    figures["rdp"] = rdp
    for result in rdp:
        rows.append(
            [
                f"(d) RDP tolerance {result['tolerance']}, points/s",
                fmt(result["points_s"]),
                f"{result['kept']:.1%} kept",
                ">= 5,000,000",
            ]
        )


def section_statistics(world, web, database_url, month, figures, rows) -> None:
    with harness.timed("(e) a year of data at 1 sample/min, statistics"):
        stats = statistics_figures(world, web, database_url, month)
    figures["statistics"] = stats
    rows.append(
        [
            f"(e) a year of hourly buckets ({stats['buckets']:,}), median / p99 ms",
            f"{stats['year_median_ms']:.1f} / {stats['year_p99_ms']:.1f}",
            f"a year of days {stats['year_days_ms']:.1f} ms",
            "< 50 median",
        ]
    )
    for label, read in stats["reads"].items():
        rows.append(
            [
                f"(e) one series' hours of {label}, ms",
                f"rollups {read['rollups']:.2f}",
                f"date_trunc GROUP BY raw {read['raw']:.1f}",
                "< 5",
            ]
        )


def section_stream(args, env, world, figures, rows) -> None:
    # 1,000 subscribers get a message every 30 ms (with the ingestion's own time, about 25
    # a second): 25,000 deliveries a second asked for. Last, the 1,000 again with uvicorn's
    # per-message-deflate on (its default), beside the servers as they run (off).
    runs = ((100, 1, 0.05, False), (1000, 2, 0.03, False), (1000, 2, 0.03, True))
    for subscribers, processes, interval, deflate in runs:
        name = f"{subscribers} subscribers" + (", deflate on" if deflate else "")
        with harness.timed(f"(f) {name}"):
            result = sockets(
                world, env, subscribers, args.messages, processes, interval, deflate=deflate
            )
        summary = result.summary()
        summary["server_cpu_us_per_delivery"] = result.server_cpu_us_per_delivery
        figures[f"stream_{subscribers}" + ("_deflate" if deflate else "")] = summary
        target = "50" if subscribers == 100 else "250"
        rows.append(
            [
                f"(f) {name}, 2 uvicorn: p50 / p99 ms",
                f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f}",
                f"{summary['delivered']:,}/{summary['expected']:,} delivered, "
                f"{fmt(summary['deliveries_per_s'])}/s, "
                f"{summary['server_cpu_us_per_delivery']:.0f} µs CPU each",
                f"all, p99 < {target}, >= 15,000/s",
            ]
        )


if __name__ == "__main__":
    sys.exit(main())

"""DMLF API benchmark: uploads, ZIP bombs, the guide's calls and the list of 10,000 samples.

    .venv/bin/python -m bench.bench_dmlf                  # about 2 minutes
    .venv/bin/python -m bench.bench_dmlf --requests 500 --uploads 10

(a) The guide's calls, sequentially from one ``requests`` session (keep-alive), median and p90
    of the time to the whole answer: ``GET institutes/`` and a sample POST with the guide's
    ``sample_info`` and a 1 KiB ZIP, each under

    - Django's own ``runserver`` (WSGI, threaded) on SQLite with a new connection per request,
      the setup the original was measured in (2.7 ms and 9.7 ms median). Django opens and
      closes its connection in every request as there; the SQLite connection behind it, its
      schema read, is reused by the next request (``core.sqlite_backend``);
    - the project's ``manage.py runserver`` (daphne, ASGI) on the same SQLite file;
    - gunicorn (2 sync workers) on PostgreSQL with Redis, the production shape.

(b) Uploads under gunicorn on PostgreSQL, one at a time while ``PeakMemory`` samples the
    server's process tree: a 50 MB ZIP (``experiment_file``) against copying the same file on
    disk; a 10 MB ZIP declaring 10 GB (ten entries of 1 GiB of zeros) and a ZIP of 100,000
    entries, both refused.

(c) ``GET samples/`` of 10,000 samples under gunicorn: time and bytes, and the number of
    queries for 10 and for 10,000 samples (counted in this process with Django's test client on
    the same database).

Needs PostgreSQL and Redis as the other benchmarks (see bench/README.md); no ``wrk``. The
throttles are raised through ``DMLF_THROTTLE_*_RATE``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import requests

from bench import harness

DATABASE = "bench_dmlf"
PASSWORD = "bench-pass-word-123"
USERNAME = "bench"
UNLIMITED = {
    "DMLF_THROTTLE_GET_RATE": "100000000/day",
    "DMLF_THROTTLE_POST_RATE": "100000000/day",
    "DMLF_THROTTLE_WRITE_RATE": "100000000/day",
}
GUIDE_SAMPLE_INFO = {
    "name": "mock battery",
    "composition": "NMC111",
    "manufacturer": "car manufacturer",
    "produced": "",
    "comment": "here be dragons",
}
LIST_SAMPLES = 10_000

# What the world of a run holds, created by ``manage.py shell`` (SQLite) or in this process
# (PostgreSQL): a member of an organization with a project, institute 1, method 1, staff 1.
WORLD = f"""
from core.models import Membership, Organization, User
from dmlf.models import FundingBody, Institute, Method, Project, Staff
user = User.objects.create_user({USERNAME!r}, "bench@example.org", {PASSWORD!r})
organization = Organization.objects.create(name="Bench lab")
Membership.objects.create(user=user, organization=organization, role="member")
institute = Institute.objects.create(name="Institute", street="s", postcode="1", city="Freiberg",
                                     telephone="1", email="i@example.org")
method = Method.objects.create(institute=institute, name="EIS")
body = FundingBody.objects.create(name="Funder")
Project.objects.create(organization=organization, funding_body=body, name="Bench",
                       abbreviation="B", funding_number="1", funding_period_start="2024-01-01",
                       funding_period_end="2026-12-31")
Staff.objects.create(institute=institute, user=user, first_name="A", last_name="B",
                     email="s@example.org", telephone="1")
"""


# --- The guide's sample POST ----------------------------------------------------------------------
def guide_sample_form(second: int, info: bytes, archive: bytes) -> tuple[dict, dict]:
    """The guide's sample POST: its form fields (a sample id unique to ``second``) and its two
    files, ``sample_info`` JSON and a ZIP."""
    clock = f"{second // 3600 % 24:02d}{second // 60 % 60:02d}{second % 60:02d}"
    data = {
        "sample_id": f"{230101 + second // 86400:06d}_{clock}_010001",
        "name": "mock sample",
        "institute": 1,
        "project": 1,
        "method": 1,
        "parent": "",
        "sample_type": 1,
        "date_created": "2024-06-16",
    }
    files = {
        "sample_info": ("sample_info.json", info, "application/json"),
        "supplementary_file": ("sample.zip", archive, "application/zip"),
    }
    return data, files


# --- Archives -------------------------------------------------------------------------------------


def small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.csv", "time,voltage\n" + "".join(f"{i},3.7\n" for i in range(80)))
    data = buffer.getvalue()
    return data


def large_zip(path: Path, megabytes: int = 50) -> None:
    """A ZIP of ``megabytes`` MB of incompressible data in 1 MB entries (stored)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(megabytes):
            archive.writestr(f"run/{index:03d}.bin", os.urandom(1_000_000))


def bomb_zip(path: Path, entries: int = 10, entry_size: int = 2**30) -> None:
    """A ZIP of ``entries`` entries, each ``entry_size`` bytes of zeros deflated (about 1 MB
    each): one deflate stream, written ``entries`` times."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(2**24)
    parts, crc = [], 0
    for _ in range(entry_size // len(block)):
        parts.append(compressor.compress(block))
        crc = zlib.crc32(block, crc)
    parts.append(compressor.flush())
    stream = b"".join(parts)
    local, central = [], []
    offset = 0
    for index in range(entries):
        name = f"zeros{index}.bin".encode()
        header = (
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(stream),
                entry_size,
                len(name),
                0,
            )
            + name
        )
        local.append(header + stream)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(stream),
                entry_size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        offset += len(header) + len(stream)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)


def many_entries_zip(path: Path, entries: int = 100_000) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(entries):
            archive.writestr(zipfile.ZipInfo(f"{index}.txt"), b"")


# --- Timing the guide's calls -------------------------------------------------------------------


def login(base_url: str) -> requests.Session:
    """A ``requests`` session with the DMLF token, as the guide makes it (keep-alive)."""
    response = requests.post(
        base_url + "/dmlf/api/token/",
        data=json.dumps({"username": USERNAME, "password": PASSWORD}),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    response.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access']}"
    return session


class FreshConnections:
    """``requests.get``/``post`` with the session's headers: a new connection per call, as the
    guide's ``make_api_request`` sends them."""

    def __init__(self, session: requests.Session):
        self.headers = dict(session.headers)

    def get(self, url, **kwargs):
        return requests.get(url, headers=self.headers, **kwargs)

    def post(self, url, **kwargs):
        return requests.post(url, headers=self.headers, **kwargs)


def timed_calls(server, session, count: int, call) -> list[float]:
    """Milliseconds of ``count`` calls, after a few unmeasured ones; the last item is the
    server's CPU milliseconds per call (its process tree, from /proc)."""
    for index in range(5):
        call(session, -1 - index)
    times = []
    cpu = server.cpu_seconds()
    for index in range(count):
        start = time.perf_counter()
        call(session, index)
        times.append((time.perf_counter() - start) * 1000)
    times.append((server.cpu_seconds() - cpu) * 1000 / count)
    return times


def guide_calls(server, count: int, first_second: int, *, fresh: bool) -> dict[str, list[float]]:
    """The two calls, from a keep-alive session or (``fresh``) a new connection per call."""
    base_url = server.base_url
    session = login(base_url)
    if fresh:
        session = FreshConnections(session)
    archive = small_zip()
    info = json.dumps(GUIDE_SAMPLE_INFO)

    def get_institutes(session, index):
        response = session.get(base_url + "/dmlf/institutes/", timeout=30)
        assert response.status_code == 200, response.text
        response.content  # noqa: B018 (read the whole answer)

    def post_sample(session, index):
        second = first_second + index + 10
        data, files = guide_sample_form(second, info, archive)
        response = session.post(base_url + "/dmlf/samples/", data=data, files=files, timeout=30)
        assert response.status_code == 201, response.text

    client = "new connection per call" if fresh else "keep-alive session"
    return {
        f"GET institutes/, {client}": timed_calls(server, session, count, get_institutes),
        f"POST samples/, {client}": timed_calls(server, session, count, post_sample),
    }


def summary(times: list[float]) -> tuple[str, str, str]:
    """Median and p90 of the calls, and the server's CPU per call (the list's last item)."""
    ordered = sorted(times[:-1])
    return (
        f"{statistics.median(ordered):.1f}",
        f"{harness.percentile(ordered, 90):.1f}",
        f"{times[-1]:.1f}",
    )


# --- The runserver setups -------------------------------------------------------------------------


def sqlite_env(tmp: Path, *, settings_module: str) -> dict[str, str]:
    env = harness.bench_env("", redis_url=None, settings_module=settings_module, extra=UNLIMITED)
    env.pop("DATABASE_URL")
    env["SQLITE_PATH"] = str(tmp / "dmlf.sqlite3")
    env["DJANGO_MEDIA_ROOT"] = str(tmp / "media")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp), env.get("PYTHONPATH", "")]))
    return env


def runserver_figures(count: int) -> dict[str, dict[str, list[float]]]:
    """The guide's calls under Django's runserver (WSGI) and daphne's, on SQLite."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-dmlf-") as directory:
        tmp = Path(directory)
        # Django's own runserver: the platform's settings without daphne, whose runserver
        # replaces Django's.
        (tmp / "wsgi_runserver_settings.py").write_text(
            "from core.settings import *  # noqa: F403\n"
            "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'daphne']  # noqa: F405\n"
        )
        env = sqlite_env(tmp, settings_module="wsgi_runserver_settings")
        harness.migrate(env)
        harness.manage(env, "shell", "-c", WORLD)
        for label, settings_module, first in (
            ("Django runserver (WSGI), SQLite", "wsgi_runserver_settings", 0),
            ("manage.py runserver (daphne, ASGI), SQLite", "core.settings", 40_000),
        ):
            env = sqlite_env(tmp, settings_module=settings_module)
            port = harness.free_port()
            argv = [
                harness.PYTHON,
                str(harness.PROJECT_DIR / "manage.py"),
                "runserver",
                f"{harness.HOST}:{port}",
                "--noreload",
            ]
            with harness.Server("runserver", argv, env, port).start() as server:
                results[label] = {
                    **guide_calls(server, count, first, fresh=True),
                    **guide_calls(server, count, first + 10_000, fresh=False),
                }
    return results


# --- PostgreSQL and gunicorn ----------------------------------------------------------------------


def create_samples(count: int) -> None:
    """``count`` samples in the bench project (rows only: the list reads no file)."""
    from dmlf.models import Institute, Project, Sample, SampleType

    project, institute = Project.objects.get(), Institute.objects.get()
    battery = SampleType.objects.get(name="Battery")
    Sample.objects.bulk_create(
        (
            Sample(
                sample_id=f"22{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}_{i // 336 % 24:02d}"
                f"{i // 8064 % 60:02d}00_010001",
                institute=institute,
                project=project,
                sample_type=battery,
                name=f"sample {i}",
                date_created="2022-01-01",
                sample_info=f"sample_info/{i}.json",
            )
            for i in range(count)
        ),
        batch_size=2000,
    )


def query_counts(token: str) -> list[tuple[int, int]]:
    """``(rows, queries)`` of ``GET samples/`` for 10 samples (``limit``) and for all."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=harness.HOST, HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = []
    for query in ({"limit": 10}, {}):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/dmlf/samples/", query)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            counts.append((len(json.loads(body)), len(captured)))
    return counts


def upload_figures(server, tmp: Path, uploads: int) -> list[list[str]]:
    session = login(server.base_url)
    big = tmp / "big.zip"
    large_zip(big)
    rows = []

    def post_experiment(path: Path) -> tuple[requests.Response, float]:
        with path.open("rb") as handle:
            files = {"experiment_file": (path.name, handle, "application/zip")}
            data = {
                "name": "upload",
                "method": 1,
                "date_created": "2024-06-01",
                "sample": first_sample,
                "project": 1,
            }
            start = time.perf_counter()
            response = session.post(
                server.url("/dmlf/experiments/"), data=data, files=files, timeout=120
            )
            return response, time.perf_counter() - start

    from dmlf.models import Sample

    first_sample = Sample.objects.order_by("pk").values_list("pk", flat=True).first()
    post_experiment(big)  # warm-up: imports, connections
    times = []
    cpu = server.cpu_seconds()
    with harness.PeakMemory(server.process.pid) as memory:
        for _ in range(uploads):
            response, seconds = post_experiment(big)
            if response.status_code != 201:
                raise harness.BenchError(f"upload: {response.status_code} {response.text}")
            times.append(seconds)
    cpu_ms = (server.cpu_seconds() - cpu) * 1000 / uploads
    copies = []
    for index in range(uploads):
        start = time.perf_counter()
        shutil.copyfile(big, tmp / f"copy{index}.zip")
        copies.append(time.perf_counter() - start)
    size_mb = big.stat().st_size / 1e6
    rows.append(
        [
            f"{size_mb:.0f} MB ZIP, experiment_file",
            "201",
            f"{statistics.median(times) * 1000:.0f}",
            f"{cpu_ms:.0f}",
            f"{statistics.median(copies) * 1000:.0f}",
            f"{memory.baseline_mb:.0f} -> {memory.peak_mb:.0f} (+{memory.growth_mb:.1f})",
        ]
    )
    for label, build in (
        ("10 MB ZIP declaring 10 GB", bomb_zip),
        ("ZIP of 100,000 entries", many_entries_zip),
    ):
        path = tmp / "refused.zip"
        build(path)
        cpu = server.cpu_seconds()
        with harness.PeakMemory(server.process.pid) as memory:
            response, seconds = post_experiment(path)
        cpu_ms = (server.cpu_seconds() - cpu) * 1000
        if response.status_code != 400:
            raise harness.BenchError(f"{label}: {response.status_code} {response.text[:200]}")
        reason = response.json()["experiment_file"][0]
        rows.append(
            [
                f"{label} ({path.stat().st_size / 1e6:.1f} MB)",
                f"400: {reason[:48]}…",
                f"{seconds * 1000:.0f}",
                f"{cpu_ms:.0f}",
                "",
                f"{memory.baseline_mb:.0f} -> {memory.peak_mb:.0f} (+{memory.growth_mb:.1f})",
            ]
        )
    return rows


def list_figures(server, repeat: int = 5) -> tuple[float, int, int]:
    session = login(server.base_url)
    session.get(server.url("/dmlf/samples/"), timeout=120).raise_for_status()
    times, size, rows = [], 0, 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = session.get(server.url("/dmlf/samples/"), timeout=120)
        body = response.content
        times.append(time.perf_counter() - start)
        size, rows = len(body), len(json.loads(body))
    return statistics.median(times), size, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="calls per figure of (a)")
    parser.add_argument("--uploads", type=int, default=5, help="50 MB uploads measured")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--skip-runserver", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)

    figures: dict[str, dict[str, list[float]]] = {}
    if not args.skip_runserver:
        figures.update(runserver_figures(args.requests))

    database_url = harness.fresh_database(DATABASE)
    with tempfile.TemporaryDirectory(prefix="bench-dmlf-media-") as media:
        env = harness.bench_env(database_url, extra={**UNLIMITED, "DJANGO_MEDIA_ROOT": media})
        harness.migrate(env)
        harness.setup_django(env)
        exec(WORLD, {})  # the same fixture code as the SQLite run
        create_samples(LIST_SAMPLES)
        from core.models import User
        from core.tokens import PlatformAccessToken

        counts = query_counts(str(PlatformAccessToken.for_user(User.objects.get())))
        harness.close_django_connections()
        with harness.gunicorn_server(env, workers=args.workers) as server:
            list_seconds, list_bytes, list_rows = list_figures(server)
            label = f"gunicorn {args.workers} sync workers, PostgreSQL"
            figures[label] = {
                **guide_calls(server, args.requests, 60_000, fresh=True),
                **guide_calls(server, args.requests, 70_000, fresh=False),
            }
            with tempfile.TemporaryDirectory(prefix="bench-dmlf-") as directory:
                uploads = upload_figures(server, Path(directory), args.uploads)
        harness.close_django_connections()
    if not args.keep_db:
        harness.drop_database(DATABASE)

    rows = []
    for setup, calls in figures.items():
        for call, times in calls.items():
            rows.append([setup, call, len(times) - 1, *summary(times)])
    harness.print_table(
        ["setup", "call", "calls", "median ms", "p90 ms", "server CPU ms"],
        rows,
        title="(a) The guide's calls, one client, sequential (original: 2.7 / 9.7 ms median)",
    )
    print()
    harness.print_table(
        ["upload", "answer", "ms", "server CPU ms", "copy on disk ms", "server tree RSS MiB"],
        uploads,
        title=f"(b) Uploads to experiments/ under gunicorn ({args.workers} workers), "
        f"median of {args.uploads}",
    )
    print()
    (few_rows, few_queries), (all_rows, all_queries) = counts
    harness.print_table(
        ["list", "rows", "MB", "median s", f"queries ({few_rows} rows)", "queries (all)"],
        [
            [
                "GET samples/",
                f"{list_rows:,}",
                f"{list_bytes / 1e6:.1f}",
                f"{list_seconds:.3f}",
                few_queries,
                f"{all_queries} ({all_rows:,} rows)",
            ]
        ],
        title="(c) The complete list of samples under gunicorn",
    )
    if args.json:
        harness.write_json(
            args.json,
            {
                "calls": figures,
                "uploads": uploads,
                "list": {"seconds": list_seconds, "bytes": list_bytes, "queries": counts},
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

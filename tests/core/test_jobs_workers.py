"""Jobs run by real workers: the embedded thread under the live server, and on PostgreSQL
separate ``manage.py jobs_worker`` processes (completing a job, progress seen from another
connection while it runs, a worker killed mid-job, a periodic function across two workers).

The worker processes import ``tests.core.jobs_kinds`` before they start, so that they know
the test kinds, and use short heartbeats so that a killed worker is noticed in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from django.db import connection

from core import jobs
from core.jobs.models import Job
from core.models import Organization
from tests.core.jobs_kinds import rows_of

PROJECT_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not hold in time")
        time.sleep(0.05)


def job_status(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def test_the_embedded_worker_completes_a_job_with_only_the_server_running(
    live_server, embedded_jobs_worker, organization
):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # The test database is then one shared cache that the test's thread and the server's
        # threads lock table by table, and SQLite makes nobody wait for such a lock: the job's
        # transaction fails at random. SQLite files (the zero-configuration setup) wait on
        # their busy timeout; tests/browser/test_eis_pages.py runs the embedded worker on one
        # under gunicorn, and this test runs on PostgreSQL.
        pytest.skip("the in-memory SQLite test database does not wait for locks")
    job = jobs.start("tests.rows", organization=organization, params={"count": 3})
    # The server's first request starts its worker thread; nothing else runs jobs here.
    response = requests.get(f"{live_server.url}/healthz", timeout=10)
    assert response.status_code == 200
    wait_until(lambda: job_status(job) == "succeeded")
    assert job.result == {"rows": 3, "attempt": 1}
    assert len(rows_of(job)) == 3
    # A job started later is picked up by the running thread.
    second = jobs.start("tests.fails", organization=organization, params={"message": "x"})
    wait_until(lambda: job_status(second) == "failed")
    assert second.error == "x"


def test_the_queue_loop_outlives_a_database_error(monkeypatch):
    """A failed poll (the database restarting) is logged and the loop polls again."""
    from django.db import OperationalError

    from core.jobs.worker import TaskWorker

    loop = TaskWorker(interval=0.01, worker="test-loop")
    polls = []

    def claim():
        polls.append(time.monotonic())
        if len(polls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        if len(polls) == 3:
            loop.stop()

    monkeypatch.setattr(loop, "claim", claim)
    loop.run()
    assert len(polls) == 3


def test_a_stopped_embedded_worker_is_started_again_by_the_next_request(settings):
    from core.jobs import worker

    settings.JOBS_WORKER = "embedded"
    try:
        first = worker.ensure_embedded()
        assert first is not None and first.alive()
        first.tasks.stop()
        first.threads[0].join(timeout=10)
        assert not first.alive()
        second = worker.ensure_embedded()
        assert second is not first and second.alive()
        assert worker.ensure_embedded() is second
    finally:
        worker.stop_embedded()


# --- worker processes on PostgreSQL -----------------------------------------------------------

BOOT = """
import sys, time
import django
django.setup()
import tests.core.jobs_kinds
from core import jobs
from core.models import Organization

def tick():
    name = sys.argv[1]
    Organization.objects.create(name=f"tick {name} {time.time():.6f}")
    time.sleep(0.5)
    Organization.objects.create(name=f"tock {name} {time.time():.6f}")

jobs.register_periodic("tests.tick", every=1, function=tick)
from django.core.management import call_command
call_command("jobs_worker", worker_id=sys.argv[1], poll=float(sys.argv[2]))
"""

postgresql_only = pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="worker processes share the test database only on PostgreSQL",
)


@pytest.fixture
def start_worker(tmp_path):
    """``start_worker(name, poll=0.1)``: a ``jobs_worker`` process on the test database
    polling the idle queue every ``poll`` seconds; all are killed at the end of the test."""
    processes: list[subprocess.Popen] = []
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "DATABASE_URL": url,
        "JOBS_WORKER": "external",
        "JOBS_HEARTBEAT_SECONDS": "1",
        "JOBS_HEARTBEAT_TIMEOUT": "3",
        "PYTHONPATH": str(PROJECT_DIR),
    }

    def start(name: str, poll: float = 0.1) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-c", BOOT, name, str(poll)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@postgresql_only
def test_a_worker_process_completes_a_job_and_its_progress_shows_while_it_runs(
    start_worker, organization, tmp_path
):
    start_worker("one")
    started, release = tmp_path / "started", tmp_path / "release"
    job = jobs.start(
        "tests.slow_progress",
        organization=organization,
        params={"started": str(started), "release": str(release)},
    )
    wait_until(started.exists)
    job.refresh_from_db()  # this test's own connection, not the worker's
    assert (job.status, job.progress) == ("running", 0.5)
    release.touch()
    wait_until(lambda: job_status(job) == "succeeded")
    assert (job.result, job.progress, job.attempts) == ({"done": True}, 1.0, 1)


@postgresql_only
def test_a_worker_killed_mid_job_leaves_nothing_and_another_worker_reruns_it(
    start_worker, organization, tmp_path
):
    doomed = start_worker("doomed")
    started = tmp_path / "started"
    job = jobs.start(
        "tests.rows",
        organization=organization,
        params={"count": 10, "started": str(started), "hold_until": str(tmp_path / "never")},
    )
    wait_until(started.exists)  # the first run holds its transaction open with 5 rows written
    assert job_status(job) == "running"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    assert rows_of(job) == []

    start_worker("survivor")  # its reaper finds the silent job, then a worker reruns it
    wait_until(lambda: job_status(job) == "succeeded")
    assert job.attempts == 2
    assert job.result == {"rows": 10, "attempt": 2}
    assert len(rows_of(job)) == 10


@postgresql_only
def test_a_periodic_function_runs_on_one_worker_at_a_time_across_two_workers(start_worker):
    start_worker("a")
    start_worker("b")
    wait_until(lambda: Organization.objects.filter(name__startswith="tock").count() >= 4)
    events = sorted(
        (float(stamp), what, worker)
        for what, worker, stamp in (
            name.split() for name in Organization.objects.values_list("name", flat=True)
        )
    )
    # Strictly alternating: no run starts before the one in progress has finished.
    kinds = [what for _, what, _ in events]
    complete = kinds[: len(kinds) - len(kinds) % 2]
    assert complete == ["tick", "tock"] * (len(complete) // 2)
    for (_, _, started_by), (_, _, finished_by) in zip(events[::2], events[1::2], strict=False):
        assert started_by == finished_by


@postgresql_only
def test_an_idle_worker_is_woken_by_a_committed_job_not_its_next_poll(
    start_worker, organization, tmp_path
):
    start_worker("sleepy", poll=3600)
    log = tmp_path / "sleepy.log"
    wait_until(lambda: "started" in log.read_text())
    time.sleep(1)  # its first poll (at start) has found the queue empty: next one in an hour
    job = jobs.start("tests.rows", organization=organization, params={"count": 2})
    wait_until(lambda: job_status(job) == "succeeded")
    assert len(rows_of(job)) == 2

"""What the background-jobs machinery costs: jobs per second through ``jobs_worker``
processes on PostgreSQL, and the time from a job's start to its end when idle.

    .venv/bin/python -m bench.bench_jobs [--jobs 2000] [--workers 1,2] [--database bench_jobs]

Creates a fresh PostgreSQL database and migrates it. The kinds measured do no work of their
own (``bench.noop`` returns ``{}``; ``bench.progress`` reports progress 10 times), so that
the figures are the machinery's: the queue's claim (django-tasks-db, skip-locked), the job's
claim, heartbeat thread, outcome write.

1. **throughput**: ``--jobs`` jobs are started in one transaction, then N worker processes
   start; timed from the first job's start to the last job's end (``started_at`` and
   ``finished_at`` of the rows, so that the processes' start-up is not counted).
2. **latency**: one idle worker, one job at a time, 20 times: from ``jobs.start`` (committed)
   to the job read back as succeeded. An external worker is woken by PostgreSQL's NOTIFY when
   the job commits; the embedded worker (measured in this process) directly.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from bench import harness

DATABASE = "bench_jobs"

BOOT = """
import sys
import django
django.setup()
from bench.bench_jobs import register_kinds
register_kinds()
from django.core.management import call_command
call_command("jobs_worker", worker_id=sys.argv[1], verbosity=0)
"""


def register_kinds() -> None:
    from core import jobs

    @jobs.register("bench.noop")
    def noop(job, progress) -> dict:
        return {}

    @jobs.register("bench.progress")
    def with_progress(job, progress) -> dict:
        for step in range(10):
            progress(step / 10)
        return {"steps": 10}


def start_workers(env: dict, count: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", BOOT, f"bench-{number}"],
            cwd=harness.PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for number in range(count)
    ]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_done(kind: str, count: int, timeout: float = 600) -> None:
    from core.jobs.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(kind=kind, status="succeeded").count() < count:
        if time.monotonic() > deadline:
            raise harness.BenchError(f"{kind}: not all {count} jobs finished in {timeout} s")
        time.sleep(0.2)


def throughput(env: dict, kind: str, jobs_count: int, workers: int) -> float:
    from django.db import transaction
    from django.db.models import Max, Min

    from core import jobs
    from core.jobs.models import Job
    from core.models import Organization

    Job.objects.all().delete()
    organization = Organization.objects.get_or_create(name="bench")[0]
    with transaction.atomic():
        for _ in range(jobs_count):
            jobs.start(kind, organization=organization)
    processes = start_workers(env, workers)
    try:
        wait_done(kind, jobs_count)
    finally:
        stop(processes)
    span = Job.objects.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return jobs_count / (span["last"] - span["first"]).total_seconds()


def latency(kind: str, rounds: int = 20) -> list[float]:
    from core import jobs
    from core.jobs.models import Job
    from core.models import Organization

    organization = Organization.objects.get_or_create(name="bench")[0]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        job = jobs.start(kind, organization=organization)
        while Job.objects.filter(pk=job.pk, status="succeeded").count() == 0:
            time.sleep(0.002)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    database_url = harness.fresh_database(args.database)
    env = harness.bench_env(database_url, extra={"JOBS_WORKER": "external"})
    harness.migrate(env)
    harness.setup_django(env)
    register_kinds()
    rows = []
    try:
        for kind in ("bench.noop", "bench.progress"):
            for workers in [int(n) for n in args.workers.split(",")]:
                rate = throughput(env, kind, args.jobs, workers)
                rows.append([kind, workers, f"{rate:.0f}"])
        harness.print_table(["kind", "workers", "jobs/s"], rows, title="Throughput")

        processes = start_workers(env, 1)
        try:
            time.sleep(5)  # the worker's start-up
            external = latency("bench.noop")
        finally:
            stop(processes)
        from django.conf import settings

        from core.jobs import worker

        settings.JOBS_WORKER = "embedded"
        worker.ensure_embedded()
        try:
            embedded = latency("bench.noop")
        finally:
            worker.stop_embedded()
        harness.print_table(
            ["worker", "median ms", "max ms"],
            [
                [name, f"{statistics.median(t) * 1000:.0f}", f"{max(t) * 1000:.0f}"]
                for name, t in (("external (jobs_worker)", external), ("embedded", embedded))
            ],
            title="Start to end of one job, idle worker",
        )
    finally:
        harness.close_django_connections()
        if not args.keep_db:
            harness.drop_database(args.database)


if __name__ == "__main__":
    main()

"""Job kinds for the jobs tests, registered when this module is imported (the tests import
it; the worker subprocesses of the PostgreSQL tests import it before they start).

``tests.rows`` behaves as a real kind must: progress between transactions, all its writes in
one transaction, idempotent (a rerun replaces what an earlier run wrote). Its rows are
organizations named ``job-<id>-<n>``, so that a test can count what a run left behind.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.db import transaction

from core import jobs
from core.models import Organization


def rows_of(job) -> list[str]:
    return sorted(
        Organization.objects.filter(name__startswith=f"job-{job.pk}-").values_list(
            "name", flat=True
        )
    )


@jobs.register("tests.rows")
def write_rows(job, progress) -> dict:
    count = job.params["count"]
    progress(0.25)
    hold = job.params.get("hold_until")  # a file: wait mid-transaction until it exists
    with transaction.atomic():
        Organization.objects.filter(name__startswith=f"job-{job.pk}-").delete()
        half = count // 2
        Organization.objects.bulk_create(
            Organization(name=f"job-{job.pk}-{n}") for n in range(half)
        )
        if job.params.get("crash_midway"):
            raise RuntimeError("simulated crash with half the rows written")
        if hold and job.attempts == 1:
            Path(job.params["started"]).touch()
            while not Path(hold).exists():
                time.sleep(0.05)
        Organization.objects.bulk_create(
            Organization(name=f"job-{job.pk}-{n}") for n in range(half, count)
        )
    return {"rows": count, "attempt": job.attempts}


@jobs.register("tests.fails")
def fail(job, progress) -> dict:
    raise jobs.JobError(job.params["message"])


@jobs.register("tests.crashes")
def crash(job, progress) -> dict:
    return {"ratio": 1 / 0}


@jobs.register("tests.flaky")
def flaky(job, progress) -> dict:
    if job.attempts == 1:
        raise jobs.JobError("first attempt fails")
    return {"attempt": job.attempts}


@jobs.register("tests.progress_in_transaction")
def progress_in_transaction(job, progress) -> dict:
    try:
        with transaction.atomic():
            progress(0.5)
    except RuntimeError as error:
        return {"refused": str(error)}
    return {"refused": ""}


@jobs.register("tests.slow_progress")
def slow_progress(job, progress) -> dict:
    """Reports 0.5, then waits for the ``release`` file (a test reads the progress)."""
    progress(0.5)
    Path(job.params["started"]).touch()
    while not Path(job.params["release"]).exists():
        time.sleep(0.05)
    return {"done": True}

"""Background jobs run in the test's thread (``run_jobs``): outcomes, errors, retries, the
reaper of jobs whose worker stopped, and the lease of periodic functions."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import jobs
from core.jobs.models import Job, JobLease
from core.jobs.registry import Periodic
from core.jobs.runner import GENERIC_ERROR, reap
from core.jobs.worker import run_periodic
from tests.core.jobs_kinds import rows_of  # registers the test kinds

pytestmark = pytest.mark.django_db


def test_a_started_job_is_queued_with_its_task_and_runs_to_success(organization, member, run_jobs):
    job = jobs.start("tests.rows", organization=organization, user=member, params={"count": 4})
    assert job.status == Job.Status.QUEUED
    assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).count() == 1

    [ran] = run_jobs()
    assert ran.pk == job.pk
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.progress == 1
    assert job.result == {"rows": 4, "attempt": 1}
    assert job.attempts == 1
    assert job.user == member
    assert job.started_at <= job.finished_at
    assert rows_of(job) == [f"job-{job.pk}-{n}" for n in range(4)]
    assert set(job.as_dict()) == {
        "id", "kind", "status", "progress", "error", "result", "attempts",
        "created_at", "started_at", "finished_at",
    }  # fmt: skip


def test_a_job_error_fails_the_job_with_its_message(organization, run_jobs):
    job = jobs.start("tests.fails", organization=organization, params={"message": "too short"})
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.error, job.result) == ("failed", "too short", None)


def test_another_exception_fails_the_job_with_a_generic_message_and_logs_it(
    organization, run_jobs, caplog
):
    job = jobs.start("tests.crashes", organization=organization)
    with caplog.at_level(logging.ERROR, logger="core.jobs"):
        run_jobs()
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == GENERIC_ERROR
    assert "ZeroDivisionError" in caplog.text


def test_a_crash_inside_the_kinds_transaction_leaves_no_rows(organization, run_jobs):
    job = jobs.start("tests.rows", organization=organization, params={"count": 6})
    Job.objects.filter(pk=job.pk).update(params={"count": 6, "crash_midway": True})
    run_jobs()
    job.refresh_from_db()
    assert job.status == "failed"
    assert rows_of(job) == []


def test_progress_inside_a_transaction_is_refused(organization, run_jobs):
    job = jobs.start("tests.progress_in_transaction", organization=organization)
    run_jobs()
    job.refresh_from_db()
    assert "inside transaction.atomic" in job.result["refused"]


def test_starting_an_unknown_kind_is_refused(organization):
    with pytest.raises(LookupError, match=r"no job kind 'tests\.nothing'"):
        jobs.start("tests.nothing", organization=organization)
    assert not Job.objects.exists()


def test_a_job_started_in_a_transaction_that_rolls_back_does_not_exist(organization):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.start("tests.rows", organization=organization, params={"count": 1})
        raise RuntimeError("the caller's transaction fails")
    assert not Job.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_failed_job_retried_runs_again_and_keeps_its_attempts(organization, run_jobs):
    job = jobs.start("tests.flaky", organization=organization)
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 1)

    jobs.retry(job)
    assert (job.status, job.error, job.finished_at) == ("queued", "", None)
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempt": 2})


@pytest.mark.parametrize("status", ["queued", "running", "succeeded"])
@pytest.mark.parametrize("silent_for", [0, 3600])
def test_only_a_failed_job_can_be_retried(organization, status, silent_for):
    # A running job whose worker stopped beating is the reaper's: a retry would run it twice.
    job = jobs.start("tests.rows", organization=organization, params={"count": 1})
    beat = timezone.now() - timedelta(seconds=silent_for)
    Job.objects.filter(pk=job.pk).update(status=status, heartbeat_at=beat)
    with pytest.raises(jobs.JobStateError, match=f"this one is {status}"):
        jobs.retry(job)
    assert Job.objects.get(pk=job.pk).status == status


def test_a_running_job_whose_worker_stopped_is_queued_again_then_rerun_whole(
    organization, run_jobs, settings
):
    settings.JOBS_HEARTBEAT_TIMEOUT = 60
    job = jobs.start("tests.rows", organization=organization, params={"count": 4})
    silent = timezone.now() - timedelta(seconds=61)
    Job.objects.filter(pk=job.pk).update(
        status="running", attempts=1, worker="gone", heartbeat_at=silent
    )
    beating = jobs.start("tests.rows", organization=organization, params={"count": 1})
    Job.objects.filter(pk=beating.pk).update(
        status="running", attempts=1, worker="alive", heartbeat_at=timezone.now()
    )

    assert reap() == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == ("queued", 1, "")
    assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).count() == 2
    run_jobs(kind="tests.rows")
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert len(rows_of(job)) == 4
    beating.refresh_from_db()
    assert beating.status == "running"


def test_a_job_whose_worker_stopped_on_its_last_attempt_fails_saying_so(organization, settings):
    settings.JOBS_MAX_ATTEMPTS = 2
    job = jobs.start("tests.rows", organization=organization, params={"count": 1})
    silent = timezone.now() - timedelta(seconds=settings.JOBS_HEARTBEAT_TIMEOUT + 1)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=2, heartbeat_at=silent)
    assert reap() == [job.pk]
    job.refresh_from_db()
    assert job.status == "failed"
    assert "worker running the job stopped" in job.error
    assert "2 attempts" in job.error
    # A manual retry gives it a fresh allowance of attempts.
    jobs.retry(job)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=3, heartbeat_at=silent)
    assert reap() == [job.pk]
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_worker_given_up_on_cannot_overwrite_the_run_that_replaced_it(organization, run_jobs):
    job = jobs.start("tests.rows", organization=organization, params={"count": 2})
    [ran] = run_jobs()
    assert ran.status == "succeeded"
    from core.jobs.runner import _finish

    stale = Job.objects.get(pk=job.pk)
    _finish(stale, "an old worker", Job.Status.FAILED, error="late")
    job.refresh_from_db()
    assert (job.status, job.error) == ("succeeded", "")


def test_a_periodic_function_runs_on_one_worker_at_a_time_and_again_when_due():
    calls = []

    def function():
        calls.append("first")
        # Another worker's housekeeping comes by while this one runs: it must not run it.
        assert run_periodic(periodic, "worker-b") is False

    periodic = Periodic("tests.periodic", 30, function)
    assert run_periodic(periodic, "worker-a") is True
    assert calls == ["first"]
    lease = JobLease.objects.get(name="tests.periodic")
    assert lease.holder == "" and lease.lease_until is None
    assert lease.next_run_at - lease.last_finished_at == timedelta(seconds=30)

    # Not due yet, for any worker.
    assert run_periodic(periodic, "worker-b") is False
    JobLease.objects.filter(pk=lease.pk).update(next_run_at=timezone.now())
    periodic = Periodic("tests.periodic", 30, lambda: calls.append("second"))
    assert run_periodic(periodic, "worker-b") is True
    assert calls == ["first", "second"]


def test_a_periodic_lease_held_by_a_worker_that_died_lapses(settings):
    calls = []
    periodic = Periodic("tests.periodic", 30, lambda: calls.append(1))
    now = timezone.now()
    JobLease.objects.create(
        name="tests.periodic", next_run_at=now, holder="dead", lease_until=now + timedelta(1)
    )
    assert run_periodic(periodic, "worker-a") is False
    JobLease.objects.filter(pk="tests.periodic").update(lease_until=now - timedelta(seconds=1))
    assert run_periodic(periodic, "worker-a") is True
    assert calls == [1]


def test_the_reaper_leaves_alone_a_job_running_in_its_own_process(organization, settings):
    from core.jobs import runner

    job = jobs.start("tests.rows", organization=organization, params={"count": 1})
    silent = timezone.now() - timedelta(seconds=settings.JOBS_HEARTBEAT_TIMEOUT + 1)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, heartbeat_at=silent)
    runner._running.add(job.pk)
    try:
        assert reap() == []
    finally:
        runner._running.discard(job.pk)
    assert reap() == [job.pk]


def test_finished_task_rows_older_than_a_day_are_pruned(organization, run_jobs):
    from core.jobs.worker import prune_task_results

    old = jobs.start("tests.rows", organization=organization, params={"count": 1})
    recent = jobs.start("tests.rows", organization=organization, params={"count": 1})
    waiting = jobs.start("tests.rows", organization=organization, params={"count": 1})
    now = timezone.now()
    tasks = DBTaskResult.objects
    tasks.filter(args_kwargs__args=[old.pk]).update(
        status="SUCCESSFUL", finished_at=now - timedelta(days=2)
    )
    tasks.filter(args_kwargs__args=[recent.pk]).update(status="SUCCESSFUL", finished_at=now)
    assert prune_task_results() == 1
    remaining = sorted(args["args"][0] for args in tasks.values_list("args_kwargs", flat=True))
    assert remaining == sorted([recent.pk, waiting.pk])


def test_a_queued_job_whose_task_is_gone_is_enqueued_again(organization, run_jobs):
    from core.jobs.runner import requeue_lost

    lost = jobs.start("tests.rows", organization=organization, params={"count": 1})
    carried = jobs.start("tests.rows", organization=organization, params={"count": 1})
    recent = jobs.start("tests.rows", organization=organization, params={"count": 1})
    old = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk__in=[lost.pk, carried.pk]).update(created_at=old)
    DBTaskResult.objects.filter(args_kwargs__args__in=[[lost.pk], [recent.pk]]).update(
        status="FAILED"
    )
    assert requeue_lost() == [lost.pk]
    assert DBTaskResult.objects.ready().filter(args_kwargs__args=[lost.pk]).count() == 1
    assert requeue_lost() == []


def test_old_finished_jobs_are_pruned_but_each_subject_s_latest(organization, settings):
    from core.jobs.worker import prune_jobs

    settings.JOBS_RETENTION_DAYS = 30
    now = timezone.now()

    def job(status: str, days_ago: float, subject: str = "") -> Job:
        made = jobs.start("tests.rows", organization=organization, subject=subject)
        when = now - timedelta(days=days_ago)
        Job.objects.filter(pk=made.pk).update(status=status, created_at=when, finished_at=when)
        return made

    old_plain = job("succeeded", 40)
    old_failed = job("failed", 35)
    recent = job("succeeded", 5)
    running = job("running", 60)
    superseded = job("failed", 50, subject="thing:1")
    latest_of_subject = job("succeeded", 45, subject="thing:1")
    alone_in_its_subject = job("succeeded", 45, subject="thing:2")

    assert prune_jobs() == 3
    kept = set(Job.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, running.pk, latest_of_subject.pk, alone_in_its_subject.pk}
    assert not {old_plain.pk, old_failed.pk, superseded.pk} & kept


def test_a_retention_of_zero_keeps_every_job(organization, settings):
    from core.jobs.worker import prune_jobs

    settings.JOBS_RETENTION_DAYS = 0
    made = jobs.start("tests.rows", organization=organization)
    long_ago = timezone.now() - timedelta(days=3650)
    Job.objects.filter(pk=made.pk).update(status="succeeded", finished_at=long_ago)
    assert prune_jobs() == 0
    assert Job.objects.filter(pk=made.pk).exists()

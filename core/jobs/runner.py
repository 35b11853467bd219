"""Running a job: claim, heartbeat, the kind's call, the outcome; requeueing the jobs of
workers that stopped.

Every state change is one conditional ``UPDATE`` on the job row (``WHERE status = ...``), so
that two workers, or a worker and the reaper, can never both win: a worker claims a job only
if it is still queued, and writes the outcome only if the job is still running under its own
worker id (a worker the reaper gave up on cannot overwrite the run that replaced it).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.jobs.models import Job
from core.jobs.registry import kind_function, retry_refusal

logger = logging.getLogger("core.jobs")

Status = Job.Status

#: The error of a job whose kind raised something other than JobError.
GENERIC_ERROR = "The job failed because of an internal error; it has been logged."

#: Jobs running in this process. The reaper leaves them alone whatever their heartbeat says:
#: on SQLite a kind's long write transaction holds back the heartbeat's write, not the job.
_running: set[int] = set()


class JobError(Exception):
    """Raised by a job kind: the job fails and its error is this message, shown as is."""


class JobStateError(Exception):
    """The job is not in a state that allows what was asked (a retry of a running job)."""


def worker_id(suffix: str = "") -> str:
    """Host, process and thread: unique across the machines of a worker pool."""
    name = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    return f"{name}:{suffix}" if suffix else name


def in_transaction() -> bool:
    """Whether the current code runs inside ``transaction.atomic`` (a test case's own
    wrapping transaction does not count)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


class Progress:
    """The ``progress`` callable handed to a kind: ``progress(0.3)`` writes the fraction at
    once, so that the API shows it while the job runs."""

    def __init__(self, job: Job, worker: str) -> None:
        self.job = job
        self.worker = worker

    def __call__(self, fraction: float) -> None:
        if in_transaction():
            raise RuntimeError(
                "progress() inside transaction.atomic would not be visible until the "
                "transaction ends; report progress between transactions"
            )
        fraction = min(max(float(fraction), 0.0), 1.0)
        try:
            with lazy_commit():
                Job.objects.filter(
                    pk=self.job.pk, status=Status.RUNNING, worker=self.worker
                ).update(progress=fraction, heartbeat_at=timezone.now())
        except OperationalError as exc:
            # Progress is a courtesy to readers: a busy database (SQLite's locks) skips one
            # report rather than failing the job; the next report or the heartbeat follows.
            logger.warning("Progress of job %s not written: %s", self.job.pk, exc)
        self.job.progress = fraction


@contextmanager
def lazy_commit():
    """A transaction whose commit does not wait for the disk (PostgreSQL's asynchronous
    commit), for writes that may be lost in a crash without harm: progress and heartbeats.
    A plain autocommit write elsewhere."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


class Beat:
    """A thread calling ``function`` every ``seconds`` until the block ends (the heartbeat
    of a running job, the renewal of a periodic function's lease)."""

    def __init__(self, function: Callable[[], object], seconds: float) -> None:
        self.function = function
        self.seconds = seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="jobs-heartbeat", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.seconds):
                try:
                    self.function()
                except Exception:
                    logger.exception("heartbeat failed")
        finally:
            connection.close()

    def __enter__(self) -> Beat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


def execute(job_id: int, *, worker: str | None = None, heartbeat: bool = True) -> Job | None:
    """Run the job if it is still queued; returns it with its outcome, or None if another
    worker had it (or it no longer exists)."""
    worker = worker or worker_id()
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        progress=0.0,
        error="",
        result=None,
    )
    if not claimed:
        return None
    job = Job.objects.select_related("organization", "user").get(pk=job_id)
    function = kind_function(job.kind)
    if function is None:
        return _finish(job, worker, Status.FAILED, error=f"Unknown job kind {job.kind!r}.")

    def beat() -> None:
        with lazy_commit():
            Job.objects.filter(pk=job_id, status=Status.RUNNING, worker=worker).update(
                heartbeat_at=timezone.now()
            )

    beating = Beat(beat, settings.JOBS_HEARTBEAT_SECONDS) if heartbeat else None
    _running.add(job_id)
    try:
        if beating:
            beating.__enter__()
        try:
            result = function(job, Progress(job, worker))
        finally:
            _running.discard(job_id)
            if beating:
                beating.__exit__(None, None, None)
    except JobError as error:
        return _finish(job, worker, Status.FAILED, error=str(error) or "The job failed.")
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        return _finish(job, worker, Status.FAILED, error=GENERIC_ERROR)
    if result is None:
        result = {}
    if not isinstance(result, dict):
        logger.error("job kind %s returned %r, not a dict", job.kind, type(result))
        return _finish(job, worker, Status.FAILED, error=GENERIC_ERROR)
    try:
        return _finish(job, worker, Status.SUCCEEDED, result=result)
    except (TypeError, ValueError):
        logger.exception("job %s (%s): its result is not JSON", job.pk, job.kind)
        return _finish(job, worker, Status.FAILED, error=GENERIC_ERROR)


def _finish(job: Job, worker: str, status: str, *, error: str = "", result=None) -> Job:
    fields = {
        "status": status,
        "error": error,
        "result": result,
        "finished_at": timezone.now(),
        "worker": "",
    }
    if status == Status.SUCCEEDED:
        fields["progress"] = 1.0
    mine = Job.objects.filter(pk=job.pk, status=Status.RUNNING, worker=worker)
    updated = _while_locked(lambda: mine.update(**fields))
    if updated:
        for name, value in fields.items():
            setattr(job, name, value)
    else:
        job.refresh_from_db()
    return job


#: How long the outcome's write waits out a locked SQLite table (seconds, in small steps).
LOCKED_WAIT = 5.0


def _while_locked(write: Callable[[], int]) -> int:
    """``write()``, tried again while SQLite answers that the table is locked (a reader of the
    job's row in another connection of the process: SQLite's shared cache waits for nobody),
    for up to ``LOCKED_WAIT`` seconds; a job's outcome is worth the wait."""
    from django_tasks_db.utils import is_locked_database_exception

    deadline = time.monotonic() + LOCKED_WAIT
    while True:
        try:
            return write()
        except OperationalError as error:
            if not is_locked_database_exception(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def enqueue(job: Job) -> None:
    """Hand the job to the task queue. On the database backend the task row is written in
    the caller's transaction, so that the job and its task are committed (or not) together;
    once committed, idle workers are woken (PostgreSQL's NOTIFY reaches every worker process,
    this process's embedded worker is woken directly)."""
    from core.jobs import tasks, worker

    tasks.run_job.enqueue(job.pk)
    if connection.vendor == "postgresql":
        # Delivered when the transaction commits: idle workers everywhere poll at once.
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {worker.NOTIFY_CHANNEL}")
    transaction.on_commit(worker.wake)


def start(
    kind: str, *, organization, user=None, params: dict | None = None, subject: str = ""
) -> Job:
    """Create a queued job of ``kind`` in the caller's transaction and enqueue it.
    ``subject`` (``"bms_file:12"``) names what it works on: the latest job of a subject is kept
    when finished jobs are pruned (``JOBS_RETENTION_DAYS``)."""
    if kind_function(kind) is None:
        raise LookupError(f"no job kind {kind!r} is registered")
    user = user if user is not None and getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            organization=organization,
            user=user,
            params=params or {},
            subject=subject,
            max_attempts=settings.JOBS_MAX_ATTEMPTS,
        )
        enqueue(job)
    return job


def stale_cutoff():
    return timezone.now() - timedelta(seconds=settings.JOBS_HEARTBEAT_TIMEOUT)


def retry(job: Job) -> Job:
    """Queue a failed job again, unless its kind refuses (``register(retry_refusal=...)``).
    Its attempts are kept; it may again be requeued up to JOBS_MAX_ATTEMPTS times if its
    worker stops. (A running job whose worker stopped is the reaper's, not a retry's.)"""
    retryable = Job.objects.filter(pk=job.pk, status=Status.FAILED)
    with transaction.atomic():
        refusal = retry_refusal(job)
        if refusal:
            raise JobStateError(refusal)
        updated = retryable.update(
            status=Status.QUEUED,
            worker="",
            progress=0.0,
            error="",
            result=None,
            finished_at=None,
            max_attempts=F("attempts") + settings.JOBS_MAX_ATTEMPTS,
        )
        if not updated:
            job.refresh_from_db()
            raise JobStateError(f"Only a failed job can be retried; this one is {job.status}.")
        enqueue(job)
    job.refresh_from_db()
    return job


def reap() -> list[int]:
    """Requeue the running jobs whose worker stopped beating (fail them once their attempts
    are spent). Returns the ids of the jobs requeued or failed."""
    cutoff = stale_cutoff()
    timeout = settings.JOBS_HEARTBEAT_TIMEOUT
    handled = []
    stale = Job.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).exclude(
        pk__in=list(_running)
    )
    for pk, attempts, max_attempts in stale.values_list("pk", "attempts", "max_attempts"):
        same = Job.objects.filter(pk=pk, status=Status.RUNNING, heartbeat_at__lt=cutoff)
        if attempts < max_attempts:
            with transaction.atomic():
                if same.update(status=Status.QUEUED, worker="", progress=0.0):
                    enqueue(Job(pk=pk))
                    handled.append(pk)
                    logger.warning("job %s: its worker stopped, queued again", pk)
        elif same.update(
            status=Status.FAILED,
            worker="",
            finished_at=timezone.now(),
            error=(
                f"The worker running the job stopped (no sign of life for {timeout} s) "
                f"on each of its {attempts} attempts."
            ),
        ):
            handled.append(pk)
            logger.warning("job %s: its worker stopped, attempts spent, failed", pk)
    return handled


def requeue_lost() -> list[int]:
    """Enqueue again the queued jobs that no task in the queue carries (their task failed
    before the job was claimed, or was pruned); returns their ids. A duplicate task is
    harmless: only one run can claim a queued job."""
    from django_tasks_db.models import DBTaskResult

    from core.jobs import tasks

    waiting = set()
    ready = DBTaskResult.objects.ready().filter(task_path=tasks.run_job.module_path)
    for args_kwargs in ready.values_list("args_kwargs", flat=True).iterator():
        waiting.update(args_kwargs.get("args") or [])
    old = Job.objects.filter(status=Status.QUEUED, created_at__lt=stale_cutoff())
    lost = [pk for pk in old.values_list("pk", flat=True).iterator() if pk not in waiting]
    for pk in lost:
        enqueue(Job(pk=pk))
        logger.warning("job %s: queued without a task, enqueued again", pk)
    return lost


def run_queued(*, kind: str | None = None) -> list[Job]:
    """Run every queued job now, in this thread, until none is left (jobs that queue jobs
    included); returns them with their outcome. For tests and management commands."""
    ran = []
    seen: set[int] = set()
    while True:
        queued = Job.objects.filter(status=Status.QUEUED).exclude(pk__in=seen)
        if kind is not None:
            queued = queued.filter(kind=kind)
        pks = list(queued.order_by("created_at", "id").values_list("pk", flat=True))
        if not pks:
            return ran
        for pk in pks:
            seen.add(pk)
            job = execute(pk, heartbeat=False)
            if job is not None:
                ran.append(job)

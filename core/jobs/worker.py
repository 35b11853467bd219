"""Workers: the loop that takes tasks from the queue (django-tasks-db's worker), and the
housekeeping beside it (the reaper of jobs whose worker stopped, the periodic functions).

``manage.py jobs_worker`` runs both in a worker process (``JOBS_WORKER=external``). With
``JOBS_WORKER=embedded`` (the default) each server process starts them as daemon threads the
first time it serves a request, so that jobs complete with nothing else running; a job that
was running when its server process stopped is taken up again by the reaper of the next
process to serve.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from core.jobs.models import Job, JobLease
from core.jobs.registry import Periodic, periodic_functions, register_periodic
from core.jobs.runner import Beat, reap, requeue_lost, worker_id

logger = logging.getLogger("core.jobs")

#: PostgreSQL channel on which committed jobs wake idle workers.
NOTIFY_CHANNEL = "core_jobs"


class TaskWorker(DBWorker):
    """django-tasks-db's worker (its claim and run of a task), polling the queue every
    ``JOBS_POLL_SECONDS`` when idle or at once when ``woken`` is set."""

    def __init__(self, *, interval: float, worker: str) -> None:
        super().__init__(
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            interval=0,
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker[-64:],
            excluded_queue_names=[],
        )
        self.poll_interval = interval
        self.woken = threading.Event()

    def claim(self):
        """The next ready task, claimed for this worker (skip-locked on PostgreSQL, an
        exclusive transaction on SQLite), or None."""
        tasks = DBTaskResult.objects.ready().filter(
            backend_name=self.backend_name, queue_name__in=self.queue_names
        )
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None
            raise

    def run(self) -> None:
        """django-tasks-db's loop, waiting on an event between empty polls rather than
        sleeping, so that a committed job starts at once and an idle worker polls rarely."""
        while self.running:
            task_result = None
            try:
                close_old_connections()
                task_result = self.claim()
                if task_result is not None:
                    self.run_task(task_result)
                close_old_connections()
            except Exception:
                # The database went away or refused us (a restart, a failover): the loop lives
                # on and polls again, rather than leaving jobs queued forever. A task claimed
                # before the failure is the reaper's once its heartbeat stops.
                logger.exception("jobs worker %s: polling the queue failed", self.worker_id)
                connection.close()
                task_result = None
            if self.running and task_result is None:
                self.woken.wait(self.poll_interval)
                self.woken.clear()

    def stop(self) -> None:
        self.running = False
        self.woken.set()

    def listen(self) -> None:
        """On PostgreSQL: wake the loop as soon as a job is committed anywhere (``NOTIFY`` in
        the enqueuing transaction), so that an idle worker starts it at once rather than at
        its next poll. Runs in its own thread and connection until the worker stops."""
        if connection.vendor != "postgresql":
            return
        import psycopg

        params = connection.get_connection_params()
        while self.running:
            try:
                with psycopg.connect(**params, autocommit=True) as listener:
                    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while self.running:
                        for _ in listener.notifies(timeout=1.0, stop_after=1):
                            self.woken.set()
            except psycopg.Error:
                logger.warning("jobs listener lost its connection; polling meanwhile")
                self.woken.wait(self.poll_interval)


class Housekeeper:
    """Every ``JOBS_HEARTBEAT_SECONDS``: requeue jobs whose worker stopped, and run the
    periodic functions that are due and that no other worker holds."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.stopped = threading.Event()

    def tick(self) -> None:
        try:
            reap()
        except Exception:
            logger.exception("reaping stopped jobs failed")
        for periodic in periodic_functions():
            try:
                run_periodic(periodic, self.worker)
            except Exception:
                logger.exception("periodic %s failed", periodic.name)

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    close_old_connections()
                    self.tick()
                    close_old_connections()
                except Exception:
                    logger.exception("jobs housekeeping %s failed", self.worker)
                    connection.close()
                self.stopped.wait(settings.JOBS_HEARTBEAT_SECONDS)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


def run_periodic(periodic: Periodic, worker: str) -> bool:
    """Run ``periodic`` if it is due and this worker wins its lease; whether it ran.

    The lease is one conditional update of its row, so exactly one worker wins it; the holder
    renews it while the function runs, and a holder that dies loses it after
    ``JOBS_HEARTBEAT_TIMEOUT`` seconds."""
    now = timezone.now()
    timeout = timedelta(seconds=settings.JOBS_HEARTBEAT_TIMEOUT)
    free = JobLease.objects.filter(name=periodic.name, next_run_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    won = free.update(holder=worker, lease_until=now + timeout, last_started_at=now)
    if not won and not JobLease.objects.filter(name=periodic.name).exists():
        # The first time anywhere: create the row (one worker's insert wins), then compete.
        JobLease.objects.bulk_create(
            [JobLease(name=periodic.name, next_run_at=now)], ignore_conflicts=True
        )
        won = free.update(holder=worker, lease_until=now + timeout, last_started_at=now)
    if not won:
        return False
    mine = JobLease.objects.filter(name=periodic.name, holder=worker)

    def renew() -> None:
        mine.update(lease_until=timezone.now() + timeout)

    try:
        with Beat(renew, settings.JOBS_HEARTBEAT_SECONDS):
            periodic.function()
    finally:
        finished = timezone.now()
        mine.update(
            lease_until=None,
            holder="",
            last_finished_at=finished,
            next_run_at=finished + timedelta(seconds=periodic.every),
        )
    return True


def prune_task_results() -> int:
    """Delete the queue's finished task rows older than a day (the job rows keep the state);
    returns how many went."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def prune_jobs() -> int:
    """Delete finished jobs that finished more than ``JOBS_RETENTION_DAYS`` days ago (0: keep
    every job), except the latest job of each subject (a file's last decoding, a test's last
    analysis: what the API and the pages show); returns how many went. In batches, so that no
    delete holds the table long."""
    days = settings.JOBS_RETENTION_DAYS
    if days <= 0:
        return 0
    newer = Job.objects.filter(
        kind=OuterRef("kind"),
        organization=OuterRef("organization"),
        subject=OuterRef("subject"),
        created_at__gt=OuterRef("created_at"),
    )
    old = Job.objects.filter(
        status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED],
        finished_at__lt=timezone.now() - timedelta(days=days),
    ).filter(Q(subject="") | Exists(newer))
    deleted = 0
    while batch := list(old.values_list("pk", flat=True)[:PRUNE_BATCH]):
        deleted += Job.objects.filter(pk__in=batch).delete()[1].get(Job._meta.label, 0)
    return deleted


#: Jobs deleted per statement by :func:`prune_jobs`.
PRUNE_BATCH = 1000

register_periodic("core.prune_task_results", every=3600, function=prune_task_results)
register_periodic("core.prune_jobs", every=3600, function=prune_jobs)
register_periodic("core.requeue_lost_jobs", every=60, function=requeue_lost)


class Embedded:
    """The worker and housekeeping threads of one server process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        ident = worker_id("embedded")
        self.tasks = TaskWorker(interval=settings.JOBS_POLL_SECONDS, worker=ident)
        self.housekeeper = Housekeeper(ident)
        self.threads = [
            threading.Thread(target=self._run_tasks, name="jobs-worker", daemon=True),
            threading.Thread(target=self.tasks.listen, name="jobs-listener", daemon=True),
            threading.Thread(target=self.housekeeper.run, name="jobs-housekeeping", daemon=True),
        ]

    def _run_tasks(self) -> None:
        try:
            self.tasks.run()
        finally:
            connection.close()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        logger.info("embedded jobs worker started in process %s", self.pid)

    def alive(self) -> bool:
        """Whether this is the current process's worker and its queue loop still runs."""
        return self.pid == os.getpid() and self.threads[0].is_alive()

    def stop(self) -> None:
        self.tasks.stop()
        self.housekeeper.stop()
        for thread in self.threads:
            thread.join()


_lock = threading.Lock()
_embedded: Embedded | None = None
#: Set by ``jobs_worker``: a worker process never starts an embedded worker of its own.
in_worker_process = False


def ensure_embedded(**_kwargs) -> Embedded | None:
    """Start this process's embedded worker once (again after a fork, or if its loop has
    stopped), if JOBS_WORKER is ``embedded``. Connected to ``request_started``."""
    global _embedded
    if settings.JOBS_WORKER != "embedded" or in_worker_process:
        return None
    if _embedded is not None and _embedded.alive():
        return _embedded
    with _lock:
        if _embedded is None or not _embedded.alive():
            if _embedded is not None and _embedded.pid == os.getpid():
                logger.error(
                    "the embedded jobs worker of process %s stopped; starting it again",
                    _embedded.pid,
                )
                _embedded.stop()
            _embedded = Embedded()
            _embedded.start()
    return _embedded


def connect_embedded() -> None:
    """Start the embedded worker with the first request a process serves (management
    commands other than the server start none)."""
    from django.core.signals import request_started

    request_started.connect(ensure_embedded, dispatch_uid="core.jobs.embedded")


def stop_embedded() -> None:
    """Stop this process's embedded worker (tests)."""
    global _embedded
    with _lock:
        if _embedded is not None and _embedded.pid == os.getpid():
            _embedded.stop()
        _embedded = None


def wake() -> None:
    """A job was committed: this process's embedded worker, if it runs, polls now. (Scripts
    and management commands that start jobs leave them to the servers' or workers' loops.)"""
    embedded = _embedded
    if embedded is not None and embedded.pid == os.getpid():
        embedded.tasks.woken.set()

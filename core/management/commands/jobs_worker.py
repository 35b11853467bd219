"""``manage.py jobs_worker``: a worker process for background jobs (``JOBS_WORKER=external``).

It takes jobs from the queue one at a time (django-tasks-db's claim: skip-locked on
PostgreSQL, so any number of workers on any number of machines share the queue; on
PostgreSQL a committed job wakes idle workers at once through LISTEN/NOTIFY), beats each
running job's heartbeat, and in a second thread requeues jobs whose worker stopped and runs
the periodic functions that are due (each on one worker at a time). SIGTERM or SIGINT stops
it after the current job; a second one stops it at once (the job is then requeued by another
worker's reaper after ``JOBS_HEARTBEAT_TIMEOUT``).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from core.jobs import worker as jobs_worker
from core.jobs.runner import worker_id as default_worker_id


class Command(BaseCommand):
    help = "Run background jobs: the queue, the reaper of stopped workers' jobs, periodics."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--worker-id",
            default="",
            help="Unique name of this worker in the pool (default: host, process id).",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="Seconds between polls of an idle queue (default JOBS_POLL_SECONDS).",
        )

    def handle(self, *args, worker_id: str = "", poll: float | None = None, **options) -> None:
        jobs_worker.in_worker_process = True
        logger = logging.getLogger("core.jobs")
        if options["verbosity"] > 0 and not logger.hasHandlers():
            logger.addHandler(logging.StreamHandler(self.stderr))
            logger.setLevel(logging.INFO)
        ident = worker_id or default_worker_id("worker")
        housekeeper = jobs_worker.Housekeeper(ident)
        threading.Thread(target=housekeeper.run, name="jobs-housekeeping", daemon=True).start()
        tasks = jobs_worker.TaskWorker(
            interval=settings.JOBS_POLL_SECONDS if poll is None else poll, worker=ident
        )
        threading.Thread(target=tasks.listen, name="jobs-listener", daemon=True).start()
        tasks.configure_signals()
        self.stderr.write(f"jobs worker {ident} started")
        try:
            tasks.run()
        finally:
            housekeeper.stop()

"""Background jobs: long work runs in a worker, its state (status, progress, result or
error) in a ``Job`` row that the API and the pages read.

Registering a kind (at import time of the app's module that ``AppConfig.ready`` imports)::

    from core import jobs

    @jobs.register("batterydb.eis_analysis")
    def analyse(job: jobs.Job, progress) -> dict:
        progress(0.3)                      # written at once; never inside transaction.atomic
        if bad:
            raise jobs.JobError("the sweep has fewer than 5 points")   # failed, shown as is
        with transaction.atomic():         # the kind's writes: one transaction, idempotent
            ...
        return {"rows": 10}                # job.result; succeeded, progress 1

Starting and retrying::

    job = jobs.start("batterydb.eis_analysis", organization=org, user=user, params={...})
    jobs.retry(job)                        # a failed job queued again (JobStateError if not)
    job.as_dict()

Periodic functions run on one worker at a time, about every ``every`` seconds::

    jobs.register_periodic("batterydb.reanalyse_stale", every=60, function=fn)

Statuses: queued, running, succeeded, failed. An exception other than ``JobError`` fails the
job with a generic message (logged with its traceback). A job whose worker stopped (no
heartbeat for ``JOBS_HEARTBEAT_TIMEOUT`` s) is queued again while its attempts are below
``JOBS_MAX_ATTEMPTS``, else failed saying so. Kinds write in one transaction, so a killed run
leaves nothing, and are idempotent, so a retried run replaces what an earlier one wrote.

Tests run queued jobs in the test's thread with the ``run_jobs`` fixture
(``tests/conftest.py``), which calls ``jobs.run_queued()``.
"""

from core.jobs.models import Job
from core.jobs.registry import kinds, register, register_periodic
from core.jobs.runner import JobError, JobStateError, retry, run_queued, start

__all__ = [
    "Job",
    "JobError",
    "JobStateError",
    "kinds",
    "register",
    "register_periodic",
    "retry",
    "run_queued",
    "start",
]

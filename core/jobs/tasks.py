"""The one django-tasks task: run a job by id. The task queue (django-tasks' backend, the
database one by default) carries job ids to workers; the job row holds the state."""

from __future__ import annotations

from django_tasks import task


@task()
def run_job(job_id: int) -> None:
    from core.jobs.runner import execute

    execute(job_id)

"""The job table (status, progress, result or error of one piece of background work) and the
lease table that lets one worker at a time run each periodic function."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One run of a registered job kind for an organization.

    The row is the job's state for the API and the pages; the queue that carries it to a
    worker is django-tasks' (``core.jobs.tasks``). A worker claims a queued job by moving it to
    ``running`` in one conditional update, beats ``heartbeat_at`` while the kind runs, and
    writes the outcome; the reaper requeues (or fails) a running job whose heartbeat stopped.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="jobs",
        help_text="The organization whose data the job works on; its members see the job.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        help_text="Who started the job (empty for jobs started by the platform).",
    )
    kind = models.CharField(
        max_length=100, help_text="The registered job kind, such as batterydb.eis_analysis."
    )
    params = models.JSONField(default=dict, blank=True, help_text="The kind's parameters.")
    subject = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text=(
            "What the job works on, as noun:id (bms_file:12): the latest job of each subject is "
            "found by an index and kept when old jobs are pruned."
        ),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, help_text="Job state."
    )
    progress = models.FloatField(default=0.0, help_text="Fraction done, from 0 to 1.")
    error = models.TextField(blank=True, default="", help_text="Why the job failed.")
    result = models.JSONField(null=True, blank=True, help_text="What the kind returned.")
    attempts = models.PositiveIntegerField(default=0, help_text="Runs started so far.")
    max_attempts = models.PositiveIntegerField(
        default=3,
        help_text=(
            "Runs allowed before a job whose worker stopped is failed rather than requeued "
            "(raised by a manual retry)."
        ),
    )
    worker = models.CharField(
        max_length=200, blank=True, default="", help_text="The worker running the job."
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker running the job."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="core_job_org_created_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="core_job_status_beat_idx"),
            models.Index(fields=["kind", "status"], name="core_job_kind_status_idx"),
            models.Index(
                fields=["kind", "organization", "subject", "-created_at"],
                name="core_job_subject_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                name="core_job_progress_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def as_dict(self) -> dict:
        """The job's public state, as the API answers it."""
        return {
            "id": self.pk,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "error": self.error,
            "result": self.result,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


class JobLease(models.Model):
    """When a periodic function runs next, and which worker holds it while it runs."""

    name = models.CharField(max_length=100, primary_key=True, help_text="The periodic name.")
    next_run_at = models.DateTimeField(help_text="Not run again before this time.")
    holder = models.CharField(max_length=200, blank=True, default="", help_text="Worker id.")
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="The holder's claim lapses at this time."
    )
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

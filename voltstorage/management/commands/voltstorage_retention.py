"""``manage.py voltstorage_retention``: drop raw samples older than the retention.

Keeps ``VOLTSTORAGE_RAW_RETENTION_DAYS`` days of raw samples (``--days`` overrides; 0 keeps
everything). On PostgreSQL whole daily partitions go (detached concurrently, then dropped);
elsewhere the old rows are deleted. The rollups, and so the statistics, stay. Run by the
``retention`` service of ``docker-compose.yml`` once a day; safe to run at any time.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from voltstorage import partitions
from voltstorage.models import Sample


def retention_apply(*, days: int, today: dt.date | None = None) -> tuple[dt.date | None, list[str]]:
    """Drop the raw samples of days before ``today - days`` (UTC); returns the first day kept
    and what went (partition names, or the number of rows deleted)."""
    if days <= 0:
        return None, []
    today = today or dt.datetime.now(dt.UTC).date()
    first_kept = today - dt.timedelta(days=days)
    if partitions.partitioned():
        return first_kept, partitions.drop_partitions_before(first_kept)
    cutoff = dt.datetime.combine(first_kept, dt.time(0), tzinfo=dt.UTC)
    deleted, _ = Sample.objects.filter(time__lt=cutoff).delete()
    return first_kept, [f"{deleted} rows"] if deleted else []


class Command(BaseCommand):
    help = "Drop raw VoltStorage samples older than VOLTSTORAGE_RAW_RETENTION_DAYS (rollups stay)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Days of raw samples to keep (default: VOLTSTORAGE_RAW_RETENTION_DAYS).",
        )

    def handle(self, *args, **options):
        days = options["days"]
        if days is None:
            days = settings.VOLTSTORAGE_RAW_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be 0 (keep everything) or more.")
        first_kept, dropped = retention_apply(days=days)
        if first_kept is None:
            self.stdout.write("Raw samples are kept forever (retention 0): nothing to drop.")
            return
        what = ", ".join(dropped) if dropped else "nothing"
        self.stdout.write(f"Raw samples before {first_kept} dropped: {what}.")

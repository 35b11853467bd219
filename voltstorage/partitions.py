"""Partitions of the raw series on PostgreSQL: one per UTC day, made on demand, dropped whole.

``voltstorage_sample`` is partitioned by range of ``time`` (migration ``0001_initial``). A day's
partition ``voltstorage_sample_pYYYYMMDD`` is made the first time a write needs it (devices
backfill, the simulator writes into the past), together with the next day's, so that data
arriving after midnight finds its partition made already. No write ever fails for want of one.

A partition is made in two steps that never block readers and writers of the other partitions:
``CREATE TABLE ... (LIKE voltstorage_sample INCLUDING ALL)`` (a table of its own, with the
primary key and its fillfactor), then ``ALTER TABLE ... ATTACH PARTITION``, which takes only a
``SHARE UPDATE EXCLUSIVE`` lock on the parent (``CREATE TABLE ... PARTITION OF`` would take an
``ACCESS EXCLUSIVE`` one, queueing every query behind a running export). Two processes making
the same partition at once: the loser finds it made and goes on.

Retention drops whole partitions (``DETACH PARTITION ... CONCURRENTLY`` then ``DROP TABLE``):
old raw data goes without a row-by-row ``DELETE``, and the rollups stay. Elsewhere (SQLite) the
table is one plain table: nothing to make, and retention deletes rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

PARENT = "voltstorage_sample"
_NAME = re.compile(rf"^{PARENT}_p(\d{{8}})$")

# Partitions known to exist, per database alias, in this process.
_known: dict[str, set[dt.date]] = {}
_lock = threading.Lock()


def partition_name(day: dt.date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def partitioned(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the raw series is partitioned on this database (PostgreSQL)."""
    return connections[using].vendor == "postgresql"


def days_of(epoch_ms: Iterable[int]) -> set[dt.date]:
    """The UTC days of instants given in milliseconds since the epoch."""
    return {dt.date(1970, 1, 1) + dt.timedelta(days=ms // 86_400_000) for ms in epoch_ms}


def existing_partitions(using: str = DEFAULT_DB_ALIAS) -> dict[dt.date, str]:
    """The attached partitions of the raw series, by day."""
    if not partitioned(using):
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            found[dt.datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return found


def ensure_partitions(days: Iterable[dt.date], using: str = DEFAULT_DB_ALIAS) -> list[dt.date]:
    """Make the partitions of ``days`` (and of the day after each) that do not exist yet;
    returns the days made. Cheap when they exist: known partitions are remembered."""
    if not partitioned(using):
        return []
    wanted = {day + dt.timedelta(days=offset) for day in days for offset in (0, 1)}
    with _lock:
        known = _known.setdefault(using, set())
        missing = wanted - known
    if not missing:
        return []
    existing = existing_partitions(using)
    made = []
    for day in sorted(missing - set(existing)):
        if _make_partition(day, using):
            made.append(day)

    def remember() -> None:
        with _lock:
            _known.setdefault(using, set()).update(missing)

    # Inside a transaction the partitions exist only once it commits.
    transaction.on_commit(remember, using=using)
    return made


def forget_partitions(using: str | None = None) -> None:
    """Forget which partitions exist (after they were dropped, or a test's database went)."""
    with _lock:
        if using is None:
            _known.clear()
        else:
            _known.pop(using, None)


def _make_partition(day: dt.date, using: str) -> bool:
    connection = connections[using]
    quote = connection.ops.quote_name
    name = partition_name(day)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {quote(name)} (LIKE {quote(PARENT)} INCLUDING ALL)"
            )
            cursor.execute(
                f"ALTER TABLE {quote(PARENT)} ATTACH PARTITION {quote(name)} "
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
    except DatabaseError as exc:
        if day in existing_partitions(using):
            return False  # another process made it first
        raise DatabaseError(f"Cannot make the partition {name}: {exc}") from exc
    logger.info("Made the raw series partition %s", name)
    return True


def drop_partitions_before(day: dt.date, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Drop every partition whose whole day lies before ``day``; returns their names.

    Outside a transaction the partition is detached ``CONCURRENTLY`` (no lock that blocks the
    other partitions' readers and writers); inside one, plainly."""
    connection = connections[using]
    quote = connection.ops.quote_name
    dropped = []
    for partition_day, name in sorted(existing_partitions(using).items()):
        if partition_day >= day:
            continue
        concurrently = " CONCURRENTLY" if connection.get_autocommit() else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {quote(PARENT)} DETACH PARTITION {quote(name)}{concurrently}"
            )
            cursor.execute(f"DROP TABLE {quote(name)}")
        dropped.append(name)
    with _lock:
        _known.pop(using, None)
    return dropped

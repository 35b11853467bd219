"""Bulk writes of EIS data points and BMS results: all rows of a batch or none.

The rows arrive validated (``batterydb.validators``) as ``(test, key, parameter, value)``,
with the organization of each test (a row belongs to its test's organization). Every write
runs in one ``transaction.atomic`` block and takes the fastest path the database offers:

* no ids wanted (``Prefer: return=minimal``): ``core.copy``, a binary ``COPY ... FROM
  STDIN`` on PostgreSQL (one ``executemany`` INSERT elsewhere);
* ids wanted: ``bulk_create``, which returns the ids on PostgreSQL and SQLite.

A point is unique per test (``(test, frequency, parameter)``, ``(bms_test, timestamp,
parameter)``). Nothing is looked up before the insert: the database's unique indexes decide,
and only when they refuse the batch are the points looked up, within the batch and then among
the stored rows, to name them in :class:`DuplicatePoints`. With ``replace=True`` the stored
points the batch repeats get the new values in place (their ids are kept) and the others are
inserted, in the same transaction; a concurrent writer creating one of those points in
between makes the write start again (up to three times).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model, Q

from batterydb.models import BMSResult, EISData
from batterydb.services.analysis import eis_analyses_mark_stale
from core.copy import copy_rows

# Rows as validated: (test_id, frequency or timestamp, parameter, value).
EISRow = tuple[int, float | None, str, float]
BMSRow = tuple[int, dt.datetime, str, float]

REPLACE_ATTEMPTS = 3
_LOOKUP_CHUNK = 200


class DuplicatePoints(Exception):
    """The batch repeats points, stored ones or its own; nothing was written.

    ``stored`` are the positions in the batch of rows whose point is already stored;
    ``repeated`` maps the position of each row repeating an earlier row of the batch to the
    position of that earlier row."""

    def __init__(self, *, stored: list[int] | None = None, repeated: dict[int, int] | None = None):
        self.stored = stored or []
        self.repeated = repeated or {}
        super().__init__(
            f"{len(self.stored)} rows repeat stored points, "
            f"{len(self.repeated)} repeat rows of the batch."
        )


class ConcurrentChange(Exception):
    """The database refused the batch for a reason other than a duplicate point, such as a
    test deleted while the batch was being written; nothing was written."""


@dataclass(frozen=True)
class IngestResult:
    created: int
    replaced: int
    ids: list[int] | None  # one per row, in batch order, when asked for


# --- tables -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Table:
    model: type[Model]
    test_column: str  # "test_id" or "bms_test_id"
    key_column: str  # "frequency" or "timestamp": the middle part of the unique point
    key_type: str  # its PostgreSQL type

    @property
    def columns(self) -> tuple[str, ...]:
        return ("organization_id", self.test_column, self.key_column, "parameter", "value")

    @property
    def copy_columns(self) -> tuple[tuple[str, str], ...]:
        """The columns with their PostgreSQL types, for ``core.copy``."""
        types = ("int8", "int8", self.key_type, "text", "float8")
        return tuple(zip(self.columns, types, strict=True))


EIS_TABLE = _Table(EISData, "test_id", "frequency", "float8")
BMS_TABLE = _Table(BMSResult, "bms_test_id", "timestamp", "timestamptz")


# --- services -----------------------------------------------------------------------------------
def eis_data_ingest(
    *,
    rows: Sequence[EISRow],
    organization_of: Mapping[int, int],
    replace: bool,
    returning: bool,
) -> IngestResult:
    """Write EIS data points in one transaction.

    ``rows`` are validated ``(test_id, frequency, parameter, value)``; ``organization_of``
    maps each test to its organization, which every row gets. Raises
    :class:`DuplicatePoints` if points are repeated within the batch, or already stored and
    ``replace`` is false. ``returning`` asks for the ids. The tests' analyses are marked
    stale in the same transaction."""
    return _ingest(
        EIS_TABLE,
        rows,
        organization_of,
        replace=replace,
        returning=returning,
        written=lambda using: eis_analyses_mark_stale(test_ids=organization_of, using=using),
    )


def bms_results_ingest(
    *,
    rows: Sequence[BMSRow],
    organization_of: Mapping[int, int],
    replace: bool,
    returning: bool,
) -> IngestResult:
    """Write BMS results in one transaction; as :func:`eis_data_ingest` with rows
    ``(bms_test_id, timestamp, parameter, value)``, timestamps aware."""
    return _ingest(BMS_TABLE, rows, organization_of, replace=replace, returning=returning)


def repeated_points(rows: Sequence[tuple]) -> dict[int, int]:
    """``{position: earlier position}`` for rows repeating an earlier row's point."""
    first: dict[tuple, int] = {}
    repeated: dict[int, int] = {}
    for index, (test, key, parameter, _) in enumerate(rows):
        earlier = first.setdefault((test, key, parameter), index)
        if earlier != index:
            repeated[index] = earlier
    return repeated


def _point(row: tuple) -> tuple:
    return (row[0], row[1], row[2])


def _ingest(
    table: _Table,
    rows: Sequence[tuple],
    organization_of: Mapping[int, int],
    *,
    replace: bool,
    returning: bool,
    written: Callable[[str], object] | None = None,
) -> IngestResult:
    using = router.db_for_write(table.model)
    if replace and (repeated := repeated_points(rows)):
        # Two rows for one stored point would both "replace" it: refuse up front.
        raise DuplicatePoints(repeated=repeated)
    attempts = REPLACE_ATTEMPTS if replace else 1
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                stored = _stored_points(table, rows, using) if replace else {}
                if stored:
                    _update_values(table, rows, stored, using)
                    new_rows = [row for row in rows if _point(row) not in stored]
                else:
                    new_rows = rows
                new_ids = _insert(table, new_rows, organization_of, returning, using)
                if written is not None:
                    written(using)
        except IntegrityError as exc:
            if not _is_unique_violation(exc):
                # A foreign key: a test deleted while the batch was written.
                raise ConcurrentChange(str(exc)) from exc
            if repeated := repeated_points(rows):
                raise DuplicatePoints(repeated=repeated) from exc
            if replace:
                if attempt < attempts:
                    continue  # another writer stored one of the points in between
                raise ConcurrentChange(str(exc)) from exc
            colliding = _stored_points(table, rows, using)
            if not colliding:
                raise ConcurrentChange(str(exc)) from exc
            raise DuplicatePoints(
                stored=[index for index, row in enumerate(rows) if _point(row) in colliding]
            ) from exc
        break
    ids = None
    if returning:
        fresh = iter(new_ids or [])
        ids = [stored[point] if (point := _point(row)) in stored else next(fresh) for row in rows]
    return IngestResult(created=len(new_rows), replaced=len(stored), ids=ids)


def _is_unique_violation(exc: IntegrityError) -> bool:
    """Whether the database refused a duplicate key (rather than a foreign key)."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == "23505"
    return "UNIQUE constraint failed" in str(exc)


# --- inserts ------------------------------------------------------------------------------------
def _insert(
    table: _Table,
    rows: Sequence[tuple],
    organization_of: Mapping[int, int],
    returning: bool,
    using: str,
) -> list[int] | None:
    if not rows:
        return [] if returning else None
    if returning:
        model, (org, test, key, *_) = table.model, table.columns
        objects = [
            model(
                **{org: organization_of[row[0]], test: row[0], key: row[1]},
                parameter=row[2],
                value=row[3],
            )
            for row in rows
        ]
        model.objects.using(using).bulk_create(objects)
        return [obj.pk for obj in objects]
    copy_rows(
        table=table.model._meta.db_table,
        columns=table.copy_columns,
        rows=((organization_of[t], t, k, p, v) for t, k, p, v in rows),
        using=using,
    )
    return None


# --- replacing stored points ----------------------------------------------------------------
def _update_values(
    table: _Table, rows: Sequence[tuple], stored: dict[tuple, int], using: str
) -> None:
    connection = connections[using]
    quote = connection.ops.quote_name
    db_table = quote(table.model._meta.db_table)
    pairs = [(row[3], stored[point]) for row in rows if (point := _point(row)) in stored]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {db_table} AS t SET value = v.value "
                "FROM unnest(%s::float8[], %s::bigint[]) AS v(value, id) WHERE t.id = v.id",
                [[value for value, _ in pairs], [pk for _, pk in pairs]],
            )
        else:
            cursor.executemany(f"UPDATE {db_table} SET value = %s WHERE id = %s", pairs)


def _stored_points(table: _Table, rows: Sequence[tuple], using: str) -> dict[tuple, int]:
    """``{(test, key, parameter): id}`` for the batch's points that are already stored."""
    if not rows:
        return {}
    points = {_point(row) for row in rows}
    tests = sorted({row[0] for row in rows})
    parameters = sorted({row[2] for row in rows})
    keys = {row[1] for row in rows}
    narrow = Q()
    if len(parameters) <= _LOOKUP_CHUNK:
        narrow &= Q(parameter__in=parameters)
    if table.key_column == "timestamp":
        narrow &= Q(timestamp__gte=min(keys), timestamp__lte=max(keys))
    else:
        # Both arms spelled out so that PostgreSQL uses the two partial unique indexes.
        frequencies = [key for key in keys if key is not None]
        if len(frequencies) <= _LOOKUP_CHUNK:
            present = Q(frequency__in=frequencies) if frequencies else Q(pk__in=[])
        else:
            present = Q(frequency__isnull=False)
        narrow &= present | Q(frequency__isnull=True) if None in keys else present
    found: dict[tuple, int] = {}
    manager = table.model._base_manager.using(using)
    for start in range(0, len(tests), _LOOKUP_CHUNK):
        chunk = tests[start : start + _LOOKUP_CHUNK]
        queryset = manager.filter(narrow, **{f"{table.test_column}__in": chunk}).order_by()
        for pk, *point in queryset.values_list(
            "pk", table.test_column, table.key_column, "parameter"
        ).iterator(chunk_size=2000):
            point = tuple(point)
            if point in points:
                found[point] = pk
    return found

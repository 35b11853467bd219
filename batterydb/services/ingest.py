"""Bulk writes of EIS data points and BMS results: all rows of a batch or none.

The rows arrive validated (``batterydb.validators``) and carry their test's organization.
Every write runs in one ``transaction.atomic`` block and takes the fastest path the database
offers:

* PostgreSQL, no ids wanted (``Prefer: return=minimal``): binary ``COPY ... FROM STDIN`` via
  psycopg 3.
* ids wanted: ``bulk_create``, which returns the ids on PostgreSQL and SQLite.
* other databases, no ids wanted: one ``executemany`` INSERT.

A point is unique per test (``(test, frequency, parameter)``, ``(bms_test, timestamp,
parameter)``). Nothing is looked up before the insert: the database's unique index decides,
and only when it refuses the batch are the stored points that collide looked up, to name
them in :class:`DuplicatePoints`. With ``replace=True`` the stored points the batch repeats
get the new values in place (their ids are kept) and the others are inserted, in the same
transaction; a concurrent writer creating one of the points in between makes the write retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model, Q

from batterydb.models import BMSResult, EISData

# Rows as written: (organization_id, test_id, frequency or timestamp, parameter, value).
EISRow = tuple[int, int, float | None, str, float]
BMSRow = tuple[int, int, dt.datetime, str, float]

REPLACE_ATTEMPTS = 3
_LOOKUP_CHUNK = 200


class DuplicatePoints(Exception):
    """The batch repeats points already stored; nothing was written.

    ``indexes`` are the positions in the batch of the rows whose point is already stored."""

    def __init__(self, indexes: list[int]):
        super().__init__(f"{len(indexes)} rows repeat stored points.")
        self.indexes = indexes


class ConcurrentChange(Exception):
    """The database refused the batch for a reason other than a duplicate point, such as a
    test deleted while the batch was being written; nothing was written."""


@dataclass(frozen=True)
class IngestResult:
    created: int
    replaced: int
    ids: list[int] | None  # one per row, in batch order, when asked for


@dataclass(frozen=True)
class _Table:
    model: type[Model]
    test_column: str  # "test_id"
    key_column: str  # "frequency" or "timestamp"
    copy_types: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return ("organization_id", self.test_column, self.key_column, "parameter", "value")

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table


EIS_TABLE = _Table(
    model=EISData,
    test_column="test_id",
    key_column="frequency",
    copy_types=("int8", "int8", "float8", "text", "float8"),
)
BMS_TABLE = _Table(
    model=BMSResult,
    test_column="bms_test_id",
    key_column="timestamp",
    copy_types=("int8", "int8", "timestamptz", "text", "float8"),
)


def eis_data_ingest(*, rows: Sequence[EISRow], replace: bool, returning: bool) -> IngestResult:
    """Write EIS data points in one transaction.

    ``rows`` are ``(organization_id, test_id, frequency, parameter, value)``, validated, with
    no point twice. Raises :class:`DuplicatePoints` if some points are already stored and
    ``replace`` is false. ``returning`` asks for the ids."""
    return _ingest(EIS_TABLE, rows, replace=replace, returning=returning)


def bms_results_ingest(*, rows: Sequence[BMSRow], replace: bool, returning: bool) -> IngestResult:
    """Write BMS results in one transaction; as :func:`eis_data_ingest` with rows
    ``(organization_id, bms_test_id, timestamp, parameter, value)``, timestamps aware."""
    return _ingest(BMS_TABLE, rows, replace=replace, returning=returning)


def _point(row: tuple) -> tuple:
    return (row[1], row[2], row[3])


def _ingest(table: _Table, rows: Sequence[tuple], *, replace: bool, returning: bool):
    using = router.db_for_write(table.model)
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
                new_ids = _insert(table, new_rows, returning=returning, using=using)
        except IntegrityError as exc:
            colliding = _stored_points(table, rows, using)
            if not colliding:
                raise ConcurrentChange(str(exc)) from exc
            if replace and attempt < attempts:
                continue
            raise DuplicatePoints(
                [index for index, row in enumerate(rows) if _point(row) in colliding]
            ) from exc
        break
    ids = None
    if returning:
        fresh = iter(new_ids or [])
        ids = [stored[point] if (point := _point(row)) in stored else next(fresh) for row in rows]
    return IngestResult(created=len(new_rows), replaced=len(stored), ids=ids)


# --- inserts ------------------------------------------------------------------------------------
def _insert(
    table: _Table, rows: Sequence[tuple], *, returning: bool, using: str
) -> list[int] | None:
    if not rows:
        return [] if returning else None
    connection = connections[using]
    if returning:
        model = table.model
        names = table.columns
        objects = [model(**dict(zip(names, row, strict=True))) for row in rows]
        model.objects.using(using).bulk_create(objects)
        return [obj.pk for obj in objects]
    if connection.vendor == "postgresql":
        _copy_rows(table, rows, connection)
    else:
        _executemany_insert(table, rows, connection)
    return None


def _copy_rows(table: _Table, rows: Sequence[tuple], connection) -> None:
    """Binary COPY on the request's connection, inside the caller's transaction."""
    columns = ", ".join(connection.ops.quote_name(name) for name in table.columns)
    sql = f"COPY {connection.ops.quote_name(table.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.set_types(table.copy_types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def _executemany_insert(table: _Table, rows: Sequence[tuple], connection) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in table.columns)
    sql = (
        f"INSERT INTO {quote(table.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(table.columns))})"
    )
    if table.key_column == "timestamp":
        adapt = connection.ops.adapt_datetimefield_value
        rows = [(o, t, adapt(ts), p, v) for o, t, ts, p, v in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# --- replacing stored points ----------------------------------------------------------------
def _update_values(
    table: _Table, rows: Sequence[tuple], stored: dict[tuple, int], using: str
) -> None:
    connection = connections[using]
    quote = connection.ops.quote_name
    pairs = [(row[4], stored[point]) for row in rows if (point := _point(row)) in stored]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {quote(table.db_table)} AS t SET value = v.value "
                "FROM unnest(%s::float8[], %s::bigint[]) AS v(value, id) WHERE t.id = v.id",
                [[value for value, _ in pairs], [pk for _, pk in pairs]],
            )
        else:
            cursor.executemany(
                f"UPDATE {quote(table.db_table)} SET value = %s WHERE id = %s", pairs
            )


def _stored_points(table: _Table, rows: Sequence[tuple], using: str) -> dict[tuple, int]:
    """``{(test, key, parameter): id}`` for the batch's points that are already stored."""
    if not rows:
        return {}
    points = {_point(row) for row in rows}
    tests = sorted({row[1] for row in rows})
    parameters = sorted({row[3] for row in rows})
    keys = {row[2] for row in rows}
    narrow = Q()
    if len(parameters) <= _LOOKUP_CHUNK:
        narrow &= Q(parameter__in=parameters)
    if table.key_column == "timestamp":
        narrow &= Q(timestamp__gte=min(keys), timestamp__lte=max(keys))
    elif len(keys) <= _LOOKUP_CHUNK:
        frequencies = [key for key in keys if key is not None]
        condition = Q(frequency__in=frequencies) if frequencies else Q(pk__in=[])
        if None in keys:
            condition |= Q(frequency__isnull=True)
        narrow &= condition
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

"""Bulk inserts through PostgreSQL's binary ``COPY``: a table, its columns, rows in.

:func:`copy_rows` is the fastest way to put many rows into one table when their ids are not
needed back (for those, ``bulk_create``)::

    EIS_DATA_COLUMNS = (
        ("organization_id", "int8"),
        ("test_id", "int8"),
        ("frequency", "float8"),
        ("parameter", "text"),
        ("value", "float8"),
    )
    with transaction.atomic():
        copy_rows(table="batterydb_eisdata", columns=EIS_DATA_COLUMNS, rows=rows)

* On PostgreSQL the rows go in as one binary ``COPY ... FROM STDIN`` on the caller's
  connection. Each column names its PostgreSQL type (``int8``, ``float8``, ``text``,
  ``timestamptz``, ``bool``, ``jsonb``, ``uuid``, ``int8[]``...): binary COPY applies no casts,
  so the types tell psycopg how to encode each value, in C, as the rows are read. ``None`` is
  NULL. For 5,040-row batches this costs the client as much CPU as a stream encoded by hand
  with precompiled ``struct`` formats (``bench/bench_copy.py``), and it takes any column type.
* On other databases (SQLite, the default) the same rows go in through one ``executemany``
  INSERT, dates, times, JSON and UUIDs adapted as Django adapts them for that database.

Either way the write is all or nothing within the caller's transaction: it runs inside
``transaction.atomic(savepoint=False)``, like ``bulk_create``, so a refused row (a unique or
foreign key violation, a value the column cannot hold) raises Django's ``IntegrityError`` or
``DataError`` and leaves the surrounding transaction to be rolled back; a caller that wants to
recover and go on wraps the call in its own ``atomic()`` (a savepoint). Called outside any
transaction, the write is its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Sized
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import postgres

#: ``(column, PostgreSQL type)`` in the order of each row's values.
Columns = Sequence[tuple[str, str]]


def copy_rows(
    *,
    table: str,
    columns: Columns,
    rows: Iterable[Sequence[Any]],
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Insert ``rows`` (sequences of values in the order of ``columns``) into ``table``, all or
    none; returns how many. ``rows`` may be any iterable, read once, as it is written.

    Raises ``ValueError`` for a type PostgreSQL does not know (on every database, so that a
    typo shows up under SQLite too), and Django's database errors for rows the table
    refuses."""
    for name, pg_type in columns:
        try:
            postgres.types.get_oid(pg_type)
        except KeyError:
            raise ValueError(f"Column {name!r}: unknown PostgreSQL type {pg_type!r}.") from None
    if isinstance(rows, Sized) and not len(rows):
        return 0
    connection = connections[using]
    with transaction.atomic(using=using, savepoint=False):
        if connection.vendor == "postgresql":
            return binary_copy(connection, table=table, columns=columns, rows=rows)
        return insert_many(connection, table=table, columns=columns, rows=rows)


def binary_copy(connection, *, table: str, columns: Columns, rows: Iterable[Sequence]) -> int:
    """``COPY table (columns) FROM STDIN (FORMAT BINARY)`` on ``connection`` (PostgreSQL, in
    a transaction), each row encoded by psycopg for the column types; returns the count."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name, _ in columns)
    sql = f"COPY {quote(table)} ({names}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(sql) as copy:
            copy.set_types([pg_type for _, pg_type in columns])
            write = copy.write_row
            for row in rows:
                write(row)
        return cursor.cursor.rowcount


def insert_many(connection, *, table: str, columns: Columns, rows: Iterable[Sequence]) -> int:
    """One ``executemany`` INSERT of ``rows`` into ``table`` on ``connection``, values of
    date, time, JSON and UUID columns adapted for its database; returns the count."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name, _ in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders})"
    adapters = [
        (index, adapt)
        for index, (_, pg_type) in enumerate(columns)
        if (adapt := _adapter(connection, pg_type)) is not None
    ]
    if adapters:
        params = [_adapted(row, adapters) for row in rows]
    else:
        params = rows if isinstance(rows, list) else list(rows)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)


def _adapted(row: Sequence, adapters: list[tuple[int, Callable]]) -> list:
    values = list(row)
    for index, adapt in adapters:
        if values[index] is not None:
            values[index] = adapt(values[index])
    return values


def _adapter(connection, pg_type: str) -> Callable[[Any], Any] | None:
    """How Django passes a value of ``pg_type`` to ``connection``'s database, when it is not
    the Python value itself (None: as it is)."""
    ops = connection.ops
    kind = pg_type.strip().lower()
    if kind in {"timestamptz", "timestamp"}:
        return ops.adapt_datetimefield_value
    if kind == "date":
        return ops.adapt_datefield_value
    if kind in {"time", "timetz"}:
        return ops.adapt_timefield_value
    if kind in {"json", "jsonb"}:
        return lambda value: ops.adapt_json_value(value, None)
    if kind == "uuid" and not connection.features.has_native_uuid_field:
        return lambda value: value.hex
    return None

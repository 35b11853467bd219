"""Queries compiled once per process and database, run many times.

Building and compiling a queryset costs Django a few hundred microseconds, more than SQLite or
PostgreSQL take to answer a lookup by primary key: for the queries every request makes (the
JWT's user, a catalogue's list) that is a large share of the request. A
:class:`PreparedQuery` compiles its queryset the first time it runs on a database and keeps
the SQL, the column converters and the field names; later runs only execute the SQL with the
new parameter values and convert the rows as the ORM would (dates, JSON, time zones).

The parameters are the query's own, in the order of the compiled SQL, already in their
database form (an ``int`` for an integer key): the first compilation checks that they are.
The queryset must not depend on anything but them (no ``now()``, no user, no settings that
change at run time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


class _Compiled:
    def __init__(self, queryset: QuerySet, alias: str, params: Sequence):
        compiler = queryset.query.get_compiler(using=alias)
        sql, compiled_params = compiler.as_sql()
        if list(compiled_params) != list(params):
            raise ImproperlyConfigured(
                f"The parameters {list(params)!r} are not the query's own "
                f"{list(compiled_params)!r}: pass them as the compiled SQL has them."
            )
        columns = [expression for expression, _, _ in compiler.select[: compiler.col_count]]
        self.sql = sql
        self.model = queryset.model
        self.converters = list(compiler.get_converters(columns).items())
        fields = list(self.model._meta.concrete_fields)
        targets = [getattr(column, "target", None) for column in columns]
        #: The attribute names of the columns when they are the model's whole row, in order.
        self.row_names = [field.attname for field in fields] if targets == fields else None


class PreparedQuery:
    """A queryset built by ``build(*params)``, compiled on its first run on each database.

    ``rows(*params)`` answers the rows as ``values_list`` would (tuples, converted);
    ``instances(*params)`` answers model instances of a queryset of whole rows (no
    ``values``, ``only`` or ``annotate``) as the ORM would make them."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compiled_for(self, alias: str, params: Sequence) -> _Compiled:
        key = (alias, connections[alias].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key)
                if compiled is None:
                    compiled = _Compiled(self.build(*params), alias, params)
                    self._compiled[key] = compiled
        return compiled

    def rows(self, *params, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        return self._rows(self._compiled_for(using, params), params, using)

    def instances(self, *params, using: str = DEFAULT_DB_ALIAS) -> list:
        compiled = self._compiled_for(using, params)
        if compiled.row_names is None:
            raise ImproperlyConfigured(f"The query does not read whole {compiled.model} rows.")
        return [
            compiled.model.from_db(using, compiled.row_names, row)
            for row in self._rows(compiled, params, using)
        ]

    @staticmethod
    def _rows(compiled: _Compiled, params: Sequence, using: str) -> list[tuple]:
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return rows
        # SQLCompiler.apply_converters, with this thread's connection.
        converted = []
        for row in rows:
            row = list(row)
            for position, (converters, expression) in compiled.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted

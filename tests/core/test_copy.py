"""``core.copy``: bulk inserts of rows through binary COPY on PostgreSQL and one
``executemany`` elsewhere, all or nothing within the caller's transaction.

A throwaway table with a column of each common type (and a unique constraint) is created for
these tests; they run on SQLite and, with ``DATABASE_URL``, on PostgreSQL, where the COPY path
is taken.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import isolate_apps

from core import copy as core_copy
from core.copy import copy_rows

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "test_copy_reading"
COLUMNS = (
    ("series", "int8"),
    ("name", "text"),
    ("value", "float8"),
    ("taken_at", "timestamptz"),
    ("day", "date"),
    ("valid", "bool"),
    ("extra", "jsonb"),
    ("token", "uuid"),
)
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def model():
    with isolate_apps("core"):

        class Reading(models.Model):
            series = models.BigIntegerField()
            name = models.TextField()
            value = models.FloatField(null=True)
            taken_at = models.DateTimeField(null=True)
            day = models.DateField(null=True)
            valid = models.BooleanField()
            extra = models.JSONField(null=True)
            token = models.UUIDField(null=True)

            class Meta:
                app_label = "core"
                db_table = TABLE
                constraints = [
                    models.UniqueConstraint(fields=["series", "name"], name="test_copy_unique")
                ]

            def __str__(self) -> str:
                return f"{self.series}/{self.name}"

        yield Reading


@pytest.fixture
def Reading(model):
    with connection.schema_editor() as editor:
        editor.create_model(model)
    yield model
    with connection.schema_editor() as editor:
        editor.delete_model(model)


def rows(count: int, series: int = 1) -> list[tuple]:
    return [
        (
            series,
            f"=p{i}" if i % 3 == 0 else f"p{i}",
            None if i % 4 == 0 else i / 8 - 2,
            T0 + dt.timedelta(seconds=i) if i % 5 else None,
            dt.date(2024, 1, 1 + i % 28),
            i % 2 == 0,
            {"i": i, "tags": ["a", None]} if i % 2 else None,
            uuid.UUID(int=i + 1) if i % 6 else None,
        )
        for i in range(count)
    ]


def stored(Reading) -> list[tuple]:
    return list(Reading.objects.order_by("series", "id").values_list(*(n for n, _ in COLUMNS)))


def write(batch, **kwargs) -> int:
    return copy_rows(table=TABLE, columns=COLUMNS, rows=batch, **kwargs)


def test_every_value_is_stored_as_given(Reading):
    batch = rows(60)
    assert write(batch) == 60
    assert stored(Reading) == batch


def test_rows_may_come_from_a_generator_read_as_it_goes(Reading):
    batch = rows(30)
    assert write(row for row in batch) == 30
    assert stored(Reading) == batch


def test_postgresql_takes_the_binary_copy_and_other_databases_one_executemany(Reading, monkeypatch):
    calls = []
    for name in ("binary_copy", "insert_many"):
        original = getattr(core_copy, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(core_copy, name, spy)
    write(rows(5))
    assert calls == ["binary_copy" if connection.vendor == "postgresql" else "insert_many"]


def test_no_rows_cost_no_query(Reading, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert write([]) == 0


def test_an_unknown_type_is_refused_before_anything_is_written(Reading):
    with pytest.raises(ValueError, match="'value': unknown PostgreSQL type 'float9'"):
        copy_rows(table=TABLE, columns=[("series", "int8"), ("value", "float9")], rows=[(1, 1.0)])
    assert not Reading.objects.exists()


def test_a_refused_row_writes_nothing(Reading):
    batch = rows(50)
    batch.append(batch[10])  # repeats (series, name)
    with pytest.raises(IntegrityError):
        write(batch)
    assert not Reading.objects.exists()


def test_a_null_where_the_column_allows_none_writes_nothing(Reading):
    batch = rows(5)
    batch[3] = (1, None, *batch[3][2:])
    with pytest.raises(IntegrityError):
        write(batch)
    assert not Reading.objects.exists()


def test_the_rows_belong_to_the_callers_transaction(Reading):
    with pytest.raises(RuntimeError), transaction.atomic():
        Reading.objects.create(series=0, name="before", valid=True)
        write(rows(10))
        assert Reading.objects.count() == 11  # visible inside the transaction
        raise RuntimeError("the caller rolls back")
    assert not Reading.objects.exists()


def test_a_refused_batch_fails_the_callers_whole_transaction(Reading):
    batch = rows(10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reading.objects.create(series=0, name="before", valid=True)
        write([*batch, batch[0]])
    assert not Reading.objects.exists()


def test_a_caller_may_recover_inside_its_own_savepoint(Reading):
    batch = rows(10)
    with transaction.atomic():
        Reading.objects.create(series=0, name="before", valid=True)
        try:
            with transaction.atomic():
                write([*batch, batch[0]])
        except IntegrityError:
            write(batch)
    assert Reading.objects.count() == 11
    assert stored(Reading)[1:] == batch

"""The keyset cursor of ``core.pagination`` over nullable columns of every kind.

A throwaway model with a nullable number, date, text and foreign key (and one keyed by a
primary key that is not ``id``) is created for these tests, on SQLite and on PostgreSQL.
Following ``next`` must return every row exactly once for each ordering ``?ordering=``
accepts, ascending and descending, also while rows are inserted and deleted during the walk.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps
from rest_framework import generics, permissions, serializers
from rest_framework.test import APIRequestFactory

from core.filters import StableOrderingFilter
from core.pagination import LimitOffsetPagination

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = ["number", "day", "label", "parent"]


@pytest.fixture(scope="module")
def models_():
    with isolate_apps("core"):

        class Row(models.Model):
            number = models.FloatField(null=True)
            day = models.DateField(null=True)
            label = models.CharField(max_length=20, null=True)  # noqa: DJ001
            parent = models.ForeignKey("self", null=True, on_delete=models.PROTECT)

            class Meta:
                app_label = "core"
                db_table = "test_keyset_row"

            def __str__(self) -> str:
                return str(self.pk)

        class Sample(models.Model):
            sample_id = models.CharField(primary_key=True, max_length=20)
            weight = models.FloatField(null=True)

            class Meta:
                app_label = "core"
                db_table = "test_keyset_sample"

            def __str__(self) -> str:
                return self.sample_id

        yield Row, Sample


@pytest.fixture
def tables(models_):
    Row, Sample = models_
    with connection.schema_editor() as editor:
        editor.create_model(Row)
        editor.create_model(Sample)
    yield Row, Sample
    with connection.schema_editor() as editor:
        editor.delete_model(Sample)
        editor.delete_model(Row)


def list_view(model):
    class Serializer(serializers.ModelSerializer):
        class Meta:
            fields = "__all__"

    Serializer.Meta.model = model

    class View(generics.ListAPIView):
        queryset = model.objects.all()
        serializer_class = Serializer
        pagination_class = LimitOffsetPagination
        filter_backends = [StableOrderingFilter]
        ordering_fields = "__all__"
        authentication_classes: list = []
        permission_classes = [permissions.AllowAny]

    return View.as_view()


def get(view, path: str):
    response = view(APIRequestFactory().get(path))
    response.render()
    return response


def walk(view, first: str, between_pages=None) -> list:
    keys, url = [], first
    while url:
        response = get(view, url)
        assert response.status_code == 200, response.content
        body = response.data
        keys += [row["id"] if "id" in row else row["sample_id"] for row in body["results"]]
        url = body["next"]
        if url:
            parts = urlsplit(url)
            url = "/rows/?" + "&".join(f"{k}={v}" for k, v in parse_qsl(parts.query))
            if between_pages:
                between_pages()
    return keys


def make_rows(Row, count: int, rng: random.Random):
    """Rows with many NULLs and many ties in every column."""
    rows = []
    for _ in range(count):
        rows.append(
            Row.objects.create(
                number=rng.choice([None, None, 1.5, 2.0, -3.0]),
                day=rng.choice([None, dt.date(2024, 1, 1), dt.date(2023, 5, 6)]),
                label=rng.choice([None, "", "a", "b", "B"]),
                parent=rng.choice([None, None, *rows[:5]]) if rows else None,
            )
        )
    return rows


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("descending", [False, True])
def test_every_row_exactly_once_ordered_by_a_nullable_column(tables, column, descending):
    Row, _ = tables
    rows = make_rows(Row, 40, random.Random(column))
    view = list_view(Row)
    ordering = ("-" if descending else "") + column
    seen = walk(view, f"/rows/?limit=3&ordering={ordering}")
    assert sorted(seen) == sorted(row.pk for row in rows)
    # The pages, concatenated, are the one-request order (NULLs after every value).
    whole = [
        row["id"] for row in get(view, f"/rows/?limit=1000&ordering={ordering}").data["results"]
    ]
    assert seen == whole


@pytest.mark.parametrize("column", COLUMNS)
def test_nulls_sort_after_values_on_every_database(tables, column):
    Row, _ = tables
    make_rows(Row, 20, random.Random(1))
    view = list_view(Row)
    attname = "parent" if column == "parent" else column
    ascending = get(view, f"/rows/?limit=100&ordering={column}").data["results"]
    descending = get(view, f"/rows/?limit=100&ordering=-{column}").data["results"]
    values = [row[attname] for row in ascending]
    first_null = values.index(None)
    assert all(value is None for value in values[first_null:])
    assert all(value is not None for value in values[:first_null])
    assert descending[0][attname] is None


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("descending", [False, True])
def test_rows_present_for_the_whole_walk_appear_once_while_others_come_and_go(
    tables, column, descending
):
    Row, _ = tables
    rng = random.Random(f"{column}{descending}")
    rows = make_rows(Row, 30, rng)
    deleted: set[int] = set()
    inserted: set[int] = set()

    def churn():
        for row in make_rows(Row, 2, rng):
            inserted.add(row.pk)
        # Rows nobody points at: deleting a parent would change its children's values.
        victims = list(Row.objects.filter(row__isnull=True).values_list("pk", flat=True))
        victim = rng.choice(victims)
        Row.objects.filter(pk=victim).delete()
        deleted.add(victim)

    ordering = ("-" if descending else "") + column
    seen = walk(list_view(Row), f"/rows/?limit=4&ordering={ordering}", churn)
    stable = {row.pk for row in rows} - deleted
    for pk in stable:
        assert seen.count(pk) == 1
    assert len(seen) == len(set(seen))
    assert set(seen) <= {row.pk for row in rows} | inserted


def test_a_model_keyed_by_another_primary_key_pages_by_it(tables):
    _, Sample = tables
    for index in range(25):
        Sample.objects.create(sample_id=f"S{index:03d}", weight=None if index % 3 else index)
    view = list_view(Sample)
    for ordering in ("", "&ordering=weight", "&ordering=-weight", "&ordering=-sample_id"):
        seen = walk(view, f"/rows/?limit=4{ordering}")
        assert sorted(seen) == [f"S{i:03d}" for i in range(25)], ordering


@pytest.mark.parametrize(
    "values",
    [
        ["not a number", 1],  # number
        [1.5, "x"],  # the id
        [[1], 1],
        [{"a": 1}, 1],
        [True, 1],
        [1.5, 2**70],
        [None, None],  # the id is never null
        ["1.5\x00", 1],
    ],
)
def test_a_cursor_with_values_of_the_wrong_type_is_400(tables, values):
    Row, _ = tables
    make_rows(Row, 5, random.Random(2))
    view = list_view(Row)
    payload = {"v": values, "o": 3, "c": 5, "s": "number,id"}
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    response = get(view, f"/rows/?ordering=number&cursor={cursor}")
    assert response.status_code == 400, response.data
    assert "cursor" in response.data


@pytest.mark.parametrize(
    "column,value",
    [("day", "2024-13-45"), ("day", 5), ("label", 7), ("parent", "abc"), ("number", "1e999")],
)
def test_a_cursor_value_of_another_column_type_is_400(tables, column, value):
    Row, _ = tables
    view = list_view(Row)
    payload = {
        "v": [value, 1],
        "o": 3,
        "c": 5,
        "s": f"{column}_id,id" if column == "parent" else f"{column},id",
    }
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    response = get(view, f"/rows/?ordering={column}&cursor={cursor}")
    assert response.status_code == 400, response.data

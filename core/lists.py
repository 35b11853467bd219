"""Lists of big tables read as dicts straight from the database.

A page of a measurement table is thousands of flat rows. Making a model instance and running a
serializer for each costs several times what the database does; :func:`dict_rows` reads the
rows as ``values_list`` tuples and zips each with the wire names instead, and
:class:`DictRowsMixin` gives a viewset the ``list`` and ``retrieve`` that use it::

    class EISDataViewSet(DictRowsMixin, AccessControlledViewSetMixin, GenericViewSet):
        queryset = EISData.objects.all()
        columns = ("id", "organization_id", "test_id", "frequency", "parameter", "value")
        wire_names = ("id", "organization", "test", "frequency", "parameter", "value")

The result stays a queryset: filters, slicing and ``count()`` work, so the keyset pagination of
``core.pagination`` pages it as it pages any list, a constant number of queries per page. The
cursor reads the ordering values from the rows, so every column a list may be ordered by must
be in the rows under its field name (``test``) or its column (``test_id``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import repeat

from django.db.models import Model, QuerySet
from django.db.models.query import ValuesListIterable
from rest_framework.response import Response


@functools.cache
def _dict_rows_iterable(names: tuple[str, ...]) -> type[ValuesListIterable]:
    """A ``values_list`` iterable yielding ``dict(zip(names, row))`` for each row."""

    class DictRowsIterable(ValuesListIterable):
        def __iter__(self):
            return map(dict, map(zip, repeat(names), super().__iter__()))

    return DictRowsIterable


def dict_rows(
    queryset: QuerySet, columns: Sequence[str], names: Sequence[str] | None = None
) -> QuerySet:
    """The queryset's rows as dicts keyed by ``names`` (the ``columns`` themselves by
    default), read as tuples of ``columns``: a ``zip`` per row instead of a model instance."""
    columns = tuple(columns)
    names = columns if names is None else tuple(names)
    if len(names) != len(columns):
        raise ValueError(f"{len(columns)} columns but {len(names)} names.")
    rows = queryset.values_list(*columns)
    rows._iterable_class = _dict_rows_iterable(names)
    return rows


class DictRowsMixin:
    """``list`` and ``retrieve`` of a viewset over flat rows, without serializers.

    Declare ``columns`` (what ``values_list`` reads, in wire order) and ``wire_names`` (their
    names in the answer; the columns themselves when left out). ``list`` filters, paginates
    and answers dicts; ``retrieve`` answers :meth:`to_wire` of the object. Writes are the
    viewset's own."""

    columns: tuple[str, ...]
    wire_names: tuple[str, ...] | None = None

    def list(self, request, *args, **kwargs):
        rows = dict_rows(self.filter_queryset(self.get_queryset()), self.columns, self.wire_names)
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(list(rows))
        return self.get_paginated_response(page)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.to_wire(self.get_object()))

    def to_wire(self, obj: Model) -> dict:
        """One object as the list shows it."""
        names = self.columns if self.wire_names is None else self.wire_names
        return {
            name: getattr(obj, column) for column, name in zip(self.columns, names, strict=True)
        }

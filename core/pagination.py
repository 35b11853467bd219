"""BatteryDB-style ``limit``/``offset`` pagination with keyset ``next`` links.

Responses are ``{"count", "next", "previous", "results"}`` with absolute links. The page size
defaults to 100 and is capped (1000 unless a view sets ``max_page_size``); a larger ``limit``
returns a capped page, never an error. ``next`` carries an opaque ``cursor`` holding the
ordering values of the last row, so a deep page costs what the first does; ``limit`` and
``offset`` keep working on their own.

Ordering always ends in the primary key (``core.filters.StableOrderingFilter``), so following
``next`` returns every row exactly once, also while rows are inserted and deleted. NULLs sort
after every value (ascending: ``NULLS LAST``, descending: ``NULLS FIRST``) on every database,
as PostgreSQL does by default; an ordering expression that says otherwise is followed as it says.

APIs whose lists are bare arrays (the passport's ``limit``/``offset``, VoltStorage's
``page``/``count``) put the total and the neighbouring pages in headers: ``page_headers``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import math
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import orjson
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.routers import canonical_uri

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 2**63 - 1
MAX_CURSOR_LENGTH = 4096

INVALID_CURSOR = "Invalid cursor: follow the 'next' link as given, with its ordering."


@dataclass(frozen=True)
class OrderKey:
    """One column of a keyset ordering."""

    field: models.Field
    descending: bool
    nulls_first: bool

    @property
    def column(self) -> str:
        """The lookup name: the column itself for a foreign key (``battery_id``), no join."""
        return self.field.attname

    def expression(self) -> OrderBy:
        return OrderBy(
            F(self.column),
            descending=self.descending,
            nulls_first=self.nulls_first or None,
            nulls_last=(not self.nulls_first) or None,
        )

    def signature(self) -> str:
        return ("-" if self.descending else "") + self.column + ("^" if self.nulls_first else "")

    def after(self, value) -> Q:
        """Rows whose value of this column comes strictly after ``value``."""
        if value is None:
            return Q(**{f"{self.column}__isnull": False}) if self.nulls_first else Q(pk__in=[])
        strictly = Q(**{f"{self.column}__{'lt' if self.descending else 'gt'}": value})
        if self.nulls_first:
            return strictly
        return strictly | Q(**{f"{self.column}__isnull": True})

    def equal(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.column}__isnull": True})
        return Q(**{self.column: value})

    def value_of(self, row):
        """This column's value in a model instance or a dict row (keyed by field or column)."""
        if isinstance(row, dict):
            return row[self.field.name] if self.field.name in row else row[self.column]
        return getattr(row, self.column)

    def decode(self, value):
        """A cursor value back as this column's Python value; ``ValueError`` if it is not one."""
        if value is None:
            if not self.field.null:
                raise ValueError("null")
            return None
        if isinstance(value, bool | list | dict):
            raise ValueError("type")
        field = self.field.target_field if self.field.is_relation else self.field
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL")
        try:
            python = field.to_python(value)
        except (DjangoValidationError, TypeError, OverflowError) as exc:
            raise ValueError(str(exc)) from exc
        if _encodable(python) != value:
            raise ValueError("not a value of this column as a cursor encodes it")
        if isinstance(python, int) and not -MAX_OFFSET - 1 <= python <= MAX_OFFSET:
            raise ValueError("range")
        if isinstance(python, float) and not math.isfinite(python):
            raise ValueError("finite")
        if isinstance(python, dt.datetime) and python.tzinfo is None:
            raise ValueError("naive")
        return python


def keyset_ordering(queryset) -> list[OrderKey] | None:
    """The queryset's ordering as keyset columns, or None when it cannot be followed by a
    keyset: not ending in the primary key, or ordered by a related lookup or an expression."""
    meta = queryset.model._meta
    terms = list(queryset.query.order_by) or list(meta.ordering)
    keys: list[OrderKey] = []
    for term in terms:
        if isinstance(term, str):
            descending = term.startswith("-")
            name, nulls_first = term.lstrip("-"), descending
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            descending = term.descending
            name = term.expression.name
            nulls_first = bool(term.nulls_first) or (descending and not term.nulls_last)
        else:
            return None
        if "__" in name or name == "?":
            return None
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not field.concrete or field.many_to_many:
            return None
        keys.append(OrderKey(field, descending, nulls_first))
    if not keys or keys[-1].field is not meta.pk:
        return None
    return keys


def _encodable(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = DEFAULT_PAGE_SIZE
    max_limit = MAX_PAGE_SIZE
    cursor_query_param = "cursor"

    def get_limit(self, request):
        view_max = getattr(self.view, "max_page_size", None)
        if view_max:
            self.max_limit = view_max
        limit = super().get_limit(request)
        return max(1, min(limit, self.max_limit))

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None or raw == "":
            return 0
        try:
            offset = int(raw)
        except ValueError:
            offset = -1
        if not 0 <= offset <= MAX_OFFSET - self.max_limit - 1:
            raise ValidationError(
                {"offset": [f"Must be an integer from 0 to {MAX_OFFSET - self.max_limit - 1}."]}
            )
        return offset

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        self.request = request
        self.limit = self.get_limit(request)
        self.keys = keyset_ordering(queryset)
        if self.keys is not None:
            # NULLs placed explicitly, so that the keyset filter matches the order on every
            # database (SQLite would otherwise put them first, PostgreSQL last).
            queryset = queryset.order_by(*(key.expression() for key in self.keys))
        cursor = self.decode_cursor(request)
        if cursor is not None:
            self.offset = cursor["o"]
            self.count = cursor["c"]
            queryset = queryset.filter(self.keyset_filter(cursor["v"]))
            rows = list(queryset[: self.limit + 1])
        else:
            self.offset = self.get_offset(request)
            self.count = self.get_count(queryset)
            rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        self.page = rows[: self.limit]
        return self.page

    # --- keyset cursor -------------------------------------------------------------------------
    def keyset_filter(self, values: list) -> Q:
        """Rows after the one whose ordering values are ``values``, in the page's order."""
        condition = Q(pk__in=[])
        ties = Q()
        for key, value in zip(self.keys, values, strict=True):
            condition |= ties & key.after(value)
            ties &= key.equal(value)
        return condition

    def ordering_signature(self) -> str:
        return ",".join(key.signature() for key in self.keys or [])

    def encode_cursor(self, values: list) -> str:
        payload = {"v": values, "o": self.offset + self.limit, "c": self.count}
        payload["s"] = self.ordering_signature()
        return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")

    def decode_cursor(self, request) -> dict | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            if len(raw) > MAX_CURSOR_LENGTH or self.keys is None:
                raise ValueError("unusable")
            payload = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            if not (
                isinstance(payload, dict)
                and isinstance(payload.get("v"), list)
                and type(payload.get("o")) is int
                and type(payload.get("c")) is int
                and 0 <= payload["o"] <= MAX_OFFSET - self.limit - 1
                and 0 <= payload["c"] <= MAX_OFFSET
                and payload.get("s") == self.ordering_signature()
                and len(payload["v"]) == len(self.keys)
            ):
                raise ValueError("shape")
            payload["v"] = [
                key.decode(value) for key, value in zip(self.keys, payload["v"], strict=True)
            ]
        except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from exc
        return payload

    # --- links ---------------------------------------------------------------------------------
    def get_next_link(self):
        if not self.has_next:
            return None
        url = canonical_uri(self.request)
        url = replace_query_param(url, self.limit_query_param, self.limit)
        url = replace_query_param(url, self.offset_query_param, self.offset + self.limit)
        if self.keys is None:
            return remove_query_param(url, self.cursor_query_param)
        last = self.page[-1]
        values = [_encodable(key.value_of(last)) for key in self.keys]
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(values))

    def get_previous_link(self):
        if self.offset <= 0:
            return None
        url = replace_query_param(canonical_uri(self.request), self.limit_query_param, self.limit)
        url = remove_query_param(url, self.cursor_query_param)
        if self.offset - self.limit <= 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, self.offset - self.limit)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque keyset cursor carried by `next` links.",
                "schema": {"type": "string"},
            }
        )
        return parameters


def page_headers(
    request, *, total: int, next_params: dict | None, previous_params: dict | None
) -> dict[str, str]:
    """The headers of a page of a bare-array list: the total in ``X-Total-Count`` and the
    neighbouring pages in ``Link`` (RFC 8288, ``rel="next"`` and ``rel="prev"``): the request's
    absolute URL in the route's named (slashed) form with ``next_params`` or
    ``previous_params`` (query parameters to set) replaced; ``None`` where there is no such
    page."""
    links = []
    for params, rel in ((next_params, "next"), (previous_params, "prev")):
        if params is None:
            continue
        url = canonical_uri(request)
        for name, value in params.items():
            url = replace_query_param(url, name, value)
        links.append(f'<{url}>; rel="{rel}"')
    headers = {"X-Total-Count": str(total)}
    if links:
        headers["Link"] = ", ".join(links)
    return headers

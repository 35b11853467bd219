"""BatteryDB-style ``limit``/``offset`` pagination with keyset ``next`` links.

Responses are ``{"count", "next", "previous", "results"}`` with absolute links. The page size
defaults to 100 and is capped (1000 unless a view sets ``max_page_size``); a larger ``limit``
returns a capped page, never an error. ``next`` carries an opaque ``cursor`` holding the
ordering values of the last row, so a deep page costs what the first does; ``limit`` and
``offset`` keep working on their own. Ordering always ends in ``id``, so following ``next``
returns every row exactly once.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import uuid
from collections import OrderedDict

import orjson
from django.db.models import Q
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def _ordering_of(queryset) -> list[tuple[str, bool]]:
    """``[(field_name, descending), ...]`` for the queryset's effective ordering."""
    order_by = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    result = []
    for item in order_by:
        if not isinstance(item, str):
            return []
        descending = item.startswith("-")
        name = item.lstrip("-")
        result.append(("id" if name == "pk" else name, descending))
    return result


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

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        self.request = request
        self.limit = self.get_limit(request)
        self.ordering = _ordering_of(queryset)
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
    def keyset_usable(self) -> bool:
        if not self.ordering or self.ordering[-1][0] != "id":
            return False
        model_fields = {f.name for f in self.view.get_queryset().model._meta.concrete_fields}
        return all("__" not in name and name in model_fields for name, _ in self.ordering)

    def keyset_values(self, row) -> list | None:
        values = []
        for name, _ in self.ordering:
            value = row.get(name) if isinstance(row, dict) else getattr(row, name)
            if value is None:
                return None
            if hasattr(value, "pk"):
                value = value.pk
            values.append(_encodable(value))
        return values

    def keyset_filter(self, values: list) -> Q:
        condition = Q()
        for index, (name, descending) in enumerate(self.ordering):
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[index]})
            for previous_name, _ in self.ordering[:index]:
                step &= Q(**{previous_name: values[self.ordering_index(previous_name)]})
            condition |= step
        return condition

    def ordering_index(self, name: str) -> int:
        return next(i for i, (n, _) in enumerate(self.ordering) if n == name)

    def ordering_signature(self) -> str:
        return ",".join(("-" if d else "") + n for n, d in self.ordering)

    def encode_cursor(self, values: list) -> str:
        payload = {"v": values, "o": self.offset + self.limit, "c": self.count}
        payload["s"] = self.ordering_signature()
        return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")

    def decode_cursor(self, request) -> dict | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            payload = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            valid = (
                isinstance(payload, dict)
                and isinstance(payload.get("v"), list)
                and isinstance(payload.get("o"), int)
                and isinstance(payload.get("c"), int)
                and payload.get("s") == self.ordering_signature()
                and len(payload["v"]) == len(self.ordering)
                and self.keyset_usable()
            )
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            valid = False
        if not valid:
            raise ValidationError(
                {"cursor": ["Invalid cursor: follow the 'next' link as given, with its ordering."]}
            )
        return payload

    # --- links ---------------------------------------------------------------------------------
    def get_next_link(self):
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.limit_query_param, self.limit)
        url = replace_query_param(url, self.offset_query_param, self.offset + self.limit)
        values = self.keyset_values(self.page[-1]) if self.keyset_usable() else None
        if values is None:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(values))

    def get_previous_link(self):
        link = super().get_previous_link()
        return remove_query_param(link, self.cursor_query_param) if link else None

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

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        return response

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

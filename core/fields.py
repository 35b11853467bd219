"""Serializer and filter fields shared by the APIs, with the limits every input needs.

* :class:`BoundedJSONField`: a JSON value of bounded nesting depth and size, without NUL
  characters (PostgreSQL refuses them in ``jsonb``) or non-finite numbers; every
  ``models.JSONField`` of a ``ModelSerializer`` that uses :class:`BoundedFieldsMixin` gets it.
* :class:`BoundedIsoDateTimeFilter`: an ISO 8601 instant whose UTC offset PostgreSQL accepts
  (within ±15:59) and which stays within the years 1 to 9999 in UTC.
"""

from __future__ import annotations

import datetime as dt
import math

import django_filters
import orjson
from django import forms
from django.conf import settings
from django.db import models
from rest_framework import serializers

MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


class BoundedJSONField(serializers.JSONField):
    """A JSON field whose value is at most ``max_depth`` levels deep and ``max_bytes`` long
    once encoded, holds no NUL character and no NaN or infinity, and is null only when the
    field allows it (a form body's ``null`` included)."""

    default_error_messages = {
        "too_deep": "Nested too deeply: at most {max_depth} levels of objects and lists.",
        "too_large": "Too large: at most {max_bytes} bytes once encoded as JSON.",
        "nul": "Null characters (\\u0000) are not allowed in strings or keys.",
        "not_finite": "NaN and infinities are not JSON numbers.",
    }

    def __init__(self, *, max_depth: int | None = None, max_bytes: int | None = None, **kwargs):
        self.max_depth = max_depth or settings.API_MAX_JSON_DEPTH
        self.max_bytes = max_bytes or settings.API_MAX_JSON_FIELD_SIZE
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if self.binary or getattr(data, "is_json_string", False):
            # A form body's JSON text, parsed by orjson: the standard library's parser would
            # recurse once per level of a hostile nesting.
            try:
                data = orjson.loads(data.encode() if isinstance(data, str) else data)
            except (orjson.JSONDecodeError, TypeError):
                self.fail("invalid")
        if data is None:
            if not self.allow_null:
                self.fail("null")
            return None
        self._check(data, depth=1)
        try:
            size = len(orjson.dumps(data))
        except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
            self.fail("invalid")
        if size > self.max_bytes:
            self.fail("too_large", max_bytes=self.max_bytes)
        return data

    def _check(self, value, *, depth: int) -> None:
        """Walks the value without recursion, so a hostile depth cannot exhaust the stack."""
        stack = [(value, depth)]
        while stack:
            item, level = stack.pop()
            if isinstance(item, dict | list):
                if level > self.max_depth:
                    self.fail("too_deep", max_depth=self.max_depth)
                if isinstance(item, dict):
                    for key, child in item.items():
                        if isinstance(key, str) and "\x00" in key:
                            self.fail("nul")
                        stack.append((child, level + 1))
                else:
                    stack.extend((child, level + 1) for child in item)
            elif isinstance(item, str):
                if "\x00" in item:
                    self.fail("nul")
            elif isinstance(item, float) and not math.isfinite(item):
                self.fail("not_finite")


class BoundedFieldsMixin:
    """For ``ModelSerializer``s: ``models.JSONField`` becomes :class:`BoundedJSONField`."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.JSONField: BoundedJSONField,
    }


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant PostgreSQL can compare with: a UTC offset within ±15:59, and
    within the years 1 to 9999 once converted to UTC. A naive value is taken as UTC."""

    default_error_messages = {
        "offset": "The UTC offset must be within ±15:59.",
        "range": "Out of range: in UTC the instant must fall within the years 1 to 9999.",
    }

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError(self.error_messages["offset"], code="offset")
        try:
            return parsed.astimezone(dt.UTC) if offset is not None else parsed
        except OverflowError as exc:
            raise forms.ValidationError(self.error_messages["range"], code="range") from exc


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` with :class:`BoundedIsoDateTimeField`."""

    field_class = BoundedIsoDateTimeField

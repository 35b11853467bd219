"""The DMLF API's JSON objects, made from rows.

:class:`WireShape` turns a row (a ``values_list`` tuple, or a model instance) into the
original's JSON object, so that lists, details and the answers of writes agree field for field
(the serializers of ``dmlf.serializers`` only read input and document the shapes); file fields
become absolute URLs of the API's access-checking download views, dates and instants are
written as DRF writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone


def drf_datetime(value: dt.datetime | None) -> str | None:
    """A datetime as DRF's ``DateTimeField`` writes it (ISO 8601, ``Z`` for UTC)."""
    if value is None:
        return None
    text = (
        timezone.localtime(value, dt.UTC).isoformat()
        if timezone.is_aware(value)
        else (value.isoformat())
    )
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def drf_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


VALUE, DATE, DATETIME, FILE = "value", "date", "datetime", "file"


@dataclass(frozen=True)
class WireShape:
    """A model's JSON object: ``fields`` are ``(wire name, column, kind)`` in wire order, the
    column as ``values_list`` reads it (``institute_id``); a ``FILE`` field becomes the URL
    ``<list URL><pk>/<wire name>/`` of the list route named ``list_url_name``, or null."""

    fields: tuple[tuple[str, str, str], ...]
    list_url_name: str
    pk_column: str = "id"

    @property
    def columns(self) -> list[str]:
        return [column for _, column, _ in self.fields]

    def writer(self, request) -> Callable[[Sequence], dict]:
        """A function from a row (in the order of ``columns``) to its JSON object."""
        kinds = {kind for _, _, kind in self.fields}
        base = request.build_absolute_uri(reverse(self.list_url_name)) if FILE in kinds else ""
        pk_index = self.columns.index(self.pk_column)
        converters = []
        for name, _, kind in self.fields:
            if kind == DATE:
                converters.append((name, lambda value, row: drf_date(value)))
            elif kind == DATETIME:
                converters.append((name, lambda value, row: drf_datetime(value)))
            elif kind == FILE:
                converters.append(
                    (
                        name,
                        lambda value, row, name=name: (
                            f"{base}{row[pk_index]}/{name}/" if value else None
                        ),
                    )
                )
            else:
                converters.append((name, None))

        def write(row: Sequence) -> dict:
            return {
                name: value if convert is None else convert(value, row)
                for (name, convert), value in zip(converters, row, strict=True)
            }

        return write

    def row_of(self, obj) -> tuple:
        """A model instance as the row ``values_list`` would read."""
        values = []
        for _, column, kind in self.fields:
            value = getattr(obj, column)
            values.append(value.name if kind == FILE else value)
        return tuple(values)


INSTITUTE_WIRE = WireShape(
    (
        ("id", "id", VALUE),
        ("name", "name", VALUE),
        ("affiliation", "affiliation", VALUE),
        ("street", "street", VALUE),
        ("postcode", "postcode", VALUE),
        ("city", "city", VALUE),
        ("telephone", "telephone", VALUE),
        ("email", "email", VALUE),
        ("date_registered", "date_registered", DATETIME),
    ),
    "dmlf:institute-list",
)
METHOD_WIRE = WireShape(
    (
        ("id", "id", VALUE),
        ("name", "name", VALUE),
        ("method_file", "method_file", FILE),
        ("date_registered", "date_registered", DATETIME),
        ("institute", "institute_id", VALUE),
    ),
    "dmlf:method-list",
)
FUNDING_BODY_WIRE = WireShape(
    (("id", "id", VALUE), ("name", "name", VALUE)), "dmlf:fundingbody-list"
)
SAMPLE_TYPE_WIRE = WireShape((("id", "id", VALUE), ("name", "name", VALUE)), "dmlf:sampletype-list")
PROJECT_WIRE = WireShape(
    (
        ("id", "id", VALUE),
        ("name", "name", VALUE),
        ("abbreviation", "abbreviation", VALUE),
        ("funding_number", "funding_number", VALUE),
        ("funding_period_start", "funding_period_start", DATE),
        ("funding_period_end", "funding_period_end", DATE),
        ("project_file", "project_file", FILE),
        ("date_registered", "date_registered", DATETIME),
        ("funding_body", "funding_body_id", VALUE),
        ("organization", "organization_id", VALUE),
    ),
    "dmlf:project-list",
)
SAMPLE_WIRE = WireShape(
    (
        ("sample_id", "sample_id", VALUE),
        ("name", "name", VALUE),
        ("date_created", "date_created", DATE),
        ("sample_info", "sample_info", FILE),
        ("supplementary_file", "supplementary_file", FILE),
        ("date_registered", "date_registered", DATETIME),
        ("institute", "institute_id", VALUE),
        ("method", "method_id", VALUE),
        ("project", "project_id", VALUE),
        ("sample_type", "sample_type_id", VALUE),
        ("user", "user_id", VALUE),
        ("parent", "parent_id", VALUE),
    ),
    "dmlf:sample-list",
    pk_column="sample_id",
)
EXPERIMENT_WIRE = WireShape(
    (
        ("id", "id", VALUE),
        ("name", "name", VALUE),
        ("date_created", "date_created", DATE),
        ("experiment_file", "experiment_file", FILE),
        ("date_registered", "date_registered", DATETIME),
        ("sample", "sample_id", VALUE),
        ("method", "method_id", VALUE),
        ("staff", "staff_id", VALUE),
        ("project", "project_id", VALUE),
        ("user", "user_id", VALUE),
    ),
    "dmlf:experiment-list",
)

"""Renderers of the BatteryDB measurement endpoints: orjson for JSON, and CSV for reports."""

from __future__ import annotations

import csv
import io

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.renderers import BaseRenderer


class MeasurementJSONRenderer(ORJSONRenderer):
    """orjson, with UTC datetimes ending in ``Z`` as DRF's own fields write them."""

    options = orjson.OPT_UTC_Z


#: First characters that make a spreadsheet read a text cell as a formula (OWASP, "CSV
#: Injection"): equals, plus, minus, at, tab and carriage return.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """A value as a CSV cell that a spreadsheet opens as data: text that would start a formula
    (a ``battery_id`` of ``=HYPERLINK(...)``) gets a leading single quote, as OWASP advises;
    numbers stay numbers (a negative ``z_imag`` is written as is); null is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class CSVRenderer(BaseRenderer):
    """``text/csv`` (``?format=csv``): a header row, then one line per object.

    The data is a list of flat objects (or one object, written as one row); the columns are the
    keys of the first object, unless the view puts ``csv_header`` in the renderer context. Every
    cell goes through :func:`spreadsheet_cell`. Views answer their errors in JSON, not here."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        rows = data if isinstance(data, list) else [data]
        header = (renderer_context or {}).get("csv_header")
        if header is None:
            header = list(rows[0]) if rows else []
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([spreadsheet_cell(name) for name in header])
        for row in rows:
            writer.writerow([spreadsheet_cell(row.get(name)) for name in header])
        return buffer.getvalue().encode(self.charset)

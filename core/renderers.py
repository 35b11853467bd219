"""CSV for every API: a DRF renderer (``?format=csv``) and the row writer behind it, which also
feeds streamed exports chunk by chunk.

Lines end in CRLF (RFC 4180), the first line is the header, and every cell is written so that
a spreadsheet opens it as data: text that would start a formula gets a leading single quote
(OWASP, "CSV Injection"), numbers stay numbers, null is an empty cell.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rest_framework.renderers import BaseRenderer

#: First characters that make a spreadsheet read a text cell as a formula (OWASP, "CSV
#: Injection"): equals, plus, minus, at, tab and carriage return.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Rows per chunk that :func:`csv_chunks` yields.
CSV_CHUNK_ROWS = 500


def spreadsheet_cell(value: Any) -> Any:
    """A value as a CSV cell that a spreadsheet opens as data: text that would start a formula
    (a ``battery_id`` of ``=HYPERLINK(...)``) gets a leading single quote, as OWASP advises;
    numbers stay numbers (a negative ``z_imag`` is written as is); null is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class _Lines:
    """The file object ``csv.writer`` writes to: collects the lines until they are taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    header: Sequence[str],
    *,
    chunk_rows: int = CSV_CHUNK_ROWS,
    charset: str = "utf-8",
) -> Iterator[bytes]:
    """The CSV of ``rows`` under ``header``, encoded, as the header line then chunks of up to
    ``chunk_rows`` lines; reads ``rows`` as it goes, so that an export of any length can be
    streamed (a ``StreamingHttpResponse`` over a queryset's ``iterator()``) in bounded memory.

    A row is a mapping (its values are taken by the header's names; a missing one is an empty
    cell) or a sequence of values in the header's order. Every cell, the header's too, goes
    through :func:`spreadsheet_cell`."""
    lines = _Lines()
    writer = csv.writer(lines, lineterminator="\r\n")
    cell = spreadsheet_cell
    writer.writerow([cell(name) for name in header])
    yield lines.take().encode(charset)
    pending = 0
    for row in rows:
        if isinstance(row, Mapping):
            writer.writerow([cell(row.get(name)) for name in header])
        else:
            writer.writerow([cell(value) for value in row])
        pending += 1
        if pending == chunk_rows:
            yield lines.take().encode(charset)
            pending = 0
    if pending:
        yield lines.take().encode(charset)


class CSVRenderer(BaseRenderer):
    """``text/csv`` (``?format=csv``): a header row, then one line per object.

    The data is a list of flat objects (or one object, written as one row); the columns are the
    keys of the first object, unless the view puts ``csv_header`` in the renderer context (as
    it must for a list that may be empty). Views answer their errors in JSON, not here."""

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
        return b"".join(csv_chunks(rows, header, charset=self.charset))

"""The export of a series as CSV or JSON, streamed block by block in constant memory.

Rows come out of the database in blocks of ``BLOCK_ROWS`` samples as NumPy arrays (times in
milliseconds, one column per exported field, NaN where a sample has no value): on PostgreSQL
through a binary ``COPY (SELECT ...) TO STDOUT`` parsed with ``numpy.frombuffer`` (fixed-width
rows: missing values travel as NaN), elsewhere through a cursor. Each block is then rounded to
``precision`` significant digits with array operations and written as text; a row whose
exported fields are all empty is left out.

CSV (as the original writes it): ``sep=<separator>``, then ``Time`` and the fields' labels,
then one row per sample time with the time in ISO 8601 with milliseconds and the ``tz`` offset
(``2020-03-25T12:20:41.562+00:00``), empty cells where a field has no value; every line ends in
CRLF and every line uses the separator. Header cells that a spreadsheet could read as a
formula are neutralised (``core.renderers``); numbers (negative grid power) never are. JSON:
``[{"time": "<the same ISO time>", "<field>": value, ...}, ...]`` with only the fields that
have a value.

Simplification, per field:

- ``tolerance`` (Ramer-Douglas-Peucker, ``voltstorage.simplify``): the allowed deviation is
  ``tolerance`` times the field's range over the exported period (from the rollups); the
  samples are simplified in windows of ``RDP_WINDOW`` samples whose ends are kept, so that
  memory stays constant;
- ``maxPoints`` (Largest-Triangle-Three-Buckets): at most ``maxPoints`` rows; each field gets
  ``maxPoints // fields`` buckets of equal time over the period, chooses one sample per
  bucket, and the rows are the union of the chosen times. A first pass computes the buckets'
  means, the second chooses; only the chosen points are held.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db import connection

from core.renderers import spreadsheet_cell
from voltstorage import catalogue
from voltstorage.binary import float_blocks
from voltstorage.models import QuarterRollup, Sample
from voltstorage.rollups import QUARTER_MS, to_datetime
from voltstorage.simplify import LTTBChooser, rdp_keep_series

BLOCK_ROWS = 4096
#: The first block is smaller: the answer's first bytes leave sooner.
FIRST_BLOCK_ROWS = 1024
RDP_WINDOW = 8192


@dataclass
class ExportRequest:
    series_id: int | None
    fields: list[catalogue.Field]
    start_ms: int
    end_ms: int  # inclusive
    tz_minutes: int = 0
    precision: int = 6
    tolerance: float = 0.0
    max_points: int | None = None
    separator: str = ","


# --- Reading ---------------------------------------------------------------------------------


def sample_blocks(
    series_id: int | None, fields: list[catalogue.Field], start_ms: int, end_ms: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The series' samples in [start, end] in time order, as blocks ``(times, values)``."""
    if series_id is None or not fields:
        return
    if connection.vendor == "postgresql":
        yield from _postgres_blocks(series_id, fields, start_ms, end_ms)
    else:
        yield from _cursor_blocks(series_id, fields, start_ms, end_ms)


def _postgres_blocks(series_id, fields, start_ms, end_ms):
    quote = connection.ops.quote_name
    cells = ", ".join(f"COALESCE({quote(spec.column)}::float8, 'NaN')" for spec in fields)
    select = (
        f"SELECT {quote('time')}, {cells} FROM {quote(Sample._meta.db_table)} "
        f"WHERE {quote('series_id')} = %s AND {quote('time')} >= %s AND {quote('time')} <= %s "
        f"ORDER BY {quote('time')}"
    )
    params = [int(series_id), to_datetime(start_ms), to_datetime(end_ms)]
    yield from float_blocks(select, params, len(fields), BLOCK_ROWS, FIRST_BLOCK_ROWS)


def _cursor_blocks(series_id, fields, start_ms, end_ms):
    from voltstorage.rollups import to_epoch_ms

    rows = (
        Sample.objects.filter(
            series_id=series_id,
            time__gte=to_datetime(start_ms),
            time__lte=to_datetime(end_ms),
        )
        .order_by("time")
        .values_list("time", *(spec.column for spec in fields))
    )
    times: list[int] = []
    values: list[list] = []
    for moment, *cells in rows.iterator(chunk_size=BLOCK_ROWS):
        times.append(to_epoch_ms(moment))
        values.append(cells)
        if len(times) >= BLOCK_ROWS:
            yield np.asarray(times, dtype=np.int64), np.array(values, dtype=np.float64)
            times, values = [], []
    if times:
        yield np.asarray(times, dtype=np.int64), np.array(values, dtype=np.float64)


# --- Simplification --------------------------------------------------------------------------


def field_ranges(series_id: int, fields, start_ms: int, end_ms: int) -> np.ndarray:
    """Each field's range (max - min) over the quarters of [start, end], from the rollups."""
    columns = []
    for spec in fields:
        columns += [spec.rollup_column("min"), spec.rollup_column("max")]
    start = to_datetime(start_ms // QUARTER_MS * QUARTER_MS)
    rows = QuarterRollup.objects.filter(
        series_id=series_id, start__gte=start, start__lte=to_datetime(end_ms)
    ).values_list(*columns)
    low = np.full(len(fields), np.inf)
    high = np.full(len(fields), -np.inf)
    for row in rows.iterator(chunk_size=2000):
        cells = np.array(row, dtype=np.float64)
        low = np.fmin(low, cells[0::2])
        high = np.fmax(high, cells[1::2])
    ranges = high - low
    return np.where(np.isfinite(ranges), ranges, 0.0)


def rdp_blocks(blocks, epsilons: np.ndarray):
    """Ramer-Douglas-Peucker per field over windows of ``RDP_WINDOW`` samples."""
    pending_t: list[np.ndarray] = []
    pending_v: list[np.ndarray] = []
    size = 0

    def window(times, values):
        # Every field's samples of the window end to end, simplified together.
        parts, firsts, lasts, kept_eps = [], [], [], []
        offset = 0
        for column, epsilon in enumerate(epsilons.tolist()):
            present = np.flatnonzero(~np.isnan(values[:, column]))
            parts.append((column, present))
            if len(present) >= 3:
                firsts.append(offset)
                lasts.append(offset + len(present) - 1)
                kept_eps.append(epsilon)
            offset += len(present)
        if not firsts:
            return times, values
        rows = np.concatenate([present for _, present in parts])
        columns = np.concatenate([np.full(len(present), c) for c, present in parts])
        keep = rdp_keep_series(
            times[rows],
            values[rows, columns],
            np.array(firsts),
            np.array(lasts),
            np.array(kept_eps),
        )
        out = values.copy()
        out[rows[~keep], columns[~keep]] = np.nan
        return times, out

    for times, values in blocks:
        pending_t.append(times)
        pending_v.append(values)
        size += len(times)
        while size >= RDP_WINDOW:
            all_t = np.concatenate(pending_t)
            all_v = np.vstack(pending_v)
            yield window(all_t[:RDP_WINDOW], all_v[:RDP_WINDOW])
            pending_t, pending_v = [all_t[RDP_WINDOW:]], [all_v[RDP_WINDOW:]]
            size -= RDP_WINDOW
    if size:
        yield window(np.concatenate(pending_t), np.vstack(pending_v))


def lttb_block(make_blocks, request: ExportRequest) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Largest-Triangle-Three-Buckets per field; ``make_blocks()`` reads the series (twice)."""
    width = len(request.fields)
    per_field = max(1, request.max_points // max(width, 1))
    span = request.end_ms - request.start_ms + 1
    buckets = per_field

    def bucket_of(times: np.ndarray) -> np.ndarray:
        return np.minimum((times - request.start_ms) * buckets // span, buckets - 1)

    sums = np.zeros((buckets, width))
    time_sums = np.zeros((buckets, width))
    counts = np.zeros((buckets, width))
    for times, values in make_blocks():
        number = bucket_of(times)
        for column in range(width):
            present = ~np.isnan(values[:, column])
            where = number[present]
            np.add.at(sums[:, column], where, values[present, column])
            np.add.at(time_sums[:, column], where, times[present].astype(np.float64))
            np.add.at(counts[:, column], where, 1)
    next_means = []
    for column in range(width):
        filled = np.flatnonzero(counts[:, column])
        means = {}
        for current, following in zip(filled[:-1].tolist(), filled[1:].tolist(), strict=True):
            count = counts[following, column]
            means[current] = (
                time_sums[following, column] / count,
                sums[following, column] / count,
            )
        next_means.append(means)
    choosers = [LTTBChooser(means) for means in next_means]
    for times, values in make_blocks():
        number = bucket_of(times)
        for column in range(width):
            present = ~np.isnan(values[:, column])
            if present.any():
                choosers[column].feed(times[present], values[present, column], number[present])
    chosen = [chooser.finish() for chooser in choosers]
    all_times = np.unique(
        np.array([time for points in chosen for time, _ in points], dtype=np.int64)
    )
    if not len(all_times):
        return
    matrix = np.full((len(all_times), width), np.nan)
    for column, points in enumerate(chosen):
        if points:
            rows = np.searchsorted(all_times, [time for time, _ in points])
            matrix[rows, column] = [value for _, value in points]
    yield all_times, matrix


# --- Formatting ------------------------------------------------------------------------------


def rounded(values: np.ndarray, precision: int) -> np.ndarray:
    """``values`` rounded to ``precision`` significant digits (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(values)))
        magnitude = np.where(np.isfinite(magnitude), magnitude, 0.0)
        exponent = precision - 1 - magnitude
        up = np.power(10.0, np.clip(exponent, 0, 308))
        down = np.power(10.0, np.clip(-exponent, 0, 308))
        scaled_up = np.round(values * up) / up
        scaled_down = np.round(values / down) * down
        return np.where(exponent >= 0, scaled_up, scaled_down)


def _number_texts(column: np.ndarray, integer: bool) -> list[str]:
    """Texts of one column (``""`` for NaN); whole numbers without ``.0``."""
    if integer:
        return ["" if x != x else str(int(x)) for x in column.tolist()]
    return [
        text[:-2] if text[-2:] == ".0" else ("" if text == "nan" else text)
        for text in map(repr, column.tolist())
    ]


def _time_texts(times: np.ndarray, tz_minutes: int) -> list[str]:
    local = (times + tz_minutes * 60_000).astype("datetime64[ms]")
    sign = "+" if tz_minutes >= 0 else "-"
    hours, minutes = divmod(abs(tz_minutes), 60)
    suffix = f"{sign}{hours:02d}:{minutes:02d}"
    return [text + suffix for text in np.datetime_as_string(local, unit="ms").tolist()]


def _formatted_block(times, values, request: ExportRequest):
    keep = ~np.all(np.isnan(values), axis=1)
    if not keep.all():
        times, values = times[keep], values[keep]
    if not len(times):
        return None
    values = rounded(values, request.precision)
    columns = [
        _number_texts(values[:, index], spec.integer) for index, spec in enumerate(request.fields)
    ]
    return _time_texts(times, request.tz_minutes), columns


def csv_lines(blocks, request: ExportRequest) -> Iterator[str]:
    separator = request.separator
    header = ["Time", *(spec.label for spec in request.fields)]
    cells = [str(spreadsheet_cell(label)) for label in header]
    cells = [f'"{cell}"' if separator in cell else cell for cell in cells]
    yield f"sep={separator}\r\n" + separator.join(cells) + "\r\n"
    for times, values in blocks:
        formatted = _formatted_block(times, values, request)
        if formatted is None:
            continue
        time_texts, columns = formatted
        lines = [separator.join(row) for row in zip(time_texts, *columns, strict=True)]
        yield "\r\n".join(lines) + "\r\n"


def json_chunks(blocks, request: ExportRequest) -> Iterator[str]:
    yield "["
    first = True
    names = [f'"{spec.name}":' for spec in request.fields]
    for times, values in blocks:
        formatted = _formatted_block(times, values, request)
        if formatted is None:
            continue
        time_texts, columns = formatted
        objects = []
        for time_text, *cells in zip(time_texts, *columns, strict=True):
            parts = [f'"time":"{time_text}"']
            parts.extend(name + cell for name, cell in zip(names, cells, strict=True) if cell)
            objects.append("{" + ",".join(parts) + "}")
        text = ",".join(objects)
        yield text if first else "," + text
        first = False
    yield "]"


def export_chunks(request: ExportRequest, export_format: str) -> Iterator[str]:
    """The export's text, chunk by chunk."""

    def make_blocks():
        return sample_blocks(request.series_id, request.fields, request.start_ms, request.end_ms)

    if request.max_points and request.series_id is not None:
        blocks = lttb_block(make_blocks, request)
    elif request.tolerance > 0 and request.series_id is not None:
        ranges = field_ranges(request.series_id, request.fields, request.start_ms, request.end_ms)
        blocks = rdp_blocks(make_blocks(), ranges * request.tolerance)
    else:
        blocks = make_blocks()
    if export_format == "csv":
        return csv_lines(blocks, request)
    return json_chunks(blocks, request)


def significant(value: float, precision: int) -> float:
    """One value rounded to ``precision`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(rounded(np.array([value]), precision)[0])

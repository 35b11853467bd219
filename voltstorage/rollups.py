"""Rollups: the aggregates of every field per series and UTC quarter hour (and hour), computed
with NumPy and kept current at ingestion.

What each column holds, for a field's samples in the period (``catalogue`` names them
``<column>_<aggregate>``):

- ``count``, ``sum``, ``min``, ``max``: of the samples whose time lies in the period;
- power fields, from the time each value held: a value holds from its sample until the field's
  next sample, at most ``VOLTSTORAGE_HOLD_SECONDS`` (a gap longer than that counts only that
  long: the device was off, nothing more is assumed; the newest sample holds that long until a
  later one arrives); the held span is split at the period boundaries. ``seconds``: held
  seconds; ``energy_in``: integral of the positive part of the power over time
  (watt-seconds); ``energy_out``: of the negative part, as a positive number ("in" is the
  field's positive direction: grid import, but for the storage's powers, positive while
  discharging, ``energy_in`` is the energy released and ``energy_out`` the energy stored);
  ``active_seconds``: held seconds with a positive value;
- levels (the state of charge): ``rise`` and ``fall``, the sums of the increases and of the
  decreases between consecutive samples at most the hold apart, in the period of the later one.

So every quantity depends on a sample and the field's next sample within the hold only, which
makes the rollups maintainable as data arrives:

- **append** (every sample newer than the series' newest, the usual case): the batch's own
  aggregates are added to the stored ones, and the field's previous sample (``Series.latest``)
  has its held time cut back to the batch's first sample, and its change to it counted; no raw
  row is read;
- **anything else** (a resent or backfilled sample, which may replace values or split a pair):
  the quarters within the hold of each written sample are recomputed from the raw rows, and
  the hours holding them from their quarters.

Hours are exact sums of their four quarters, for the columns statistics read and the counts
(the others stay empty there: hours exist to make statistics fast, and narrower rows read
faster). A quarter of an hour is the unit every time zone's day, month and year boundaries are
made of (offsets of 30 and 45 minutes included), which is what ``voltstorage.statistics``
relies on.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, models

from voltstorage import catalogue
from voltstorage.models import ROLLUP_COLUMNS, HourRollup, QuarterRollup, Sample

QUARTER_MS = 900_000
HOUR_MS = 3_600_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# How each column combines across batches and periods.
ADD, MIN, MAX = 0, 1, 2
_OPS = {"min": MIN, "max": MAX}
COLUMN_OPS = np.array(
    [_OPS.get(column.rsplit("_", 1)[-1], ADD) for column in ROLLUP_COLUMNS], dtype=np.int8
)
COLUMN_INDEX = {column: index for index, column in enumerate(ROLLUP_COLUMNS)}
_COUNT_COLUMNS = [index for index, column in enumerate(ROLLUP_COLUMNS) if column.endswith("_count")]


def hold_ms() -> int:
    """How long a value holds (milliseconds), at most a quarter hour."""
    return int(min(settings.VOLTSTORAGE_HOLD_SECONDS, 900) * 1000)


def to_datetime(epoch_ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=int(epoch_ms))


def to_epoch_ms(moment: dt.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


@dataclass
class Periods:
    """Aggregates of consecutive periods: ``index`` (sorted, quarter or hour numbers since the
    epoch) and one row of ``ROLLUP_COLUMNS`` values each, NaN where a column has none."""

    index: np.ndarray
    values: np.ndarray

    @classmethod
    def empty(cls) -> Periods:
        return cls(np.empty(0, dtype=np.int64), np.empty((0, len(ROLLUP_COLUMNS))))

    def __len__(self) -> int:
        return len(self.index)

    def only(self, wanted: np.ndarray) -> Periods:
        keep = np.isin(self.index, wanted)
        return Periods(self.index[keep], self.values[keep])

    def to_hours(self) -> Periods:
        """These quarters combined into hours."""
        return combine_groups(self.index // 4, self.values)


def combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows ``a`` and ``b`` of aggregates combined column by column (NaN is "none")."""
    added = np.where(np.isnan(a), b, np.where(np.isnan(b), a, a + b))
    extreme = np.where(COLUMN_OPS == MIN, np.fmin(a, b), np.fmax(a, b))
    return np.where(COLUMN_OPS == ADD, added, extreme)


def combine_groups(keys: np.ndarray, values: np.ndarray) -> Periods:
    """Rows with equal ``keys`` combined into one (``keys`` need not be sorted)."""
    if len(keys) == 0:
        return Periods.empty()
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    sums = np.add.reduceat(filled, starts, axis=0)
    mins = np.minimum.reduceat(np.where(present, values, np.inf), starts, axis=0)
    maxs = np.maximum.reduceat(np.where(present, values, -np.inf), starts, axis=0)
    any_present = np.add.reduceat(present.astype(np.int32), starts, axis=0) > 0
    out = np.where(COLUMN_OPS == MIN, mins, np.where(COLUMN_OPS == MAX, maxs, sums))
    out[~any_present] = np.nan
    return Periods(keys[starts], out)


class _Accumulator:
    """Collects (period, column, amount) contributions and combines them into ``Periods``."""

    def __init__(self) -> None:
        self.periods: list[np.ndarray] = []
        self.columns: list[int] = []
        self.amounts: list[np.ndarray] = []

    def add(self, periods: np.ndarray, column: str, amounts: np.ndarray) -> None:
        if len(periods):
            self.periods.append(periods)
            self.columns.append(COLUMN_INDEX[column])
            self.amounts.append(np.asarray(amounts, dtype=np.float64))

    def result(self) -> Periods:
        if not self.periods:
            return Periods.empty()
        keys = np.unique(np.concatenate(self.periods))
        values = np.full((len(keys), len(ROLLUP_COLUMNS)), np.nan)
        for periods, column, amounts in zip(self.periods, self.columns, self.amounts, strict=True):
            rows = np.searchsorted(keys, periods)
            op = COLUMN_OPS[column]
            target = values[:, column]
            # Contributions to one period and column combine like the column does.
            order = np.argsort(rows, kind="stable")
            rows, amounts = rows[order], amounts[order]
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            unique_rows = rows[starts]
            if op == MIN:
                reduced = np.minimum.reduceat(amounts, starts)
                target[unique_rows] = np.fmin(target[unique_rows], reduced)
            elif op == MAX:
                reduced = np.maximum.reduceat(amounts, starts)
                target[unique_rows] = np.fmax(target[unique_rows], reduced)
            else:
                reduced = np.add.reduceat(amounts, starts)
                current = target[unique_rows]
                target[unique_rows] = np.where(np.isnan(current), reduced, current + reduced)
        return Periods(keys, values)


def aggregate(
    times: np.ndarray,
    values: np.ndarray,
    *,
    hold: int,
    previous: dict[int, tuple[int, float]] | None = None,
    quarters: np.ndarray | None = None,
) -> Periods:
    """Quarter-hour aggregates of samples at ``times`` (milliseconds, ascending, unique) with
    ``values`` (one column per catalogue field, NaN where a sample lacks the field). A power
    value holds until the field's next sample, at most ``hold``; the last sample holds
    ``hold`` (until a later one arrives).

    ``previous`` gives, per field index, the field's sample just before ``times`` (appending):
    it is counted already, as the last sample, holding ``hold``; what changes is its held
    time (now up to the first new sample) and its pair with that sample. ``quarters``, if
    given, limits the result to those quarters (recomputing: the samples must then cover the
    hold before and after them)."""
    acc = _Accumulator()
    previous = previous or {}
    for index, spec in enumerate(catalogue.FIELDS):
        column = values[:, index]
        present = ~np.isnan(column)
        t = times[present]
        v = column[present]
        if not len(t):
            continue
        _sample_aggregates(acc, spec, t, v)
        before = previous.get(index)
        if spec.kind is catalogue.Kind.LEVEL:
            if before is not None:
                t, v = np.r_[np.int64(before[0]), t], np.r_[before[1], v]
            _level_changes(acc, spec, t, v, hold)
        elif spec.kind is catalogue.Kind.POWER:
            held = np.r_[np.minimum(np.diff(t), hold), hold]
            _held(acc, spec, t, held, v, 1.0)
            if before is not None:
                # The previous sample held ``hold``; now only up to the first new sample.
                gap = min(int(t[0]) - int(before[0]), hold)
                if gap < hold:
                    tail = np.array([int(before[0]) + gap], dtype=np.int64)
                    _held(acc, spec, tail, np.array([hold - gap]), np.array([before[1]]), -1.0)
    periods = acc.result()
    return periods if quarters is None else periods.only(quarters)


def _sample_aggregates(acc: _Accumulator, spec, t: np.ndarray, v: np.ndarray) -> None:
    quarter = t // QUARTER_MS
    starts = np.flatnonzero(np.r_[True, quarter[1:] != quarter[:-1]])
    keys = quarter[starts]
    acc.add(keys, spec.rollup_column("count"), np.diff(np.r_[starts, len(t)]))
    acc.add(keys, spec.rollup_column("sum"), np.add.reduceat(v, starts))
    acc.add(keys, spec.rollup_column("min"), np.minimum.reduceat(v, starts))
    acc.add(keys, spec.rollup_column("max"), np.maximum.reduceat(v, starts))


def _level_changes(acc: _Accumulator, spec, t: np.ndarray, v: np.ndarray, hold: int) -> None:
    """Rises and falls between consecutive samples at most ``hold`` apart, in the quarter of
    the later one."""
    if len(t) < 2:
        return
    close = np.diff(t) <= hold
    change = np.diff(v)[close]
    later = t[1:][close] // QUARTER_MS
    acc.add(later, spec.rollup_column("rise"), np.maximum(change, 0.0))
    acc.add(later, spec.rollup_column("fall"), np.maximum(-change, 0.0))


def _held(acc, spec, start: np.ndarray, held: np.ndarray, value: np.ndarray, sign: float):
    """Add (``sign`` 1) or take away (-1) values held from ``start`` for ``held`` ms (at most a
    quarter hour), split at quarter boundaries."""
    quarter = start // QUARTER_MS
    first = np.minimum(start + held, (quarter + 1) * QUARTER_MS) - start
    rest = held - first
    spill = rest > 0
    for periods, span, part in (
        (quarter, first, value),
        (quarter[spill] + 1, rest[spill], value[spill]),
    ):
        seconds = sign * span / 1000.0
        acc.add(periods, spec.rollup_column("seconds"), seconds)
        acc.add(periods, spec.rollup_column("energy_in"), np.maximum(part, 0.0) * seconds)
        acc.add(periods, spec.rollup_column("energy_out"), np.maximum(-part, 0.0) * seconds)
        acc.add(periods, spec.rollup_column("active_seconds"), (part > 0) * seconds)


# --- Stored rollups --------------------------------------------------------------------------


def _load(model: type[models.Model], series_id: int, index: Iterable[int], size: int) -> Periods:
    index = np.asarray(sorted(set(int(i) for i in index)), dtype=np.int64)
    if not len(index):
        return Periods.empty()
    starts = [to_datetime(i * size) for i in index]
    rows = model.objects.filter(series_id=series_id, start__in=starts).values_list(
        "start", *ROLLUP_COLUMNS
    )
    found_index, found = [], []
    for start, *values in rows:
        found_index.append(to_epoch_ms(start) // size)
        found.append([np.nan if value is None else value for value in values])
    if not found:
        return Periods.empty()
    order = np.argsort(found_index)
    return Periods(
        np.asarray(found_index, dtype=np.int64)[order], np.asarray(found, dtype=np.float64)[order]
    )


def _rows(series_id: int, periods: Periods, size: int, connection) -> list[list]:
    """Statement parameters of ``periods``: series, start, then every column (None for none,
    counts as integers)."""
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for index, values in zip(periods.index.tolist(), periods.values.tolist(), strict=True):
        cells = [None if value != value else value for value in values]
        for position in _COUNT_COLUMNS:
            if cells[position] is not None:
                cells[position] = round(cells[position])
        rows.append([series_id, adapt(to_datetime(index * size)), *cells])
    return rows


@functools.cache
def _upsert_sql(table: str, vendor: str, merge: bool) -> tuple[str, str]:
    """``INSERT ... VALUES {rows} ON CONFLICT (series_id, start) DO UPDATE`` and the
    placeholder of one row: each column replaced by the new value, or (``merge``) combined
    with the stored one as the column combines (NULL is none). ``vendor`` keys the cache."""
    quote = connection.ops.quote_name
    names = ["series_id", "start", *ROLLUP_COLUMNS]
    updates = []
    for column, op in zip(ROLLUP_COLUMNS, COLUMN_OPS.tolist(), strict=True):
        old, new = f"{quote(table)}.{quote(column)}", f"excluded.{quote(column)}"
        if not merge:
            expression = new
        elif op == ADD:
            expression = (
                f"CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old} "
                f"ELSE {old} + {new} END"
            )
        else:
            better = "<" if op == MIN else ">"
            expression = (
                f"CASE WHEN {old} IS NULL OR {new} {better} {old} THEN {new} ELSE {old} END"
            )
        updates.append(f"{quote(column)} = {expression}")
    statement = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(name) for name in names)}) "
        f"VALUES {{rows}} ON CONFLICT ({quote('series_id')}, {quote('start')}) "
        f"DO UPDATE SET {', '.join(updates)}"
    )
    return statement, "(" + ", ".join(["%s"] * len(names)) + ")"


def _upsert(model, series_id: int, periods: Periods, size: int, *, merge: bool) -> None:
    """Write ``periods`` in one statement, merged into or replacing the stored rows."""
    if not len(periods):
        return
    statement, placeholder = _upsert_sql(model._meta.db_table, connection.vendor, merge)
    rows = _rows(series_id, periods, size, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            statement.replace("{rows}", ", ".join([placeholder] * len(rows))),
            [cell for row in rows for cell in row],
        )


def _save(model: type[models.Model], series_id: int, periods: Periods, size: int) -> None:
    """Write ``periods`` as they are (replacing stored rows); periods with no value at all are
    deleted."""
    keep = ~np.all(np.isnan(periods.values), axis=1)
    empty = periods.index[~keep]
    if len(empty):
        model.objects.filter(
            series_id=series_id, start__in=[to_datetime(i * size) for i in empty]
        ).delete()
    _upsert(model, series_id, Periods(periods.index[keep], periods.values[keep]), size, merge=False)


@functools.cache
def _hour_mask() -> np.ndarray:
    """The columns hours keep: those statistics read (``voltstorage.statistics.COLUMNS``), and
    every field's count, so that an hour with samples has a row. Quarters keep every
    aggregate; hours are the statistics' faster path, and rows with fewer values are narrower
    to read."""
    from voltstorage.statistics import COLUMNS as READ

    kept = {column for _, column, _ in READ} | {c for c in ROLLUP_COLUMNS if c.endswith("_count")}
    return np.array([column not in kept for column in ROLLUP_COLUMNS])


def hours_of(quarters: Periods) -> Periods:
    """``quarters`` combined into hours, with only the columns hours keep (an hour with none
    of them left is none)."""
    hours = quarters.to_hours()
    hours.values[:, _hour_mask()] = np.nan
    return hours


def rollups_add(*, series_id: int, quarters: Periods) -> None:
    """Add ``quarters`` (aggregates of new samples) to the stored quarters and hours, in one
    statement each, merged by the database. The caller holds the series' lock."""
    if not len(quarters):
        return
    _upsert(QuarterRollup, series_id, quarters, QUARTER_MS, merge=True)
    hours = hours_of(quarters)
    filled = ~np.all(np.isnan(hours.values), axis=1)
    _upsert(
        HourRollup,
        series_id,
        Periods(hours.index[filled], hours.values[filled]),
        HOUR_MS,
        merge=True,
    )


def _merge(stored: Periods, new: Periods) -> Periods:
    if not len(stored):
        return new
    keys = np.concatenate([stored.index, new.index])
    return combine_groups(keys, np.vstack([stored.values, new.values]))


def affected_quarters(times: np.ndarray, *, hold: int) -> np.ndarray:
    """The quarters whose aggregates samples written at ``times`` may change: those within the
    hold before and after each (the pairs each sample starts and ends)."""
    low = (times - hold) // QUARTER_MS
    high = (times + hold) // QUARTER_MS
    spans = [low + step for step in range(int((2 * hold) // QUARTER_MS) + 2)]
    candidates = np.concatenate(spans)
    upper = np.concatenate([high] * len(spans))
    return np.unique(candidates[candidates <= upper])


def rollups_recompute(*, series_id: int, quarters: np.ndarray) -> None:
    """Recompute the stored ``quarters`` from the raw rows (they include this transaction's
    writes), then the hours that hold them from their quarters. The caller holds the lock."""
    quarters = np.unique(quarters)
    if not len(quarters):
        return
    hold = hold_ms()
    result = []
    # Contiguous runs of quarters, each read with the hold around it.
    breaks = np.flatnonzero(np.diff(quarters) > 1) + 1
    for run in np.split(quarters, breaks):
        start = int(run[0]) * QUARTER_MS - hold
        end = (int(run[-1]) + 1) * QUARTER_MS + hold
        times, values = read_samples(series_id, start, end, include_end=True)
        periods = aggregate(times, values, hold=hold, quarters=run)
        missing = np.setdiff1d(run, periods.index)
        blank = Periods(missing, np.full((len(missing), len(ROLLUP_COLUMNS)), np.nan))
        result.append(_merge(periods, blank) if len(blank) else periods)
    recomputed = Periods(
        np.concatenate([p.index for p in result]), np.vstack([p.values for p in result])
    )
    _save(QuarterRollup, series_id, recomputed, QUARTER_MS)
    hours = np.unique(quarters // 4)
    members = np.concatenate([hours * 4 + k for k in range(4)])
    stored = _load(QuarterRollup, series_id, members, QUARTER_MS)
    combined = hours_of(stored)
    missing = np.setdiff1d(hours, combined.index)
    blank = Periods(missing, np.full((len(missing), len(ROLLUP_COLUMNS)), np.nan))
    _save(HourRollup, series_id, _merge(combined, blank) if len(blank) else combined, HOUR_MS)


def read_samples(
    series_id: int, start_ms: int, end_ms: int, *, include_end: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The raw samples of a series in [start, end) (or [start, end]) as ``(times, values)``."""
    lookup = "time__lte" if include_end else "time__lt"
    rows = (
        Sample.objects.filter(
            series_id=series_id, time__gte=to_datetime(start_ms), **{lookup: to_datetime(end_ms)}
        )
        .order_by("time")
        .values_list("time", *catalogue.COLUMNS)
    )
    times, matrix = [], []
    for moment, *values in rows:
        times.append(to_epoch_ms(moment))
        matrix.append([np.nan if value is None else value for value in values])
    if not times:
        return np.empty(0, dtype=np.int64), np.empty((0, len(catalogue.FIELDS)))
    return np.asarray(times, dtype=np.int64), np.asarray(matrix, dtype=np.float64)


def stored_periods(
    model: type[models.Model], series_ids: Sequence[int], start_ms: int, end_ms: int, columns
) -> tuple[np.ndarray, np.ndarray]:
    """Rollup rows of ``series_ids`` with ``start`` in [start, end): their starts (ms) and
    ``columns`` (NaN for none), summed over the series for equal starts."""
    rows = (
        model.objects.filter(
            series_id__in=list(series_ids),
            start__gte=to_datetime(start_ms),
            start__lt=to_datetime(end_ms),
        )
        .order_by("start")
        .values_list("start", *columns)
    )
    starts, matrix = [], []
    for start, *values in rows:
        starts.append(to_epoch_ms(start))
        matrix.append([np.nan if value is None else value for value in values])
    if not starts:
        return np.empty(0, dtype=np.int64), np.empty((0, len(columns)))
    return np.asarray(starts, dtype=np.int64), np.asarray(matrix, dtype=np.float64)

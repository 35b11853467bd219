"""Statistics of a product per hour, day, month, year or its lifetime, from the rollups.

Buckets follow the product's time zone, daylight-saving changes included: a local day is the
span between two local midnights (23 or 25 hours on the days the clocks change), a local hour
the span between two instants whose local time is a whole hour (the repeated hour of an
autumn change is a bucket of its own, and in a zone offset by 30 or 45 minutes an hour starts
at :30 or :45 UTC). Every such boundary is a whole UTC quarter hour for every offset in use
since the 1970s, so the buckets are sums of quarter-hour rollups (``voltstorage.rollups``):
exact. Hour rollups are read instead when every boundary of the request is a whole UTC hour
(zones offset by whole hours), four times fewer rows. A bucket starts at ``timespan_start``
(unix seconds); buckets without any sample are left out.

How each key is computed, for the samples of the product's own series in the bucket (powers
integrate over the time each value held, see ``voltstorage.rollups``; energies in watt-seconds,
which the documented magnitudes show: 21,982,919 Ws = 6.1 kWh stored in a day):

==========================  =====================================================================
``pv-total``                energy the PV produced: integral of ``pvPower`` (Ws)
``pv-activity``             share of the PV's held time with ``pvPower`` above 0 (0 to 1)
``consumption-total``       energy the household consumed: integral of ``householdPower`` (Ws)
``storage-total-stored``    DC energy into the stack: integral of negative ``storagePower`` (Ws;
                            the storage's powers are positive while it discharges, negative
                            while it charges, as in the original's CSV sample)
``storage-total-released``  DC energy out of the stack: integral of positive ``storagePower``
``max-temperature``         highest ``electrolyteTemperature`` (°C)
``own-consumption``         share of the PV energy used on site rather than exported:
                            (pv-total - energy exported to the grid) / pv-total, 0 without PV;
                            ``nSamples``: ``pvPower`` samples
``electrolyte-temp``        mean ``electrolyteTemperature``; ``nSamples``: its samples
``pump-temp``               mean ``pumpTemperature``; ``nSamples``: its samples
``dc-capacity``             DC energy released per full discharge: storage-total-released / the
                            sum of the falls of ``stateOfCharge`` (Ws); ``nSamples``:
                            ``storagePower`` samples
``ac-capacity``             the same at the AC side: energy the inverter delivers (positive
                            ``inverterPower``) / the falls of ``stateOfCharge``; ``nSamples``:
                            ``inverterPower`` samples
``dc-efficiency``           round trip at the DC side: energy out per unit of charge fallen
                            divided by energy in (negative ``storagePower``) per unit of
                            charge risen (independent of the charge at the bucket's ends)
``ac-efficiency``           the same with ``inverterPower``
``self-sufficiency``        share of the consumption not drawn from the grid: 1 - grid import
                            / consumption-total, from 0 to 1; ``totalWeight``:
                            consumption-total, so that buckets combine as a weighted mean
==========================  =====================================================================

Totals are whole watt-seconds, 0 without data; a mean or ratio with nothing to divide by is
null.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np
import orjson
import psycopg
from django.db import connection

from voltstorage.binary import PG_EPOCH_MS
from voltstorage.models import HourRollup, QuarterRollup
from voltstorage.rollups import ADD, HOUR_MS, MAX, MIN, QUARTER_MS, to_datetime

TIMESPANS = ("hour", "day", "month", "year", "lifetime")
DAY_MS = 86_400_000
#: Most buckets one request may ask for.
MAX_BUCKETS = 10_000
#: The range asked for when ``tstart`` is not given, per timespan (ending at ``tend``).
DEFAULT_RANGE_MS = {
    "hour": DAY_MS,
    "day": 31 * DAY_MS,
    "month": 366 * DAY_MS,
    "year": 10 * 366 * DAY_MS,
}

# (key in the code below, rollup column, how it combines)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("pv_in", "pv_power_energy_in", ADD),
    ("pv_seconds", "pv_power_seconds", ADD),
    ("pv_active", "pv_power_active_seconds", ADD),
    ("pv_count", "pv_power_count", ADD),
    ("household_in", "household_power_energy_in", ADD),
    ("grid_in", "grid_power_energy_in", ADD),
    ("grid_out", "grid_power_energy_out", ADD),
    # The storage's powers are positive while it discharges: their positive part ("energy_in")
    # is the energy released, their negative part ("energy_out") the energy stored.
    ("storage_released", "storage_power_energy_in", ADD),
    ("storage_stored", "storage_power_energy_out", ADD),
    ("storage_count", "storage_power_count", ADD),
    ("inverter_released", "inverter_power_energy_in", ADD),
    ("inverter_stored", "inverter_power_energy_out", ADD),
    ("inverter_count", "inverter_power_count", ADD),
    ("soc_rise", "state_of_charge_rise", ADD),
    ("soc_fall", "state_of_charge_fall", ADD),
    ("electrolyte_count", "electrolyte_temperature_count", ADD),
    ("electrolyte_sum", "electrolyte_temperature_sum", ADD),
    ("electrolyte_max", "electrolyte_temperature_max", MAX),
    ("pump_count", "pump_temperature_count", ADD),
    ("pump_sum", "pump_temperature_sum", ADD),
)
_OPS = np.array([op for _, _, op in COLUMNS], dtype=np.int8)
# A packed rollup row: start (microseconds since 2000-01-01), then the columns, big-endian.
_PACKED = np.dtype([("start", ">i8")] + [(f"c{i}", ">f8") for i in range(len(COLUMNS))])
#: The keys of a bucket, in the documented order.
BUCKET_KEYS = (
    "timespan_start",
    "pv-total",
    "pv-activity",
    "consumption-total",
    "storage-total-released",
    "storage-total-stored",
    "max-temperature",
    "own-consumption",
    "electrolyte-temp",
    "pump-temp",
    "dc-capacity",
    "ac-capacity",
    "dc-efficiency",
    "ac-efficiency",
    "self-sufficiency",
)
_AVERAGED = (
    "own-consumption",
    "electrolyte-temp",
    "pump-temp",
    "dc-capacity",
    "ac-capacity",
    "dc-efficiency",
    "ac-efficiency",
)
#: One bucket as JSON, its numbers (already JSON text) to fill in, in the documented order.
BUCKET_TEMPLATE = (
    "{"
    + ",".join(
        f'"{key}":{{"nSamples":%b,"value":%b}}'
        if key in _AVERAGED
        else '"self-sufficiency":{"totalWeight":%b,"value":%b}'
        if key == "self-sufficiency"
        else f'"{key}":%b'
        for key in BUCKET_KEYS
    )
    + "}"
).encode()
_POSITION = {key: index for index, (key, _, _) in enumerate(COLUMNS)}


@dataclass(frozen=True)
class Segment:
    """A span [start, end) of UTC milliseconds over which a zone's offset is constant."""

    start: int
    end: int
    offset: int


def _offset_ms(zone: zoneinfo.ZoneInfo, epoch_ms: int) -> int:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC).astimezone(zone)
    return int(moment.utcoffset().total_seconds() * 1000)


def offset_segments(zone: zoneinfo.ZoneInfo, start_ms: int, end_ms: int) -> list[Segment]:
    """The zone's UTC offsets over [start, end), found by reading the offset once a day and
    narrowing each change down to the second."""
    segments = []
    begin = start_ms
    offset = _offset_ms(zone, begin)
    probe = begin
    while probe < end_ms:
        step = min(probe + DAY_MS, end_ms - 1)
        if step <= probe:
            break
        later = _offset_ms(zone, step)
        if later != offset:
            low, high = probe, step  # offset(low) == offset, offset(high) != offset
            while high - low > 1000:
                middle = (low + high) // 2 // 1000 * 1000
                if middle <= low:
                    middle = low + 1000
                if _offset_ms(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            segments.append(Segment(begin, high, offset))
            begin, offset = high, _offset_ms(zone, high)
            probe = high
            continue
        probe = step
    segments.append(Segment(begin, end_ms, offset))
    return segments


def _unit_index(local_ms: np.ndarray, timespan: str) -> np.ndarray:
    """The local hour, day, month or year each local instant falls in, as a number."""
    if timespan == "hour":
        return local_ms // HOUR_MS
    days = (local_ms // DAY_MS).astype("datetime64[D]")
    if timespan == "day":
        return days.astype(np.int64)
    if timespan == "month":
        return days.astype("datetime64[M]").astype(np.int64)
    return days.astype("datetime64[Y]").astype(np.int64)


def bucket_boundaries(timespan: str, zone_name: str, start_ms: int, end_ms: int) -> np.ndarray:
    """The UTC instants (ms) where the local hours, days, months or years of ``zone_name``
    begin: the start of the bucket holding ``start_ms``, every later one before ``end_ms``,
    and the end of the last bucket."""
    zone = zoneinfo.ZoneInfo(zone_name)
    # Room for the bucket that holds the start and the one that holds the end.
    room = {"hour": 2 * HOUR_MS, "day": 2 * DAY_MS, "month": 32 * DAY_MS, "year": 367 * DAY_MS}
    low, high = start_ms - room[timespan], end_ms + room[timespan]
    step = HOUR_MS if timespan == "hour" else DAY_MS
    instants, offsets = [], []
    previous = None
    for segment in offset_segments(zone, low, high):
        # Local whole hours (or midnights) within the segment.
        first = -((-(segment.start + segment.offset)) // step) * step - segment.offset
        inside = np.arange(first, segment.end, step, dtype=np.int64)
        if previous is not None and (not len(inside) or inside[0] != segment.start):
            # A change of offset off the new grid starts a bucket when the clocks jumped over
            # a boundary of the old grid (a skipped midnight, a 30-minute change).
            before = _unit_index(np.array([segment.start - 1 + previous]), timespan)[0]
            after = _unit_index(np.array([segment.start + segment.offset]), timespan)[0]
            if after > before or (segment.start + previous) % step == 0:
                inside = np.r_[np.int64(segment.start), inside]
        instants.append(inside)
        offsets.append(np.full(len(inside), segment.offset, dtype=np.int64))
        previous = segment.offset
    instants = np.concatenate(instants)
    offsets = np.concatenate(offsets)
    order = np.argsort(instants, kind="stable")
    instants, offsets = instants[order], offsets[order]
    if timespan != "hour" and len(instants):
        # A day, month or year begins where the local date moves on; a midnight repeated
        # by an autumn change starts nothing.
        units = _unit_index(instants + offsets, timespan)
        keep = np.r_[True, units[1:] > np.maximum.accumulate(units)[:-1]]
        instants = instants[keep]
    # From the bucket holding the start to the end of the bucket holding end - 1.
    first = np.searchsorted(instants, start_ms, side="right") - 1
    last = np.searchsorted(instants, end_ms - 1, side="right")
    return instants[max(first, 0) : last + 1]


@dataclass
class StatisticsRequest:
    timespan: str
    start_ms: int
    end_ms: int
    zone: str


def _read(model, series_id: int, start_ms: int, end_ms: int) -> np.ndarray:
    """Rollup rows of the series in [start, end): a float array, the start (ms) first, then
    ``COLUMNS`` (NaN for none)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    where = f"WHERE {quote('series_id')} = %s AND start >= %s AND start < %s ORDER BY start"
    if connection.vendor == "postgresql":
        # One row: every rollup row packed as binary (its start, then its floats), parsed by
        # NumPy at once (a row per rollup costs more in Python than the query itself).
        packed = " || ".join(
            ["timestamptz_send(start)"]
            + [f"float8send(COALESCE({quote(c)}::float8, 'NaN'))" for _, c, _ in COLUMNS]
        )
        connection.ensure_connection()
        # Binary results (Django's cursors bind on the client, which answers text: the blob
        # would come as hex).
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"SELECT string_agg({packed}, ''::bytea) FROM {table} "
                f"WHERE {quote('series_id')} = %s AND start >= %s AND start < %s",
                [series_id, to_datetime(start_ms), to_datetime(end_ms)],
                binary=True,
            )
            (blob,) = cursor.fetchone()
        if not blob:
            return np.empty((0, len(COLUMNS) + 1))
        rows = np.frombuffer(bytes(blob), dtype=_PACKED)
        rows = rows[np.argsort(rows["start"], kind="stable")]  # no sort in the database
        result = np.empty((len(rows), len(COLUMNS) + 1))
        result[:, 0] = rows["start"] // 1000 + PG_EPOCH_MS
        for index in range(len(COLUMNS)):
            result[:, index + 1] = rows[f"c{index}"]
        return result
    start = "CAST(ROUND((julianday(start) - 2440587.5) * 86400000) AS INTEGER)"
    columns = ", ".join(quote(column) for _, column, _ in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {start}, {columns} FROM {table} {where}",
            [
                series_id,
                connection.ops.adapt_datetimefield_value(to_datetime(start_ms)),
                connection.ops.adapt_datetimefield_value(to_datetime(end_ms)),
            ],
        )
        rows = cursor.fetchall()
    if not rows:
        return np.empty((0, len(COLUMNS) + 1))
    return np.array(rows, dtype=np.float64)


def _combine(buckets: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal (ascending) ``buckets`` combined column by column."""
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    present = ~np.isnan(values)
    sums = np.add.reduceat(np.where(present, values, 0.0), starts, axis=0)
    maxs = np.maximum.reduceat(np.where(present, values, -np.inf), starts, axis=0)
    mins = np.minimum.reduceat(np.where(present, values, np.inf), starts, axis=0)
    out = np.where(_OPS == MAX, maxs, np.where(_OPS == MIN, mins, sums))
    seen = np.add.reduceat(present.astype(np.int32), starts, axis=0) > 0
    out[~seen & (_OPS != ADD)] = np.nan
    return buckets[starts], out


def product_statistics(*, series_id: int | None, request: StatisticsRequest) -> bytes:
    """The statistics buckets of a product's own series as the JSON array the API answers;
    see the module's docstring."""
    if series_id is None:
        return b"[]"
    if request.timespan == "lifetime":
        boundaries = np.array(
            [
                request.start_ms // QUARTER_MS * QUARTER_MS,
                -(-request.end_ms // QUARTER_MS) * QUARTER_MS,
            ],
            dtype=np.int64,
        )
        labels = np.array([request.start_ms // 1000 * 1000], dtype=np.int64)
    else:
        boundaries = bucket_boundaries(
            request.timespan, request.zone, request.start_ms, request.end_ms
        )
        labels = boundaries[:-1]
    if len(boundaries) < 2:
        return b"[]"
    hourly = bool(np.all(boundaries % HOUR_MS == 0))
    model = HourRollup if hourly else QuarterRollup
    rows = _read(model, series_id, int(boundaries[0]), int(boundaries[-1]))
    if not len(rows):
        return b"[]"
    starts = rows[:, 0].astype(np.int64)
    buckets = np.searchsorted(boundaries, starts, side="right") - 1
    if bool(np.all(buckets[1:] > buckets[:-1])):
        keys, values = buckets, rows[:, 1:]  # a row per bucket (hours from hour rollups)
    else:
        keys, values = _combine(buckets, rows[:, 1:])
    return _buckets(labels[keys], values)


def _buckets(starts: np.ndarray, values: np.ndarray) -> bytes:
    def column(key: str) -> np.ndarray:
        return values[:, _POSITION[key]]

    def total(key: str) -> np.ndarray:
        return np.nan_to_num(column(key))

    with np.errstate(divide="ignore", invalid="ignore"):
        pv_in = total("pv_in")
        household = total("household_in")
        grid_in, grid_out = total("grid_in"), total("grid_out")
        stored, released = total("storage_stored"), total("storage_released")
        inverter_stored, inverter_released = total("inverter_stored"), total("inverter_released")
        rise, fall = total("soc_rise"), total("soc_fall")
        pv_seconds = total("pv_seconds")
        pv_activity = np.where(pv_seconds > 0, total("pv_active") / pv_seconds, np.nan)
        own = np.where(pv_in > 0, np.clip((pv_in - grid_out) / pv_in, 0.0, 1.0), 0.0)
        dc_capacity = np.where(fall > 0, released / fall, np.nan)
        ac_capacity = np.where(fall > 0, inverter_released / fall, np.nan)
        dc_in_per_charge = np.where(rise > 0, stored / rise, np.nan)
        ac_in_per_charge = np.where(rise > 0, inverter_stored / rise, np.nan)
        dc_efficiency = np.where(dc_in_per_charge > 0, dc_capacity / dc_in_per_charge, np.nan)
        ac_efficiency = np.where(ac_in_per_charge > 0, ac_capacity / ac_in_per_charge, np.nan)
        self_sufficiency = np.where(
            household > 0, np.clip(1.0 - grid_in / household, 0.0, 1.0), np.nan
        )
        electrolyte_count = total("electrolyte_count")
        electrolyte = total("electrolyte_sum") / electrolyte_count
        pump_count = total("pump_count")
        pump = total("pump_sum") / pump_count

    def integers(array: np.ndarray) -> list[bytes]:
        return _texts(np.rint(array).astype(np.int64))

    def reals(array: np.ndarray) -> list[bytes]:
        return _texts(np.where(np.isfinite(array), array, np.nan))

    consumption = integers(household)
    pv_count = integers(total("pv_count"))
    storage_count = integers(total("storage_count"))
    inverter_count = integers(total("inverter_count"))
    columns = (
        _texts(starts // 1000),
        integers(pv_in),
        reals(pv_activity),
        consumption,
        integers(released),
        integers(stored),
        reals(column("electrolyte_max")),
        pv_count,
        reals(own),
        integers(electrolyte_count),
        reals(electrolyte),
        integers(pump_count),
        reals(pump),
        storage_count,
        reals(dc_capacity),
        inverter_count,
        reals(ac_capacity),
        storage_count,
        reals(dc_efficiency),
        inverter_count,
        reals(ac_efficiency),
        consumption,
        reals(self_sufficiency),
    )
    template = BUCKET_TEMPLATE
    return b"[" + b",".join([template % row for row in zip(*columns, strict=True)]) + b"]"


def _texts(array: np.ndarray) -> list[bytes]:
    """The JSON text of each number (``null`` for NaN), written by orjson in one call."""
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")

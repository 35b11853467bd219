"""Writes of VoltStorage that do more than save one row: device ingestion.

``product_data_ingest`` stores a checked body (``voltstorage.validators``) all or nothing:

1. the partitions the samples need are made first, outside the write's transaction
   (``voltstorage.partitions``: they never block other writers);
2. in one transaction, each touched series is locked (``SELECT ... FOR UPDATE``, in id order),
   so that writes to one series are serialised while different products write in parallel;
3. samples newer than everything the series holds (the usual case) go in by PostgreSQL's binary
   ``COPY`` and their aggregates are added to the rollups; any other batch is merged row by row
   (``INSERT ... ON CONFLICT DO UPDATE``: a field sent again takes the new value, fields not
   sent keep theirs) and the rollup periods it may change are recomputed from the raw rows;
4. the series' latest values, the product's arrival time and, when sent, its error codes are
   updated;
5. after the commit, subscribers of the product receive its new latest data (only if it
   changed; a failed broadcast is logged, never an error of the write).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import orjson
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from core.broadcast import broadcast
from core.copy import copy_rows
from voltstorage import catalogue, partitions
from voltstorage.models import Product, Sample, Series
from voltstorage.rollups import (
    affected_quarters,
    aggregate,
    hold_ms,
    rollups_add,
    rollups_recompute,
    to_datetime,
    to_epoch_ms,
)
from voltstorage.validators import CheckedBody, SeriesBatch

STATUS = catalogue.INDEX["status"]
SAMPLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("series_id", "int4"),
    ("time", "timestamptz"),
    *((spec.column, "int4" if spec.integer else "float8") for spec in catalogue.FIELDS),
)
#: Rows per ``INSERT ... ON CONFLICT`` statement when merging.
MERGE_ROWS = 1000


def product_group(product_id: int) -> str:
    """The channel-layer group of a product's stream."""
    return f"voltstorage-product-{product_id}"


@dataclass
class IngestResult:
    samples: int
    rows: int


def latest_message(latest: dict) -> dict:
    """A series' latest values as the stream and ``latest-data?includeTime=true`` show them:
    ``{"time": <unix s of the newest>, "data": {field: value}}`` in catalogue order."""
    data = {}
    newest = None
    for name in catalogue.NAMES:
        entry = latest.get(name)
        if entry is None:
            continue
        time_ms, value = entry
        data[name] = value
        newest = time_ms if newest is None else max(newest, time_ms)
    return {"time": unix_seconds(newest), "data": data}


def unix_seconds(epoch_ms: int | None):
    """Milliseconds as seconds: an integer when whole (``1575154800``), else a fraction."""
    if epoch_ms is None:
        return None
    return epoch_ms // 1000 if epoch_ms % 1000 == 0 else epoch_ms / 1000


def product_data_ingest(*, product: Product, checked: CheckedBody) -> IngestResult:
    """Store the checked samples of ``product`` all or nothing; see the module's docstring."""
    using = router.db_for_write(Sample)
    try:
        return _ingest(product, checked, using)
    except IntegrityError as exc:
        if "no partition" not in str(exc):
            raise
        # A partition this process knew of was dropped meanwhile (retention): make it again.
        partitions.forget_partitions(using)
        return _ingest(product, checked, using)


def _ingest(product: Product, checked: CheckedBody, using: str) -> IngestResult:
    days = set()
    for batch in checked.batches:
        days |= partitions.days_of((np.unique(batch.times // 86_400_000) * 86_400_000).tolist())
    partitions.ensure_partitions(days, using=using)

    rows = 0
    with transaction.atomic(using=using):
        series = _locked_series(product, [batch.component_id for batch in checked.batches])
        product_latest_changed = False
        for batch in checked.batches:
            target = series[batch.component_id]
            changed = _write_batch(target, batch, using)
            rows += len(batch.times)
            if batch.component_id is None and changed:
                product_latest_changed = True
        updates = {"last_received_at": timezone.now()}
        if checked.errors is not None:
            updates["errors"] = checked.errors
        Product.objects.filter(pk=product.pk).update(**updates)
        if product_latest_changed:
            message = {"type": "latest-data", **latest_message(series[None].latest)}
            # Encoded once here; every subscriber's socket sends the text as it is.
            text = orjson.dumps(message).decode()
            broadcast(group=product_group(product.pk), message=text, using=using)
    return IngestResult(samples=checked.samples, rows=rows)


def _locked_series(product: Product, component_ids: list[int | None]) -> dict:
    """The series the batches write, locked in id order (made first where missing)."""
    wanted = set(component_ids)

    def lock() -> dict:
        locked = (
            Series.objects.select_for_update()
            .filter(product=product)
            .order_by("id")
            .only("id", "component_id", "first_time", "last_time", "latest")
        )
        return {s.component_id: s for s in locked if s.component_id in wanted}

    found = lock()
    if len(found) < len(wanted):
        for component_id in wanted - set(found):
            Series.objects.get_or_create(product=product, component_id=component_id)
        found = lock()
    return found


def _write_batch(series: Series, batch: SeriesBatch, using: str) -> bool:
    """Write one series' samples and keep its rollups and latest values current; returns
    whether the latest values changed."""
    times, values = batch.times, batch.values
    last_ms = to_epoch_ms(series.last_time) if series.last_time is not None else None
    hold = hold_ms()
    if last_ms is None or int(times[0]) > last_ms:
        copy_rows(
            table=Sample._meta.db_table,
            columns=SAMPLE_COLUMNS,
            rows=sample_rows(series.pk, times, values),
            using=using,
        )
        previous = {}
        for name, (time_ms, value) in series.latest.items():
            index = catalogue.INDEX.get(name)
            if index is not None:
                previous[index] = (time_ms, value)
        rollups_add(
            series_id=series.pk,
            quarters=aggregate(times, values, hold=hold, previous=previous),
        )
    else:
        _merge_rows(series.pk, times, values, using)
        rollups_recompute(series_id=series.pk, quarters=affected_quarters(times, hold=hold))

    changed = _update_latest(series.latest, times, values)
    first = int(times[0])
    last = int(times[-1])
    updates = []
    if series.first_time is None or first < to_epoch_ms(series.first_time):
        series.first_time = to_datetime(first)
        updates.append("first_time")
    if last_ms is None or last > last_ms:
        series.last_time = to_datetime(last)
        updates.append("last_time")
    if changed:
        updates.append("latest")
    if updates:
        series.save(update_fields=updates)
    return changed


def _update_latest(latest: dict, times: np.ndarray, values: np.ndarray) -> bool:
    """Put each field's newest value of the batch into ``latest`` where it is at least as new
    as the stored one (the same time: the new value wins)."""
    changed = False
    present = ~np.isnan(values)
    for index, spec in enumerate(catalogue.FIELDS):
        rows = np.flatnonzero(present[:, index])
        if not len(rows):
            continue
        row = rows[-1]
        time_ms = int(times[row])
        value = float(values[row, index])
        if spec.integer or (value.is_integer() and abs(value) < 2**53):
            value = int(value)  # 421, not 421.0
        stored = latest.get(spec.name)
        newer = stored is None or time_ms >= stored[0]
        if newer and stored != [time_ms, value]:
            latest[spec.name] = [time_ms, value]
            changed = True
    return changed


def sample_rows(series_id: int, times: np.ndarray, values: np.ndarray):
    """Rows of ``SAMPLE_COLUMNS`` for the samples (None for a field a sample lacks)."""
    epoch = to_datetime(0)
    millisecond = dt.timedelta(milliseconds=1)
    for time_ms, row in zip(times.tolist(), values.tolist(), strict=True):
        cells = [None if value != value else value for value in row]
        status = cells[STATUS]
        if status is not None:
            cells[STATUS] = int(status)
        yield (series_id, epoch + time_ms * millisecond, *cells)


def _merge_rows(series_id: int, times: np.ndarray, values: np.ndarray, using: str) -> None:
    """``INSERT ... ON CONFLICT (series_id, time) DO UPDATE``: the fields a sample sends take
    its values, the others keep what was stored."""
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(Sample._meta.db_table)
    names = [quote(name) for name, _ in SAMPLE_COLUMNS]
    updates = ", ".join(
        f"{quote(spec.column)} = COALESCE(excluded.{quote(spec.column)}, "
        f"{table}.{quote(spec.column)})"
        for spec in catalogue.FIELDS
    )
    row_placeholder = "(" + ", ".join(["%s"] * len(names)) + ")"
    rows = list(sample_rows(series_id, times, values))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), MERGE_ROWS):
            chunk = rows[start : start + MERGE_ROWS]
            params = []
            for row in chunk:
                params.extend(row)
            params = [
                connection.ops.adapt_datetimefield_value(value)
                if isinstance(value, dt.datetime) and connection.vendor != "postgresql"
                else value
                for value in params
            ]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                f"{', '.join([row_placeholder] * len(chunk))} "
                f"ON CONFLICT ({quote('series_id')}, {quote('time')}) DO UPDATE SET {updates}",
                params,
            )

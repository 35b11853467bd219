"""Checking an ingestion body: samples in, series batches out, or every problem by sample.

A body is one sample or a JSON list of them::

    {"time": 1575154800.25, "data": {"pvPower": 421, "dcVoltage": 26.3},
     "componentId": 7, "errors": ["nonDefaultStrategy"]}

``time`` is in seconds since the epoch (a fraction for milliseconds; finer parts are rounded to
the millisecond), ``data`` maps wire names of the catalogue to finite numbers (``status`` an
integer code, ``stateOfCharge`` a fraction from 0 to 1), ``componentId`` (optional) names one
of the product's components whose series the sample belongs to, ``errors`` (optional) the
product's current error codes. The check runs over plain Python values (no serializer per
sample: a request of 500 samples of 10 fields is 5,000 values) and collects the problems of
every sample, each named by its place in the body.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from voltstorage import catalogue

SAMPLE_KEYS = frozenset({"time", "data", "componentId", "errors"})
MAX_ERROR_CODES = 100
MAX_ERROR_CODE_LENGTH = 100
#: Problems reported at most; the rest are counted.
MAX_PROBLEMS = 20


@dataclass
class SeriesBatch:
    """The samples of one series in a request: ``times`` in milliseconds (ascending, unique:
    samples of the same time were merged, the later in the body winning field by field) and
    their ``values`` (a column per catalogue field, NaN where a sample has none)."""

    component_id: int | None
    times: np.ndarray
    values: np.ndarray


@dataclass
class CheckedBody:
    batches: list[SeriesBatch] = field(default_factory=list)
    #: The error codes of the newest sample that sent some (None: none sent).
    errors: list[str] | None = None
    samples: int = 0


class Problems:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.more = 0

    def add(self, message: str) -> None:
        if len(self.messages) < MAX_PROBLEMS:
            self.messages.append(message)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.messages)

    def report(self) -> list[str]:
        if self.more:
            return [*self.messages, f"... and {self.more} more problems."]
        return self.messages


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_samples(
    body,
    *,
    component_ids: set[int],
    earliest_ms: int,
    latest_ms: int,
    max_samples: int,
) -> tuple[CheckedBody | None, list[str]]:
    """The body's samples grouped by series, or ``(None, problems)``.

    ``component_ids``: the product's components; ``earliest_ms``/``latest_ms``: the accepted
    range of sample times (the retention horizon, now plus the future margin)."""
    problems = Problems()
    if isinstance(body, dict):
        items, names = [body], ["sample"]
    elif isinstance(body, list):
        items, names = body, [f"samples[{i}]" for i in range(len(body))]
        if not items:
            return None, ["The body is an empty list: send at least one sample."]
        if len(items) > max_samples:
            return None, [f"At most {max_samples} samples per request; got {len(items)}."]
    else:
        return None, ["The body must be a sample object or a list of samples."]

    by_series: dict[int | None, list[tuple[int, int, dict]]] = defaultdict(list)
    newest_errors: tuple[int, int, list[str]] | None = None
    index_of = catalogue.INDEX
    specs = catalogue.BY_NAME
    for position, (sample, name) in enumerate(zip(items, names, strict=True)):
        if not isinstance(sample, dict):
            problems.add(f"{name}: must be an object with time and data.")
            continue
        unknown = sample.keys() - SAMPLE_KEYS
        if unknown:
            problems.add(
                f"{name}: unknown keys {', '.join(sorted(map(str, unknown)))} "
                "(a sample has time, data, componentId and errors)."
            )
        time = sample.get("time")
        time_ms = None
        if not _is_number(time) or not math.isfinite(time):
            problems.add(f"{name}.time: must be a number of seconds since 1970-01-01T00:00:00Z.")
        else:
            time_ms = round(time * 1000)
            if time_ms > latest_ms:
                problems.add(
                    f"{name}.time: {time} is too far in the future (more than the accepted "
                    f"margin after the server's clock)."
                )
            elif time_ms < earliest_ms:
                problems.add(
                    f"{name}.time: {time} is before the oldest time raw data is kept for."
                    if earliest_ms > 0
                    else f"{name}.time: must not be before 1970-01-01T00:00:00Z."
                )
        component_id = sample.get("componentId")
        if component_id is not None and (
            not isinstance(component_id, int)
            or isinstance(component_id, bool)
            or component_id not in component_ids
        ):
            problems.add(f"{name}.componentId: no component {component_id!r} in this product.")
        errors = sample.get("errors")
        if errors is not None and (
            not isinstance(errors, list)
            or len(errors) > MAX_ERROR_CODES
            or not all(
                isinstance(code, str) and 0 < len(code) <= MAX_ERROR_CODE_LENGTH for code in errors
            )
        ):
            problems.add(
                f"{name}.errors: must be a list of at most {MAX_ERROR_CODES} error codes "
                f"(texts of 1 to {MAX_ERROR_CODE_LENGTH} characters)."
            )
            errors = None
        data = sample.get("data")
        row: dict[int, float] = {}
        if not isinstance(data, dict):
            problems.add(f"{name}.data: must be an object of field names and values.")
        else:
            for key, value in data.items():
                spec = specs.get(key)
                if spec is None:
                    problems.add(f"{name}.data: unknown field {key!r}.")
                    continue
                if value is None:
                    continue  # no value for this field in this sample
                if not _is_number(value) or not math.isfinite(value):
                    problems.add(f"{name}.data.{key}: must be a finite number.")
                    continue
                if spec.integer and not float(value).is_integer():
                    problems.add(f"{name}.data.{key}: must be an integer code.")
                    continue
                if (spec.minimum is not None and value < spec.minimum) or (
                    spec.maximum is not None and value > spec.maximum
                ):
                    problems.add(
                        f"{name}.data.{key}: {value} is outside {spec.minimum} to {spec.maximum}."
                    )
                    continue
                row[index_of[key]] = float(value)
        if time_ms is None or problems:
            continue
        if errors is not None and (newest_errors is None or time_ms >= newest_errors[0]):
            newest_errors = (time_ms, position, errors)
        by_series[component_id].append((time_ms, position, row))
    if problems:
        return None, problems.report()
    checked = CheckedBody(samples=len(items))
    checked.errors = newest_errors[2] if newest_errors is not None else None
    width = len(catalogue.FIELDS)
    for component_id, rows in by_series.items():
        rows = [entry for entry in rows if entry[2]]
        if not rows:
            continue
        rows.sort(key=lambda entry: (entry[0], entry[1]))
        times: list[int] = []
        matrix: list[list[float]] = []
        nan = math.nan
        for time_ms, _, values in rows:
            if times and times[-1] == time_ms:
                target = matrix[-1]  # the same time again: later values win
            else:
                times.append(time_ms)
                target = [nan] * width
                matrix.append(target)
            for index, value in values.items():
                target[index] = value
        checked.batches.append(
            SeriesBatch(
                component_id=component_id,
                times=np.asarray(times, dtype=np.int64),
                values=np.asarray(matrix, dtype=np.float64),
            )
        )
    return checked, []

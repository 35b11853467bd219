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


_NUMBERS = (int, float)  # exact types: a bool is not a number here
_INFINITY = float("inf")
#: Beyond this an integer would not survive the float it is stored as.
_LARGEST = 1e300


def _is_number(value) -> bool:
    return type(value) in _NUMBERS


def _value_problem(spec: catalogue.Field, value) -> str | None:
    """Why ``value`` cannot be stored in ``spec``'s field, or None."""
    kind = type(value)
    if kind is float:
        if value != value or value == _INFINITY or value == -_INFINITY:
            return "must be a finite number."
    elif kind is not int or not -_LARGEST < value < _LARGEST:
        return "must be a finite number."
    if spec.integer and not float(value).is_integer():
        return "must be an integer code."
    if (spec.minimum is not None and value < spec.minimum) or (
        spec.maximum is not None and value > spec.maximum
    ):
        return f"{value} is outside {spec.minimum} to {spec.maximum}."
    return None


# Fields whose values need more than a type check (an integer code, bounds).
_CHECKED = {
    spec.name
    for spec in catalogue.FIELDS
    if spec.integer or spec.minimum is not None or spec.maximum is not None
}


def check_samples(
    body,
    *,
    component_ids: set[int] | None,
    earliest_ms: int,
    latest_ms: int,
    max_samples: int,
) -> tuple[CheckedBody | None, list[str]]:
    """The body's samples grouped by series, or ``(None, problems)``.

    ``component_ids``: the product's components (None: the product has none);
    ``earliest_ms``/``latest_ms``: the accepted range of sample times (the retention horizon,
    now plus the future margin)."""
    problems = Problems()
    if isinstance(body, dict):
        items, many = [body], False
    elif isinstance(body, list):
        items, many = body, True
        if not items:
            return None, ["The body is an empty list: send at least one sample."]
        if len(items) > max_samples:
            return None, [f"At most {max_samples} samples per request; got {len(items)}."]
    else:
        return None, ["The body must be a sample object or a list of samples."]

    width = len(catalogue.FIELDS)
    nan = float("nan")
    index_of = catalogue.INDEX
    specs = catalogue.BY_NAME
    checked_fields = _CHECKED
    numbers = _NUMBERS
    by_series: dict[int | None, tuple[list[int], list[list[float]]]] = defaultdict(lambda: ([], []))
    newest_errors: tuple[int, int, list[str]] | None = None
    for position, sample in enumerate(items):
        name = f"samples[{position}]" if many else "sample"
        if type(sample) is not dict:
            problems.add(f"{name}: must be an object with time and data.")
            continue
        if len(sample) > 2 and not sample.keys() <= SAMPLE_KEYS:
            unknown = sample.keys() - SAMPLE_KEYS
            problems.add(
                f"{name}: unknown keys {', '.join(sorted(map(str, unknown)))} "
                "(a sample has time, data, componentId and errors)."
            )
        time = sample.get("time")
        time_ms = None
        if type(time) not in numbers or time != time or time in (_INFINITY, -_INFINITY):
            problems.add(f"{name}.time: must be a number of seconds since 1970-01-01T00:00:00Z.")
        else:
            time_ms = round(time * 1000)
            if time_ms > latest_ms:
                problems.add(
                    f"{name}.time: {time} is too far in the future (more than the accepted "
                    f"margin after the server's clock)."
                )
                time_ms = None
            elif time_ms < earliest_ms:
                problems.add(
                    f"{name}.time: {time} is before the oldest time raw data is kept for."
                    if earliest_ms > 0
                    else f"{name}.time: must not be before 1970-01-01T00:00:00Z."
                )
                time_ms = None
        component_id = sample.get("componentId")
        if component_id is not None and (
            type(component_id) is not int or component_id not in (component_ids or ())
        ):
            problems.add(f"{name}.componentId: no component {component_id!r} in this product.")
        errors = sample.get("errors")
        if errors is not None and (
            type(errors) is not list
            or len(errors) > MAX_ERROR_CODES
            or not all(
                type(code) is str and 0 < len(code) <= MAX_ERROR_CODE_LENGTH for code in errors
            )
        ):
            problems.add(
                f"{name}.errors: must be a list of at most {MAX_ERROR_CODES} error codes "
                f"(texts of 1 to {MAX_ERROR_CODE_LENGTH} characters)."
            )
            errors = None
        data = sample.get("data")
        row = [nan] * width
        filled = False
        if type(data) is not dict:
            problems.add(f"{name}.data: must be an object of field names and values.")
        else:
            for key, value in data.items():
                index = index_of.get(key)
                if index is None:
                    problems.add(f"{name}.data: unknown field {key!r}.")
                    continue
                if value is None:
                    continue  # no value for this field in this sample
                kind = type(value)
                if key in checked_fields or not (
                    (kind is float and value - value == 0.0)
                    or (kind is int and -_LARGEST < value < _LARGEST)
                ):
                    problem = _value_problem(specs[key], value)
                    if problem is not None:
                        problems.add(f"{name}.data.{key}: {problem}")
                        continue
                row[index] = float(value)
                filled = True
        if time_ms is None or problems:
            continue
        if errors is not None and (newest_errors is None or time_ms >= newest_errors[0]):
            newest_errors = (time_ms, position, errors)
        if filled:
            times, rows = by_series[component_id]
            times.append(time_ms)
            rows.append(row)
    if problems:
        return None, problems.report()
    checked = CheckedBody(samples=len(items))
    checked.errors = newest_errors[2] if newest_errors is not None else None
    for component_id, (times, rows) in by_series.items():
        checked.batches.append(_series_batch(component_id, times, rows))
    return checked, []


def _series_batch(component_id, times: list[int], rows: list[list[float]]) -> SeriesBatch:
    """The samples of one series sorted by time; samples of the same time merged, the later in
    the body winning field by field."""
    stamps = np.asarray(times, dtype=np.int64)
    values = np.asarray(rows, dtype=np.float64)
    if len(stamps) > 1 and not bool(np.all(stamps[1:] > stamps[:-1])):
        order = np.argsort(stamps, kind="stable")
        stamps, values = stamps[order], values[order]
        repeated = np.flatnonzero(stamps[1:] == stamps[:-1])
        if len(repeated):
            keep = np.ones(len(stamps), dtype=bool)
            for later in (repeated + 1).tolist():
                # Fold the earlier sample into the later one where the later has no value.
                earlier = later - 1
                while not keep[earlier]:
                    earlier -= 1
                missing = np.isnan(values[later])
                values[later, missing] = values[earlier, missing]
                keep[earlier] = False
            stamps, values = stamps[keep], values[keep]
    return SeriesBatch(component_id=component_id, times=stamps, values=values)

"""Validation of EIS data and BMS result rows for bulk ingestion, without a serializer per row.

A batch is a list of JSON objects. Each row is checked completely (keys, types, ranges) in one
tight loop that collects DRF-style errors keyed by the item's index; rows that pass become
tuples ready for the database. The rules:

* EIS data: ``test`` (int id, required), ``frequency`` (a positive finite number in Hz, or
  null; optional, null when missing), ``parameter`` (a non-empty string of at most 64
  characters, required), ``value`` (a finite number, required).
* BMS results: ``bms_test`` (int id), ``timestamp`` (ISO 8601 *with* a UTC offset or ``Z``;
  naive timestamps are refused rather than guessed), ``parameter``, ``value``; all required.
* Numbers must be JSON numbers: strings, booleans, NaN and infinities are refused. Form and
  multipart bodies carry strings, so :func:`coerce_form_row` parses numeric strings first.
* Unknown keys are refused by name; ``id`` and ``organization`` are refused as read-only
  (the organization of a row is always its test's).
* A point may appear once per batch: ``(test, frequency, parameter)`` for EIS data and
  ``(bms_test, timestamp, parameter)`` for BMS results. That is checked by the write
  (``batterydb.services.ingest``), only when the database's unique indexes refuse a batch.

:func:`resolve_tests` then checks the referenced tests in one query: a test that does not
exist or belongs to an organization the user is not in is a 400 on that item's test field; a
test in an organization where the user is only a viewer makes the whole request a 403.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Model

from core.models import Membership

MAX_PARAMETER_LENGTH = 64
MAX_BIGINT = 2**63 - 1

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_A_NUMBER = "A valid number is required."
NOT_FINITE = "Must be a finite number (NaN and infinities are not allowed)."
NOT_POSITIVE = "Must be a positive number of hertz, or null for OCV and test parameters."
NOT_A_STRING = "Not a valid string."
BLANK = "This field may not be blank."
TOO_LONG = f"Ensure this field has no more than {MAX_PARAMETER_LENGTH} characters."
NUL_CHARACTER = "Null characters are not allowed."
UNKNOWN_FIELD = "Unknown field."
READ_ONLY_ORGANIZATION = "This field is read-only: a row belongs to its test's organization."
READ_ONLY = "This field is read-only."
NOT_AN_OBJECT = "Expected an object with the fields of one row."
NAIVE_TIMESTAMP = (
    "Timestamps need a UTC offset or 'Z' (ISO 8601, e.g. 2024-05-01T12:00:00Z); "
    "naive timestamps are not accepted."
)
OUT_OF_RANGE_TIMESTAMP = "Out of range: in UTC the timestamp must fall within the years 1 to 9999."
BAD_TIMESTAMP = "Datetime has wrong format. Use ISO 8601 with an offset, e.g. 2024-05-01T12:00:00Z."

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def pk_type_error(value) -> str:
    return f"Incorrect type. Expected pk value, received {type(value).__name__}."


def pk_missing_error(value) -> str:
    return f'Invalid pk "{value}" - object does not exist.'


@dataclass(frozen=True)
class RowSpec:
    """The shape of one kind of measurement row."""

    test_field: str  # "test" or "bms_test"
    key_field: str  # "frequency" or "timestamp": the middle part of the unique point
    allowed: frozenset[str]
    required: frozenset[str]
    read_only: Mapping[str, str] = field(default_factory=dict)


EIS_ROW = RowSpec(
    test_field="test",
    key_field="frequency",
    allowed=frozenset({"test", "frequency", "parameter", "value"}),
    required=frozenset({"test", "parameter", "value"}),
    read_only={"id": READ_ONLY, "organization": READ_ONLY_ORGANIZATION},
)
BMS_ROW = RowSpec(
    test_field="bms_test",
    key_field="timestamp",
    allowed=frozenset({"bms_test", "timestamp", "parameter", "value"}),
    required=frozenset({"bms_test", "timestamp", "parameter", "value"}),
    read_only={"id": READ_ONLY, "organization": READ_ONLY_ORGANIZATION},
)


# --- field checks (the slow, explanatory path) --------------------------------------------------
def _test_errors(value) -> list[str]:
    if value is None:
        return [NOT_NULL]
    if type(value) is not int:
        return [pk_type_error(value)]
    if not 0 < value <= MAX_BIGINT:
        return [pk_missing_error(value)]
    return []


def _number(value) -> tuple[float | None, list[str]]:
    """A finite float from a JSON number (int or float, never bool or str)."""
    if type(value) is float:
        return (value, []) if math.isfinite(value) else (None, [NOT_FINITE])
    if type(value) is int:
        try:
            number = float(value)
        except OverflowError:
            return None, [NOT_FINITE]
        return number, []
    return None, [NOT_A_NUMBER]


def _parameter_errors(value) -> list[str]:
    if value is None:
        return [NOT_NULL]
    if type(value) is not str:
        return [NOT_A_STRING]
    if not value or value.isspace():
        return [BLANK]
    if len(value) > MAX_PARAMETER_LENGTH:
        return [TOO_LONG]
    if "\x00" in value:
        return [NUL_CHARACTER]
    return []


def parse_timestamp(value) -> tuple[dt.datetime | None, list[str]]:
    """An aware datetime in UTC from an ISO 8601 string with an offset."""
    if value is None:
        return None, [NOT_NULL]
    if type(value) is not str:
        return None, [BAD_TIMESTAMP]
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, [BAD_TIMESTAMP]
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None, [NAIVE_TIMESTAMP]
    try:
        return parsed.astimezone(dt.UTC), []
    except OverflowError:
        return None, [OUT_OF_RANGE_TIMESTAMP]


def _key_errors(item: dict, spec: RowSpec) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in item.keys() - spec.allowed:
        errors[str(name)] = [spec.read_only.get(name, UNKNOWN_FIELD)]
    for name in spec.required - item.keys():
        errors[name] = [REQUIRED]
    return errors


def _measurement_row(
    item: dict, *, keys, test_key: str, point_key: str, parse_point
) -> tuple[tuple | None, dict[str, list[str]]]:
    """``(test, point, parameter, value)`` or the row's errors; ``point`` is the frequency of
    EIS data or the timestamp of BMS results, read by ``parse_point``."""
    errors = _key_errors(item, keys)
    test = item.get(test_key)
    if test_key in item and (messages := _test_errors(test)):
        errors[test_key] = messages
    point, messages = parse_point(item)
    if messages:
        errors[point_key] = messages
    parameter = item.get("parameter")
    if "parameter" in item and (messages := _parameter_errors(parameter)):
        errors["parameter"] = messages
    value = None
    if "value" in item:
        value, messages = _value(item["value"])
        if messages:
            errors["value"] = messages
    if errors:
        return None, errors
    return (test, point, parameter, value), {}


def _frequency(item: dict) -> tuple[float | None, list[str]]:
    """An EIS row's ``frequency``: null, or a positive finite number."""
    frequency = item.get("frequency")
    if frequency is None:
        return None, []
    frequency, messages = _number(frequency)
    if not messages and not frequency > 0:
        messages = [NOT_POSITIVE]
    return frequency, messages


def _timestamp(item: dict):
    """A BMS row's ``timestamp`` (its absence is reported as a missing key)."""
    return parse_timestamp(item["timestamp"]) if "timestamp" in item else (None, [])


def _value(value) -> tuple[float | None, list[str]]:
    """A row's ``value``: a finite number, never null."""
    return (None, [NOT_NULL]) if value is None else _number(value)


def _eis_row(item: dict) -> tuple[tuple | None, dict[str, list[str]]]:
    """``(test, frequency, parameter, value)`` or the row's errors."""
    return _measurement_row(
        item, keys=EIS_ROW, test_key="test", point_key="frequency", parse_point=_frequency
    )


def _bms_row(item: dict) -> tuple[tuple | None, dict[str, list[str]]]:
    """``(bms_test, timestamp, parameter, value)`` or the row's errors."""
    return _measurement_row(
        item, keys=BMS_ROW, test_key="bms_test", point_key="timestamp", parse_point=_timestamp
    )


# --- batches (the fast path) ----------------------------------------------------------------------
def _good_parameter(parameter: str, good: set[str]) -> bool:
    """Whether ``parameter`` is a valid parameter name; remembers the good ones."""
    if (
        0 < len(parameter) <= MAX_PARAMETER_LENGTH
        and not parameter.isspace()
        and "\x00" not in parameter
    ):
        good.add(parameter)
        return True
    return False


def clean_eis_rows(items: list) -> tuple[list[tuple | None], dict[str, dict]]:
    """Validate EIS data items: ``(rows, errors)`` with ``rows[i] = (test, frequency,
    parameter, value)``, or None for a bad item, whose errors are keyed by its index (as a
    string)."""
    rows: list[tuple | None] = []
    errors: dict[str, dict] = {}
    append = rows.append
    isfinite = math.isfinite
    good: set[str] = set()  # parameter names already checked: a batch repeats a few
    for index, item in enumerate(items):
        if type(item) is not dict:
            errors[str(index)] = {"non_field_errors": [NOT_AN_OBJECT]}
            append(None)
            continue
        # The common case in one expression; anything unusual takes the explanatory path.
        get = item.get
        test = get("test")
        frequency = get("frequency")
        parameter = get("parameter")
        value = get("value")
        size = len(item)
        if (
            type(test) is int
            and 0 < test <= MAX_BIGINT
            and type(value) is float
            and isfinite(value)
            and type(parameter) is str
            and (parameter in good or _good_parameter(parameter, good))
            and (
                # exactly test, frequency, parameter, value (frequency may be absent)
                (type(frequency) is float and 0.0 < frequency < math.inf and size == 4)
                or (frequency is None and size == (4 if "frequency" in item else 3))
            )
        ):
            append((test, frequency, parameter, value))
            continue
        row, row_errors = _eis_row(item)
        if row_errors:
            errors[str(index)] = row_errors
        append(row)
    return rows, errors


def clean_bms_rows(items: list) -> tuple[list[tuple | None], dict[str, dict]]:
    """Validate BMS result items: ``(rows, errors)`` with ``rows[i] = (bms_test, timestamp,
    parameter, value)`` (timestamps as aware UTC datetimes), or None for a bad item."""
    rows: list[tuple | None] = []
    errors: dict[str, dict] = {}
    append = rows.append
    isfinite = math.isfinite
    fromisoformat = dt.datetime.fromisoformat
    utc = dt.UTC
    good: set[str] = set()
    for index, item in enumerate(items):
        if type(item) is not dict:
            errors[str(index)] = {"non_field_errors": [NOT_AN_OBJECT]}
            append(None)
            continue
        get = item.get
        test = get("bms_test")
        raw_timestamp = get("timestamp")
        parameter = get("parameter")
        value = get("value")
        if (
            type(test) is int
            and 0 < test <= MAX_BIGINT
            and type(raw_timestamp) is str
            and type(value) is float
            and isfinite(value)
            and type(parameter) is str
            and (parameter in good or _good_parameter(parameter, good))
            and len(item) == 4  # with the four above present: exactly the allowed keys
        ):
            try:
                timestamp = fromisoformat(raw_timestamp)
                if timestamp.tzinfo is not utc and timestamp.utcoffset() is not None:
                    timestamp = timestamp.astimezone(utc)
            except (ValueError, OverflowError):  # unparsable, or beyond year 1..9999 in UTC
                timestamp = None
            if timestamp is not None and timestamp.tzinfo is not None:
                append((test, timestamp, parameter, value))
                continue
        row, row_errors = _bms_row(item)
        if row_errors:
            errors[str(index)] = row_errors
        append(row)
    return rows, errors


def coerce_form_row(data: Mapping, *, spec: RowSpec) -> dict:
    """A form or multipart row (all strings) as the JSON row it stands for: integer ids,
    numbers and null frequencies parsed; anything unparsable is left for validation to
    reject with the usual message."""
    row: dict = {}
    for name in data:
        value = data.get(name)
        if not isinstance(value, str):
            row[name] = value
            continue
        if name == spec.test_field:
            row[name] = int(value) if _INTEGER.fullmatch(value) else value
        elif name in ("frequency", "value"):
            stripped = value.strip()
            if name == "frequency" and stripped.lower() in ("", "null", "none"):
                row[name] = None
                continue
            try:
                row[name] = float(stripped)
            except ValueError:
                row[name] = value
        else:
            row[name] = value
    return row


# --- the referenced tests ----------------------------------------------------------------------
@dataclass
class TestAccess:
    """The outcome of checking the tests a batch refers to."""

    organization_of: dict[int, int]  # test id -> organization id, for usable tests
    errors: dict[str, dict[str, list[str]]]  # items pointing at unknown/foreign tests
    forbidden: list[int]  # tests in organizations where the user may not write


def item_test_ids(items: list, rows: list[tuple | None], *, spec: RowSpec) -> list[int | None]:
    """The test id of every item, when it is a well-formed id (also for otherwise bad items,
    so that a missing test is reported along with the other errors)."""
    ids: list[int | None] = []
    for item, row in zip(items, rows, strict=True):
        if row is not None:
            ids.append(row[0])
            continue
        test = item.get(spec.test_field) if type(item) is dict else None
        ids.append(test if type(test) is int and 0 < test <= MAX_BIGINT else None)
    return ids


def resolve_tests(
    *,
    test_model: type[Model],
    rows_test_ids: list[int | None],
    test_field: str,
    roles: Mapping[int, str],
    is_staff: bool,
    required_role: str = Membership.Role.MEMBER,
) -> TestAccess:
    """Look up the tests (one query) and sort them into usable, unknown and forbidden.

    A test of an organization the user is not in is reported exactly like a missing one."""
    wanted = {test_id for test_id in rows_test_ids if test_id is not None}
    found: dict[int, int] = {}
    if wanted:
        queryset = test_model.objects.filter(pk__in=wanted)
        if not is_staff:
            queryset = queryset.filter(organization_id__in=list(roles))
        found = dict(queryset.values_list("pk", "organization_id"))
    needed = Membership.rank(required_role)
    forbidden = sorted(
        test_id
        for test_id, organization_id in found.items()
        if not is_staff and Membership.rank(roles.get(organization_id)) < needed
    )
    errors: dict[str, dict[str, list[str]]] = {}
    if len(found) < len(wanted):
        for index, test_id in enumerate(rows_test_ids):
            if test_id is not None and test_id not in found:
                errors[str(index)] = {test_field: [pk_missing_error(test_id)]}
    return TestAccess(organization_of=found, errors=errors, forbidden=forbidden)

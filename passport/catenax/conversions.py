"""Conversions of passport values to Catena-X's: an export under way (:class:`Export`, its
output and problems), where a value came from (:class:`Source`), and the converters
(:data:`Convert`) that read a passport value for a Catena-X target, reporting what they cannot
read. Readings, not inventions: voltages as numbers, dates to the day, addresses in Catena-X's
parts, material lists with each material once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from passport.completeness import is_empty
from passport.definitions import EXTENSION_FIELDS


@dataclass
class Export:
    """One export under way: the reader's document and points, the output, the problems."""

    document: dict
    points: frozenset[int]
    organization: Any
    output: dict = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def problem(self, target: str, message: str) -> None:
        self.problems.setdefault(target, []).append(message)

    def put(self, target: str, value: Any) -> None:
        node = self.output
        *parents, last = target.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value


@dataclass(frozen=True)
class Source:
    """Where a value came from, for the messages: a passport path or a profile field."""

    path: str

    def fill_in(self) -> str:
        extension = self.path.rsplit(".", 1)[-1] in _EXTENSIONS
        return f"fill in `{self.path}` of the passport" + (
            " (an extension field)" if extension else ""
        )


_EXTENSIONS = {name for names in EXTENSION_FIELDS.values() for name in names}

# A converter reads a passport value for a Catena-X target; it reports what it cannot read
# with ``export.problem`` and returns None for a value it cannot give.
Convert = Callable[[Any, str, Source, Export], Any]


def text(value, target, source, export):
    return value


def number(value, target, source, export):
    return value


_VOLTS = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*[Vv]?\s*$")


def volts(value, target, source, export):
    """A voltage the documented passport holds as a string (``"355"``, ``"3.7 V"``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    match = _VOLTS.match(value) if isinstance(value, str) else None
    if match is None:
        export.problem(
            target, f"Catena-X needs a number of volts; `{source.path}` holds {value!r}."
        )
        return None
    reading = float(match.group(1))
    return int(reading) if reading.is_integer() else reading


_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def day(value, target, source, export):
    """A date Catena-X needs to the day (YYYY-MM-DD)."""
    try:
        if _DAY.match(value):
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    export.problem(
        target,
        f"Catena-X needs a full date (YYYY-MM-DD); `{source.path}` holds {value!r}.",
    )
    return None


def _unique(items: list) -> list:
    """``items`` without repeats, in order (Catena-X's lists have unique items)."""
    seen, result = set(), []
    for item in items:
        key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def materials(value, target, source, export):
    """A list of materials: name (required), mass fraction and weight."""
    result = []
    for index, item in enumerate(value):
        material = {}
        for key in ("materialPercentageMassFraction", "materialWeight"):
            if item.get(key) is not None:
                material[key] = item[key]
        if is_empty(item.get("materialName")):
            export.problem(
                f"{target}[{index}].materialName",
                f"Required by Catena-X: fill in `{source.path}[{index}].materialName`.",
            )
            continue
        material["materialName"] = item["materialName"]
        result.append(material)
    return _unique(result)


def attachments(value, target, source, export):
    """An attachment as Catena-X's list of documents; none without a name and a URL."""
    title, location = value.get("attachmentName"), value.get("attachmentURL")
    if is_empty(title) or is_empty(location):
        return None
    return [{"title": title, "fileLocation": location}]


ADDRESS_PARTS = {
    # Catena-X part: (key in a passport's PostalAddress, attribute of an Organization, what)
    "thoroughfare.value": ("street", "street", "street"),
    "thoroughfare.number": ("houseNumber", "house_number", "house number"),
    "locality.value": ("city", "city", "city"),
    "postCode.value": ("postalCode", "postal_code", "postcode"),
    "country.shortName": ("country", "country", "country"),
}


def address(parts: dict[str, str], target: str, export: Export, fill_in: Callable) -> dict:
    """A postal address in Catena-X's parts from ``parts`` (by Catena-X part): a street of
    the kind STREET, a city, a regular postcode (lower case, as Catena-X's pattern has it)."""
    for part, value in parts.items():
        if is_empty(value):
            export.problem(f"{target}.{part}", f"Required by Catena-X: {fill_in(part)}.")
    return {
        "thoroughfare": {
            "technicalKey": "STREET",
            "value": parts["thoroughfare.value"],
            "number": parts["thoroughfare.number"],
        },
        "locality": {"technicalKey": "CITY", "value": parts["locality.value"]},
        "country": {"shortName": parts["country.shortName"]},
        "postCode": {"value": (parts["postCode.value"] or "").lower(), "technicalKey": "REGULAR"},
    }


def postal_address(value, target, source, export):
    """A passport's PostalAddress (an extension) in Catena-X's parts."""
    parts = {part: value.get(key) for part, (key, _, _) in ADDRESS_PARTS.items()}
    keys = {part: key for part, (key, _, _) in ADDRESS_PARTS.items()}
    return address(
        parts, target, export, lambda part: f"fill in `{source.path}.{keys[part]}` of the passport"
    )


def contact(website: str, phone: str, email: str) -> dict:
    pairs = (("website", website), ("phoneNumber", phone), ("email", email))
    return {key: value for key, value in pairs if not is_empty(value)}


def part_numbers(value, target, source, export):
    numbers = [
        item["componentPartNumber"]
        for item in value
        if isinstance(item.get("componentPartNumber"), str)
        and not is_empty(item["componentPartNumber"])
    ]
    if not numbers:
        export.problem(
            target,
            f"Required by Catena-X: fill in a `componentPartNumber` in `{source.path}`.",
        )
    return numbers


def suppliers(value, target, source, export):
    """Every supplier of every component: name, address (the extension ``postalAddress``),
    contact."""
    result = []
    for i, component in enumerate(value):
        for j, supplier in enumerate(component.get("involvedSupplierComponents") or []):
            at = f"{target}[{len(result)}]"
            where = f"{source.path}[{i}].involvedSupplierComponents[{j}]"
            if is_empty(supplier.get("manufacturerName")):
                export.problem(
                    f"{at}.componentsSupplierName",
                    f"Required by Catena-X: fill in `{where}.manufacturerName`.",
                )
            if is_empty(supplier.get("postalAddress")):
                export.problem(
                    f"{at}.address",
                    f"Required by Catena-X: fill in `{where}.postalAddress` (an extension field).",
                )
                supplier_address = None
            else:
                supplier_address = postal_address(
                    supplier["postalAddress"],
                    f"{at}.address",
                    Source(f"{where}.postalAddress"),
                    export,
                )
            result.append(
                {
                    "componentsSupplierName": supplier.get("manufacturerName"),
                    "address": supplier_address,
                    "contact": contact(
                        supplier.get("manufacturerWebsite"),
                        supplier.get("manufacturerPhoneNumber"),
                        supplier.get("manufacturerEmail"),
                    ),
                }
            )
    if not result:
        export.problem(
            target,
            f"Required by Catena-X: fill in the `involvedSupplierComponents` of `{source.path}`.",
        )
    return _unique(result)

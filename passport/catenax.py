"""A passport as a Catena-X battery pass 3.0.1 (``?format=catenax`` on a passport).

The target is the aspect model ``io.catenax.battery.battery_pass:3.0.1`` as its JSON Schema
defines it (``passport/schemas/``). The documented passport maps onto most of it field by
field (:data:`FIELDS`: the electrochemical, dimensional, cycle-life and state properties, the
six material lists of the cell chemistry, the carbon footprint, the idle temperature range,
the warranty and the documents). What Catena-X requires beyond the documented passport comes
from two places, never from a guess:

* the **manufacturer** (name, contact, postal address): the owning organization's profile
  (``core.models.Organization``);
* the **passport's extension fields** (``passport.definitions.EXTENSION_FIELDS``):
  ``batteryType`` and ``batteryModel``, ``datePlacedOnMarket``, the address of the place of
  manufacture, the full composition as a list of materials, and each supplier's address.

Conversions are readings, not inventions: the voltages, strings in the documented passport,
are read as numbers (a trailing ``V`` allowed); an address becomes Catena-X's parts (street,
city, regular postcode in lower case, ISO 3166 country); material lists keep name, mass
fraction and weight, each material once. A value Catena-X requires that is missing, or that
cannot be read as Catena-X needs it (a month where it needs a day), is a problem named by its
Catena-X path, with what to fill in: the export then answers 422 with every problem at once.
An attachment without a URL is left out of ``document`` (Catena-X needs one; the documents
are optional there).

Trimming: the export is made from what the reader may see (``passport.classes``). What the
reader may not see is left out, also where Catena-X requires it, and is not reported as
missing, so only a reader who sees every point gets an export that is complete; any other
export validates against the schema with ``required`` relaxed. Every export is validated
before it is answered (the full schema for a complete reader, the relaxed one otherwise).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft4Validator, FormatChecker
from rest_framework import status
from rest_framework.exceptions import APIException

from passport.classes import (
    ALL_POINTS,
    CHEMISTRY,
    COMPOSITION,
    CYCLE,
    DIMENSIONS,
    ENERGY,
    IR,
    POWER,
    STATE,
    VOLTAGE,
    E,
    point_of,
    trim,
)
from passport.completeness import is_empty
from passport.definitions import EXTENSION_FIELDS, ID_FIELD
from passport.schema import json_path

MEDIA_TYPE = "application/vnd.catenax.battery-pass+json"
FORMAT = "catenax"
MODEL = "urn:samm:io.catenax.battery.battery_pass:3.0.1#BatteryPass"
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "battery_pass-3.0.1.schema.json"


@cache
def schema() -> dict:
    """The Catena-X battery pass 3.0.1 JSON Schema, as published."""
    return json.loads(SCHEMA_FILE.read_text())


def without_required(value: Any) -> Any:
    """``value`` (a schema) with every ``required`` list left out: what a trimmed export
    satisfies."""
    if isinstance(value, dict):
        return {key: without_required(item) for key, item in value.items() if key != "required"}
    if isinstance(value, list):
        return [without_required(item) for item in value]
    return value


@cache
def _validator(complete: bool) -> Draft4Validator:
    document = schema() if complete else without_required(schema())
    return Draft4Validator(document, format_checker=FormatChecker())


def _resolve(node: dict) -> dict:
    """A schema node with its ``$ref`` and ``allOf`` followed (the published schema refers to
    ``#/components/schemas/...`` only)."""
    definitions = schema()["components"]["schemas"]
    while "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node:
        merged: dict = {key: value for key, value in node.items() if key != "allOf"}
        for part in node["allOf"]:
            resolved = _resolve(part)
            merged = {
                **merged,
                **resolved,
                "properties": {**merged.get("properties", {}), **resolved.get("properties", {})},
                "required": [*merged.get("required", []), *resolved.get("required", [])],
            }
        node = merged
    return node


@cache
def required(target: str) -> bool:
    """Whether Catena-X requires the value at the dotted ``target`` path: it and every object
    above it are required."""
    node = _resolve(schema())
    for key in target.split("."):
        if key not in node.get("required", []):
            return False
        node = _resolve(node["properties"][key])
    return True


class ExportIncomplete(APIException):
    """422: the values Catena-X requires that the passport (or its organization's profile)
    lacks, or holds in a form Catena-X cannot take, by Catena-X path."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The passport lacks values the Catena-X battery pass requires."
    default_code = "catenax_incomplete"


# --- conversions -----------------------------------------------------------------------------
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


#: Catena-X path <- passport path, with the conversion (contracts 1.4).
FIELDS: list[tuple[str, str, Convert]] = [
    ("batteryIdentification.batteryIDDMCCode", ID_FIELD, text),
    ("batteryIdentification.batteryType", "batteryType", text),
    ("batteryIdentification.batteryModel", "batteryModel", text),
    ("manufacturing.dateOfManufacturing", "dateOfManufacturing", day),
    ("manufacturing.address", "placeOfManufacturingAddress", postal_address),
    ("datePlacedOnMarket", "datePlacedOnMarket", day),
    *(
        (f"electrochemicalProperties.{key}", f"{E}.{key}", number)
        for key in (
            "ratedCapacity",
            "capacityFade",
            "capacityThresholdExhaustion",
            "ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy",
        )
    ),
    ("electrochemicalProperties.batteryVoltage.minVoltage", f"{VOLTAGE}.minVoltage", volts),
    ("electrochemicalProperties.batteryVoltage.nominalVoltage", f"{VOLTAGE}.nomimalVoltage", volts),
    ("electrochemicalProperties.batteryVoltage.maxVoltage", f"{VOLTAGE}.maxVoltage", volts),
    *(
        (f"electrochemicalProperties.batteryPower.{key}", f"{POWER}.{key}", number)
        for key in (
            "maximumAllowedBatteryPower",
            "powerFade",
            "powerCapabilityAt20Charge",
            "powerCapabilityAt80Charge",
            "originalPowerCapability",
            "originalPowerCapabilityLimits",
        )
    ),
    *(
        (f"electrochemicalProperties.internalResistance.{key}", f"{IR}.{key}", number)
        for key in (
            "cellInternalResistance",
            "packInternalResistance",
            "packInternalResistanceIncrease",
        )
    ),
    *(
        (f"electrochemicalProperties.batteryEnergy.{key}", f"{ENERGY}.{key}", number)
        for key in (
            "maximumAllowedBatteryEnergy",
            "energyRoundtripEfficiency",
            "energyRoundtripEfficiencyChange",
        )
    ),
    *(
        (f"physicalDimensions.{key}", f"{DIMENSIONS}.{key}", number)
        for key in ("length", "width", "height", "diameter", "weight")
    ),
    ("stateOfBattery.stateOfHealth", f"{STATE}.stateOfHealth", number),
    ("stateOfBattery.stateOfCharge", f"{STATE}.stateOfCharge", number),
    ("stateOfBattery.statusBattery", f"{STATE}.statusBattery", text),
    *(
        (f"cellChemistry.{key}", f"{CHEMISTRY}.{key}", materials)
        for key in (
            "cathodeActiveMaterials",
            "recyclateContentActiveMaterials",
            "anodeActiveMaterials",
            "cathodeCompositionOther",
            "anodeCompositionOther",
            "electrolyteComposition",
        )
    ),
    (
        "composition.components.componentsSupplier",
        f"{COMPOSITION}.componentsProperties",
        suppliers,
    ),
    (
        "composition.components.componentsPartNumber",
        f"{COMPOSITION}.componentsProperties",
        part_numbers,
    ),
    (
        "composition.compositionOfBattery",
        f"{COMPOSITION}.compositionOfBatteryMaterials",
        materials,
    ),
    ("composition.criticalRawMaterials", f"{COMPOSITION}.criticalRawMaterials", text),
    ("cO2FootprintTotal", "cO2FootprintTotal", number),
    (
        "temperatureRangeIdleState.temperatureRangeIdleStateLowerLimit",
        "temperatureRangeIdleState.lowerBound",
        number,
    ),
    (
        "temperatureRangeIdleState.temperatureRangeIdleStateUpperLimit",
        "temperatureRangeIdleState.upperBound",
        number,
    ),
    ("warrantyPeriod", "warrantyPeriod", number),
    *(
        (f"batteryCycleLife.{key}", f"{CYCLE}.{key}", number)
        for key in ("cycleLifeTestCRate", "cycleLifeTestDepthOfDischarge", "expectedLifetime")
    ),
    ("document.declarationOfConformity", f"{CHEMISTRY}.declarationOfConformity", attachments),
    ("document.testReportsResults", f"{CHEMISTRY}.testReportsResults", attachments),
    ("document.safetyMeasures", "safetyMeasures", attachments),
    (
        "document.batteryDismantlingProcedure",
        "manualDissasemblyAndDismantlingBatteryPack",
        attachments,
    ),
    ("document.vehicleDismantlingProcedure", "manualRemovalBatteryFromAppliance", attachments),
    ("document.responsibleSourcing", "dueDiligenceReport", attachments),
]


def _value_at(document: dict, path: str) -> Any:
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _manufacturer(export: Export) -> None:
    """The manufacturer, from the owning organization's profile (Annex XIII point 1(a):
    public)."""
    organization = export.organization

    def fill_in(what: str) -> str:
        return f"fill in the {what} in the profile of organization {organization.pk}"

    export.put("manufacturer.name", organization.name)
    parts = {
        part: getattr(organization, attribute) for part, (_, attribute, _) in ADDRESS_PARTS.items()
    }
    labels = {part: label for part, (_, _, label) in ADDRESS_PARTS.items()}
    export.put(
        "manufacturer.address",
        address(parts, "manufacturer.address", export, lambda part: fill_in(labels[part])),
    )
    details = contact(organization.website, organization.contact_phone, organization.contact_email)
    if not details:
        export.problem(
            "manufacturer.contact",
            "Required by Catena-X: "
            + fill_in("website, contact email or contact phone (at least one)")
            + ".",
        )
    export.put("manufacturer.contact", details)


def catenax_export(
    *, battery_id: str, document: dict, organization, points: frozenset[int]
) -> dict:
    """The Catena-X battery pass 3.0.1 of a passport (its id, its stored document, its
    organization) as a reader who sees ``points`` may see it. Raises :class:`ExportIncomplete`
    (422) naming every value Catena-X requires that is missing or unusable."""
    visible = trim({ID_FIELD: battery_id, **document}, points)
    export = Export(visible, points, organization)
    _manufacturer(export)
    for target, path, convert in FIELDS:
        if point_of(path) not in points:
            continue
        value = _value_at(export.document, path)
        if is_empty(value):
            if required(target):
                export.problem(target, f"Required by Catena-X: {Source(path).fill_in()}.")
            continue
        converted = convert(value, target, Source(path), export)
        if converted is not None:
            export.put(target, converted)
    if not export.problems:
        for error in _validator(points >= ALL_POINTS).iter_errors(export.output):
            target = json_path(list(error.absolute_path)) or "non_field_errors"
            export.problem(target, f"Catena-X refuses this value: {error.message}")
    if export.problems:
        raise ExportIncomplete(dict(sorted(export.problems.items())))
    return export.output

"""A passport for people: its fields grouped by the sections of Annex XIII, with labels and
units, for the public web page (``passport.pages``).

Every field of the Annex XIII table (``passport.classes.ANNEX_XIII``) falls into the section
of the item its line cites: point 1 by its items (general information, materials, carbon
footprint, responsible sourcing, recycled and renewable content, performance and durability,
labels and conformity, waste), points 2, 3 and 4 each as one section. The page shows the
sections of the points the reader sees, from a document already trimmed to them.

Units are those the documentation states (capacity in Ah, dimensions in mm, weight in kg,
CO2 in kg, material weights in g, warranty in years, lifetime in cycles) and, where it is
silent, those of the Catena-X battery pass 3.0.1, the model the API's field names come from
(power in kW, energy in Wh, cell resistance in mΩ, pack resistance in Ω, temperatures in °C).
A field with no stated unit shows none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from passport.classes import (
    ANNEX_XIII,
    CHEMISTRY,
    COLLECTION,
    COMPOSITION,
    CYCLE,
    DIMENSIONS,
    ENERGY,
    IR,
    POWER,
    STATE,
    TEMPERATURE,
    TREE,
    VOLTAGE,
    E,
)
from passport.completeness import is_empty, value_at
from passport.definitions import DEFINITIONS, MATERIAL

#: The page's sections: key, title, and which readers see them (Annex XIII).
SECTIONS: list[tuple[str, str, str]] = [
    ("1a", "General battery and manufacturer information", "Annex XIII 1(a): public"),
    ("1b", "Materials and composition", "Annex XIII 1(b): public"),
    ("1c", "Carbon footprint", "Annex XIII 1(c): public"),
    ("1d", "Responsible sourcing", "Annex XIII 1(d): public"),
    ("1ef", "Recycled and renewable content", "Annex XIII 1(e), 1(f): public"),
    ("1gp", "Performance and durability", "Annex XIII 1(g) to 1(p): public"),
    ("1qr", "Labels and conformity", "Annex XIII 1(q), 1(r): public"),
    ("1s", "Waste prevention and collection", "Annex XIII 1(s): public"),
    (
        "2",
        "Composition, parts and dismantling",
        "Annex XIII point 2: persons with a legitimate interest, notified bodies, market "
        "surveillance authorities and the Commission",
    ),
    (
        "3",
        "Test reports",
        "Annex XIII point 3: notified bodies, market surveillance authorities and the Commission",
    ),
    (
        "4",
        "This battery: state of health, use and events",
        "Annex XIII point 4: persons with a legitimate interest",
    ),
]

_POINT_1_SECTION = {
    "a": "1a",
    "b": "1b",
    "c": "1c",
    "d": "1d",
    **dict.fromkeys("ef", "1ef"),
    **dict.fromkeys("ghijklmnop", "1gp"),
    **dict.fromkeys("qr", "1qr"),
    "s": "1s",
}
_CITATION = re.compile(r"^(\d)(?:\(([a-z])\))?")


def section_of(path: str) -> str:
    """The page section of an Annex XIII line, from the item it cites."""
    match = _CITATION.match(ANNEX_XIII[path][1])
    point, item = match.group(1), match.group(2)
    return _POINT_1_SECTION[item] if point == "1" else point


LABELS = {
    "batteryIDDMCCode": "Battery identifier (DMC code)",
    "cO2FootprintTotal": "Carbon footprint, total",
    f"{VOLTAGE}.nomimalVoltage": "Nominal voltage",
    f"{VOLTAGE}.minVoltage": "Minimum voltage",
    f"{VOLTAGE}.maxVoltage": "Maximum voltage",
    f"{VOLTAGE}.minimalOperatinCurrent": "Minimum operating current",
    f"{VOLTAGE}.maximumOperatingCurrent": "Maximum operating current",
    f"{E}.SOCEThresholdForExhaustion": "SOCE threshold for exhaustion",
    f"{E}.ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy": (
        "Ratio of maximum allowed power to maximum allowed energy"
    ),
    f"{POWER}.powerCapabilityAt20Charge": "Power capability at 20 % state of charge",
    f"{POWER}.powerCapabilityAt80Charge": "Power capability at 80 % state of charge",
    f"{CYCLE}.cycleLifeTestCRate": "C-rate of the cycle-life test",
    f"{CHEMISTRY}.recyclateContentActiveMaterials": "Recycled content of the active materials",
    f"{COMPOSITION}.compositionOfBattery": "Composition of the battery (document)",
    f"{COMPOSITION}.compositionOfBatteryMaterials": "Composition of the battery",
    "manualDissasemblyAndDismantlingBatteryPack": "Manual for disassembly and dismantling",
    "manualRemovalBatteryFromAppliance": "Manual for removal from the appliance",
    "hasPreConsumerRecycledMaterialShare": "Pre-consumer recycled material",
    "hasPostConsumerRecycledMaterialShare": "Post-consumer recycled material",
    "hasRenewableContentShare": "Renewable content",
    "declarationOfConformityID": "EU declaration of conformity, number",
    f"{CHEMISTRY}.declarationOfConformity": "EU declaration of conformity",
    f"{CHEMISTRY}.testReportsResults": "Results of test reports",
    COLLECTION: "Separate collection, take-back, preparing for re-use, repurposing and recycling",
    "roleOfEndUsersInSeparateCollectionOfWasteBatteries": (
        "Role of end-users in the separate collection of waste batteries"
    ),
    "placeOfManufacturingAddress": "Address of the place of manufacturing",
    f"{E}.capacityThresholdExhaustion": "Capacity threshold for exhaustion",
    f"{ENERGY}.roundTripEnergyEfficiencyAt50CycleLife": (
        "Round trip energy efficiency at 50 % of the cycle life"
    ),
    f"{COMPOSITION}.componentsProperties": "Components, part numbers and suppliers",
    f"{CHEMISTRY}.cathodeCompositionOther": "Other cathode composition",
    f"{CHEMISTRY}.anodeCompositionOther": "Other anode composition",
    f"{CYCLE}.chargeDischargeCycles": "Charging and discharging cycles",
    f"{STATE}.statusBattery": "Status",
    "meaningLabelsAndSymbols": "Meaning of labels and symbols",
    "temperatureRangeIdleState": "Temperature range when idle",
    "datePlacedOnMarket": "Date placed on the market",
}

_W = "kW"
UNITS: dict[str, str] = {
    "cO2FootprintTotal": "kg CO₂e",
    "warrantyPeriod": "years",
    "remainingPowerCapability": _W,
    "temperatureRangeIdleState": "°C",
    f"{E}.ratedCapacity": "Ah",
    f"{E}.remainingCapacity": "Ah",
    f"{E}.capacityFade": "%",
    f"{E}.capacityThresholdExhaustion": "%",
    f"{E}.SOCEThresholdForExhaustion": "%",
    f"{E}.ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy": "W/Wh",
    f"{IR}.cellInternalResistance": "mΩ",
    f"{IR}.cellInternalResistanceCurrent": "mΩ",
    f"{IR}.cellInternalResistanceIncrease": "%",
    f"{IR}.packInternalResistance": "Ω",
    f"{IR}.packInternalResistanceCurrent": "Ω",
    f"{IR}.packInternalResistanceIncrease": "%",
    f"{IR}.moduleInternalResistanceIncrease": "%",
    f"{VOLTAGE}.minVoltage": "V",
    f"{VOLTAGE}.nomimalVoltage": "V",
    f"{VOLTAGE}.maxVoltage": "V",
    f"{VOLTAGE}.minimalOperatinCurrent": "A",
    f"{VOLTAGE}.maximumOperatingCurrent": "A",
    f"{POWER}.powerFade": "%",
    **{
        f"{POWER}.{key}": _W
        for key in (
            "maximumAllowedBatteryPower",
            "powerCapabilityAt20Charge",
            "powerCapabilityAt80Charge",
            "originalPowerCapability",
            "originalPowerCapabilityLimits",
        )
    },
    **{f"{TEMPERATURE}.{key}": "°C" for key in DEFINITIONS["TemperatureProperties"]["properties"]},
    **{f"{DIMENSIONS}.{key}": "mm" for key in ("length", "width", "height", "diameter")},
    f"{DIMENSIONS}.weight": "kg",
    **{
        f"{ENERGY}.{key}": "%"
        for key in (
            "energyRoundtripEfficiency",
            "energyRoundtripEfficiencyChange",
            "initialSelfDischargingRate",
            "currentSelfDischargingRate",
            "stateOfCertifiedEnergy",
            "roundTripEnergyEfficiencyAt50CycleLife",
            "remainingRoundTripEnergyEfficiency",
        )
    },
    **{
        f"{ENERGY}.{key}": "Wh"
        for key in (
            "maximumAllowedBatteryEnergy",
            "certifiedUsableBatteryEnergy",
            "remainingUsableBatteryEnergy",
        )
    },
    f"{CYCLE}.expectedLifetime": "cycles",
    f"{CYCLE}.cycleLifeTestCRate": "C",
    f"{CYCLE}.cycleLifeTestDepthOfDischarge": "%",
    f"{CYCLE}.chargeDischargeCycles": "cycles",
    f"{STATE}.stateOfHealth": "%",
    f"{STATE}.stateOfCharge": "%",
}


def _lines(node: dict, prefix: str = "") -> list[str]:
    lines = []
    for key, child in node.items():
        path = f"{prefix}.{key}" if prefix else key
        lines.extend([path] if isinstance(child, int) else _lines(child, path))
    return lines


#: Every line of the Annex XIII table, in the documented order of the passport.
LINES: list[str] = _lines(TREE)


def _schema_at(path: str) -> dict:
    schema = DEFINITIONS["BatteryPass"]
    for key in path.split("."):
        schema = schema["properties"][key]
        if "$ref" in schema and key != path.rsplit(".", 1)[-1]:
            schema = DEFINITIONS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _kind(path: str) -> str:
    """How a line's value is shown, from its definition."""
    schema = _schema_at(path)
    reference = (schema.get("$ref") or schema.get("items", {}).get("$ref") or "").rsplit("/", 1)
    name = reference[-1]
    return {
        "Attachement": "attachment",
        "Interval": "interval",
        "PostalAddress": "address",
        MATERIAL: "materials",
        "RenewableContentShare": "shares",
        "ComponentsProperties": "components",
    }.get(name) or ("flag" if schema.get("type") == "boolean" else "text")


def label_of(path: str) -> str:
    if path in LABELS:
        return LABELS[path]
    key = path.rsplit(".", 1)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).lower()
    return words[:1].upper() + words[1:]


def number_text(value: Any) -> str:
    """A number for people: thin-space thousands, no trailing zeros, no exponent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
    else:
        text = f"{int(value):,}"
    return text.replace(",", "\u202f")


def web_link(value: Any) -> str | None:
    """``value`` if it is an http(s) URL a page may link to, else None."""
    if isinstance(value, str) and re.match(r"^https?://[^\s]+$", value, re.IGNORECASE):
        return value
    return None


@dataclass
class Row:
    """One field on the page: ``kind`` says how the template shows ``value``."""

    label: str
    kind: str
    value: Any
    unit: str = ""
    cite: str = ""
    link: str | None = None


@dataclass
class Section:
    key: str
    title: str
    readers: str
    rows: list[Row] = field(default_factory=list)


def _text(value: Any) -> str:
    return "\u2013" if value is None or value == "" else number_text(value)


def _address_text(value: dict) -> str:
    street = " ".join(str(value[key]) for key in ("street", "houseNumber") if value.get(key))
    town = " ".join(str(value[key]) for key in ("postalCode", "city") if value.get(key))
    return ", ".join(part for part in (street, town, value.get("country")) if part)


def _shown(kind: str, value: Any) -> tuple[Any, str | None]:
    """``value`` of a line as the template shows it (texts, lists of texts), and its link."""
    if kind == "text":
        return number_text(value), web_link(value)
    if kind == "attachment":
        url = value.get("attachmentURL")
        shown = {
            "name": value.get("attachmentName") or url or "(unnamed document)",
            "type": value.get("attachmentType") or "",
            "url": url if isinstance(url, str) and not web_link(url) else "",
        }
        return shown, web_link(url)
    if kind == "interval":
        return f"{_text(value.get('lowerBound'))} to {_text(value.get('upperBound'))}", None
    if kind == "address":
        return _address_text(value), None
    if kind == "materials":
        return [
            {
                "name": _text(item.get("materialName")),
                "fraction": _text(item.get("materialPercentageMassFraction")),
                "weight": _text(item.get("materialWeight")),
                "hazard": _text((item.get("hazardousProperties") or {}).get("hazardCategory")),
            }
            for item in value
        ], None
    if kind == "shares":
        return [
            {
                "name": _text(item.get("materialName")),
                "fraction": _text(item.get("materialPercentageMassFraction")),
            }
            for item in value
        ], None
    if kind == "components":
        return [
            {
                "name": _text(item.get("componentName")),
                "part": _text(item.get("componentPartNumber")),
                "suppliers": [
                    {
                        "name": _text(supplier.get("manufacturerName")),
                        "address": _address_text(supplier.get("postalAddress") or {})
                        or supplier.get("manufacturerAddress")
                        or "",
                        "contact": ", ".join(
                            str(supplier[key])
                            for key in (
                                "manufacturerEmail",
                                "manufacturerPhoneNumber",
                                "manufacturerWebsite",
                            )
                            if supplier.get(key)
                        ),
                    }
                    for supplier in item.get("involvedSupplierComponents") or []
                ],
            }
            for item in value
        ], None
    return value, None


def _row(path: str, value: Any) -> Row:
    kind = _kind(path)
    shown, link = _shown(kind, value)
    return Row(label_of(path), kind, shown, UNITS.get(path, ""), ANNEX_XIII[path][1], link)


def manufacturer_rows(organization) -> list[Row]:
    """The manufacturer (Annex VI Part A (a)), from the owning organization's profile."""
    cite = "1(a): Annex VI Part A, information identifying the manufacturer"
    rows = [Row("Manufacturer", "text", organization.name, cite=cite)]
    street = " ".join(part for part in (organization.street, organization.house_number) if part)
    town = " ".join(part for part in (organization.postal_code, organization.city) if part)
    address = ", ".join(part for part in (street, town, organization.country) if part)
    if address:
        rows.append(Row("Manufacturer's address", "text", address, cite=cite))
    for label, value in (
        ("Manufacturer's email", organization.contact_email),
        ("Manufacturer's phone", organization.contact_phone),
    ):
        if value:
            rows.append(Row(label, "text", value, cite=cite))
    if organization.website:
        rows.append(
            Row(
                "Manufacturer's website",
                "text",
                organization.website,
                cite=cite,
                link=web_link(organization.website),
            )
        )
    return rows


def page_sections(document: dict, organization) -> list[Section]:
    """The sections of a document (already trimmed to the reader, id included) that hold
    something, in the regulation's order; the manufacturer leads the first."""
    sections = {key: Section(key, title, readers) for key, title, readers in SECTIONS}
    sections["1a"].rows.extend(manufacturer_rows(organization))
    for path in LINES:
        value = value_at(document, path)
        if is_empty(value) and not isinstance(value, bool | int | float):
            continue
        sections[section_of(path)].rows.append(_row(path, value))
    return [section for section in sections.values() if section.rows]

"""Annex XIII completeness: which fields the passport's battery category requires are missing
or empty, by point, with a percentage.

The category is recognised from ``batteryCategory`` among the regulation's spellings that the
documentation names (LMT battery, electric vehicle battery, industrial battery, stationary
battery energy storage system), ignoring case and surrounding spaces; anything else is
"category unknown", and such a passport is never complete.

What each category requires (:data:`REQUIRED`), by the annex's points:

* point 1, every category: the Annex VI Part A items the document holds, the carbon
  footprint, responsible sourcing, recycled and renewable content, rated capacity, voltages,
  power capability, lifetime and its test, idle temperature range, warranty, round trip
  efficiency, internal resistance, C-rate, labels, the declaration of conformity and the
  information on waste batteries (1(a) to 1(s)); EV batteries also the capacity threshold for
  exhaustion (1(k));
* point 2: detailed composition of cathode, anode and electrolyte, components with part
  numbers and suppliers, dismantling and removal manuals, safety measures;
* point 3: test report results;
* point 4: status, state of health and negative events; EV batteries the state of certified
  energy (Annex VII Part B), the other categories the parameters of Annex VII Part A
  (remaining capacity and power, round trip efficiency and its fade, self-discharge, internal
  resistance increase, cycles, throughputs, deep discharge and time in extreme temperatures).

A value is missing when its key is absent or it is empty: an empty or blank string, an empty
list, an object with no non-empty value.
"""

from __future__ import annotations

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
    VOLTAGE,
    E,
)
from passport.definitions import ID_FIELD

LMT = "LMT battery"
EV = "electric vehicle battery"
INDUSTRIAL = "industrial battery"
STATIONARY = "stationary battery energy storage system"
CATEGORIES = (LMT, EV, INDUSTRIAL, STATIONARY)
UNKNOWN = "category unknown"

_COMMON = [
    # Point 1.
    ID_FIELD,
    "batteryCategory",
    "dateOfManufacturing",
    "placeOfManufacturing",
    f"{DIMENSIONS}.weight",
    "extinguishingAgent",
    f"{COMPOSITION}.compositionOfBattery",
    f"{COMPOSITION}.criticalRawMaterials",
    "cO2FootprintTotal",
    "carbonFootprintPerformanceClass",
    "carbonFootprintStudyLink",
    "dueDiligenceReport",
    f"{CHEMISTRY}.recyclateContentActiveMaterials",
    "hasPreConsumerRecycledMaterialShare",
    "hasPostConsumerRecycledMaterialShare",
    "hasRenewableContentShare",
    f"{E}.ratedCapacity",
    f"{VOLTAGE}.minVoltage",
    f"{VOLTAGE}.nomimalVoltage",
    f"{VOLTAGE}.maxVoltage",
    f"{POWER}.originalPowerCapability",
    f"{POWER}.originalPowerCapabilityLimits",
    f"{CYCLE}.expectedLifetime",
    f"{CYCLE}.cycleLifeReferenceTest",
    "temperatureRangeIdleState",
    "warrantyPeriod",
    f"{ENERGY}.energyRoundtripEfficiency",
    f"{ENERGY}.roundTripEnergyEfficiencyAt50CycleLife",
    f"{IR}.cellInternalResistance",
    f"{IR}.packInternalResistance",
    f"{CYCLE}.cycleLifeTestCRate",
    "meaningLabelsAndSymbols",
    "separateCollectionSymbol",
    "declarationOfConformityID",
    f"{CHEMISTRY}.declarationOfConformity",
    "roleOfEndUsersInWastePrevention",
    "roleOfEndUsersInSeparateCollectionOfWasteBatteries",
    COLLECTION,
    # Point 2.
    f"{CHEMISTRY}.cathodeActiveMaterials",
    f"{CHEMISTRY}.anodeActiveMaterials",
    f"{CHEMISTRY}.electrolyteComposition",
    f"{COMPOSITION}.componentsProperties",
    "manualDissasemblyAndDismantlingBatteryPack",
    "manualRemovalBatteryFromAppliance",
    "safetyMeasures",
    # Point 3.
    f"{CHEMISTRY}.testReportsResults",
    # Point 4.
    f"{STATE}.statusBattery",
    f"{STATE}.stateOfHealth",
    "encounteredNegativeEvents",
]

_EV = [
    f"{E}.capacityThresholdExhaustion",  # 1(k), EV batteries only
    f"{ENERGY}.stateOfCertifiedEnergy",  # Annex VII Part B
    f"{CYCLE}.chargeDischargeCycles",
]

_ANNEX_VII_PART_A = [
    f"{E}.remainingCapacity",
    f"{E}.capacityFade",
    "remainingPowerCapability",
    f"{POWER}.powerFade",
    f"{ENERGY}.remainingRoundTripEnergyEfficiency",
    f"{ENERGY}.energyRoundtripEfficiencyChange",
    f"{ENERGY}.evolutionSelfDischargingRate",
    f"{IR}.packInternalResistanceIncrease",
    f"{CYCLE}.chargeDischargeCycles",
    f"{CYCLE}.energyThroughput",
    f"{CYCLE}.capacityThroughput",
    f"{IR}.deepDischargeEvents",
    "timeSpentInExtremeTemperatures",
    "timeSpentChargingDuringExtremeTemperatures",
]

#: The fields each category requires, in the annex's order of points.
REQUIRED: dict[str, list[str]] = {
    LMT: _COMMON + _ANNEX_VII_PART_A,
    EV: _COMMON + _EV,
    INDUSTRIAL: _COMMON + _ANNEX_VII_PART_A,
    STATIONARY: _COMMON + _ANNEX_VII_PART_A,
}

_BY_LOWER = {category.lower(): category for category in CATEGORIES}


def recognise(category: Any) -> str | None:
    """The regulation's category that ``batteryCategory`` names, or None."""
    if not isinstance(category, str):
        return None
    return _BY_LOWER.get(" ".join(category.split()).lower())


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not value
    if isinstance(value, dict):
        return all(is_empty(item) for item in value.values())
    return False


def value_at(document: dict, path: str) -> Any:
    """The value at a dotted path of a document, or None where any key on the way is missing."""
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


@dataclass
class PointCompleteness:
    required: int = 0
    present: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def percentage(self) -> float:
        return round(100 * self.present / self.required, 1) if self.required else 100.0


@dataclass
class Completeness:
    """The completeness of one passport: ``category`` is None when it is unknown."""

    category: str | None
    points: dict[int, PointCompleteness]

    @property
    def required(self) -> int:
        return sum(point.required for point in self.points.values())

    @property
    def present(self) -> int:
        return sum(point.present for point in self.points.values())

    @property
    def percentage(self) -> float | None:
        if self.category is None:
            return None
        return round(100 * self.present / self.required, 1) if self.required else 100.0

    @property
    def complete(self) -> bool:
        return self.category is not None and self.present == self.required


def completeness_of(document: dict) -> Completeness:
    """What Annex XIII requires of this passport (a whole document, id included)."""
    category = recognise(document.get("batteryCategory"))
    points = {point: PointCompleteness() for point in (1, 2, 3, 4)}
    if category is None:
        return Completeness(category=None, points={})
    for path in REQUIRED[category]:
        point = points[ANNEX_XIII[path][0]]
        point.required += 1
        if is_empty(value_at(document, path)):
            point.missing.append(path)
        else:
            point.present += 1
    return Completeness(category=category, points=points)

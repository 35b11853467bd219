"""Who sees what in a passport: the regulation's table of fields and the readers' classes.

Regulation (EU) 2023/1542, Art. 77(2) and Annex XIII, put every item of a battery passport in
one of four points:

* **point 1**, publicly accessible information on the battery model;
* **point 2**, model information for persons with a legitimate interest and the Commission
  (detailed composition, part numbers and suppliers, dismantling, safety measures);
* **point 3**, model information for notified bodies, market surveillance authorities and the
  Commission (test report results);
* **point 4**, information on the individual battery for persons with a legitimate interest
  (its performance values, state of health, status, usage and negative events).

:data:`ANNEX_XIII` assigns every field of the BatteryPass to its point, one line per field,
each citing the item of the annex it falls under. A line covers everything below its path
(the items of a list of materials, the keys of an attachment). Readers see points by class
(:data:`CLASS_POINTS`); :func:`trim` leaves out, anywhere in a document, the keys a reader may
not see, and an object left with nothing visible goes with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from passport.definitions import DEFINITIONS, ELECTROCHEMICAL

ALL_POINTS = frozenset({1, 2, 3, 4})
PUBLIC = frozenset({1})


class AccessClass:
    """The classes of readers a passport's organization grants (Art. 77(2))."""

    LEGITIMATE_INTEREST = "legitimate_interest"
    AUTHORITIES = "authorities"

    CHOICES = [
        (LEGITIMATE_INTEREST, "Legitimate interest (Annex XIII points 1, 2 and 4)"),
        (AUTHORITIES, "Notified bodies, market surveillance, Commission (points 1, 2 and 3)"),
    ]


#: The points each class of reader sees. The owning organization's members (any role) and
#: staff see all four; anyone else, credentials or not, sees point 1.
CLASS_POINTS: dict[str, frozenset[int]] = {
    "public": PUBLIC,
    # Art. 77(2)(c): points 2 and 4 for persons with a legitimate interest.
    AccessClass.LEGITIMATE_INTEREST: frozenset({1, 2, 4}),
    # Art. 77(2)(b): points 2 and 3 for notified bodies, market surveillance authorities and
    # the Commission.
    AccessClass.AUTHORITIES: frozenset({1, 2, 3}),
    "organization": ALL_POINTS,
}

E = ELECTROCHEMICAL
IR = f"{E}.internalResistanceProperties"
VOLTAGE = f"{E}.voltageProperties"
POWER = f"{E}.batteryPowerProperties"
TEMPERATURE = f"{E}.temperatureProperties"
CHEMISTRY = "hasCellChemistryProperties"
ENERGY = "hasBatteryEnergyProperties"
CYCLE = "hasBatteryCycleLifeProperties"
COMPOSITION = "hasCompositionProperties"
STATE = "hasStateOfBatteryProperties"
DIMENSIONS = "hasPhysicalDimensionsProperties"
COLLECTION = (
    "informationOnSeparateCollectionTakeBackCollectionPointsPreparingForReusePreparingFor"
    "RepurposingAndRecyclingOperations"
)

#: Every field of the BatteryPass: its Annex XIII point, and the item of the annex it is.
ANNEX_XIII: dict[str, tuple[int, str]] = {
    "batteryIDDMCCode": (1, "1(a): Annex VI Part A, battery identification"),
    "dateOfManufacturing": (1, "1(a): Annex VI Part A, date of manufacture"),
    "dateOfService": (4, "4(d): usage of the individual battery"),
    "placeOfManufacturing": (1, "1(a): Annex VI Part A, place of manufacture"),
    "cO2FootprintTotal": (1, "1(c): carbon footprint, Art. 7(1)"),
    # Electrochemical properties.
    f"{E}.ratedCapacity": (1, "1(g): rated capacity"),
    f"{E}.capacityFade": (4, "4(b): state of health, Annex VII"),
    f"{E}.capacityThresholdExhaustion": (1, "1(k): capacity threshold for exhaustion"),
    f"{E}.ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy": (
        1,
        "1(i): power capability and limits",
    ),
    f"{E}.remainingCapacity": (4, "4(b): state of health, Annex VII"),
    f"{IR}.cellInternalResistance": (1, "1(o): internal cell resistance"),
    f"{IR}.cellInternalResistanceCurrent": (4, "4(b): state of health, Annex VII"),
    f"{IR}.cellInternalResistanceIncrease": (4, "4(b): state of health, Annex VII"),
    f"{IR}.packInternalResistance": (1, "1(o): internal pack resistance"),
    f"{IR}.packInternalResistanceIncrease": (4, "4(b): state of health, Annex VII"),
    f"{IR}.packInternalResistanceCurrent": (4, "4(b): state of health, Annex VII"),
    f"{IR}.deepDischargeEvents": (4, "4(d): negative events"),
    f"{IR}.overchargeEvents": (4, "4(d): negative events"),
    f"{IR}.moduleInternalResistanceInitial": (1, "1(o): internal battery resistance"),
    f"{IR}.moduleInternalResistanceIncrease": (4, "4(b): state of health, Annex VII"),
    f"{IR}.moduleInternalResistanceCurrent": (4, "4(b): state of health, Annex VII"),
    f"{VOLTAGE}.minVoltage": (1, "1(h): minimal voltage"),
    f"{VOLTAGE}.nomimalVoltage": (1, "1(h): nominal voltage"),
    f"{VOLTAGE}.maxVoltage": (1, "1(h): maximum voltage"),
    f"{VOLTAGE}.minimalOperatinCurrent": (1, "1(i): power capability limits"),
    f"{VOLTAGE}.maximumOperatingCurrent": (1, "1(i): power capability limits"),
    f"{POWER}.powerFade": (4, "4(b): state of health, Annex VII"),
    f"{POWER}.maximumAllowedBatteryPower": (1, "1(i): power capability limits"),
    f"{POWER}.powerCapabilityAt20Charge": (1, "1(i): original power capability"),
    f"{POWER}.powerCapabilityAt80Charge": (1, "1(i): original power capability"),
    f"{POWER}.originalPowerCapability": (1, "1(i): original power capability"),
    f"{POWER}.originalPowerCapabilityLimits": (1, "1(i): power capability limits"),
    f"{TEMPERATURE}.environmentalOperatingTemperature": (1, "1(h), 1(i): temperature ranges"),
    f"{TEMPERATURE}.averageTemperatureUsage": (4, "4(d): operating conditions, temperature"),
    f"{TEMPERATURE}.minimalTemperatureUsage": (4, "4(d): operating conditions, temperature"),
    f"{TEMPERATURE}.maximumTemperatureUsage": (4, "4(d): operating conditions, temperature"),
    f"{TEMPERATURE}.averageTemperatureCharging": (4, "4(d): operating conditions, temperature"),
    f"{TEMPERATURE}.minimalTemperatureCharging": (4, "4(d): operating conditions, temperature"),
    f"{TEMPERATURE}.maximumTemperatureCharging": (4, "4(d): operating conditions, temperature"),
    f"{E}.SOCEThresholdForExhaustion": (1, "1(k): threshold for exhaustion (EV batteries)"),
    # Physical dimensions.
    f"{DIMENSIONS}.length": (1, "1(a): Annex VI Part A, general battery information"),
    f"{DIMENSIONS}.width": (1, "1(a): Annex VI Part A, general battery information"),
    f"{DIMENSIONS}.height": (1, "1(a): Annex VI Part A, general battery information"),
    f"{DIMENSIONS}.diameter": (1, "1(a): Annex VI Part A, general battery information"),
    f"{DIMENSIONS}.weight": (1, "1(a): Annex VI Part A, weight"),
    # Cell chemistry.
    f"{CHEMISTRY}.cathodeActiveMaterials": (2, "2(a): detailed composition, cathode"),
    f"{CHEMISTRY}.recyclateContentActiveMaterials": (1, "1(e): recycled content, Art. 8(1)"),
    f"{CHEMISTRY}.anodeActiveMaterials": (2, "2(a): detailed composition, anode"),
    f"{CHEMISTRY}.cathodeCompositionOther": (2, "2(a): detailed composition, cathode"),
    f"{CHEMISTRY}.anodeCompositionOther": (2, "2(a): detailed composition, anode"),
    f"{CHEMISTRY}.electrolyteComposition": (2, "2(a): detailed composition, electrolyte"),
    f"{CHEMISTRY}.declarationOfConformity": (1, "1(r): EU declaration of conformity, Art. 18"),
    f"{CHEMISTRY}.testReportsResults": (3, "3: results of test reports proving compliance"),
    # Battery energy.
    f"{ENERGY}.energyRoundtripEfficiency": (1, "1(n): initial round trip energy efficiency"),
    f"{ENERGY}.energyRoundtripEfficiencyChange": (4, "4(b): state of health, Annex VII"),
    f"{ENERGY}.maximumAllowedBatteryEnergy": (1, "1(i): power capability and limits"),
    f"{ENERGY}.initialSelfDischargingRate": (4, "4(a): performance values, Annex IV Part A"),
    f"{ENERGY}.currentSelfDischargingRate": (4, "4(b): state of health, Annex VII"),
    f"{ENERGY}.evolutionSelfDischargingRate": (4, "4(b): state of health, Annex VII"),
    f"{ENERGY}.certifiedUsableBatteryEnergy": (1, "1(a): Annex VI Part A, capacity"),
    f"{ENERGY}.remainingUsableBatteryEnergy": (4, "4(b): state of health, Annex VII"),
    f"{ENERGY}.stateOfCertifiedEnergy": (4, "4(b): state of health (SOCE), Annex VII"),
    f"{ENERGY}.roundTripEnergyEfficiencyAt50CycleLife": (
        1,
        "1(n): round trip efficiency at 50 % of cycle life",
    ),
    f"{ENERGY}.remainingRoundTripEnergyEfficiency": (4, "4(b): state of health, Annex VII"),
    "safetyMeasures": (2, "2(d): safety measures"),
    # Cycle life.
    f"{CYCLE}.expectedLifetime": (1, "1(j): expected lifetime in cycles"),
    f"{CYCLE}.cycleLifeTestCRate": (1, "1(p): C-rate of the cycle-life test"),
    f"{CYCLE}.cycleLifeTestDepthOfDischarge": (1, "1(j): reference test of the lifetime"),
    f"{CYCLE}.chargeDischargeCycles": (4, "4(d): usage, charging and discharging cycles"),
    f"{CYCLE}.energyThroughput": (4, "4(d): usage of the individual battery"),
    f"{CYCLE}.capacityThroughput": (4, "4(d): usage of the individual battery"),
    f"{CYCLE}.cycleLifeReferenceTest": (1, "1(j): reference test of the lifetime"),
    # State of the battery.
    f"{STATE}.statusBattery": (4, "4(c): status (original, repurposed, re-used, ..., waste)"),
    f"{STATE}.stateOfHealth": (4, "4(b): state of health, Annex VII"),
    f"{STATE}.stateOfCharge": (4, "4(d): state of charge"),
    # Composition.
    f"{COMPOSITION}.componentsProperties": (2, "2(b): part numbers and sources of spare parts"),
    f"{COMPOSITION}.leadSymbol": (1, "1(q): labelling, Art. 13(4)"),
    f"{COMPOSITION}.cadmiumSymbol": (1, "1(q): labelling, Art. 13(4)"),
    f"{COMPOSITION}.criticalRawMaterials": (1, "1(b): critical raw materials"),
    f"{COMPOSITION}.compositionOfBattery": (1, "1(b): material composition, chemistry"),
    "warrantyPeriod": (1, "1(m): commercial warranty for the calendar life"),
    "meaningLabelsAndSymbols": (1, "1(q), 1(s): labels, Art. 13 and Art. 74(1)"),
    "separateCollectionSymbol": (1, "1(q): labelling, Art. 13(3)"),
    "carbonFootprintPerformanceClass": (1, "1(c): carbon footprint class, Art. 7(2)"),
    "carbonFootprintStudyLink": (1, "1(c): carbon footprint study, Art. 7(1)"),
    "manualDissasemblyAndDismantlingBatteryPack": (2, "2(c): dismantling information"),
    "manualRemovalBatteryFromAppliance": (2, "2(c): dismantling information"),
    "dueDiligenceReport": (1, "1(d): responsible sourcing, Art. 52(3)"),
    "extinguishingAgent": (1, "1(a): Annex VI Part A, usable extinguishing agent"),
    "remainingPowerCapability": (4, "4(b): state of health, Annex VII"),
    "hasRenewableContentShare": (1, "1(f): share of renewable content"),
    "hasPreConsumerRecycledMaterialShare": (1, "1(e): recycled content, Art. 8(1)"),
    "hasPostConsumerRecycledMaterialShare": (1, "1(e): recycled content, Art. 8(1)"),
    "encounteredNegativeEvents": (4, "4(d): negative events, such as accidents"),
    "batteryCategory": (1, "1(a): Annex VI Part A, battery category"),
    "declarationOfConformityID": (1, "1(r): EU declaration of conformity, Art. 18"),
    "roleOfEndUsersInWastePrevention": (1, "1(s): waste prevention, Art. 74(1)(a)"),
    "roleOfEndUsersInSeparateCollectionOfWasteBatteries": (
        1,
        "1(s): separate collection, Art. 74(1)(b)",
    ),
    COLLECTION: (1, "1(s): collection and take-back, Art. 74(1)(c)"),
    "temperatureRangeIdleState": (1, "1(l): temperature range when not in use"),
    "timeSpentInExtremeTemperatures": (4, "4(d): operating conditions, temperature"),
    "timeSpentChargingDuringExtremeTemperatures": (4, "4(d): operating conditions, temperature"),
    # Extension fields (passport.definitions.EXTENSION_FIELDS); a supplier's postalAddress is
    # under componentsProperties (point 2).
    "batteryModel": (1, "1(a): Annex VI Part A, information identifying the battery"),
    "batteryType": (1, "1(a): Annex VI Part A, information identifying the battery"),
    "datePlacedOnMarket": (1, "1(a): general battery information, placing on the market"),
    "placeOfManufacturingAddress": (1, "1(a): Annex VI Part A, place of manufacture"),
    f"{COMPOSITION}.compositionOfBatteryMaterials": (1, "1(b): material composition, chemistry"),
}


def point_of(path: str) -> int | None:
    """The point of a dotted path (``hasCellChemistryProperties.cathodeActiveMaterials``), or
    of the nearest line above it; None for a path no line covers (a property group)."""
    while path:
        if path in ANNEX_XIII:
            return ANNEX_XIII[path][0]
        path = path.rpartition(".")[0]
    return None


# --- the view tree: documented order, a point per leaf ---------------------------------------
# A node is either a point (the whole value below is that point's) or an ordered dict of
# key -> node for an object whose fields belong to different points.
Node = int | dict


def _tree(definition: str, prefix: str) -> dict[str, Node]:
    node: dict[str, Node] = {}
    for key, schema in DEFINITIONS[definition]["properties"].items():
        path = f"{prefix}.{key}" if prefix else key
        if path in ANNEX_XIII:
            node[key] = ANNEX_XIII[path][0]
        elif "$ref" in schema:
            node[key] = _tree(schema["$ref"].rsplit("/", 1)[-1], path)
        else:
            raise LookupError(f"{path} is in no point of ANNEX_XIII")
    return node


#: The BatteryPass as a tree of points, in documented order.
TREE: dict[str, Node] = _tree("BatteryPass", "")


def node_at(parts: Iterable) -> Node | None:
    """The node of the tree at a path (a list of keys and indexes); indexes and keys below a
    point stay in that point. None where the tree has no such key."""
    node: Node | None = TREE
    for part in parts:
        if isinstance(node, int):
            return node
        if isinstance(part, int) or node is None:
            return None
        node = node.get(part)
    return node


def trim(value: Any, points: frozenset[int], node: Node | None = None) -> Any:
    """``value`` (a document, or the value at ``node``) with only what ``points`` may see, in
    documented order. A key the tree does not know is left out; so is an object whose visible
    part is empty (unless it was empty already). Returns None when nothing is visible."""
    node = TREE if node is None else node
    if isinstance(node, int):
        return value if node in points else None
    if not isinstance(value, dict):
        return value if points >= ALL_POINTS else None
    result = {}
    for key, child in node.items():
        if key not in value:
            continue
        if isinstance(child, int):
            if child in points:
                result[key] = value[key]
            continue
        inner = trim(value[key], points, child)
        if inner is not None and (inner or value[key] == {}):
            result[key] = inner
    return result


def section_points(path: str) -> set[int]:
    """The points of every field at and below a dotted path."""
    return {point for line, (point, _) in ANNEX_XIII.items() if (line + ".").startswith(path + ".")}

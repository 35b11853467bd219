"""The BatteryPass of the Digital Battery Passport API 1.0.0 as JSON Schema definitions.

Field names are the documented ones, typos included (``hasEelectrochemicalProperties``,
``nomimalVoltage``, ``minimalOperatinCurrent``, ``manualDissasemblyAndDismantlingBatteryPack``,
``SOCEThresholdForExhaustion``, ``Attachement``). Objects whose schema is only partly known
(``Attachement``, ``RenewableContentShare``, ``ComponentsProperties`` and a material's
``hazardousProperties``) keep keys beyond the known ones; every other object refuses unknown
keys. Percentages are within 0 to 100; weights, dimensions, capacities, energies, powers,
resistances, counts and throughputs are at least 0; every number is within ±10^15. ``null``
is not a value of any field. The order of the properties is the order of the keys in answers.

Beyond the documented fields, a few **extension fields** hold what the Catena-X battery pass
(``passport.catenax``) requires and the documented passport does not: ``batteryModel``,
``batteryType``, ``datePlacedOnMarket``, ``placeOfManufacturingAddress``, the full
``compositionOfBatteryMaterials`` and a supplier's ``postalAddress`` (:data:`EXTENSION_FIELDS`).
They are optional, validated and trimmed like every other field.

``passport.schema`` validates bodies with these definitions and turns them into the OpenAPI
components; ``passport.classes`` puts each field in its point of Annex XIII.
"""

from __future__ import annotations

import re
from typing import Any

#: The documented key of the electrochemical properties, and the spelling with one "e" that
#: the known consumer reads: accepted on input, answered beside the documented key.
ELECTROCHEMICAL = "hasEelectrochemicalProperties"
ELECTROCHEMICAL_ALIAS = "hasElectrochemicalProperties"

ID_FIELD = "batteryIDDMCCode"
ID_MAX_LENGTH = 128
ID_ALPHABET = "A-Za-z0-9._~:-"
#: The lookup pattern of the id in URLs and bodies.
ID_REGEX = rf"[{ID_ALPHABET}]{{1,{ID_MAX_LENGTH}}}"
ID_PATTERN = re.compile(rf"^{ID_REGEX}$")

#: Free text that is also a column (filtered on): kept to a length an index takes.
CATEGORY_MAX_LENGTH = 200
PLACE_MAX_LENGTH = 1000

#: Component names in the OpenAPI document carry this prefix (other APIs define ``Interval``,
#: ``Attachment`` or ``Project`` too).
COMPONENT_PREFIX = "Passport"


#: Every number of a passport lies within ±10^15, beyond any real quantity of a battery:
#: PostgreSQL keeps a JSON number as an exact decimal and gives 1e300 back as an integer of
#: 301 digits, which no JSON encoder of 64-bit integers could answer again.
MAX_NUMBER = 10**15


def _number(
    description: str = "", *, minimum: float = -MAX_NUMBER, maximum: float = MAX_NUMBER
) -> dict:
    schema: dict[str, Any] = {"type": "number", "minimum": minimum, "maximum": maximum}
    if description:
        schema["description"] = description
    return schema


def _amount(description: str = "") -> dict:
    """A number that cannot be negative (a weight, a dimension, a capacity, a count...)."""
    return _number(description, minimum=0)


def _percent(description: str = "") -> dict:
    return _number(description, minimum=0, maximum=100)


def _string(description: str = "", **limits) -> dict:
    schema: dict[str, Any] = {"type": "string", **limits}
    if description:
        schema["description"] = description
    return schema


def _boolean(description: str = "") -> dict:
    schema: dict[str, Any] = {"type": "boolean"}
    if description:
        schema["description"] = description
    return schema


def _ref(name: str, description: str = "") -> dict:
    schema: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if description:
        schema["description"] = description
    return schema


def _array(name: str, description: str = "") -> dict:
    schema: dict[str, Any] = {"type": "array", "items": {"$ref": f"#/$defs/{name}"}}
    if description:
        schema["description"] = description
    return schema


def _object(properties: dict, description: str = "", *, open_: bool = False) -> dict:
    """An object of ``properties``; ``open_`` keeps keys beyond them (a partly known schema)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": open_,
    }
    if description:
        schema["description"] = description
    return schema


MATERIAL = "MaterialNameAndWeightAndPercentageMassFraction"

DEFINITIONS: dict[str, dict] = {
    "Attachement": _object(
        {
            "attachmentName": _string("Name of the attached document."),
            "attachmentType": _string("Type of the document (inferred field)."),
            "attachmentURL": _string("Where the document is found (inferred field)."),
        },
        "A document attached to the passport (spelling of the original). Only `attachmentName` "
        "is evidenced; further keys are kept as sent.",
        open_=True,
    ),
    "Interval": _object(
        {"lowerBound": _number(), "upperBound": _number()},
        "Interval",
    ),
    "RenewableContentShare": _object(
        {
            "materialName": _string(),
            "materialPercentageMassFraction": _percent("Share in percent (0 to 100)."),
        },
        "A material's share (inferred fields); further keys are kept as sent.",
        open_=True,
    ),
    "InternalResistanceProperties": _object(
        {
            "cellInternalResistance": _amount(),
            "cellInternalResistanceCurrent": _amount(),
            "cellInternalResistanceIncrease": _amount(),
            "packInternalResistance": _amount(),
            "packInternalResistanceIncrease": _amount(),
            "packInternalResistanceCurrent": _amount(),
            "deepDischargeEvents": _amount(),
            "overchargeEvents": _amount(),
            "moduleInternalResistanceInitial": _amount(),
            "moduleInternalResistanceIncrease": _amount(),
            "moduleInternalResistanceCurrent": _amount(),
        }
    ),
    "VoltageProperties": _object(
        {
            "minVoltage": _string(),
            "nomimalVoltage": _string(),
            "maxVoltage": _string(),
            "minimalOperatinCurrent": _number(),
            "maximumOperatingCurrent": _number(),
        }
    ),
    "BatteryPowerProperties": _object(
        {
            "powerFade": _percent(),
            "maximumAllowedBatteryPower": _amount(),
            "powerCapabilityAt20Charge": _amount(),
            "powerCapabilityAt80Charge": _amount(),
            "originalPowerCapability": _amount(),
            "originalPowerCapabilityLimits": _amount(),
        },
        "Battery Power Properties",
    ),
    "TemperatureProperties": _object(
        {
            "environmentalOperatingTemperature": _number(),
            "averageTemperatureUsage": _number(),
            "minimalTemperatureUsage": _number(),
            "maximumTemperatureUsage": _number(),
            "averageTemperatureCharging": _number(),
            "minimalTemperatureCharging": _number(),
            "maximumTemperatureCharging": _number(),
        },
        "Temperature Properties",
    ),
    "ElectrochemicalProperties": _object(
        {
            "ratedCapacity": _amount(
                "The total number of ampere-hours (Ah) that can be withdrawn from a fully "
                "charged battery under specific conditions"
            ),
            "capacityFade": _percent(
                "The decrease over time and upon usage in the amount of charge that a battery "
                "can deliver at the rated voltage, with respect to the original rated capacity "
                "declared by the manufacturer"
            ),
            "capacityThresholdExhaustion": _percent(
                "Capacity threshold for exhaustion as percentage value"
            ),
            "ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy": _amount(
                "Ratio between maximum allowed battery power (W) and battery energy (Wh)"
            ),
            "remainingCapacity": _amount(
                "The total remaining number of ampere-hours (Ah) that can be withdrawn from a "
                "fully charged battery under specific conditions"
            ),
            "internalResistanceProperties": _ref("InternalResistanceProperties"),
            "voltageProperties": _ref("VoltageProperties"),
            "batteryPowerProperties": _ref("BatteryPowerProperties"),
            "temperatureProperties": _ref("TemperatureProperties"),
            "SOCEThresholdForExhaustion": _percent(
                "Minimum percentage of SOCE above which the battery is still considered "
                "operational as EV battery in its current life"
            ),
        }
    ),
    "PhysicalDimensionsProperties": _object(
        {
            "length": _amount("mm"),
            "width": _amount("mm"),
            "height": _amount("mm"),
            "diameter": _amount("mm"),
            "weight": _amount("kg"),
        }
    ),
    "HazardousProperties": _object(
        {
            "hazardCategory": _string(),
            "hazardClass": _string("Inferred field."),
            "hazardStatement": _string("Inferred field."),
        },
        "Hazards of a material. Only `hazardCategory` is evidenced; further keys are kept.",
        open_=True,
    ),
    MATERIAL: _object(
        {
            "materialPercentageMassFraction": _percent("Mass fraction in percent (0 to 100)."),
            "materialName": _string(),
            "materialWeight": _amount("Weight of the material (g)."),
            "hazardousProperties": _ref("HazardousProperties"),
        }
    ),
    "CellChemistryProperties": _object(
        {
            "cathodeActiveMaterials": _array(
                MATERIAL,
                "The total amount of valuable materials contained in CAM material: Nickel, "
                "Cobalt, Lithium.",
            ),
            "recyclateContentActiveMaterials": _array(
                MATERIAL,
                "Recovered recyclate content in active material; at least Cobalt, Lithium, "
                "Nickel, Lead.",
            ),
            "anodeActiveMaterials": _array(
                MATERIAL, "The total amount of valuable materials contained in Anode: graphite"
            ),
            "cathodeCompositionOther": _array(
                MATERIAL, "The composition or materials contained in the Cathode"
            ),
            "anodeCompositionOther": _array(
                MATERIAL, "The composition or materials contained in the anode"
            ),
            "electrolyteComposition": _array(
                MATERIAL, "List of materials contained in the electrolyte"
            ),
            "declarationOfConformity": _ref("Attachement"),
            "testReportsResults": _ref("Attachement"),
        },
        "Cell Chemistry Properties",
    ),
    "PostalAddress": _object(
        {
            "street": _string("Street.", minLength=1, maxLength=200),
            "houseNumber": _string("House number.", minLength=1, maxLength=20),
            "postalCode": _string(
                "Postcode: 1 to 11 letters, digits, hyphens and spaces.",
                pattern=r"^[A-Za-z0-9][A-Za-z0-9\- ]{0,10}$",
            ),
            "city": _string("City.", minLength=1, maxLength=100),
            "country": _string(
                "ISO 3166 code in capitals: a country (DE) or a subdivision (DE-BW).",
                pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
            ),
        },
        "Extension: a postal address in parts, as the Catena-X battery pass needs it.",
    ),
    "SupplierInformation": _object(
        {
            "manufacturerName": _string(),
            "manufacturerAddress": _string(),
            "manufacturerEmail": _string(),
            "manufacturerWebsite": _string(),
            "manufacturerPhoneNumber": _string(),
            "manufacturerTradeDetails": _string(),
            "postalAddress": _ref(
                "PostalAddress",
                "Extension: the supplier's address in parts (Catena-X componentsSupplier).",
            ),
        },
        "A supplier of a component.",
    ),
    "ComponentsProperties": _object(
        {
            "componentName": _string("Inferred field."),
            "componentPartNumber": _string("Inferred field."),
            "involvedSupplierComponents": _array("SupplierInformation"),
        },
        "A component, its part number and suppliers. Only `involvedSupplierComponents` is "
        "evidenced; further keys are kept as sent.",
        open_=True,
    ),
    "CompositionProperties": _object(
        {
            "componentsProperties": _array("ComponentsProperties"),
            "leadSymbol": _boolean(
                "Lead symbol indicating the metal is contained in the battery above a defined "
                "threshold of 0.004%"
            ),
            "cadmiumSymbol": _boolean(
                "Cadmium symbol indicating the metal is contained in the battery above a "
                "defined threshold of 0.002%"
            ),
            "criticalRawMaterials": _string(),
            "compositionOfBattery": _ref("Attachement"),
            "compositionOfBatteryMaterials": _array(
                MATERIAL,
                "Extension: the full composition of the battery as a list of materials "
                "(Catena-X composition.compositionOfBattery); `compositionOfBattery` is the "
                "document.",
            ),
        },
        "Composition Properties",
    ),
    "BatteryCycleLifeProperties": _object(
        {
            "expectedLifetime": _amount(
                "Expected battery lifetime expressed in cycles, and reference test used"
            ),
            "cycleLifeTestCRate": _amount("C-rate of Relevant Cycle-life Test"),
            "cycleLifeTestDepthOfDischarge": _percent(
                "Depth of discharge in the cycle-life test (percent)"
            ),
            "chargeDischargeCycles": _amount("Number of (full) charging and discharging cycles."),
            "energyThroughput": _amount(
                "Overall sum of the energy throughput over the battery lifetime."
            ),
            "capacityThroughput": _amount(
                "Overall sum of the capacity throughput over the battery lifetime."
            ),
            "cycleLifeReferenceTest": _string("Specification of the applied cycle-life test."),
        },
        "Battery Cycle Life Properties",
    ),
    "BatteryEnergyProperties": _object(
        {
            "energyRoundtripEfficiency": _percent(),
            "energyRoundtripEfficiencyChange": _percent(),
            "maximumAllowedBatteryEnergy": _amount(),
            "initialSelfDischargingRate": _percent(),
            "currentSelfDischargingRate": _percent(),
            "evolutionSelfDischargingRate": _number(),
            "certifiedUsableBatteryEnergy": _amount(),
            "remainingUsableBatteryEnergy": _amount(),
            "stateOfCertifiedEnergy": _percent(),
            "roundTripEnergyEfficiencyAt50CycleLife": _percent(),
            "remainingRoundTripEnergyEfficiency": _percent(),
        },
        "Battery Energy Properties",
    ),
    "StateOfBatteryProperties": _object(
        {
            "statusBattery": _string(),
            "stateOfHealth": _percent("State of health in percent."),
            "stateOfCharge": _percent("State of charge in percent."),
        }
    ),
}

DEFINITIONS["BatteryPass"] = _object(
    {
        ID_FIELD: _string(
            "Battery IDDM Code: 1 to 128 characters of `A-Z a-z 0-9 . _ ~ : -`.",
            minLength=1,
            maxLength=ID_MAX_LENGTH,
            pattern=f"^{ID_REGEX}$",
        ),
        "dateOfManufacturing": _string(
            "Manufacturing date (month and year), suggested in form of manufacturing date codes."
        ),
        "dateOfService": _string("Date of putting the battery into service"),
        "placeOfManufacturing": _string(
            "Unambiguous identification of the manufacturing facility.",
            maxLength=PLACE_MAX_LENGTH,
        ),
        "cO2FootprintTotal": {**_amount("CO2 Footprint Total (kg CO2)"), "format": "double"},
        ELECTROCHEMICAL: _ref("ElectrochemicalProperties"),
        "hasPhysicalDimensionsProperties": _ref("PhysicalDimensionsProperties"),
        "hasCellChemistryProperties": _ref("CellChemistryProperties"),
        "hasBatteryEnergyProperties": _ref("BatteryEnergyProperties"),
        "safetyMeasures": _ref("Attachement"),
        "hasBatteryCycleLifeProperties": _ref("BatteryCycleLifeProperties"),
        "hasStateOfBatteryProperties": _ref("StateOfBatteryProperties"),
        "hasCompositionProperties": _ref("CompositionProperties"),
        "warrantyPeriod": _amount("Warranty period of the battery, in calendar years."),
        "meaningLabelsAndSymbols": _ref("Attachement"),
        "separateCollectionSymbol": _ref("Attachement"),
        "carbonFootprintPerformanceClass": _string("Carbon footprint performance class (A best)."),
        "carbonFootprintStudyLink": _string(
            "A web link to a public version of the study supporting the carbon footprint values"
        ),
        "manualDissasemblyAndDismantlingBatteryPack": _ref("Attachement"),
        "manualRemovalBatteryFromAppliance": _ref("Attachement"),
        "dueDiligenceReport": _ref("Attachement"),
        "extinguishingAgent": _string(
            "Usable extinguishing agent (classes of extinguishers A, B, C, D, K)."
        ),
        "remainingPowerCapability": _amount("Remaining power capability of the battery"),
        "hasRenewableContentShare": _array("RenewableContentShare"),
        "hasPreConsumerRecycledMaterialShare": _array("RenewableContentShare"),
        "hasPostConsumerRecycledMaterialShare": _array("RenewableContentShare"),
        "encounteredNegativeEvents": _amount(
            "The number of encountered negative events (such as accidents)"
        ),
        "batteryCategory": _string(
            "Free text. The categories of the regulation: LMT battery, electric vehicle battery, "
            "industrial battery, stationary battery energy storage system.",
            maxLength=CATEGORY_MAX_LENGTH,
        ),
        "declarationOfConformityID": _string(
            "Identification number of the EU declaration of conformity of the battery."
        ),
        "roleOfEndUsersInWastePrevention": _ref("Attachement"),
        "roleOfEndUsersInSeparateCollectionOfWasteBatteries": _ref("Attachement"),
        "informationOnSeparateCollectionTakeBackCollectionPointsPreparingForReusePreparingForRepurposingAndRecyclingOperations": _ref(  # noqa: E501
            "Attachement"
        ),
        "temperatureRangeIdleState": _ref("Interval"),
        "timeSpentInExtremeTemperatures": _ref("Interval"),
        "timeSpentChargingDuringExtremeTemperatures": _ref("Interval"),
        # Extension fields (see the module's docstring).
        "batteryModel": _string("Extension: the battery's model (Catena-X batteryModel)."),
        "batteryType": _string(
            "Extension: the battery's type, such as its chemistry (Catena-X batteryType)."
        ),
        "datePlacedOnMarket": _string(
            "Extension: the day the battery was placed on the market (YYYY-MM-DD).",
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            format="date",
        ),
        "placeOfManufacturingAddress": _ref(
            "PostalAddress",
            "Extension: the address of the manufacturing facility in parts (Catena-X "
            "manufacturing.address); `placeOfManufacturing` names it.",
        ),
    },
    "A digital battery passport.",
)

#: The extension fields, by the definition that holds them.
EXTENSION_FIELDS: dict[str, tuple[str, ...]] = {
    "BatteryPass": (
        "batteryModel",
        "batteryType",
        "datePlacedOnMarket",
        "placeOfManufacturingAddress",
    ),
    "CompositionProperties": ("compositionOfBatteryMaterials",),
    "SupplierInformation": ("postalAddress",),
}

#: The sub-resources: URL segment -> the key of the passport that holds the property object,
#: and the definition of that object.
SECTIONS: dict[str, tuple[str, str]] = {
    "electrochemicalProperties": (ELECTROCHEMICAL, "ElectrochemicalProperties"),
    "compositionProperties": ("hasCompositionProperties", "CompositionProperties"),
    "batteryCycleLifeProperties": ("hasBatteryCycleLifeProperties", "BatteryCycleLifeProperties"),
    "cellChemistryProperties": ("hasCellChemistryProperties", "CellChemistryProperties"),
    "physicalDimensionsProperties": (
        "hasPhysicalDimensionsProperties",
        "PhysicalDimensionsProperties",
    ),
    "batteryEnergyProperties": ("hasBatteryEnergyProperties", "BatteryEnergyProperties"),
    "stateOfBatteryProperties": ("hasStateOfBatteryProperties", "StateOfBatteryProperties"),
}

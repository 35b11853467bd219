"""The mapping of the documented passport onto the Catena-X battery pass 3.0.1, field by
field (``contracts.md`` 1.4): each Catena-X target, the passport path it is read from and the
conversion."""

from __future__ import annotations

from passport.catenax.conversions import (
    Convert,
    attachments,
    day,
    materials,
    number,
    part_numbers,
    postal_address,
    suppliers,
    text,
    volts,
)
from passport.classes import (
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
)
from passport.definitions import ID_FIELD

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

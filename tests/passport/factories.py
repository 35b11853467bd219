"""Passports for the tests: the documented request sample with every field filled in, and
factories that create passports through the service (so that they have a version 1)."""

from __future__ import annotations

import copy

import factory

from passport import services
from passport.models import Passport, PassportGrant
from tests.factories import OrganizationFactory, UserFactory


def material(name: str, fraction: float, weight: float, hazard: str = "none") -> dict:
    return {
        "materialPercentageMassFraction": fraction,
        "materialName": name,
        "materialWeight": weight,
        "hazardousProperties": {
            "hazardCategory": hazard,
            "hazardClass": "2",
            "hazardStatement": "H317",
        },
    }


def attachment(name: str) -> dict:
    return {
        "attachmentName": name,
        "attachmentType": "application/pdf",
        "attachmentURL": f"https://example.org/docs/{name.replace(' ', '-').lower()}.pdf",
    }


#: The documented request sample of POST /batteryPass with every field filled in: an
#: electric vehicle battery, complete for Annex XIII.
FULL_PASSPORT: dict = {
    "batteryIDDMCCode": "NMC-2024.07:A~001_x",
    "dateOfManufacturing": "2024-07",
    "dateOfService": "2024-09-01",
    "placeOfManufacturing": "Gigafactory 3, Hauptstrasse 1, 01234 Musterstadt, DE",
    "cO2FootprintTotal": 72.5,
    "hasEelectrochemicalProperties": {
        "ratedCapacity": 150,
        "capacityFade": 2.5,
        "capacityThresholdExhaustion": 70,
        "ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy": 2.1,
        "remainingCapacity": 146.2,
        "internalResistanceProperties": {
            "cellInternalResistance": 0.8,
            "cellInternalResistanceCurrent": 0.9,
            "cellInternalResistanceIncrease": 12.5,
            "packInternalResistance": 95,
            "packInternalResistanceIncrease": 10,
            "packInternalResistanceCurrent": 104.5,
            "deepDischargeEvents": 1,
            "overchargeEvents": 0,
            "moduleInternalResistanceInitial": 12,
            "moduleInternalResistanceIncrease": 8,
            "moduleInternalResistanceCurrent": 13,
        },
        "voltageProperties": {
            "minVoltage": "280",
            "nomimalVoltage": "355",
            "maxVoltage": "403",
            "minimalOperatinCurrent": -350,
            "maximumOperatingCurrent": 450,
        },
        "batteryPowerProperties": {
            "powerFade": 3.1,
            "maximumAllowedBatteryPower": 150000,
            "powerCapabilityAt20Charge": 95000,
            "powerCapabilityAt80Charge": 148000,
            "originalPowerCapability": 152000,
            "originalPowerCapabilityLimits": 160000,
        },
        "temperatureProperties": {
            "environmentalOperatingTemperature": 25,
            "averageTemperatureUsage": 21.5,
            "minimalTemperatureUsage": -18,
            "maximumTemperatureUsage": 44,
            "averageTemperatureCharging": 28,
            "minimalTemperatureCharging": 2,
            "maximumTemperatureCharging": 41,
        },
        "SOCEThresholdForExhaustion": 65,
    },
    "hasPhysicalDimensionsProperties": {
        "length": 2100,
        "width": 1450,
        "height": 150,
        "diameter": 0,
        "weight": 510.5,
    },
    "hasCellChemistryProperties": {
        "cathodeActiveMaterials": [
            material("Nickel", 48.5, 41200, "skin sensitisation"),
            material("Cobalt", 6.1, 5200, "carcinogenic"),
            material("Lithium", 7.2, 6100),
        ],
        "recyclateContentActiveMaterials": [
            material("Cobalt", 16, 830),
            material("Lithium", 6, 366),
            material("Nickel", 6, 2472),
            material("Lead", 0, 0),
        ],
        "anodeActiveMaterials": [material("Graphite", 95, 61000)],
        "cathodeCompositionOther": [material("PVDF binder", 2, 1700)],
        "anodeCompositionOther": [material("Copper foil", 30, 19000)],
        "electrolyteComposition": [
            material("LiPF6", 12, 2100, "acute toxicity"),
            material("Ethylene carbonate", 35, 6200),
        ],
        "declarationOfConformity": attachment("EU declaration of conformity"),
        "testReportsResults": attachment("UN 38.3 test report"),
    },
    "hasBatteryEnergyProperties": {
        "energyRoundtripEfficiency": 95.5,
        "energyRoundtripEfficiencyChange": 1.5,
        "maximumAllowedBatteryEnergy": 75000,
        "initialSelfDischargingRate": 2,
        "currentSelfDischargingRate": 2.4,
        "evolutionSelfDischargingRate": 0.4,
        "certifiedUsableBatteryEnergy": 72000,
        "remainingUsableBatteryEnergy": 70100,
        "stateOfCertifiedEnergy": 97.4,
        "roundTripEnergyEfficiencyAt50CycleLife": 93,
        "remainingRoundTripEnergyEfficiency": 94.1,
    },
    "safetyMeasures": attachment("Safety measures"),
    "hasBatteryCycleLifeProperties": {
        "expectedLifetime": 3000,
        "cycleLifeTestCRate": 0.5,
        "cycleLifeTestDepthOfDischarge": 80,
        "chargeDischargeCycles": 412,
        "energyThroughput": 29500000,
        "capacityThroughput": 61800,
        "cycleLifeReferenceTest": "IEC 62660-1",
    },
    "hasStateOfBatteryProperties": {
        "statusBattery": "original",
        "stateOfHealth": 97.5,
        "stateOfCharge": 64,
    },
    "hasCompositionProperties": {
        "componentsProperties": [
            {
                "componentName": "Battery management system",
                "componentPartNumber": "BMS-778-01",
                "involvedSupplierComponents": [
                    {
                        "manufacturerName": "Example Electronics GmbH",
                        "manufacturerAddress": "Industriestrasse 5, 12345 Beispielstadt, DE",
                        "manufacturerEmail": "spares@example-electronics.test",
                        "manufacturerWebsite": "https://example-electronics.test",
                        "manufacturerPhoneNumber": "+49 30 1234567",
                        "manufacturerTradeDetails": "HRB 12345",
                    }
                ],
            }
        ],
        "leadSymbol": False,
        "cadmiumSymbol": False,
        "criticalRawMaterials": "Cobalt, Lithium, Natural graphite, Nickel",
        "compositionOfBattery": attachment("Composition"),
    },
    "warrantyPeriod": 8,
    "meaningLabelsAndSymbols": attachment("Labels and symbols"),
    "separateCollectionSymbol": attachment("Separate collection symbol"),
    "carbonFootprintPerformanceClass": "B",
    "carbonFootprintStudyLink": "https://example.org/carbon-footprint-study",
    "manualDissasemblyAndDismantlingBatteryPack": attachment("Dismantling manual"),
    "manualRemovalBatteryFromAppliance": attachment("Removal manual"),
    "dueDiligenceReport": attachment("Due diligence report"),
    "extinguishingAgent": "D",
    "remainingPowerCapability": 147000,
    "hasRenewableContentShare": [
        {"materialName": "Aluminium", "materialPercentageMassFraction": 20}
    ],
    "hasPreConsumerRecycledMaterialShare": [
        {"materialName": "Cobalt", "materialPercentageMassFraction": 9}
    ],
    "hasPostConsumerRecycledMaterialShare": [
        {"materialName": "Cobalt", "materialPercentageMassFraction": 7}
    ],
    "encounteredNegativeEvents": 0,
    "batteryCategory": "electric vehicle battery",
    "declarationOfConformityID": "EU-DoC-2024-0042",
    "roleOfEndUsersInWastePrevention": attachment("Waste prevention"),
    "roleOfEndUsersInSeparateCollectionOfWasteBatteries": attachment("Separate collection"),
    "informationOnSeparateCollectionTakeBackCollectionPointsPreparingForReusePreparingForRepurposingAndRecyclingOperations": attachment(  # noqa: E501
        "Collection points"
    ),
    "temperatureRangeIdleState": {"lowerBound": -30, "upperBound": 55},
    "timeSpentInExtremeTemperatures": {"lowerBound": 0, "upperBound": 12},
    "timeSpentChargingDuringExtremeTemperatures": {"lowerBound": 0, "upperBound": 3},
}


def full_passport(battery_id: str | None = None, **changes) -> dict:
    """A deep copy of :data:`FULL_PASSPORT`, with another id and top-level keys if asked."""
    document = copy.deepcopy(FULL_PASSPORT)
    if battery_id is not None:
        document["batteryIDDMCCode"] = battery_id
    document.update(changes)
    return document


#: The values of an organization's profile that the Catena-X export takes as the manufacturer.
MANUFACTURER_PROFILE = {
    "street": "Hauptstrasse",
    "house_number": "1",
    "postal_code": "01234",
    "city": "Musterstadt",
    "country": "DE",
    "contact_email": "batteries@example.org",
    "contact_phone": "+49 30 1234567",
    "website": "https://example.org",
}


def catenax_passport(battery_id: str | None = None, **changes) -> dict:
    """:func:`full_passport` with what the Catena-X battery pass needs beyond the documented
    fields: the extension fields filled in and the date of manufacture to the day."""
    document = full_passport(battery_id)
    document.update(
        {
            "dateOfManufacturing": "2024-07-15",
            "batteryModel": "EV-Pack 75",
            "batteryType": "Lithium-ion NMC 811",
            "datePlacedOnMarket": "2024-08-01",
            "placeOfManufacturingAddress": {
                "street": "Hauptstrasse",
                "houseNumber": "1",
                "postalCode": "01234",
                "city": "Musterstadt",
                "country": "DE",
            },
        }
    )
    composition = document["hasCompositionProperties"]
    composition["compositionOfBatteryMaterials"] = [
        material("Cathode active material NMC 811", 31, 158000),
        material("Graphite", 20, 102000),
        material("Aluminium", 15, 76500),
    ]
    composition["componentsProperties"][0]["involvedSupplierComponents"][0]["postalAddress"] = {
        "street": "Industriestrasse",
        "houseNumber": "5",
        "postalCode": "12345",
        "city": "Beispielstadt",
        "country": "DE-BE",
    }
    document.update(changes)
    return document


class PassportFactory(factory.django.DjangoModelFactory):
    """A passport created through ``passport.services`` (with its version 1). ``document``
    is the whole BatteryPass without its id (the full sample by default)."""

    class Meta:
        model = Passport

    organization = factory.SubFactory(OrganizationFactory)
    battery_id = factory.Sequence(lambda n: f"BAT-{n:05d}")
    document = factory.LazyFunction(
        lambda: {k: v for k, v in full_passport().items() if k != "batteryIDDMCCode"}
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.passport_create(
            organization_id=kwargs["organization"].pk,
            battery_id=kwargs["battery_id"],
            document=kwargs["document"],
            user=kwargs.get("created_by"),
        )


class PassportGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PassportGrant

    passport = factory.SubFactory(PassportFactory)
    user = factory.SubFactory(UserFactory)
    access = "legitimate_interest"
    valid_until = None

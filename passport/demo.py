"""Sample battery passports for the demo organization.

``manage.py setupdemo`` (which ``scripts/run`` runs every time) calls :func:`create_demo_data`
on every run; it fills the organization only when it holds no passport, so that the passport
app added to an installation whose demo organization already exists gets its sample data, and
a second run creates nothing twice.

Three passports, created through ``passport.services`` (each with its version 1):

* ``DEMO-EV-0001``, **the public example**: an electric vehicle battery with every field of
  Annex XIII filled in and the extension fields the Catena-X export needs, so that its public
  page (``/passport/p/DEMO-EV-0001/``, also what its QR code encodes) shows every public
  section, its completeness is 100 % and ``?format=catenax`` answers a complete battery pass;
* ``DEMO-LMT-0001``: an e-bike battery (LMT) with its public part filled in;
* ``DEMO-SBESS-0001``: a home storage system, just registered (incomplete).

The organization's profile (the manufacturer's address and contact) is filled in where it is
empty, since the public page and the export take the manufacturer from it. Ids are unique
across the platform: if another organization holds one of these, this organization's get its
id as a suffix.
"""

from __future__ import annotations

import copy

from django.contrib.auth import get_user_model
from django.db import transaction

from core.models import Membership, Organization
from passport import services
from passport.models import Passport

PROFILE = {
    "street": "Batteriestrasse",
    "house_number": "12",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "contact_email": "passports@demo-lab.example",
    "contact_phone": "+49 30 5550100",
    "website": "https://demo-lab.example",
}


def _material(name: str, fraction: float, weight: float, hazard: str = "none") -> dict:
    return {
        "materialName": name,
        "materialPercentageMassFraction": fraction,
        "materialWeight": weight,
        "hazardousProperties": {"hazardCategory": hazard},
    }


def _document(name: str, slug: str) -> dict:
    return {
        "attachmentName": name,
        "attachmentType": "application/pdf",
        "attachmentURL": f"https://demo-lab.example/passports/{slug}.pdf",
    }


ADDRESS = {
    "street": "Batteriestrasse",
    "houseNumber": "12",
    "postalCode": "10115",
    "city": "Berlin",
    "country": "DE",
}

#: The public example: complete for Annex XIII and for the Catena-X export.
EV = {
    "batteryCategory": "electric vehicle battery",
    "batteryModel": "DL-75 NMC",
    "batteryType": "Lithium-ion NMC 811",
    "dateOfManufacturing": "2024-05-06",
    "datePlacedOnMarket": "2024-06-03",
    "dateOfService": "2024-07-19",
    "placeOfManufacturing": "Demo Lab cell-to-pack line 2, Berlin, DE",
    "placeOfManufacturingAddress": ADDRESS,
    "cO2FootprintTotal": 5625,
    "carbonFootprintPerformanceClass": "B",
    "carbonFootprintStudyLink": "https://demo-lab.example/passports/carbon-footprint-study",
    "hasEelectrochemicalProperties": {
        "ratedCapacity": 211,
        "capacityFade": 1.8,
        "capacityThresholdExhaustion": 70,
        "ratioMaximumAllowedBatteryPowerAndMaximumAllowedBatteryEnergy": 2,
        "remainingCapacity": 207.2,
        "internalResistanceProperties": {
            "cellInternalResistance": 0.6,
            "cellInternalResistanceCurrent": 0.64,
            "cellInternalResistanceIncrease": 6.7,
            "packInternalResistance": 0.096,
            "packInternalResistanceIncrease": 5.2,
            "packInternalResistanceCurrent": 0.101,
            "deepDischargeEvents": 0,
            "overchargeEvents": 0,
            "moduleInternalResistanceInitial": 7.8,
            "moduleInternalResistanceIncrease": 5.5,
            "moduleInternalResistanceCurrent": 8.2,
        },
        "voltageProperties": {
            "minVoltage": "300",
            "nomimalVoltage": "355",
            "maxVoltage": "403",
            "minimalOperatinCurrent": -400,
            "maximumOperatingCurrent": 500,
        },
        "batteryPowerProperties": {
            "powerFade": 2.1,
            "maximumAllowedBatteryPower": 150,
            "powerCapabilityAt20Charge": 95,
            "powerCapabilityAt80Charge": 148,
            "originalPowerCapability": 152,
            "originalPowerCapabilityLimits": 160,
        },
        "temperatureProperties": {
            "environmentalOperatingTemperature": 25,
            "averageTemperatureUsage": 19.5,
            "minimalTemperatureUsage": -14,
            "maximumTemperatureUsage": 41,
            "averageTemperatureCharging": 27,
            "minimalTemperatureCharging": 3,
            "maximumTemperatureCharging": 39,
        },
        "SOCEThresholdForExhaustion": 65,
    },
    "hasPhysicalDimensionsProperties": {
        "length": 2080,
        "width": 1420,
        "height": 145,
        "diameter": 0,
        "weight": 468,
    },
    "hasCellChemistryProperties": {
        "cathodeActiveMaterials": [
            _material("Nickel", 48.2, 52600, "skin sensitisation"),
            _material("Cobalt", 6, 6550, "carcinogenic"),
            _material("Manganese", 5.6, 6100),
            _material("Lithium", 7.1, 7750),
        ],
        "recyclateContentActiveMaterials": [
            _material("Cobalt", 16, 1050),
            _material("Lithium", 6, 465),
            _material("Nickel", 6, 3160),
            _material("Lead", 0, 0),
        ],
        "anodeActiveMaterials": [_material("Graphite", 94, 71400)],
        "cathodeCompositionOther": [_material("PVDF binder", 2, 2200)],
        "anodeCompositionOther": [_material("Copper foil", 28, 21300)],
        "electrolyteComposition": [
            _material("LiPF6", 12, 2600, "acute toxicity"),
            _material("Ethylene carbonate", 34, 7400),
            _material("Dimethyl carbonate", 40, 8700, "flammable liquid"),
        ],
        "declarationOfConformity": _document("EU declaration of conformity", "doc"),
        "testReportsResults": _document("UN 38.3 and IEC 62660-2 test reports", "tests"),
    },
    "hasBatteryEnergyProperties": {
        "energyRoundtripEfficiency": 95,
        "energyRoundtripEfficiencyChange": 0.9,
        "maximumAllowedBatteryEnergy": 75000,
        "initialSelfDischargingRate": 2,
        "currentSelfDischargingRate": 2.2,
        "evolutionSelfDischargingRate": 0.2,
        "certifiedUsableBatteryEnergy": 72000,
        "remainingUsableBatteryEnergy": 70900,
        "stateOfCertifiedEnergy": 98.5,
        "roundTripEnergyEfficiencyAt50CycleLife": 93,
        "remainingRoundTripEnergyEfficiency": 94.1,
    },
    "safetyMeasures": _document("Safety measures", "safety"),
    "hasBatteryCycleLifeProperties": {
        "expectedLifetime": 3000,
        "cycleLifeTestCRate": 0.33,
        "cycleLifeTestDepthOfDischarge": 80,
        "chargeDischargeCycles": 214,
        "energyThroughput": 15300000,
        "capacityThroughput": 43100,
        "cycleLifeReferenceTest": "IEC 62660-1",
    },
    "hasStateOfBatteryProperties": {
        "statusBattery": "original",
        "stateOfHealth": 98.2,
        "stateOfCharge": 71,
    },
    "hasCompositionProperties": {
        "componentsProperties": [
            {
                "componentName": "Battery management system",
                "componentPartNumber": "DL-BMS-2-07",
                "involvedSupplierComponents": [
                    {
                        "manufacturerName": "Demo Electronics GmbH",
                        "manufacturerAddress": "Platinenweg 3, 01067 Dresden, DE",
                        "manufacturerEmail": "spares@demo-electronics.example",
                        "manufacturerWebsite": "https://demo-electronics.example",
                        "manufacturerPhoneNumber": "+49 351 5550199",
                        "postalAddress": {
                            "street": "Platinenweg",
                            "houseNumber": "3",
                            "postalCode": "01067",
                            "city": "Dresden",
                            "country": "DE",
                        },
                    }
                ],
            },
            {
                "componentName": "Cell module (12 cells)",
                "componentPartNumber": "DL-MOD-12S-03",
                "involvedSupplierComponents": [
                    {
                        "manufacturerName": "Demo Lab",
                        "manufacturerEmail": "passports@demo-lab.example",
                        "postalAddress": ADDRESS,
                    }
                ],
            },
        ],
        "leadSymbol": False,
        "cadmiumSymbol": False,
        "criticalRawMaterials": "Cobalt, Lithium, Natural graphite, Nickel, Manganese",
        "compositionOfBattery": _document("Composition of the battery", "composition"),
        "compositionOfBatteryMaterials": [
            _material("Cells", 71, 332300),
            _material("Aluminium housing and cooling plate", 17, 79600),
            _material("Busbars and wiring (copper)", 6, 28100),
            _material("Electronics", 2, 9400),
            _material("Other (seals, insulation, fasteners)", 4, 18600),
        ],
    },
    "warrantyPeriod": 8,
    "meaningLabelsAndSymbols": _document("Labels and symbols", "labels"),
    "separateCollectionSymbol": _document("Separate collection symbol", "collection-symbol"),
    "manualDissasemblyAndDismantlingBatteryPack": _document("Dismantling manual", "dismantling"),
    "manualRemovalBatteryFromAppliance": _document("Removal from the vehicle", "removal"),
    "dueDiligenceReport": _document("Due diligence report 2024", "due-diligence"),
    "extinguishingAgent": "Water (class A); the pack must be cooled for a long time",
    "remainingPowerCapability": 149,
    "hasRenewableContentShare": [
        {"materialName": "Aluminium (hydro power)", "materialPercentageMassFraction": 30}
    ],
    "hasPreConsumerRecycledMaterialShare": [
        {"materialName": "Cobalt", "materialPercentageMassFraction": 9}
    ],
    "hasPostConsumerRecycledMaterialShare": [
        {"materialName": "Cobalt", "materialPercentageMassFraction": 7}
    ],
    "encounteredNegativeEvents": 0,
    "declarationOfConformityID": "DL-DoC-2024-0075",
    "roleOfEndUsersInWastePrevention": _document("What you can do: waste prevention", "prevention"),
    "roleOfEndUsersInSeparateCollectionOfWasteBatteries": _document(
        "What you can do: separate collection", "separate-collection"
    ),
    "informationOnSeparateCollectionTakeBackCollectionPointsPreparingForReusePreparingForRepurposingAndRecyclingOperations": _document(  # noqa: E501
        "Take-back and collection points", "take-back"
    ),
    "temperatureRangeIdleState": {"lowerBound": -30, "upperBound": 50},
    "timeSpentInExtremeTemperatures": {"lowerBound": 0, "upperBound": 6},
    "timeSpentChargingDuringExtremeTemperatures": {"lowerBound": 0, "upperBound": 1},
}

#: An e-bike battery with its public part.
LMT = {
    "batteryCategory": "LMT battery",
    "batteryModel": "DL-Bike 625",
    "batteryType": "Lithium-ion NMC 622",
    "dateOfManufacturing": "2024-09",
    "placeOfManufacturing": "Demo Lab pack assembly, Berlin, DE",
    "cO2FootprintTotal": 61,
    "carbonFootprintPerformanceClass": "C",
    "hasEelectrochemicalProperties": {
        "ratedCapacity": 17.4,
        "capacityThresholdExhaustion": 60,
        "voltageProperties": {"minVoltage": "28", "nomimalVoltage": "36", "maxVoltage": "42"},
        "internalResistanceProperties": {
            "cellInternalResistance": 18,
            "packInternalResistance": 0.16,
        },
        "batteryPowerProperties": {
            "originalPowerCapability": 0.9,
            "originalPowerCapabilityLimits": 1,
        },
    },
    "hasPhysicalDimensionsProperties": {"length": 355, "width": 82, "height": 75, "weight": 3.5},
    "hasBatteryCycleLifeProperties": {
        "expectedLifetime": 1000,
        "cycleLifeTestCRate": 0.5,
        "cycleLifeTestDepthOfDischarge": 100,
        "cycleLifeReferenceTest": "EN 50604-1",
    },
    "hasCompositionProperties": {
        "leadSymbol": False,
        "cadmiumSymbol": False,
        "criticalRawMaterials": "Cobalt, Lithium, Natural graphite, Nickel",
    },
    "warrantyPeriod": 2,
    "extinguishingAgent": "Water (class A)",
    "temperatureRangeIdleState": {"lowerBound": -10, "upperBound": 40},
}

#: A home storage system, just registered.
SBESS = {
    "batteryCategory": "stationary battery energy storage system",
    "batteryModel": "DL-Home 10",
    "batteryType": "Lithium iron phosphate (LFP)",
    "dateOfManufacturing": "2025-01",
    "placeOfManufacturing": "Demo Lab storage line, Berlin, DE",
    "hasEelectrochemicalProperties": {"ratedCapacity": 200},
    "hasPhysicalDimensionsProperties": {"weight": 96},
    "warrantyPeriod": 10,
}

#: The demo passports by id; the first is the public example.
PASSPORTS = {"DEMO-EV-0001": EV, "DEMO-LMT-0001": LMT, "DEMO-SBESS-0001": SBESS}
PUBLIC_EXAMPLE = "DEMO-EV-0001"


def _owner(organization: Organization):
    return (
        get_user_model()
        .objects.filter(
            memberships__organization=organization, memberships__role=Membership.Role.OWNER
        )
        .order_by("id")
        .first()
    )


def create_demo_data(*, organization: Organization) -> bool:
    """The three sample passports in ``organization`` (and its profile where it is empty),
    unless it already holds a passport (then nothing). Returns whether it created them."""
    if Passport.objects.filter(organization=organization).exists():
        return False
    with transaction.atomic():
        empty = {name: value for name, value in PROFILE.items() if not getattr(organization, name)}
        if empty:
            Organization.objects.filter(pk=organization.pk).update(**empty)
        owner = _owner(organization)
        taken = set(
            Passport.objects.filter(battery_id__in=PASSPORTS).values_list("battery_id", flat=True)
        )
        for battery_id, document in PASSPORTS.items():
            services.passport_create(
                organization_id=organization.pk,
                battery_id=f"{battery_id}-{organization.pk}" if battery_id in taken else battery_id,
                document=copy.deepcopy(document),
                user=owner,
            )
    return True

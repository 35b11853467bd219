"""The field catalogue: every data field a VoltStorage product reports, in one table.

Each field has its wire name (JSON bodies, the stream, ``latest-data``, ``fields=`` of the
export), its label (the header of the CSV export, as the original writes it), its unit and its
meaning, and how it is stored and rolled up. The order of the table is the order of the export's
columns.

Sign conventions, the original's (its documented CSV sample): grid power is positive when
importing from the grid and negative when exporting; the storage's powers (``inverterPower``,
``powerElectronicsPower``, ``storagePower``) are positive while the storage discharges
(delivers power to the house) and negative while it charges; PV and household powers are never
negative. In the sample, ``inverterPower`` is +433 W while the state of charge falls from
0.611868 to 0.611472, and household (815.7 W) = PV (432.4) + inverter (433.1) + grid (-49.9).

Storage (``voltstorage.models.Sample``): one column per field, ``status`` a 32-bit integer (a
state code), every other field a 64-bit float. Rollups (``voltstorage.rollups``) keep, per
field and period, the count, sum, minimum and maximum of its samples; power fields also the
seconds their values held, the energy of their positive and of their negative part
(``energy_in``, ``energy_out``, watt-seconds: "in" is the field's positive direction, so for the
storage's powers ``energy_in`` is the energy released and ``energy_out`` the energy stored) and
the seconds of positive power; the state of charge also its rises and falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    POWER = "power"  # watts; integrated over time into energy (watt-seconds)
    LEVEL = "level"  # a fill level; its rises and falls are summed
    MEASURE = "measure"  # anything else that is averaged (voltage, temperatures)
    STATE = "state"  # an integer code


BASE_AGGREGATES = ("count", "sum", "min", "max")
KIND_AGGREGATES = {
    Kind.POWER: ("seconds", "energy_in", "energy_out", "active_seconds"),
    Kind.LEVEL: ("rise", "fall"),
    Kind.MEASURE: (),
    Kind.STATE: (),
}


@dataclass(frozen=True)
class Field:
    """One data field. ``name`` is the wire name, ``column`` the storage column."""

    name: str
    column: str
    label: str
    unit: str
    meaning: str
    kind: Kind
    minimum: float | None = None
    maximum: float | None = None

    @property
    def integer(self) -> bool:
        return self.kind is Kind.STATE

    @property
    def aggregates(self) -> tuple[str, ...]:
        return BASE_AGGREGATES + KIND_AGGREGATES[self.kind]

    def rollup_column(self, aggregate: str) -> str:
        return f"{self.column}_{aggregate}"


# 2**31 - 1: the largest state code the integer column holds.
MAX_STATE_CODE = 2_147_483_647

FIELDS: tuple[Field, ...] = (
    Field(
        "gridPower",
        "grid_power",
        "Power_Grid",
        "W",
        "Power exchanged with the grid at the house's connection: import (drawn from the grid) "
        "positive, export (fed into the grid) negative.",
        Kind.POWER,
    ),
    Field(
        "householdPower",
        "household_power",
        "Power_Household",
        "W",
        "Power the household consumes (the storage's own consumption not included).",
        Kind.POWER,
    ),
    Field(
        "inverterPower",
        "inverter_power",
        "inverterPower",
        "W",
        "AC power of the storage's inverter: discharging (AC delivered to the house) positive, "
        "charging (AC drawn into the storage) negative.",
        Kind.POWER,
    ),
    Field(
        "pvPower",
        "pv_power",
        "Power_PV",
        "W",
        "Power the photovoltaic array produces.",
        Kind.POWER,
    ),
    Field(
        "powerElectronicsPower",
        "power_electronics_power",
        "Power_Power Electronics",
        "W",
        "Power the storage's power electronics (its DC/AC converter) pass on their DC side: "
        "discharging positive, charging negative.",
        Kind.POWER,
    ),
    Field(
        "stateOfCharge",
        "state_of_charge",
        "SOC_State of Charge",
        "1",
        "State of charge as a fraction: 0 empty, 1 full (0.611868 is 61.1868 %).",
        Kind.LEVEL,
        minimum=0,
        maximum=1,
    ),
    Field(
        "status",
        "status",
        "Status",
        "code",
        "The storage's operating state, a numeric code: 0 standby, 1 charging, 2 discharging, "
        "3 full, 4 empty, 5 maintenance, 9 fault; other codes are the device's own.",
        Kind.STATE,
        minimum=0,
        maximum=MAX_STATE_CODE,
    ),
    Field(
        "storagePower",
        "storage_power",
        "Power_Storage",
        "W",
        "DC power of the battery stack (the electrolyte), after the pumps and control "
        "electronics: discharging (out of the stack) positive, charging (into it) negative.",
        Kind.POWER,
    ),
    Field(
        "dcVoltage",
        "dc_voltage",
        "Voltage_DC",
        "V",
        "Voltage of the battery stack.",
        Kind.MEASURE,
    ),
    Field(
        "electrolyteTemperature",
        "electrolyte_temperature",
        "Temperature_Electrolyte",
        "°C",
        "Temperature of the electrolyte.",
        Kind.MEASURE,
    ),
    Field(
        "pumpTemperature",
        "pump_temperature",
        "Temperature_Pump",
        "°C",
        "Temperature of the electrolyte pumps.",
        Kind.MEASURE,
    ),
)

BY_NAME: dict[str, Field] = {field.name: field for field in FIELDS}
NAMES: tuple[str, ...] = tuple(field.name for field in FIELDS)
COLUMNS: tuple[str, ...] = tuple(field.column for field in FIELDS)
INDEX: dict[str, int] = {field.name: index for index, field in enumerate(FIELDS)}


def field(name: str) -> Field:
    return BY_NAME[name]


def markdown_table() -> str:
    """The catalogue as a Markdown table, for the API documentation."""
    lines = [
        "| field | CSV label | unit | meaning |",
        "|---|---|---|---|",
    ]
    for spec in FIELDS:
        lines.append(f"| `{spec.name}` | `{spec.label}` | {spec.unit} | {spec.meaning} |")
    return "\n".join(lines)

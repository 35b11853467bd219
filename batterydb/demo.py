"""Sample BatteryDB data for the demo organization.

``manage.py setupdemo`` (which ``scripts/run`` runs every time) calls :func:`create_demo_data`
on every run; it fills the organization only when it holds no BatteryDB data, so that BatteryDB
added to an installation whose demo organization already exists gets its sample data, and a
second run creates nothing twice.

Two cells of one type, each with an EIS test whose 42-point sweep (10 kHz down to 0.1 Hz) comes
from an equivalent circuit of a lithium-ion cell, plus a BMS test with a few seconds of pack
readings and a model prediction.
"""

from __future__ import annotations

import cmath
import datetime as dt
import math

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from batterydb.models import (
    Battery,
    BatteryModel,
    BatteryType,
    BMSResult,
    BMSTest,
    EISData,
    EISDevice,
    EISTest,
    ModelPrediction,
    ModelVersion,
    Project,
)
from core.models import Organization, OrganizationOwnedModel

SWEEP_POINTS = 42
START_FREQUENCY = 10_000.0  # Hz
END_FREQUENCY = 0.1  # Hz


def sweep_frequencies(
    start: float = START_FREQUENCY, end: float = END_FREQUENCY, points: int = SWEEP_POINTS
) -> list[float]:
    """``points`` log-spaced frequencies from ``start`` down to ``end``, both included."""
    ratio = math.log10(end / start) / (points - 1)
    return [round(start * 10 ** (ratio * k), 6) for k in range(points)]


def cell_impedance(frequency: float, *, ageing: float = 1.0) -> complex:
    """Impedance (ohms) of a ~50 Ah cell: series inductance and resistance, an SEI arc, a
    charge-transfer arc with a Warburg tail. ``ageing`` scales the resistances."""
    omega = 2 * math.pi * frequency
    inductance, r_ohmic = 40e-9, 0.0012 * ageing
    r_sei, c_sei = 0.0004 * ageing, 0.05
    r_ct, c_dl = 0.0009 * ageing, 1.5
    warburg = 0.0006 * ageing * (1 - 1j) / math.sqrt(omega)
    faradaic = r_ct + warburg
    return (
        1j * omega * inductance
        + r_ohmic
        + r_sei / (1 + 1j * omega * r_sei * c_sei)
        + faradaic / (1 + 1j * omega * c_dl * faradaic)
    )


def eis_rows(test: EISTest, *, ageing: float, ocv: float) -> list[EISData]:
    """The sweep's ``z_real``, ``z_imag``, ``z_mod``, ``z_phase`` rows plus the OCV."""
    rows = []
    for frequency in sweep_frequencies():
        z = cell_impedance(frequency, ageing=ageing)
        values = {
            "z_real": z.real,
            "z_imag": z.imag,
            "z_mod": abs(z),
            "z_phase": math.degrees(cmath.phase(z)),
        }
        rows += [
            EISData(
                organization_id=test.organization_id,
                test=test,
                frequency=frequency,
                parameter=parameter,
                value=value,
            )
            for parameter, value in values.items()
        ]
    rows.append(
        EISData(
            organization_id=test.organization_id,
            test=test,
            frequency=None,
            parameter="ocv",
            value=ocv,
        )
    )
    return rows


def has_batterydb_data(organization: Organization) -> bool:
    """Whether any BatteryDB object belongs to ``organization``.

    One indexed lookup per resource model; measurement rows are not looked at (their
    organization is not indexed), since they belong to a test of the same organization."""
    return any(
        model._base_manager.filter(organization=organization).exists()
        for model in apps.get_app_config("batterydb").get_models()
        if issubclass(model, OrganizationOwnedModel)
    )


@transaction.atomic
def create_demo_data(*, organization: Organization) -> bool:
    """A project, a battery type, two batteries, an EIS device with two full EIS tests, a BMS
    test with results, and a model with a prediction, all in ``organization``, unless it
    already holds BatteryDB data (then nothing). Returns whether it created the data."""
    if has_batterydb_data(organization):
        return False
    project = Project.objects.create(organization=organization, name="Second-life pilot")
    battery_type = BatteryType.objects.create(
        organization=organization,
        model="NMC-50Ah pouch",
        classification=BatteryType.Classification.CELL,
        chemistry="NMC811",
        default_vehicle_make="Demo Motors",
        default_vehicle_model="City EV",
        default_vehicle_year=2019,
        vehicle_charging_protocol="CCS",
        nominal_voltage=3.65,
        maximum_voltage=4.2,
        minimum_voltage=2.8,
        nominal_capacity=50.0,
        nominal_energy=182.5,
    )
    battery_type.projects.add(project)
    batteries = [
        Battery.objects.create(
            organization=organization, battery_id=battery_id, battery_type=battery_type
        )
        for battery_id in ("DEMO-CELL-0001", "DEMO-CELL-0002")
    ]
    device = EISDevice.objects.create(
        organization=organization,
        device_id="1020304",
        software_version="2.4.1",
        build_date=dt.date(2023, 3, 14),
        status="active",
    )
    device.projects.add(project)

    now = timezone.now().replace(microsecond=0)
    tests = []
    for index, (battery, ageing, ocv) in enumerate(
        zip(batteries, (1.0, 1.35), (3.652, 3.618), strict=True)
    ):
        battery.projects.add(project)
        test = EISTest.objects.create(
            organization=organization,
            battery=battery,
            device=device,
            status="completed",
            start_frequency=START_FREQUENCY,
            end_frequency=END_FREQUENCY,
            target_periods=3,
            ocv_duration=10.0,
            device_software_version=device.software_version,
            completed_at=now - dt.timedelta(days=1 - index),
            notes="Demo sweep from an equivalent-circuit model.",
        )
        test.projects.add(project)
        EISData.objects.bulk_create(eis_rows(test, ageing=ageing, ocv=ocv))
        tests.append(test)

    bms_test = BMSTest.objects.create(
        organization=organization,
        battery=batteries[0],
        device=device,
        linked_eis_test=tests[0],
        status="completed",
    )
    bms_test.projects.add(project)
    readings = {"pack_voltage": 3.652, "pack_current": -12.5, "max_cell_temp": 24.8}
    BMSResult.objects.bulk_create(
        BMSResult(
            organization_id=organization.pk,
            bms_test=bms_test,
            timestamp=now - dt.timedelta(seconds=10 - second),
            parameter=parameter,
            value=round(value - 0.001 * second if parameter == "pack_voltage" else value, 4),
        )
        for second in range(5)
        for parameter, value in readings.items()
    )

    battery_model = BatteryModel.objects.create(organization=organization, name="SoH estimator")
    battery_model.battery_type.add(battery_type)
    version = ModelVersion.objects.create(
        organization=organization,
        battery_model=battery_model,
        version="1.0",
        output_indices={"soh": 0, "capacity": 1},
    )
    for test, soh in zip(tests, (0.97, 0.86), strict=True):
        ModelPrediction.objects.create(
            organization=organization,
            battery_model_version=version,
            test=test,
            soh_prediction=soh,
            capacity_prediction=round(50.0 * soh, 2),
            grading_prediction="A" if soh > 0.9 else "B",
            confidence_score=0.9,
        )
    return True

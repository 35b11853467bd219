"""Synthetic EIS sweeps from a known circuit, for the analysis tests and the benchmark."""

from __future__ import annotations

import warnings

import factory
import numpy as np
from impedance.models.circuits import CustomCircuit

from batterydb.analysis import DEFAULT_CIRCUIT
from batterydb.models import EISAnalysis, EISData
from tests.batterydb.factories import EISTestFactory

FREQUENCIES = np.logspace(4, -1, 42)  # 10 kHz .. 0.1 Hz, 42 points
R0, R1, ALPHA, SIGMA = 0.020, 0.015, 0.85, 0.004
TAU_CT = 1 / (2 * np.pi * 50)  # the charge-transfer arc's apex at 50 Hz
Q = TAU_CT**ALPHA / R1
TRUE_PARAMETERS = {"R0": R0, "R1": R1, "CPE1_0": Q, "CPE1_1": ALPHA, "W1": SIGMA}
NOISE = 0.002  # relative to |Z|


def synthetic_sweep(*, seed: int = 7, noise: float = NOISE, scale: float = 1.0) -> np.ndarray:
    """The default circuit's impedance at :data:`FREQUENCIES` with Gaussian noise."""
    parameters = [R0 * scale, R1 * scale, Q / scale, ALPHA, SIGMA * scale]
    with warnings.catch_warnings():  # "simulating circuit based on initial parameters"
        warnings.simplefilter("ignore")
        z = CustomCircuit(DEFAULT_CIRCUIT, initial_guess=parameters).predict(FREQUENCIES)
    rng = np.random.default_rng(seed)
    return z + np.abs(z) * noise * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))


def drifted(z: np.ndarray, drift: float = 0.10) -> np.ndarray:
    """The sweep of a battery whose impedance grew by ``drift`` while it was measured (from
    the first frequency to the last): not Kramers-Kronig consistent."""
    return z * (1 + np.linspace(0, drift, z.size))


def sweep_rows(test_id: int, z: np.ndarray, frequencies=FREQUENCIES) -> list[dict]:
    """The sweep as the API's rows, with an OCV point."""
    rows = [
        {"test": test_id, "frequency": float(f), "parameter": p, "value": float(v)}
        for f, value in zip(frequencies, z, strict=True)
        for p, v in (("z_real", value.real), ("z_imag", value.imag))
    ]
    return [*rows, {"test": test_id, "frequency": None, "parameter": "ocv", "value": 3.65}]


def store_sweep(test, z: np.ndarray, frequencies=FREQUENCIES) -> None:
    """The sweep straight in the database."""
    EISData.objects.bulk_create(
        EISData(
            organization_id=test.organization_id,
            test=test,
            frequency=row["frequency"],
            parameter=row["parameter"],
            value=row["value"],
        )
        for row in sweep_rows(test.pk, z, frequencies)
    )


class EISAnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EISAnalysis

    test = factory.SubFactory(EISTestFactory)
    organization = factory.LazyAttribute(lambda o: o.test.organization)

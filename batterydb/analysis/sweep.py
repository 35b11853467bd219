"""One sweep's whole analysis: the KK test, the circuit fit and the DRT."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from batterydb.analysis.circuits import CircuitError, circuit_fit
from batterydb.analysis.drt import drt_compute
from batterydb.analysis.kk import kk_test

MIN_FREQUENCIES = 8
#: Bounds of what is analysed, so that an analysis' work and memory stay bounded whatever was
#: stored: the DRT's grid grows with the decades spanned, its matrices with the points.
MAX_FREQUENCIES = 2000
FREQUENCY_RANGE_HZ = (1e-6, 1e10)


class AnalysisError(ValueError):
    """A sweep that cannot be analysed (too few points, bad values); the message says why."""


def sweep_arrays(rows: Iterable[tuple[float | None, str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (descending) and complex impedances from long-format rows
    ``(frequency, parameter, value)``; frequencies lacking ``z_real`` or ``z_imag`` are
    left out. Raises :class:`AnalysisError` for fewer than :data:`MIN_FREQUENCIES` points."""
    real: dict[float, float] = {}
    imag: dict[float, float] = {}
    for frequency, parameter, value in rows:
        if frequency is None:
            continue
        if parameter == "z_real":
            real[frequency] = value
        elif parameter == "z_imag":
            imag[frequency] = value
    points = sorted(
        (f for f in real.keys() & imag.keys() if f > 0 and np.isfinite(f)), reverse=True
    )
    if len(points) < MIN_FREQUENCIES:
        raise AnalysisError(
            f"The test has {len(points)} frequencies with both z_real and z_imag; "
            f"at least {MIN_FREQUENCIES} are needed."
        )
    if len(points) > MAX_FREQUENCIES:
        raise AnalysisError(
            f"The test has {len(points)} frequencies with both z_real and z_imag; "
            f"at most {MAX_FREQUENCIES} are analysed."
        )
    low, high = FREQUENCY_RANGE_HZ
    if points[-1] < low or points[0] > high:
        raise AnalysisError(
            f"Frequencies from {low:g} to {high:g} Hz are analysed; the test's run from "
            f"{points[-1]:g} to {points[0]:g} Hz."
        )
    f = np.array(points, dtype=float)
    z = np.array([complex(real[p], imag[p]) for p in points])
    if not np.all(np.isfinite(z)) or np.any(np.abs(z) == 0):
        raise AnalysisError("The test's impedances must be finite and not zero.")
    return f, z


def analyse_sweep(
    frequencies: np.ndarray,
    impedance: np.ndarray,
    *,
    circuit: str,
    kk_threshold: float,
    drt_lambda: float,
    progress=None,
) -> dict:
    """``{"kk", "fit", "drt"}`` of a sweep (frequencies descending). ``progress(fraction)``
    is called between the steps. A fit that does not converge answers ``fit`` with an
    ``error`` and null values rather than failing the whole analysis."""
    kk = kk_test(frequencies, impedance, threshold=kk_threshold)
    if progress:
        progress(0.3)
    try:
        fit = circuit_fit(frequencies, impedance, circuit=circuit)
    except CircuitError:
        raise
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        fit = {
            "circuit": circuit,
            "parameters": {},
            "ohmic_resistance": None,
            "charge_transfer_resistance": None,
            "relative_rmse": None,
            "curve": None,
            "error": f"The fit did not converge: {exc}",
        }
    if progress:
        progress(0.8)
    drt = drt_compute(frequencies, impedance, regularisation=drt_lambda)
    return {"kk": kk, "fit": fit, "drt": drt}

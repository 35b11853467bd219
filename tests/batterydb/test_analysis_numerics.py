"""The analysis numerics on sweeps of a known circuit: the fit finds the circuit's
parameters back, KK passes on consistent data and fails on a drifting battery, the DRT peaks
at the charge-transfer time constant, and bad circuits are refused naming the problem."""

from __future__ import annotations

import re

import numpy as np
import pytest

from batterydb.analysis import (
    DEFAULT_CIRCUIT,
    DEFAULT_DRT_LAMBDA,
    DEFAULT_KK_THRESHOLD,
    AnalysisError,
    CircuitError,
    analyse_sweep,
    circuit_fit,
    circuit_parameter_names,
    circuit_validate,
    drt_compute,
    kk_test,
    sweep_arrays,
)
from tests.batterydb.analysis_support import (
    FREQUENCIES,
    TAU_CT,
    TRUE_PARAMETERS,
    drifted,
    synthetic_sweep,
)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_default_circuit_fit_finds_the_true_parameters(seed, scale):
    fit = circuit_fit(FREQUENCIES, synthetic_sweep(seed=seed, scale=scale), circuit=DEFAULT_CIRCUIT)
    values = {name: p["value"] for name, p in fit["parameters"].items()}
    assert values["R0"] == pytest.approx(TRUE_PARAMETERS["R0"] * scale, rel=0.02)
    assert values["R1"] == pytest.approx(TRUE_PARAMETERS["R1"] * scale, rel=0.03)
    assert values["CPE1_1"] == pytest.approx(TRUE_PARAMETERS["CPE1_1"], abs=0.02)
    assert values["W1"] == pytest.approx(TRUE_PARAMETERS["W1"] * scale, rel=0.05)
    assert fit["ohmic_resistance"] == values["R0"]
    assert fit["charge_transfer_resistance"] == values["R1"]
    for name, parameter in fit["parameters"].items():
        assert 0 < parameter["stderr"] < 0.1 * parameter["value"], name
    assert len(fit["curve"]["z_real"]) == len(FREQUENCIES)
    assert fit["relative_rmse"] < 0.01


def test_fitted_curve_follows_the_data():
    z = synthetic_sweep(noise=0)
    fit = circuit_fit(FREQUENCIES, z, circuit=DEFAULT_CIRCUIT)
    curve = np.array(fit["curve"]["z_real"]) + 1j * np.array(fit["curve"]["z_imag"])
    assert np.max(np.abs(curve - z) / np.abs(z)) < 1e-3


def test_a_user_circuit_is_fitted_and_names_its_parameters():
    fit = circuit_fit(FREQUENCIES, synthetic_sweep(), circuit="R0-p(R1,C1)")
    assert list(fit["parameters"]) == ["R0", "R1", "C1"]
    assert fit["ohmic_resistance"] == pytest.approx(TRUE_PARAMETERS["R0"], rel=0.2)


def test_resistances_are_null_when_the_circuit_does_not_name_r0_and_r1():
    fit = circuit_fit(FREQUENCIES, synthetic_sweep(), circuit="R5-p(R6,CPE1)-W1")
    assert fit["ohmic_resistance"] is None
    assert fit["charge_transfer_resistance"] is None
    assert fit["parameters"]["R5"]["value"] == pytest.approx(TRUE_PARAMETERS["R0"], rel=0.05)


def test_kk_passes_on_circuit_data():
    kk = kk_test(FREQUENCIES, synthetic_sweep(), threshold=DEFAULT_KK_THRESHOLD)
    assert kk["passed"] is True
    assert kk["max_residual"] < DEFAULT_KK_THRESHOLD
    assert len(kk["residuals"]["real"]) == len(kk["residuals"]["imag"]) == 42


def test_kk_fails_on_a_drifting_battery():
    kk = kk_test(FREQUENCIES, drifted(synthetic_sweep()), threshold=DEFAULT_KK_THRESHOLD)
    assert kk["passed"] is False
    assert kk["max_residual"] > DEFAULT_KK_THRESHOLD


def test_kk_fails_on_a_corrupted_point():
    z = synthetic_sweep()
    z[20] = z[20] * 1.2
    assert kk_test(FREQUENCIES, z, threshold=DEFAULT_KK_THRESHOLD)["passed"] is False


def test_kk_threshold_decides():
    z = synthetic_sweep(noise=0.004)
    kk = kk_test(FREQUENCIES, z, threshold=1.0)
    assert kk["passed"] is True
    assert kk_test(FREQUENCIES, z, threshold=kk["max_residual"] / 2)["passed"] is False


def test_drt_peaks_at_the_charge_transfer_time_constant():
    drt = drt_compute(FREQUENCIES, synthetic_sweep(), regularisation=DEFAULT_DRT_LAMBDA)
    tau, gamma = np.array(drt["tau"]), np.array(drt["gamma"])
    # The arc's peak, below the diffusion tail's time constants (the sweep ends at 0.1 Hz).
    arc = tau < 0.1
    peak = tau[arc][np.argmax(gamma[arc])]
    assert TAU_CT / 2 < peak < TAU_CT * 2
    assert drt["r_inf"] == pytest.approx(TRUE_PARAMETERS["R0"], rel=0.1)
    assert np.all(gamma >= 0)
    assert tau[0] < 1 / (2 * np.pi * FREQUENCIES[0]) < 1 / (2 * np.pi * FREQUENCIES[-1]) < tau[-1]


def test_drt_lambda_smooths():
    z = synthetic_sweep()
    sharp = np.array(drt_compute(FREQUENCIES, z, regularisation=1e-5)["gamma"])
    smooth = np.array(drt_compute(FREQUENCIES, z, regularisation=1.0)["gamma"])
    assert np.max(smooth) < np.max(sharp)


def test_analyse_sweep_runs_the_three_and_reports_progress():
    seen = []
    result = analyse_sweep(
        FREQUENCIES,
        synthetic_sweep(),
        circuit=DEFAULT_CIRCUIT,
        kk_threshold=DEFAULT_KK_THRESHOLD,
        drt_lambda=DEFAULT_DRT_LAMBDA,
        progress=seen.append,
    )
    assert set(result) == {"kk", "fit", "drt"}
    assert seen == sorted(seen) and seen[0] > 0 and seen[-1] < 1


def test_sweep_arrays_pairs_real_and_imaginary_parts_by_frequency():
    rows = [
        (1.0, "z_imag", -2.0),
        (10.0, "z_real", 3.0),
        (1.0, "z_real", 1.0),
        (10.0, "z_imag", -4.0),
        (None, "ocv", 3.7),
        (5.0, "z_real", 9.0),  # no imaginary part: left out
    ]
    with pytest.raises(AnalysisError, match="2 frequencies"):
        sweep_arrays(rows)
    rows = [(float(f), p, 1.0) for f in range(1, 9) for p in ("z_real", "z_imag")]
    f, z = sweep_arrays(rows)
    assert list(f) == sorted(f, reverse=True)
    assert z[0] == 1 + 1j


@pytest.mark.parametrize(
    "circuit, message",
    [
        ("", "empty"),
        ("R0-", "ends"),
        ("R0-p(R1)", "two branches"),
        ("R0-p(R1,C1", "not closed"),
        ("R0-X1", "Unknown element type 'X'"),
        ("R0-R0", "unique"),
        ("R0-__import__('os')", "Unexpected"),
        ("R0-p(R1,C1))", "Unexpected ')'"),
        ("R", "Unexpected 'R'"),
        ("-".join(f"T{i}" for i in range(6)), "at most 20"),
        ("R0-" * 100 + "R1", "more than 200"),
    ],
)
def test_bad_circuits_are_refused_naming_the_problem(circuit, message):
    with pytest.raises(CircuitError, match=re.escape(message)):
        circuit_validate(circuit)


def test_parameter_names_follow_impedance_py():
    assert circuit_parameter_names(DEFAULT_CIRCUIT) == ["R0", "R1", "CPE1_0", "CPE1_1", "W1"]
    assert circuit_parameter_names("R0-p(R1-Wo_1,CPE1)") == [
        "R0",
        "R1",
        "Wo_1_0",
        "Wo_1_1",
        "CPE1_0",
        "CPE1_1",
    ]

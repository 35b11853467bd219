"""The Lin-KK validity test (Schönleber et al. 2014) with impedance.py's fit.

A sweep is fitted with an ohmic resistance, a series inductance, a series capacitance (for
sweeps without a low-frequency intercept, such as a Warburg tail) and ``M`` RC elements whose
time constants span the measured range; ``M`` grows from 3 until the fit starts to over-fit
(the ``mu`` criterion, cutoff 0.85). The residuals are ``(Z - Z_fit) / |Z|``, real and
imaginary parts separately: a sweep that obeys Kramers-Kronig (linear, causal, stable,
time-invariant) leaves residuals at the noise level, one whose battery drifted during the
sweep does not.

impedance.py's ``fit_linKK`` and ``get_tc_distribution`` do the fit; the fitted curve is
evaluated here, because impedance.py's ``linKK``/``eval_linKK`` build Python source from
number reprs, which NumPy 2 writes as ``np.float64(...)`` (and ``linKK`` prints to stdout).
"""

from __future__ import annotations

import numpy as np

DEFAULT_KK_THRESHOLD = 0.01  # 1 % of |Z|
MIN_KK_THRESHOLD = 1e-6
MAX_KK_THRESHOLD = 1.0
MU_CUTOFF = 0.85
MIN_RC_ELEMENTS = 3
MAX_RC_ELEMENTS = 50


def _lin_kk_curve(elements: np.ndarray, taus: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The Lin-KK circuit's impedance: ``elements`` are ``[R0, R1..RM, 1/C, L]``."""
    omega = 2 * np.pi * f
    rc = elements[1 : len(taus) + 1]
    z = elements[0] + (rc / (1 + 1j * np.outer(omega, taus))).sum(axis=1)
    return z - 1j * elements[-2] / omega + 1j * omega * elements[-1]


def kk_test(frequencies: np.ndarray, impedance: np.ndarray, *, threshold: float) -> dict:
    """``{"passed", "threshold", "max_residual", "rc_elements", "mu", "residuals":
    {"frequency", "real", "imag"}}`` for a sweep; residuals are fractions of ``|Z|``."""
    # Imported here: impedance.py loads matplotlib and pandas (see circuits.circuit_elements).
    from impedance.validation import fit_linKK, get_tc_distribution

    max_m = int(min(MAX_RC_ELEMENTS, max(MIN_RC_ELEMENTS, len(frequencies) - 3)))
    m, mu = MIN_RC_ELEMENTS - 1, 1.0
    while mu > MU_CUTOFF and m < max_m:
        m += 1
        taus = get_tc_distribution(frequencies, m)
        elements, mu = fit_linKK(frequencies, taus, m, impedance, fit_type="complex", add_cap=True)
    error = (impedance - _lin_kk_curve(elements, taus, frequencies)) / np.abs(impedance)
    largest = float(np.max(np.abs(np.concatenate([error.real, error.imag]))))
    finite = bool(np.isfinite(largest))
    return {
        "passed": finite and largest <= threshold,
        "threshold": threshold,
        "max_residual": largest if finite else None,
        "rc_elements": int(m),
        "mu": float(mu) if np.isfinite(mu) else None,
        "residuals": {
            "frequency": frequencies.tolist(),
            "real": error.real.tolist(),
            "imag": error.imag.tolist(),
        },
    }

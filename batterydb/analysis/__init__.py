"""EIS analysis numerics: pure functions on numpy arrays, no Django.

* :mod:`.kk`: the Lin-KK validity test of impedance.py (Schönleber et al.), residuals per
  frequency relative to ``|Z|``; a sweep passes when every real and imaginary residual is at
  most the threshold (default :data:`DEFAULT_KK_THRESHOLD`, 1 %).
* :mod:`.circuits`: equivalent-circuit fits with impedance.py's ``CustomCircuit``, default
  :data:`DEFAULT_CIRCUIT` (``R0-p(R1,CPE1)-W1``: ohmic resistance, charge transfer in
  parallel with a constant-phase element, a semi-infinite Warburg element), initial guesses
  read off the data, user circuit strings validated before impedance.py sees them.
* :mod:`.drt`: a distribution of relaxation times by Tikhonov-regularised non-negative least
  squares (SciPy's ``nnls``), default ``lambda`` :data:`DEFAULT_DRT_LAMBDA`.
* :func:`analyse_sweep` runs all three and answers JSON-ready dicts.

Impedances follow the platform's convention: ``z_imag`` is Im(Z), negative for a capacitive
response. Everything runs in the calling process (no process pool).
"""

from batterydb.analysis.circuits import (
    DEFAULT_CIRCUIT,
    CircuitError,
    circuit_fit,
    circuit_parameter_names,
    circuit_validate,
)
from batterydb.analysis.drt import DEFAULT_DRT_LAMBDA, MAX_DRT_LAMBDA, MIN_DRT_LAMBDA, drt_compute
from batterydb.analysis.kk import DEFAULT_KK_THRESHOLD, kk_test
from batterydb.analysis.sweep import MIN_FREQUENCIES, AnalysisError, analyse_sweep, sweep_arrays

__all__ = [
    "DEFAULT_CIRCUIT",
    "DEFAULT_DRT_LAMBDA",
    "DEFAULT_KK_THRESHOLD",
    "MAX_DRT_LAMBDA",
    "MIN_DRT_LAMBDA",
    "MIN_FREQUENCIES",
    "AnalysisError",
    "CircuitError",
    "analyse_sweep",
    "circuit_fit",
    "circuit_parameter_names",
    "circuit_validate",
    "drt_compute",
    "kk_test",
    "sweep_arrays",
]

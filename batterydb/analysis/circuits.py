"""Equivalent-circuit fits with impedance.py's ``CustomCircuit``.

The default circuit is ``R0-p(R1,CPE1)-W1``: the ohmic resistance ``R0`` (electrolyte,
contacts), the charge-transfer resistance ``R1`` in parallel with a constant-phase element
(the double layer, ``CPE1_0`` = Q, ``CPE1_1`` = alpha), and a semi-infinite Warburg element
(diffusion, ``W1`` = sigma). A user's circuit uses impedance.py's syntax (elements in series
joined by ``-``, parallel groups ``p(a,b)``, each element a type and a number: ``R0``,
``CPE1``, ``Wo_2``). It is parsed here, against a grammar and the element table, before
impedance.py (which evaluates generated Python) ever sees it; :class:`CircuitError` says
what is wrong.

Ohmic and charge-transfer resistance are the fitted ``R0`` and ``R1`` when the circuit names
elements so (the default does); otherwise they are null.

Initial guesses come from the data: the high-frequency real intercept for the first
resistor, the arc's apex (largest ``-Im Z`` above the low-frequency tail) for the time
constant and the arc's width for the other resistors, the low-frequency tail for diffusion
elements. The fit weights each point by ``1/|Z|`` and keeps impedance.py's bounds (every
parameter positive, exponents at most 1).
"""

from __future__ import annotations

import functools
import re
import warnings

import numpy as np

DEFAULT_CIRCUIT = "R0-p(R1,CPE1)-W1"
OHMIC_PARAMETER = "R0"
CHARGE_TRANSFER_PARAMETER = "R1"
MAX_CIRCUIT_LENGTH = 200
MAX_CIRCUIT_PARAMETERS = 20
MAX_FUNCTION_EVALUATIONS = 20_000

_TOKEN = re.compile(r"p\(|[A-Za-z]+_?\d+|[-,()]|.")
_ELEMENT = re.compile(r"([A-Za-z]+)_?(\d+)")


@functools.cache
def circuit_elements() -> dict:
    """impedance.py's element types by name, imported when first needed: impedance.py loads
    matplotlib, pandas and SciPy (some 130 MB), which no process but an analysing one needs."""
    from impedance.models.circuits.elements import circuit_elements as elements

    return {name: element for name, element in elements.items() if name not in ("s", "p")}


class CircuitError(ValueError):
    """A circuit string that is not a valid circuit; the message says why."""


# --- parsing ------------------------------------------------------------------------------------
def circuit_validate(circuit: str) -> list[tuple[str, str]]:
    """The circuit's elements ``[(name, type)]`` in order, or :class:`CircuitError`.

    Grammar: ``series := part ('-' part)*``, ``part := element | 'p(' series (',' series)+
    ')'``, ``element := type number`` with a type impedance.py knows (R, C, L, W, Wo, Ws,
    CPE, La, G, Gs, K, Zarc, TLMQ, T); names unique; at most 20 parameters."""
    if not isinstance(circuit, str) or not circuit.strip():
        raise CircuitError("The circuit is empty.")
    if len(circuit) > MAX_CIRCUIT_LENGTH:
        raise CircuitError(f"The circuit has more than {MAX_CIRCUIT_LENGTH} characters.")
    tokens = _TOKEN.findall(circuit.replace(" ", ""))
    elements: list[tuple[str, str]] = []
    position = _parse_series(tokens, 0, elements)
    if position != len(tokens):
        raise CircuitError(f"Unexpected {tokens[position]!r} in the circuit.")
    names = [name for name, _ in elements]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CircuitError(f"Element names must be unique; repeated: {', '.join(repeated)}.")
    count = sum(circuit_elements()[kind].num_params for _, kind in elements)
    if count > MAX_CIRCUIT_PARAMETERS:
        raise CircuitError(
            f"The circuit has {count} parameters; at most {MAX_CIRCUIT_PARAMETERS} are fitted."
        )
    return elements


def _parse_series(tokens: list[str], position: int, elements: list) -> int:
    position = _parse_part(tokens, position, elements)
    while position < len(tokens) and tokens[position] == "-":
        position = _parse_part(tokens, position + 1, elements)
    return position


def _parse_part(tokens: list[str], position: int, elements: list) -> int:
    if position >= len(tokens):
        raise CircuitError("The circuit ends where an element or p(...) was expected.")
    token = tokens[position]
    if token == "p(":
        position = _parse_series(tokens, position + 1, elements)
        branches = 1
        while position < len(tokens) and tokens[position] == ",":
            position = _parse_series(tokens, position + 1, elements)
            branches += 1
        if position >= len(tokens) or tokens[position] != ")":
            raise CircuitError("A p( group is not closed by ).")
        if branches < 2:
            raise CircuitError("A parallel group p(...) needs at least two branches.")
        return position + 1
    match = _ELEMENT.fullmatch(token)
    if not match:
        raise CircuitError(
            f"Unexpected {token!r}: expected an element such as R0 or CPE1, or p(...)."
        )
    kind = match.group(1)
    if kind not in circuit_elements():
        known = ", ".join(sorted(circuit_elements()))
        raise CircuitError(f"Unknown element type {kind!r} in {token!r}; known: {known}.")
    elements.append((token, kind))
    return position + 1


def circuit_parameter_names(circuit: str) -> list[str]:
    """Parameter names as impedance.py reports them (``R0``, ``CPE1_0``, ``CPE1_1``...)."""
    names = []
    for name, kind in circuit_validate(circuit):
        count = circuit_elements()[kind].num_params
        names.extend([name] if count == 1 else [f"{name}_{i}" for i in range(count)])
    return names


# --- initial guesses ----------------------------------------------------------------------------
def _features(f: np.ndarray, z: np.ndarray) -> dict[str, float]:
    """Rough features of a sweep (frequencies descending) for initial guesses."""
    minus_imag = -z.imag
    capacitive = minus_imag > 0
    r_hf = float(z.real[capacitive][0]) if capacitive.any() else float(np.min(z.real))
    r_hf = max(r_hf, 1e-9)
    # The arc's apex: a local maximum of -Im Z above the low-frequency tail, else the largest.
    apexes = [
        i
        for i in range(1, len(f) - 1)
        if minus_imag[i] > 0 and minus_imag[i - 1] <= minus_imag[i] >= minus_imag[i + 1]
    ]
    apex = apexes[0] if apexes else int(np.argmax(minus_imag))
    f_apex = float(f[apex])
    r_arc = max(2.0 * (float(z.real[apex]) - r_hf), 2.0 * float(minus_imag[apex]), r_hf * 0.1)
    tau = 1.0 / (2 * np.pi * f_apex)
    w_min = 2 * np.pi * float(f[-1])
    sigma = max(float(minus_imag[-1]), r_arc * 0.1) * np.sqrt(w_min) / 2
    span = max(float(z.real[-1] - z.real[apex]), r_arc * 0.1)
    inductance = float(z.imag[0]) / (2 * np.pi * float(f[0])) if z.imag[0] > 0 else 1e-9
    return {
        "r_hf": r_hf,
        "r_arc": r_arc,
        "tau": tau,
        "sigma": sigma,
        "span": span,
        "tau_low": 1.0 / w_min,
        "inductance": max(inductance, 1e-12),
    }


def initial_guess(elements: list[tuple[str, str]], f: np.ndarray, z: np.ndarray) -> list[float]:
    """One guess per parameter, in order (``f`` descending)."""
    x = _features(f, z)
    resistors = [name for name, kind in elements if kind == "R"]
    others = max(len(resistors) - 1, 1)
    alpha = 0.9
    guesses: list[float] = []
    for name, kind in elements:
        r_arc, tau = x["r_arc"], x["tau"]
        guesses.extend(
            {
                "R": [x["r_hf"] if resistors and name == resistors[0] else r_arc / others],
                "C": [tau / r_arc],
                "L": [x["inductance"]],
                "W": [x["sigma"]],
                "Wo": [x["span"], x["tau_low"]],
                "Ws": [x["span"], x["tau_low"]],
                "CPE": [tau**alpha / r_arc, alpha],
                "La": [x["inductance"], alpha],
                "G": [r_arc, tau],
                "Gs": [r_arc, tau, alpha],
                "K": [r_arc, tau],
                "Zarc": [r_arc, tau, alpha],
                "TLMQ": [r_arc, tau**alpha / r_arc, alpha],
                "T": [r_arc, r_arc, 1.0, tau],
            }[kind]
        )
    return guesses


# --- fitting ------------------------------------------------------------------------------------
def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def circuit_fit(frequencies: np.ndarray, impedance: np.ndarray, *, circuit: str) -> dict:
    """``{"circuit", "parameters": {name: {"value", "stderr", "unit"}}, "ohmic_resistance",
    "charge_transfer_resistance", "rmse", "curve": {"frequency", "z_real", "z_imag"}}``.

    ``frequencies`` descending. Raises :class:`CircuitError` for a bad circuit and
    ``RuntimeError`` when the fit does not converge."""
    elements = circuit_validate(circuit)
    circuit = circuit.replace(" ", "")
    guess = initial_guess(elements, frequencies, impedance)
    from impedance.models.circuits import CustomCircuit  # see circuit_elements

    model = CustomCircuit(circuit, initial_guess=guess)
    with warnings.catch_warnings():
        # An undetermined covariance leaves stderr null; that is reported, not warned.
        warnings.simplefilter("ignore")
        model.fit(frequencies, impedance, weight_by_modulus=True, maxfev=MAX_FUNCTION_EVALUATIONS)
        fitted = model.predict(frequencies)
    names, units = model.get_param_names()
    stderr = model.conf_ if model.conf_ is not None else [np.nan] * len(names)
    parameters = {
        name: {"value": _finite(value), "stderr": _finite(error), "unit": unit}
        for name, value, error, unit in zip(names, model.parameters_, stderr, units, strict=True)
    }
    residual = np.abs(fitted - impedance) / np.abs(impedance)
    return {
        "circuit": circuit,
        "parameters": parameters,
        "ohmic_resistance": parameters.get(OHMIC_PARAMETER, {}).get("value"),
        "charge_transfer_resistance": parameters.get(CHARGE_TRANSFER_PARAMETER, {}).get("value"),
        "relative_rmse": _finite(np.sqrt(np.mean(residual**2))),
        "curve": {
            "frequency": frequencies.tolist(),
            "z_real": fitted.real.tolist(),
            "z_imag": fitted.imag.tolist(),
        },
    }

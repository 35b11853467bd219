"""Numbers and units on the EIS pages: one number format, and the impedance unit (Ω or mΩ)
chosen by the magnitude of what a page shows.

``static/batterydb/eis.js`` formats the plots' ticks and values the same way
(``formatNumber``): four significant digits, fixed notation from 0.0001 up to a million,
scientific notation outside.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

SIGNIFICANT_DIGITS = 4
#: Fixed notation for magnitudes in [FIXED_MIN, FIXED_MAX); scientific outside.
FIXED_MIN = 1e-4
FIXED_MAX = 1e6

# Typographic signs of the headers: Z' is Z with a prime, -Z'' a minus sign and a double prime.
PRIME, DOUBLE_PRIME, MINUS = "\u2032", "\u2033", "\u2212"

#: The impedance parameters, scaled to the page's impedance unit.
IMPEDANCE_PARAMETERS = ("z_real", "z_imag", "z_mod")
#: How each known parameter is headed; ``{z}`` is the impedance unit. Others show their name.
PARAMETER_HEADERS = {
    "z_real": f"Z{PRIME} ({{z}})",
    "z_imag": f"Z{DOUBLE_PRIME} ({{z}})",
    "z_mod": "|Z| ({z})",
    "z_phase": "Phase (°)",
    "ocv": "OCV (V)",
    "voltage": "Voltage (V)",
    "current": "Current (A)",
    "temperature": "Temperature (°C)",
}


def format_number(value: float | None) -> str:
    """``value`` with four significant digits: ``12.35``, ``0.1000``, ``10000``, ``-3.142``,
    ``1.235e-05``; empty for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "" if value is None else str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if not FIXED_MIN <= magnitude < FIXED_MAX:
        return f"{value:.{SIGNIFICANT_DIGITS - 1}e}"
    exponent = math.floor(math.log10(magnitude))
    decimals = max(0, SIGNIFICANT_DIGITS - 1 - exponent)
    text = f"{value:.{decimals}f}"
    # Rounding may carry into one more digit (9.9996 -> 10.000): keep four significant ones.
    if decimals and len(text.lstrip("-").replace(".", "").lstrip("0")) > SIGNIFICANT_DIGITS:
        text = f"{value:.{decimals - 1}f}"
    return text


@dataclass(frozen=True)
class ImpedanceUnit:
    """The unit impedances are shown in, and the factor from ohms to it."""

    symbol: str
    factor: float

    def scale(self, ohms: float | None) -> float | None:
        return None if ohms is None else ohms * self.factor


OHM = ImpedanceUnit("Ω", 1.0)
MILLIOHM = ImpedanceUnit("mΩ", 1000.0)


def impedance_unit(ohms: Iterable[float | None]) -> ImpedanceUnit:
    """mΩ when every magnitude shown is below 1 Ω (battery cells, most modules), else Ω."""
    largest = max((abs(v) for v in ohms if v is not None and math.isfinite(v)), default=0.0)
    return MILLIOHM if largest < 1.0 else OHM


def parameter_header(parameter: str, unit: ImpedanceUnit) -> str:
    """``Z' (mΩ)`` (with a prime), ``Phase (°)``, ``OCV (V)``; the bare name for a parameter
    of unknown unit."""
    template = PARAMETER_HEADERS.get(parameter)
    return template.format(z=unit.symbol) if template else parameter

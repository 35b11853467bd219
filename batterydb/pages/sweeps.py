"""EIS sweeps read for the pages: the data table pivoted by frequency, and the arrays the plots
draw (``static/batterydb/eis.js``), with impedances in the page's unit.

The platform stores ``z_imag`` as Im(Z), negative for a capacitive response; the Nyquist plot
draws -Z'' upwards. Where a sweep has only ``z_real``/``z_imag`` the plots derive |Z| and the
phase, and the other way round.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F

from batterydb.models import EISData
from batterydb.pages.units import (
    IMPEDANCE_PARAMETERS,
    ImpedanceUnit,
    format_number,
    impedance_unit,
    parameter_header,
)

#: Impedance columns in their usual order; other parameters follow alphabetically.
PARAMETER_ORDER = ["z_real", "z_imag", "z_mod", "z_phase"]
#: The most points a plot draws per sweep; a longer sweep is thinned evenly (the table and
#: the CSV keep every point).
MAX_PLOT_POINTS = 5000
#: The most data rows a page reads (a sweep has tens to hundreds of frequencies; this bounds
#: the page's work and memory whatever a test holds). Beyond it the page shows the highest
#: frequencies read and says so; the CSV download and the API have every point.
MAX_PAGE_ROWS = 100_000


@dataclass
class Sweep:
    """One test's data: ``points`` maps a frequency to its parameters' values, ``scalars``
    the parameters without a frequency (OCV, test parameters)."""

    points: dict[float, dict[str, float]] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    #: Whether the page read only part of the test's data (:data:`MAX_PAGE_ROWS`).
    truncated: bool = False

    def impedances(self) -> list[tuple[float, complex]]:
        """``(frequency, Z)`` in ohms by increasing frequency, for the frequencies with
        Z' and Z'' or with |Z| and the phase (degrees)."""
        result = []
        for frequency in sorted(self.points):
            values = self.points[frequency]
            if "z_real" in values and "z_imag" in values:
                result.append((frequency, complex(values["z_real"], values["z_imag"])))
            elif "z_mod" in values and "z_phase" in values:
                result.append(
                    (frequency, cmath.rect(values["z_mod"], math.radians(values["z_phase"])))
                )
        return result


def read_sweeps(test_ids: Iterable[int], *, max_rows: int | None = None) -> dict[int, Sweep]:
    """The data of the tests ``test_ids`` in one query (the caller has scoped the tests), at
    most ``max_rows`` rows (default :data:`MAX_PAGE_ROWS`): by test, then from the highest
    frequency. A test whose rows were not all read is marked ``truncated``."""
    max_rows = MAX_PAGE_ROWS if max_rows is None else max_rows
    sweeps: dict[int, Sweep] = {test_id: Sweep() for test_id in test_ids}
    rows = (
        EISData.objects.filter(test_id__in=list(sweeps))
        .order_by("test_id", F("frequency").desc(nulls_first=True))
        .values_list("test_id", "frequency", "parameter", "value")[: max_rows + 1]
    )
    last_test = None
    for count, (test_id, frequency, parameter, value) in enumerate(rows):
        if count == max_rows:
            # The cut falls in ``last_test`` or just after it: that test and those after it
            # (in id order) may have more than was read.
            for other_id, sweep in sweeps.items():
                if other_id >= last_test:
                    sweep.truncated = True
            break
        last_test = test_id
        sweep = sweeps[test_id]
        if frequency is None:
            sweep.scalars[parameter] = value
        else:
            sweep.points.setdefault(frequency, {})[parameter] = value
    return sweeps


def sweep_unit(*sweeps: Sweep) -> ImpedanceUnit:
    """The impedance unit of a page showing ``sweeps``: by the largest impedance value."""
    return impedance_unit(
        value
        for sweep in sweeps
        for values in sweep.points.values()
        for name, value in values.items()
        if name in IMPEDANCE_PARAMETERS
    )


def data_table(sweep: Sweep, unit: ImpedanceUnit) -> dict:
    """The sweep pivoted for the page's table: ``headers`` (with units), ``rows`` of
    formatted numbers, one per frequency from the highest, and the ``scalars`` apart."""
    present = {name for values in sweep.points.values() for name in values}
    columns = [name for name in PARAMETER_ORDER if name in present]
    columns += sorted(present - set(PARAMETER_ORDER))

    def cell(name: str, value: float | None) -> str:
        return format_number(unit.scale(value) if name in IMPEDANCE_PARAMETERS else value)

    rows = [
        (
            format_number(frequency),
            [cell(name, sweep.points[frequency].get(name)) for name in columns],
        )
        for frequency in sorted(sweep.points, reverse=True)
    ]
    scalars = [
        (parameter_header(name, unit), format_number(value))
        for name, value in sorted(sweep.scalars.items())
    ]
    return {
        "columns": columns,
        "headers": [parameter_header(name, unit) for name in columns],
        "rows": rows,
        "scalars": scalars,
    }


def thin(count: int, limit: int = MAX_PLOT_POINTS) -> list[int]:
    """Indexes of at most ``limit`` of ``count`` points, evenly spread, first and last kept."""
    if count <= limit:
        return list(range(count))
    step = (count - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def _rounded(value: float) -> float:
    # Plots need no more than display precision; shorter JSON for long sweeps.
    return float(f"{value:.6g}")


def impedance_arrays(
    impedances: list[tuple[float, complex]], unit: ImpedanceUnit
) -> dict[str, list[float]]:
    """Arrays for the plots by increasing frequency: ``frequency`` (Hz), ``z_real`` and
    ``z_imag`` (Im Z, in ``unit``), ``z_mod`` (in ``unit``) and ``z_phase`` (degrees)."""
    return {
        "frequency": [_rounded(f) for f, _ in impedances],
        "z_real": [_rounded(z.real * unit.factor) for _, z in impedances],
        "z_imag": [_rounded(z.imag * unit.factor) for _, z in impedances],
        "z_mod": [_rounded(abs(z) * unit.factor) for _, z in impedances],
        "z_phase": [_rounded(math.degrees(cmath.phase(z))) for _, z in impedances],
    }


def plot_arrays(sweep: Sweep, unit: ImpedanceUnit) -> dict:
    """What the test page's plots draw: the sweep's arrays, thinned to ``MAX_PLOT_POINTS``,
    with ``points`` (drawn) and ``total`` (in the sweep)."""
    impedances = sweep.impedances()
    kept = [impedances[i] for i in thin(len(impedances))]
    return {**impedance_arrays(kept, unit), "points": len(kept), "total": len(impedances)}

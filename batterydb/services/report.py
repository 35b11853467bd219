"""The EIS test report of the BatteryDB guide, computed in the database in one request.

The guide's ``generate_test_report`` builds, for each test, a row with the battery's
``battery_id`` and the test's ``z_real`` then ``z_imag`` values, one per frequency, the
frequencies in the order their first data point was stored (the order of ``id``, which is
what following ``next`` returns and what the pandas pivot keeps). This does the same with one
query for the tests and one aggregate query for the data, whatever the number of tests.

A test with fewer frequencies than the others gets nulls in the columns it lacks, and a
frequency without a ``z_real`` (or ``z_imag``) point gives null where pandas gives NaN. The
report has at least 42 frequency columns per part (``z_real_0`` .. ``z_real_41``), more when a
test has more frequencies.

With ``fit=True`` every row ends with ``ohmic_resistance`` and ``charge_transfer_resistance``,
the fitted R0 and R1 of the test's analysis (null without one), read in one more query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Max, Min, Q, QuerySet

from batterydb.models import EISAnalysis, EISData, EISTest

REPORT_FREQUENCIES = 42
FIT_COLUMNS = ("ohmic_resistance", "charge_transfer_resistance")
MAX_REPORT_TESTS = 1000


class UnknownTests(Exception):
    """Some requested tests do not exist or are not visible to the user."""

    def __init__(self, test_ids: list[int]):
        super().__init__(f"Unknown EIS tests: {test_ids}")
        self.test_ids = test_ids


@dataclass(frozen=True)
class EISTestReport:
    columns: list[str]
    rows: list[dict]


def report_columns(frequencies: int = REPORT_FREQUENCIES) -> list[str]:
    return [
        "battery_id",
        *(f"z_real_{i}" for i in range(frequencies)),
        *(f"z_imag_{i}" for i in range(frequencies)),
    ]


def eis_test_report(
    *, test_ids: Sequence[int], tests: QuerySet[EISTest], fit: bool = False
) -> EISTestReport:
    """One row per requested test, in the requested order (repeats included), with the
    fitted resistances when ``fit``.

    ``tests`` is the queryset of the tests the caller may see; a requested test outside it
    raises :class:`UnknownTests` naming every such test."""
    wanted = list(dict.fromkeys(test_ids))
    battery_of = dict(tests.filter(pk__in=wanted).values_list("pk", "battery__battery_id"))
    missing = [test_id for test_id in wanted if test_id not in battery_of]
    if missing:
        raise UnknownTests(missing)
    impedances: dict[int, list[tuple[float | None, float | None]]] = {t: [] for t in wanted}
    points = (
        EISData.objects.filter(test_id__in=wanted, frequency__isnull=False)
        .values("test_id", "frequency")
        .annotate(
            first_id=Min("id"),
            z_real=Max("value", filter=Q(parameter="z_real")),
            z_imag=Max("value", filter=Q(parameter="z_imag")),
        )
        .order_by("test_id", "first_id")
        .values_list("test_id", "z_real", "z_imag")
    )
    for test_id, z_real, z_imag in points:
        impedances[test_id].append((z_real, z_imag))
    width = max([REPORT_FREQUENCIES, *(len(values) for values in impedances.values())])
    columns = report_columns(width)
    resistances: dict[int, tuple[float | None, float | None]] = {}
    if fit:
        columns += FIT_COLUMNS
        resistances = {
            test_id: (ohmic, charge_transfer)
            for test_id, ohmic, charge_transfer in EISAnalysis.objects.filter(
                test_id__in=wanted
            ).values_list("test_id", *FIT_COLUMNS)
        }
    real_columns = columns[1 : width + 1]
    imag_columns = columns[width + 1 : 2 * width + 1]
    rows = []
    for test_id in test_ids:
        values = impedances[test_id]
        padding = [None] * (width - len(values))
        row = {"battery_id": battery_of[test_id]}
        row.update(zip(real_columns, [real for real, _ in values] + padding, strict=True))
        row.update(zip(imag_columns, [imag for _, imag in values] + padding, strict=True))
        if fit:
            row.update(zip(FIT_COLUMNS, resistances.get(test_id, (None, None)), strict=True))
        rows.append(row)
    return EISTestReport(columns=columns, rows=rows)

"""The comparison page: several EIS tests' sweeps overlaid in one Nyquist plot (a colour per
test, with a legend and a table of the tests), and the fitted ohmic and charge-transfer
resistances against the test date where the tests have an analysis.

``?tests=1,2,3`` (or ``?tests=1&tests=2``) names the tests; ``?battery=<id>`` takes that
battery's latest ``MAX_COMPARE_TESTS`` tests. Tests are shown by date (completion, else
creation). A test or battery the user may not see is a 404; ids that are not ids, or more
tests than the limit, a 400 naming the field.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from batterydb.models import Battery, EISAnalysis
from batterydb.pages.common import bad_request, visible, visible_tests
from batterydb.pages.sweeps import impedance_arrays, read_sweeps, sweep_unit, thin
from batterydb.pages.units import format_number
from core.filters import parse_id

#: The most tests one comparison overlays (each gets a colour of the palette in eis.css).
MAX_COMPARE_TESTS = 20
#: The most points drawn per test in the overlay (a longer sweep is thinned evenly).
MAX_COMPARE_POINTS = 2000


def _requested_ids(request: HttpRequest) -> list[str]:
    return [
        part.strip()
        for value in request.GET.getlist("tests")
        for part in value.split(",")
        if part.strip()
    ]


def test_date(test):
    """When a test was made: its completion, else when it was stored."""
    return test.completed_at or test.created_at


def fitted_resistances(test_ids) -> dict[int, tuple[float | None, float | None, bool]]:
    """``{test: (ohmic, charge_transfer, stale)}`` in ohms of the tests analysed, one query."""
    rows = EISAnalysis.objects.filter(
        test_id__in=list(test_ids), analysed_at__isnull=False
    ).values_list("test_id", "ohmic_resistance", "charge_transfer_resistance", "stale")
    return {
        test_id: (ohmic, charge_transfer, stale) for test_id, ohmic, charge_transfer, stale in rows
    }


@login_required
def eis_compare(request: HttpRequest) -> HttpResponse:
    raw_ids = _requested_ids(request)
    battery = None
    if raw_ids:
        ids = [parse_id(raw) for raw in raw_ids]
        bad = [raw for raw, pk in zip(raw_ids, ids, strict=True) if pk is None]
        if bad:
            return bad_request(
                request, f"tests: test ids are positive integers; got {', '.join(bad[:10])}."
            )
        ids = list(dict.fromkeys(ids))
        if len(ids) > MAX_COMPARE_TESTS:
            return bad_request(
                request, f"tests: at most {MAX_COMPARE_TESTS} tests at once; got {len(ids)}."
            )
        tests = list(visible_tests(request).filter(pk__in=ids))
        missing = sorted(set(ids) - {test.pk for test in tests})
        if missing:
            raise Http404(f"EIS tests not found: {', '.join(map(str, missing))}.")
    elif request.GET.get("battery"):
        pk = parse_id(request.GET["battery"])
        if pk is None:
            return bad_request(request, "battery: give the id of a battery, a positive integer.")
        battery = get_object_or_404(visible(request, Battery), pk=pk)
        tests = list(
            visible_tests(request)
            .filter(battery=battery)
            .order_by("-completed_at", "-created_at", "-id")[:MAX_COMPARE_TESTS]
        )
    else:
        return render(request, "batterydb/eis_compare.html", {"tests": [], "choose": True})

    tests.sort(key=lambda test: (test_date(test), test.pk))
    sweeps = read_sweeps(test.pk for test in tests)
    fitted = fitted_resistances(test.pk for test in tests)
    unit = sweep_unit(*sweeps.values())
    entries = []
    for index, test in enumerate(tests):
        sweep = sweeps[test.pk]
        impedances = sweep.impedances()
        kept = [impedances[i] for i in thin(len(impedances), MAX_COMPARE_POINTS)]
        date = test_date(test)
        ohmic, charge_transfer, stale = fitted.get(test.pk, (None, None, False))
        entries.append(
            {
                "test": test,
                "colour": index,
                "date": date,
                "points": len(impedances),
                "ocv": format_number(sweep.scalars.get("ocv")),
                "ohmic": format_number(unit.scale(ohmic)),
                "charge_transfer": format_number(unit.scale(charge_transfer)),
                "stale": stale,
                "truncated": sweep.truncated,
                "plot": {
                    "id": test.pk,
                    "label": f"Test {test.pk} · {date:%Y-%m-%d}",
                    "date": int(date.timestamp()),
                    "colour": index,
                    **impedance_arrays(kept, unit),
                },
            }
        )
    context = {
        "tests": entries,
        "battery": battery,
        "unit": unit,
        "limit": MAX_COMPARE_TESTS,
        "at_limit": battery is not None and len(tests) == MAX_COMPARE_TESTS,
        "plot": {
            "unit": unit.symbol,
            "tests": [entry["plot"] for entry in entries],
            "fits": [
                {
                    "id": test.pk,
                    "date": int(test_date(test).timestamp()),
                    "ohmic": unit.scale(fitted[test.pk][0]),
                    "charge_transfer": unit.scale(fitted[test.pk][1]),
                }
                for test in tests
                if test.pk in fitted and fitted[test.pk][:2] != (None, None)
            ],
        },
        "list_url": reverse("batterydb-pages:eis-test-list"),
    }
    return render(request, "batterydb/eis_compare.html", context)

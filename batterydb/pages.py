"""Server-rendered pages of BatteryDB: the user's EIS tests and one test's data table.

Login required; scoped like the API (another organization's test is a 404; staff see all).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from batterydb.models import EISData, EISTest
from core.tenancy import scope_queryset

TESTS_PER_PAGE = 50
# Impedance columns in their usual order; other parameters follow alphabetically.
PARAMETER_ORDER = ["z_real", "z_imag", "z_mod", "z_phase"]


def _visible_tests(request: HttpRequest):
    return scope_queryset(EISTest.objects.all(), request, "organization").select_related(
        "organization", "battery", "device"
    )


def _number(value: float | None) -> str:
    return "" if value is None else format(value, ".6g")


def eis_data_table(test: EISTest) -> dict:
    """The test's data pivoted: one row per frequency (highest first), one column per
    parameter; the parameters without a frequency (OCV, test parameters) apart."""
    by_frequency: dict[float, dict[str, float]] = {}
    scalars: list[tuple[str, str]] = []
    rows = EISData.objects.filter(test=test).order_by()
    for frequency, parameter, value in rows.values_list("frequency", "parameter", "value"):
        if frequency is None:
            scalars.append((parameter, _number(value)))
        else:
            by_frequency.setdefault(frequency, {})[parameter] = value
    present = {name for values in by_frequency.values() for name in values}
    columns = [name for name in PARAMETER_ORDER if name in present]
    columns += sorted(present - set(PARAMETER_ORDER))
    table = [
        (_number(frequency), [_number(by_frequency[frequency].get(name)) for name in columns])
        for frequency in sorted(by_frequency, reverse=True)
    ]
    return {"columns": columns, "rows": table, "scalars": sorted(scalars)}


@login_required
def eis_test_list(request: HttpRequest) -> HttpResponse:
    tests = _visible_tests(request).order_by("-id")
    page = Paginator(tests, TESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "batterydb/eis_test_list.html", {"page": page})


@login_required
def eis_test_page(request: HttpRequest, pk: int) -> HttpResponse:
    test = get_object_or_404(_visible_tests(request), pk=pk)
    context = {
        "test": test,
        "api_url": reverse("batterydb:eis-test-detail", args=[test.pk]),
        **eis_data_table(test),
    }
    return render(request, "batterydb/eis_test_page.html", context)

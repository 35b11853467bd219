"""The EIS test list and one test's page: its facts, Nyquist and Bode plots, the data table
(paged for long sweeps) with units in every header, and the CSV download.

Login required; scoped like the API (another organization's test, battery or device is a
404; staff see all). No inline script: the plots' data go to ``static/batterydb/eis.js`` as a
JSON data block (``json_script``), which the Content-Security-Policy lets through.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from batterydb.pages.analysis import analysis_context
from batterydb.pages.common import (
    BadFilter,
    bad_request,
    by_battery_or_device,
    visible_tests,
)
from batterydb.pages.imports import import_context
from batterydb.pages.sweeps import (
    MAX_PAGE_ROWS,
    data_table,
    plot_arrays,
    read_sweeps,
    sweep_unit,
)

TESTS_PER_PAGE = 50
#: Frequencies per page of a test's data table (a usual sweep of 42 fits on one).
ROWS_PER_PAGE = 50


@login_required
def eis_test_list(request: HttpRequest) -> HttpResponse:
    """The user's EIS tests, newest first; ``?battery=<id>`` or ``?device=<id>`` narrows the
    list to one battery's or device's tests. Tests can be ticked for the comparison page."""
    try:
        tests, context = by_battery_or_device(request, visible_tests(request).order_by("-id"))
    except BadFilter as exc:
        return bad_request(request, str(exc))
    page = Paginator(tests, TESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "batterydb/eis_test_list.html", {"page": page, **context})


@login_required
def eis_test_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One test: facts and links, the plots, the data table a page of ``ROWS_PER_PAGE``
    frequencies at a time (``?page=``), the test parameters without a frequency."""
    test = get_object_or_404(visible_tests(request), pk=pk)
    sweep = read_sweeps([test.pk])[test.pk]
    unit = sweep_unit(sweep)
    table = data_table(sweep, unit)
    rows = Paginator(table["rows"], ROWS_PER_PAGE).get_page(request.GET.get("page"))
    analysis = analysis_context(request, test, unit)
    plot = {"unit": unit.symbol, "sweep": plot_arrays(sweep, unit), **analysis.pop("analysis_plot")}
    report = reverse("batterydb:eis-test-report")
    context = {
        "test": test,
        "unit": unit,
        "api_url": reverse("batterydb:eis-test-detail", args=[test.pk]),
        "data_api_url": f"{reverse('batterydb:eis-data-list')}?test={test.pk}",
        "csv_url": f"{report}?test={test.pk}&format=csv",
        "compare_url": (
            f"{reverse('batterydb-pages:eis-compare')}?battery={test.battery_id}"
            if test.battery_id
            else None
        ),
        "frequency_count": len(table["rows"]),
        "truncated": sweep.truncated,
        "max_page_rows": MAX_PAGE_ROWS,
        "rows": rows.object_list,
        "rows_page": rows,
        "columns": table["columns"],
        "headers": table["headers"],
        "scalars": table["scalars"],
        "plot": plot,
        **analysis,
        **import_context(request, test),
    }
    return render(request, "batterydb/eis_test_page.html", context)

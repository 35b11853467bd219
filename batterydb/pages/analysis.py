"""The analysis part of an EIS test's page: the Kramers-Kronig test, the equivalent-circuit fit
(parameters with their uncertainties, the fitted curve over the data) and the DRT of the
test's :class:`~batterydb.models.EISAnalysis`, its job's progress and whether it is stale; and
the form that starts the analysis (members of the test's organization, and staff).

The form posts to ``eis_test_analyse`` (CSRF-protected like every page form), which starts the
job through the same service as ``POST /api/v2/eis/tests/{id}/analysis/`` and sends the
browser back to the page, where ``core/job_progress.html`` shows the job until it is done.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from batterydb.analysis import DEFAULT_CIRCUIT, CircuitError, circuit_validate
from batterydb.models import EISAnalysis, EISTest
from batterydb.pages.common import visible_tests
from batterydb.pages.sweeps import impedance_arrays
from batterydb.pages.units import ImpedanceUnit, format_number
from batterydb.services.analysis import analysis_params, eis_analysis_start
from core.models import Membership
from core.tenancy import has_role

#: Parameter units of impedance.py that are resistances, shown in the page's impedance unit.
RESISTANCE_UNITS = {"Ohm", "Ω"}


def can_analyse(request: HttpRequest, test: EISTest) -> bool:
    """Whether the user may start the test's analysis: member or owner of its organization."""
    return has_role(request, test.organization_id, Membership.Role.MEMBER)


def _percent(fraction: float | None) -> str:
    return "" if fraction is None else format_number(fraction * 100)


def _parameters(fit: dict, unit: ImpedanceUnit) -> list[dict]:
    rows = []
    for name, values in (fit.get("parameters") or {}).items():
        value, stderr = values.get("value"), values.get("stderr")
        factor = unit.factor if values.get("unit") in RESISTANCE_UNITS else 1.0
        relative = abs(stderr / value) if value and stderr is not None else None
        rows.append(
            {
                "name": name,
                "value": format_number(None if value is None else value * factor),
                "stderr": format_number(None if stderr is None else stderr * factor),
                "relative": _percent(relative),
                "unit": unit.symbol if factor != 1.0 else values.get("unit") or "",
            }
        )
    return rows


def _fit_curve(fit: dict, unit: ImpedanceUnit) -> dict | None:
    curve = fit.get("curve")
    if not curve:
        return None
    points = sorted(
        (f, complex(re, im))
        for f, re, im in zip(curve["frequency"], curve["z_real"], curve["z_imag"], strict=True)
        if f is not None and re is not None and im is not None
    )
    return impedance_arrays(points, unit)


def _kk_plot(kk: dict) -> dict | None:
    residuals = kk.get("residuals") or {}
    if not residuals.get("frequency"):
        return None
    rows = sorted(
        zip(residuals["frequency"], residuals["real"], residuals["imag"], strict=True),
        key=lambda row: row[0],
    )
    return {
        "frequency": [row[0] for row in rows],
        "real": [None if row[1] is None else row[1] * 100 for row in rows],
        "imag": [None if row[2] is None else row[2] * 100 for row in rows],
        "threshold": kk["threshold"] * 100,
    }


def _drt_plot(drt: dict, unit: ImpedanceUnit) -> dict | None:
    if not drt or not drt.get("tau"):
        return None
    rows = sorted(zip(drt["tau"], drt["gamma"], strict=True), key=lambda row: row[0])
    return {
        "tau": [row[0] for row in rows],
        "gamma": [None if row[1] is None else row[1] * unit.factor for row in rows],
    }


def analysis_context(request: HttpRequest, test: EISTest, unit: ImpedanceUnit) -> dict:
    """What the page shows of the test's analysis (``analysis`` is None before any), and
    what its plots draw (``analysis_plot``: ``fit``, ``kk``, ``drt``, each None if absent)."""
    analysis = EISAnalysis.objects.filter(test=test).select_related("job").first()
    context: dict = {
        "analysis": analysis,
        "can_analyse": can_analyse(request, test),
        "analyse_url": reverse("batterydb-pages:eis-test-analyse", args=[test.pk]),
        "default_circuit": DEFAULT_CIRCUIT,
        "analysis_plot": {"fit": None, "kk": None, "drt": None},
    }
    if analysis is None:
        return context
    kk, fit, drt = analysis.kk or {}, analysis.fit or {}, analysis.drt or {}
    context.update(
        {
            "kk": kk
            and {
                "passed": kk.get("passed"),
                "threshold": _percent(kk.get("threshold")),
                "max_residual": _percent(kk.get("max_residual")),
            },
            "fit": fit
            and {
                "circuit": fit.get("circuit", ""),
                "error": fit.get("error", ""),
                "ohmic": format_number(unit.scale(fit.get("ohmic_resistance"))),
                "charge_transfer": format_number(unit.scale(fit.get("charge_transfer_resistance"))),
                "rmse": _percent(fit.get("relative_rmse")),
                "parameters": _parameters(fit, unit),
            },
            "analysis_plot": {
                "fit": _fit_curve(fit, unit),
                "kk": _kk_plot(kk) if kk else None,
                "drt": _drt_plot(drt, unit),
            },
        }
    )
    return context


@login_required
@require_POST
def eis_test_analyse(request: HttpRequest, pk: int) -> HttpResponse:
    """Start (or restart) the test's analysis with the default parameters and the circuit
    of the form (the default circuit when left empty); back to the test's page."""
    test = get_object_or_404(visible_tests(request), pk=pk)
    if not can_analyse(request, test):
        raise PermissionDenied("Running an analysis needs the member role.")
    page = reverse("batterydb-pages:eis-test-page", args=[test.pk]) + "#analysis"
    circuit = request.POST.get("circuit", "").strip()
    if circuit:
        try:
            circuit_validate(circuit)
        except CircuitError as exc:
            messages.error(request, f"circuit: {exc}")
            return redirect(page)
    eis_analysis_start(test=test, user=request.user, params=analysis_params(circuit=circuit))
    messages.success(request, "The analysis has started.")
    return redirect(page)

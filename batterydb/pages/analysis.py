"""The analysis part of an EIS test's page: the Kramers-Kronig test, the equivalent-circuit fit
(parameters with their uncertainties, the fitted curve over the data) and the DRT of the
test's :class:`~batterydb.models.EISAnalysis`, its job's progress and whether it is stale; and
the form that starts the analysis (members of the test's organization, and staff).

The form posts to ``eis_test_analyse`` (CSRF-protected like every page form), which starts the
job through the same service as ``POST /api/v2/eis/tests/{id}/analysis/`` and sends the
browser back to the page, where ``core/job_progress.html`` shows the job until it is done.

The form asks what the API asks: the circuit, the Kramers-Kronig threshold (in % here, a
fraction of |Z| in the API) and the DRT's λ, prefilled with what the test's analysis last
asked (the defaults before any). They are validated by the API's own
:class:`~batterydb.serializers.analysis.EISAnalysisRequestSerializer`; a bad value starts
nothing and sends the browser back to the page with a message naming the field, the values
as typed kept in the form (through the session, once).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from batterydb.models import EISAnalysis, EISTest
from batterydb.pages.common import visible_tests
from batterydb.pages.sweeps import impedance_arrays
from batterydb.pages.units import ImpedanceUnit, format_number
from batterydb.serializers.analysis import EISAnalysisRequestSerializer
from batterydb.services.analysis import analysis_params, eis_analysis_start
from core.models import Membership
from core.tenancy import has_role

#: Parameter units of impedance.py that are resistances, shown in the page's impedance unit.
RESISTANCE_UNITS = {"Ohm", "Ω"}

#: The form's fields (the API's names) and how the page names them.
FIELD_LABELS = {
    "circuit": "Equivalent circuit",
    "kk_threshold": "Kramers-Kronig threshold",
    "drt_lambda": "DRT regularisation λ",
}
#: Where a rejected form waits, in the session, for the page to show it once.
REJECTED_FORM_KEY = "batterydb-eis-analysis-form-{pk}"
#: How much of a rejected value a message repeats, and the form keeps.
ECHO_LENGTH = 40
MAX_TYPED_LENGTH = 1000


def can_analyse(request: HttpRequest, test: EISTest) -> bool:
    """Whether the user may start the test's analysis: member or owner of its organization."""
    return has_role(request, test.organization_id, Membership.Role.MEMBER)


def _percent(fraction: float | None) -> str:
    return "" if fraction is None else format_number(fraction * 100)


def number_text(value: float | None) -> str:
    """``value`` as a person types it: the shortest text that reads back as the same float
    (``0.001``, ``1e-08``, ``10``); empty for a missing value."""
    if value is None:
        return ""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def fraction_as_percent(fraction: float | None) -> str:
    """A fraction (``0.007``) as the percent a person types (``0.7``), shifted in decimal so
    that no float noise shows (``0.7000000000000001``); empty for a missing value."""
    if fraction is None:
        return ""
    return format((Decimal(repr(float(fraction))) * 100).normalize(), "f")


def percent_as_fraction(raw: str) -> float | str:
    """A percent as typed (``"0.7"``) as the fraction the API takes (``0.007``, shifted in
    decimal: not ``0.006999...``); text that is not a number is answered unchanged, for the
    API's serializer to refuse."""
    try:
        return float(Decimal(raw) / 100)
    except (ArithmeticError, ValueError):
        return raw


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


def _form_limits() -> dict:
    """The ranges the API's serializer accepts, in the form's units (the threshold in %)."""
    fields = EISAnalysisRequestSerializer().fields
    kk, drt = fields["kk_threshold"], fields["drt_lambda"]
    return {
        "circuit_length": fields["circuit"].max_length,
        "kk_min": fraction_as_percent(kk.min_value),
        "kk_max": fraction_as_percent(kk.max_value),
        "drt_min": number_text(drt.min_value),
        "drt_max": number_text(drt.max_value),
    }


def _as_typed(params: dict) -> dict:
    """An analysis' parameters as the form shows them."""
    return {
        "circuit": params["circuit"],
        "kk_threshold": fraction_as_percent(params["kk_threshold"]),
        "drt_lambda": number_text(params["drt_lambda"]),
    }


def form_params(post) -> tuple[dict | None, dict[str, str]]:
    """The parameters of a posted form, validated by the API's serializer: ``(params,
    {})`` with the defaults filled in for empty fields, or ``(None, {field: message})``."""
    data: dict = {}
    for name in FIELD_LABELS:
        raw = post.get(name, "").strip()
        if raw:
            data[name] = percent_as_fraction(raw) if name == "kk_threshold" else raw
    serializer = EISAnalysisRequestSerializer(data=data)
    if serializer.is_valid():
        return analysis_params(**serializer.validated_data), {}
    limits = _form_limits()
    errors = {}
    for name, problems in serializer.errors.items():
        typed = post.get(name, "").strip()
        if len(typed) > ECHO_LENGTH:
            typed = typed[:ECHO_LENGTH] + "…"
        if name == "kk_threshold":
            why = (
                f"“{typed}” is not a percentage from {limits['kk_min']} % to {limits['kk_max']} %."
            )
        elif name == "drt_lambda":
            low, high = limits["drt_min"], limits["drt_max"]
            why = f"“{typed}” is not a number from {low} to {high}."
        else:
            why = " ".join(str(problem) for problem in problems)
        errors[name] = f"{FIELD_LABELS.get(name, name)}: {why}"
    return None, errors


def _form(request: HttpRequest, test: EISTest, analysis: EISAnalysis | None) -> dict:
    """The form's fields: ``{name: {"value", "error"}}``, the values those the analysis last
    asked (the defaults before any), or those of a form just refused, with its messages."""
    asked = analysis_params()
    if analysis is not None and analysis.params:
        asked.update({k: v for k, v in analysis.params.items() if k in FIELD_LABELS and v})
    values, errors = _as_typed(asked), {}
    refused = request.session.pop(REJECTED_FORM_KEY.format(pk=test.pk), None)
    if refused:
        values.update(refused.get("values", {}))
        errors = refused.get("errors", {})
    return {
        name: {"value": values.get(name, ""), "error": errors.get(name, "")}
        for name in FIELD_LABELS
    }


def _used(kk: dict, drt: dict) -> dict:
    """The threshold and λ the shown results were computed with."""
    return {
        "kk_threshold": fraction_as_percent(kk.get("threshold")) if kk else "",
        "drt_lambda": number_text(drt.get("lambda")) if drt else "",
    }


def analysis_context(request: HttpRequest, test: EISTest, unit: ImpedanceUnit) -> dict:
    """What the page shows of the test's analysis (``analysis`` is None before any; ``used``,
    the threshold and λ of the results shown), its form (``form``: each field's value and
    error; ``defaults`` and ``limits`` as the form shows them), and what its plots draw
    (``analysis_plot``: ``fit``, ``kk``, ``drt``, each None if absent)."""
    analysis = EISAnalysis.objects.filter(test=test).select_related("job").first()
    allowed = can_analyse(request, test)
    context: dict = {
        "analysis": analysis,
        "can_analyse": allowed,
        "analyse_url": reverse("batterydb-pages:eis-test-analyse", args=[test.pk]),
        "form": _form(request, test, analysis) if allowed else None,
        "defaults": _as_typed(analysis_params()),
        "limits": _form_limits(),
        "analysis_plot": {"fit": None, "kk": None, "drt": None},
    }
    if analysis is None:
        return context
    kk, fit, drt = analysis.kk or {}, analysis.fit or {}, analysis.drt or {}
    context.update(
        {
            "used": _used(kk, drt),
            "kk": kk
            and {
                "passed": kk.get("passed"),
                "threshold": fraction_as_percent(kk.get("threshold")),
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
    """Start (or restart) the test's analysis with the form's circuit, Kramers-Kronig
    threshold (%) and DRT λ (each its default when left empty); back to the test's page,
    where a refused value is named and nothing has started."""
    test = get_object_or_404(visible_tests(request), pk=pk)
    if not can_analyse(request, test):
        raise PermissionDenied("Running an analysis needs the member role.")
    page = reverse("batterydb-pages:eis-test-page", args=[test.pk]) + "#analysis"
    params, errors = form_params(request.POST)
    if params is None:
        for message in errors.values():
            messages.error(request, message)
        request.session[REJECTED_FORM_KEY.format(pk=test.pk)] = {
            "values": {
                name: request.POST.get(name, "").strip()[:MAX_TYPED_LENGTH] for name in FIELD_LABELS
            },
            "errors": errors,
        }
        return redirect(page)
    eis_analysis_start(test=test, user=request.user, params=params)
    messages.success(request, "The analysis has started.")
    return redirect(page)

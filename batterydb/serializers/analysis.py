"""Shapes of EIS analyses on the wire: what a POST may ask, and the analysis answered.

An analysis is rendered by :func:`analysis_as_dict` (one dict per row, no nested serializer
instances: a page of 100 analyses carries some 40,000 numbers, which lists pass through as
the database's JSON text, see :func:`results_as_text`); the serializers below describe
it for the OpenAPI schema, field for field.
"""

from __future__ import annotations

import math

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast
from rest_framework import serializers

from batterydb.analysis import (
    DEFAULT_CIRCUIT,
    DEFAULT_DRT_LAMBDA,
    DEFAULT_KK_THRESHOLD,
    MAX_DRT_LAMBDA,
    MIN_DRT_LAMBDA,
    CircuitError,
    circuit_validate,
)
from batterydb.analysis.circuits import MAX_CIRCUIT_LENGTH
from batterydb.analysis.kk import MAX_KK_THRESHOLD, MIN_KK_THRESHOLD
from batterydb.models import EISAnalysis, EISAnalysisPolicy
from batterydb.serializers.measurements import EISTestReportRowSerializer
from core.jobs import Job
from core.tenancy import OrganizationScopedSerializerMixin

RESULTS = ("kk", "fit", "drt")
NO_JOB_ERROR = "The analysis job no longer exists; start the analysis again."
_DATETIME = serializers.DateTimeField()
_LOADED = object()


class FiniteFloatField(serializers.FloatField):
    """A finite JSON number (not a boolean, not NaN or infinity)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class EISAnalysisRequestSerializer(serializers.Serializer):
    """What to analyse with; every field optional."""

    circuit = serializers.CharField(
        required=False,
        max_length=MAX_CIRCUIT_LENGTH,
        trim_whitespace=True,
        help_text=(
            f"Equivalent circuit in impedance.py's syntax; default `{DEFAULT_CIRCUIT}` "
            "(R0 ohmic, R1 charge transfer with a constant-phase element, a Warburg element)."
            " Elements: R, C, L, W, Wo, Ws, CPE, La, G, Gs, K, Zarc, TLMQ, T, each with a "
            "number (`R0`, `CPE1`); `-` in series, `p(a,b)` in parallel; at most 20 "
            "parameters. `R0` and `R1` are reported as ohmic and charge-transfer resistance."
        ),
    )
    kk_threshold = FiniteFloatField(
        required=False,
        min_value=MIN_KK_THRESHOLD,
        max_value=MAX_KK_THRESHOLD,
        help_text=(
            "The Kramers-Kronig test passes when every residual (real and imaginary, as a "
            f"fraction of |Z|) is at most this; default {DEFAULT_KK_THRESHOLD} (1 %)."
        ),
    )
    drt_lambda = FiniteFloatField(
        required=False,
        min_value=MIN_DRT_LAMBDA,
        max_value=MAX_DRT_LAMBDA,
        help_text=(
            "Tikhonov regularisation of the DRT (on the impedance scaled to its largest "
            f"modulus; larger is smoother); default {DEFAULT_DRT_LAMBDA}."
        ),
    )

    def validate_circuit(self, value: str) -> str:
        try:
            circuit_validate(value)
        except CircuitError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value.replace(" ", "")

    def validate(self, attrs):
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["Unknown field; expected circuit, kk_threshold, drt_lambda."]
                    for name in unknown
                }
            )
        return attrs


# --- the answer (schema) ------------------------------------------------------------------------
class KKResidualsSerializer(serializers.Serializer):
    frequency = serializers.ListField(child=serializers.FloatField(), help_text="Hz, descending.")
    real = serializers.ListField(child=serializers.FloatField(), help_text="Fractions of |Z|.")
    imag = serializers.ListField(child=serializers.FloatField(), help_text="Fractions of |Z|.")


class KKResultSerializer(serializers.Serializer):
    passed = serializers.BooleanField(help_text="Every residual at most the threshold.")
    threshold = serializers.FloatField()
    max_residual = serializers.FloatField(allow_null=True)
    rc_elements = serializers.IntegerField(help_text="RC elements of the Lin-KK fit.")
    mu = serializers.FloatField(allow_null=True, help_text="The over-fitting measure.")
    residuals = KKResidualsSerializer()


class FittedParameterSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    stderr = serializers.FloatField(
        allow_null=True, help_text="One standard deviation, from the fit's covariance."
    )
    unit = serializers.CharField(help_text="As impedance.py names it (Ohm, F, sec...).")


class FitCurveSerializer(serializers.Serializer):
    frequency = serializers.ListField(child=serializers.FloatField(), help_text="Hz.")
    z_real = serializers.ListField(child=serializers.FloatField(), help_text="Ohm.")
    z_imag = serializers.ListField(child=serializers.FloatField(), help_text="Ohm, Im(Z).")


class FitResultSerializer(serializers.Serializer):
    circuit = serializers.CharField()
    parameters = serializers.DictField(child=FittedParameterSerializer())
    ohmic_resistance = serializers.FloatField(allow_null=True, help_text="R0, ohm.")
    charge_transfer_resistance = serializers.FloatField(allow_null=True, help_text="R1, ohm.")
    relative_rmse = serializers.FloatField(allow_null=True, help_text="Of |Z - Z_fit| / |Z|.")
    curve = FitCurveSerializer(allow_null=True, help_text="The fit at the measured frequencies.")
    error = serializers.CharField(required=False, help_text="Why the fit did not converge.")


class DRTResultSerializer(serializers.Serializer):
    tau = serializers.ListField(child=serializers.FloatField(), help_text="Seconds.")
    gamma = serializers.ListField(child=serializers.FloatField(), help_text="Ohm per ln(tau).")
    # "lambda" is a Python keyword: declared below.
    r_inf = serializers.FloatField(help_text="Series resistance of the DRT model, ohm.")
    inductance = serializers.FloatField(help_text="Series inductance of the DRT model, H.")
    relative_rmse = serializers.FloatField()


DRTResultSerializer._declared_fields["lambda"] = serializers.FloatField(
    help_text="The regularisation used."
)


class AnalysisParamsSerializer(serializers.Serializer):
    circuit = serializers.CharField()
    kk_threshold = serializers.FloatField()
    drt_lambda = serializers.FloatField()


class EISAnalysisSerializer(serializers.Serializer):
    """An EIS test's analysis: the job's state and the last results (null until the first
    analysis finishes; kept while a new one runs)."""

    test = serializers.IntegerField()
    battery = serializers.IntegerField(allow_null=True, help_text="The test's battery.")
    completed_at = serializers.DateTimeField(allow_null=True, help_text="The test's date.")
    status = serializers.ChoiceField(choices=Job.Status.choices, help_text="The job's status.")
    progress = serializers.FloatField(help_text="The job's progress, 0 to 1.")
    error = serializers.CharField(help_text="Why the job failed; empty otherwise.")
    job = serializers.IntegerField(allow_null=True, help_text="The job (`core` jobs).")
    stale = serializers.BooleanField(help_text="The test's data changed since the results.")
    params = AnalysisParamsSerializer()
    created_at = serializers.DateTimeField()
    analysed_at = serializers.DateTimeField(allow_null=True)
    kk_passed = serializers.BooleanField(allow_null=True)
    ohmic_resistance = serializers.FloatField(allow_null=True, help_text="Fitted R0, ohm.")
    charge_transfer_resistance = serializers.FloatField(
        allow_null=True, help_text="Fitted R1, ohm."
    )
    kk = KKResultSerializer(allow_null=True)
    fit = FitResultSerializer(allow_null=True)
    drt = DRTResultSerializer(allow_null=True)

    def to_representation(self, instance: EISAnalysis) -> dict:
        return analysis_as_dict(instance)


def analysis_as_dict(analysis: EISAnalysis) -> dict:
    """The wire form of an analysis (with ``test`` and ``job`` loaded)."""
    job, test = analysis.job, analysis.test
    if job is not None:
        status, progress, error = job.status, job.progress, job.error
    elif analysis.analysed_at is not None:
        status, progress, error = Job.Status.SUCCEEDED, 1.0, ""
    else:
        status, progress, error = Job.Status.FAILED, 0.0, NO_JOB_ERROR
    return {
        "test": analysis.test_id,
        "battery": test.battery_id,
        "completed_at": _datetime(test.completed_at),
        "status": status,
        "progress": progress,
        "error": error,
        "job": analysis.job_id,
        "stale": analysis.stale,
        "params": analysis.params,
        "created_at": _datetime(analysis.created_at),
        "analysed_at": _datetime(analysis.analysed_at),
        "kk_passed": analysis.kk_passed,
        "ohmic_resistance": analysis.ohmic_resistance,
        "charge_transfer_resistance": analysis.charge_transfer_resistance,
        **{name: _result(analysis, name) for name in RESULTS},
    }


def results_as_text(analyses: list[EISAnalysis]) -> list[EISAnalysis]:
    """Give the analyses (read with their results deferred) their results as JSON text
    (``<name>_json``), in one query for them all, passed to the response as they are
    (``orjson.Fragment``) rather than parsed and written again: a page of 100 analyses holds
    some 40,000 numbers. Read after the page is chosen, so that the database turns only the
    page's results into text."""
    if not analyses:
        return analyses
    casts = {f"{name}_json": Cast(name, TextField()) for name in RESULTS}
    texts = {
        pk: values
        for pk, *values in EISAnalysis.objects.filter(pk__in=[a.pk for a in analyses])
        .annotate(**casts)
        .values_list("pk", *casts)
    }
    for analysis in analyses:
        analysis.__dict__.update(zip(casts, texts.get(analysis.pk, (None,) * 3), strict=True))
    return analyses


def _result(analysis: EISAnalysis, name: str):
    text = analysis.__dict__.get(f"{name}_json", _LOADED)
    if text is _LOADED:
        return getattr(analysis, name)
    return None if text is None or text == "null" else orjson.Fragment(text)


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


class EISTestReportFitRowSerializer(EISTestReportRowSerializer):
    """A report row; with ``fit=true`` it ends with the analysis' fitted resistances."""

    ohmic_resistance = serializers.FloatField(
        required=False, allow_null=True, help_text="With fit=true: the fitted R0 (ohm)."
    )
    charge_transfer_resistance = serializers.FloatField(
        required=False, allow_null=True, help_text="With fit=true: the fitted R1 (ohm)."
    )


MAX_QUIET_MINUTES = 7 * 24 * 60


class EISAnalysisPolicySerializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
    """An organization's re-analysis policy (one per organization; Owner role to write)."""

    quiet_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUIET_MINUTES,
        default=10,
        help_text="Minutes without new data before a stale test is analysed again (1 to a week).",
    )

    class Meta:
        model = EISAnalysisPolicy
        fields = ["id", "organization", "auto_reanalyse", "quiet_minutes"]
        read_only_fields = ["id"]

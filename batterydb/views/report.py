"""``GET eis/tests/report/``: the BatteryDB guide's impedance report of EIS tests, as JSON or
CSV, with the fitted resistances of their analyses on request (``?fit=true``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from batterydb.models import EISTest
from batterydb.renderers import MeasurementJSONRenderer
from batterydb.serializers.analysis import EISTestReportFitRowSerializer
from batterydb.services.report import MAX_REPORT_TESTS, UnknownTests, eis_test_report
from core.filters import parse_id, repeated_values
from core.renderers import CSVRenderer
from core.tenancy import scope_queryset

FIT_PARAM = "fit"
TRUE_VALUES = ("true", "1", "yes")
FALSE_VALUES = ("false", "0", "no", "")


class EISTestReportView(APIView):
    """``GET eis/tests/report/?test=105&test=104``: the guide's impedance report, one row per
    test in the requested order, as JSON or CSV (``?format=csv``). Errors are JSON whatever
    format was asked (the browsable API still shows them in its page)."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [MeasurementJSONRenderer, CSVRenderer, BrowsableAPIRenderer]
    organization_field = "organization"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        request = self.request
        if not isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
            request.accepted_renderer = MeasurementJSONRenderer()
            request.accepted_media_type = MeasurementJSONRenderer.media_type
        return response

    @extend_schema(
        summary="Impedance report of EIS tests",
        description=(
            "One row per requested test, in the requested order: `battery_id` (null if the "
            "test has no battery), then `z_real_0`.. and `z_imag_0`.., one per frequency in "
            "the order the points were stored. Tests with fewer than 42 frequencies get "
            "nulls; with more, the columns extend to the largest count. At most "
            f"{MAX_REPORT_TESTS} tests; unknown tests (or other organizations') are a 404 "
            "naming them. With `fit=true` each row ends with `ohmic_resistance` and "
            "`charge_transfer_resistance` (ohm), the fitted R0 and R1 of the test's analysis "
            "(null when the test has none, or its circuit has no R0/R1; see "
            "`eis/tests/{id}/analysis/`)."
        ),
        parameters=[
            OpenApiParameter(
                "test",
                {"type": "array", "items": {"type": "integer"}},
                required=True,
                explode=True,
                description="EIS test ids, repeated (`?test=1&test=2`) or comma-separated.",
            ),
            OpenApiParameter("format", str, enum=["json", "csv"], description="Output format."),
            OpenApiParameter(
                FIT_PARAM,
                bool,
                description="Add the fitted ohmic and charge-transfer resistance columns.",
            ),
        ],
        responses={
            (200, "application/json"): EISTestReportFitRowSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Bad or too many test ids."),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="Unknown tests, named."),
        },
    )
    def get(self, request, *args, **kwargs):
        test_ids = self.requested_tests(request)
        fit = self.wants_fit(request)
        tests = scope_queryset(EISTest.objects.all(), request, self.organization_field)
        try:
            report = eis_test_report(test_ids=test_ids, tests=tests, fit=fit)
        except UnknownTests as exc:
            missing = ", ".join(map(str, exc.test_ids[:100]))
            raise exceptions.NotFound(f"EIS tests not found: {missing}.") from exc
        return Response(report.rows)

    @staticmethod
    def requested_tests(request) -> list[int]:
        values = repeated_values(request.query_params, "test")
        if not values:
            raise exceptions.ValidationError(
                {"test": ["Name the tests: ?test=105&test=104 (or ?test=105,104)."]}
            )
        bad = [v for v in values if parse_id(v) is None]
        if bad:
            raise exceptions.ValidationError(
                {"test": [f"Test ids must be integers; got {', '.join(bad[:20])}."]}
            )
        if len(values) > MAX_REPORT_TESTS:
            raise exceptions.ValidationError(
                {"test": [f"At most {MAX_REPORT_TESTS} tests per report; got {len(values)}."]}
            )
        return [parse_id(value) for value in values]

    @staticmethod
    def wants_fit(request) -> bool:
        value = request.query_params.get(FIT_PARAM, "").strip().lower()
        if value not in TRUE_VALUES + FALSE_VALUES:
            raise exceptions.ValidationError({FIT_PARAM: ["Must be true or false."]})
        return value in TRUE_VALUES

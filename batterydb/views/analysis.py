"""EIS analyses: ``eis/tests/{id}/analysis/`` (start one, read it), ``eis/analyses/``
(every analysis the user may see, filtered, with keyset pagination) and
``eis/analysis-policies/`` (an organization's automatic re-analysis, set by its owners).

Starting needs the Member role in the test's organization (a viewer gets 403); reading any
role; other organizations' tests answer 404. The analysis runs as a background job
(``batterydb.services.analysis``): the POST answers 202 with its state at once.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.response import Response

from batterydb.filters import EISAnalysisFilterSet, EISAnalysisPolicyFilterSet
from batterydb.models import EISAnalysis, EISAnalysisPolicy, EISTest
from batterydb.serializers.analysis import (
    RESULTS,
    EISAnalysisPolicySerializer,
    EISAnalysisRequestSerializer,
    EISAnalysisSerializer,
    analysis_as_dict,
    results_as_text,
)
from batterydb.services.analysis import analysis_params, eis_analysis_start
from core.access import AccessControlledViewSetMixin, AccessPolicy, RoleAtLeast
from core.tenancy import Role
from core.viewsets import OrganizationScopedModelViewSet

NOT_ANALYSED = "This EIS test has not been analysed; POST to this URL to start an analysis."

EXAMPLE_REQUEST = OpenApiExample(
    "Default circuit, stricter KK test",
    value={"circuit": "R0-p(R1,CPE1)-W1", "kk_threshold": 0.005, "drt_lambda": 0.001},
    request_only=True,
)


class EISTestAnalysisView(AccessControlledViewSetMixin, generics.GenericAPIView):
    """The analysis of one EIS test: Kramers-Kronig test, equivalent-circuit fit and DRT."""

    queryset = EISTest.objects.select_related("organization")
    serializer_class = EISAnalysisRequestSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        operation_id="eis_tests_analysis_retrieve",
        summary="The test's analysis: job state and results",
        description=(
            "404 before any analysis. `status`, `progress` and `error` are the job's; `kk`, "
            "`fit` and `drt` are the results of the last analysis that finished (null until "
            "the first does; kept while a new one runs); `stale` is true when the test's data "
            "changed since they were computed."
        ),
        responses={
            200: EISAnalysisSerializer,
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="Unknown test, or not analysed."),
        },
    )
    def get(self, request, *args, **kwargs):
        test = self.get_object()
        analysis = EISAnalysis.objects.select_related("job", "test").filter(test_id=test.pk).first()
        if analysis is None:
            raise exceptions.NotFound(NOT_ANALYSED)
        return Response(analysis_as_dict(analysis))

    @extend_schema(
        operation_id="eis_tests_analysis_create",
        summary="Start (or restart) the test's analysis (Member role)",
        description=(
            "Optional `circuit`, `kk_threshold`, `drt_lambda` (see their descriptions for the "
            "defaults); a bad value is a 400 naming the field. Answers 202 with the analysis' "
            "state; poll GET on the same URL. The sweep is the test's `z_real`/`z_imag` points "
            "(at least 8 frequencies; otherwise the job fails saying so)."
        ),
        request=EISAnalysisRequestSerializer,
        examples=[EXAMPLE_REQUEST],
        responses={
            202: EISAnalysisSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Bad parameters, by field."),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Viewer role only."),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="Unknown test."),
        },
    )
    def post(self, request, *args, **kwargs):
        test = self.get_object()  # 404 outside the user's organizations, 403 for a viewer
        data = request.data
        if data is None or data == "":
            data = {}
        if not isinstance(data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Expected an object: {circuit, kk_threshold, drt_lambda}."]}
            )
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        analysis = eis_analysis_start(
            test=test, user=request.user, params=analysis_params(**serializer.validated_data)
        )
        analysis.test = test
        return Response(analysis_as_dict(analysis), status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="List EIS analyses",
        description=(
            "Every analysis you may see, ordered by id unless `ordering` says otherwise, each "
            "with its test, battery, test date (`completed_at`), resistances, status, `stale` "
            "and the full results: follow a battery's ohmic and charge-transfer resistance over "
            "its life with `?battery=<id>`. `limit` up to 1,000; follow `next`."
        ),
    )
)
class EISAnalysisViewSet(
    AccessControlledViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """EIS analyses across tests."""

    queryset = EISAnalysis.objects.select_related("job", "test")
    serializer_class = EISAnalysisSerializer
    filterset_class = EISAnalysisFilterSet
    ordering = ["id"]
    ordering_fields = [
        "id",
        "created_at",
        "updated_at",
        "analysed_at",
        "ohmic_resistance",
        "charge_transfer_resistance",
    ]

    def get_queryset(self):
        return super().get_queryset().defer(*RESULTS)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else results_as_text(list(page))


@extend_schema_view(
    list=extend_schema(summary="List the EIS re-analysis policies of your organizations"),
    create=extend_schema(
        summary="Set an organization's EIS re-analysis policy (Owner role)",
        description=(
            "One per organization. With `auto_reanalyse`, a stale analysis (its test's data "
            "changed) is started again once the data have been quiet for `quiet_minutes`. "
            "Without a policy nothing is analysed again on its own."
        ),
    ),
    retrieve=extend_schema(summary="An EIS re-analysis policy"),
    update=extend_schema(summary="Replace an EIS re-analysis policy (Owner role)"),
    partial_update=extend_schema(summary="Update an EIS re-analysis policy (Owner role)"),
    destroy=extend_schema(summary="Delete an EIS re-analysis policy (Owner role)"),
)
class EISAnalysisPolicyViewSet(OrganizationScopedModelViewSet):
    """Organizations' automatic re-analysis of stale EIS tests."""

    queryset = EISAnalysisPolicy.objects.all()
    serializer_class = EISAnalysisPolicySerializer
    access = AccessPolicy(create=Role.OWNER, update=RoleAtLeast(Role.OWNER))
    filterset_class = EISAnalysisPolicyFilterSet
    ordering = ["id"]
    ordering_fields = ["id"]

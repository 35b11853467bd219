"""EIS analysis routes under ``/api/v2/``: ``eis/tests/{id}/analysis/``, ``eis/analyses/`` and
``eis/analysis-policies/``. Included ahead of the resources."""

from django.urls import path

from batterydb.views.analysis import (
    EISAnalysisPolicyViewSet,
    EISAnalysisViewSet,
    EISTestAnalysisView,
)
from core.routers import OptionalSlashRouter, optional_slash

router = OptionalSlashRouter()
router.register("eis/analyses", EISAnalysisViewSet, basename="eis-analysis")
router.register("eis/analysis-policies", EISAnalysisPolicyViewSet, basename="eis-analysis-policy")

urlpatterns = optional_slash(
    [
        path(
            "eis/tests/<int:pk>/analysis/", EISTestAnalysisView.as_view(), name="eis-test-analysis"
        ),
        *router.urls,
    ]
)

"""BatteryDB measurement routes under ``/api/v2/``: EIS data, BMS results and the EIS test
report. Included ahead of the resources, so ``eis/tests/report/`` wins over
``eis/tests/{id}/``."""

from django.urls import path

from batterydb.views.measurements import BMSResultViewSet, EISDataViewSet
from batterydb.views.report import EISTestReportView
from core.routers import OptionalSlashRouter, optional_slash

router = OptionalSlashRouter()
router.register("eis/data", EISDataViewSet, basename="eis-data")
router.register("bms/results", BMSResultViewSet, basename="bms-result")

urlpatterns = optional_slash(
    [
        path("eis/tests/report/", EISTestReportView.as_view(), name="eis-test-report"),
        *router.urls,
    ]
)

"""BatteryDB routes that read files into data under ``/api/v2/``: an instrument file's sweep
as an EIS test's data (``eis/tests/{id}/import/``) and a BMS file's CAN log decoded into BMS
results (``bms/files/{id}/decode/``). Included ahead of the resources."""

from django.urls import path

from batterydb.views.decode import BMSFileDecodeView
from batterydb.views.imports import EISTestImportView
from core.routers import optional_slash

urlpatterns = optional_slash(
    [
        path("eis/tests/<int:pk>/import/", EISTestImportView.as_view(), name="eis-test-import"),
        path("bms/files/<int:pk>/decode/", BMSFileDecodeView.as_view(), name="bms-file-decode"),
    ]
)

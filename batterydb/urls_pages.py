"""BatteryDB web pages, mounted by the root URLs at ``/batterydb/``:
``path("batterydb/", include("batterydb.urls_pages"))``."""

from django.urls import path

from batterydb import pages

app_name = "batterydb-pages"

urlpatterns = [
    path("eis-tests/", pages.eis_test_list, name="eis-test-list"),
    path("eis-tests/compare/", pages.eis_compare, name="eis-compare"),
    path("eis-tests/<int:pk>/", pages.eis_test_page, name="eis-test-page"),
    path("eis-tests/<int:pk>/analyse/", pages.eis_test_analyse, name="eis-test-analyse"),
    path("eis-tests/<int:pk>/import/", pages.eis_test_import, name="eis-test-import"),
    path("bms-tests/", pages.bms_test_list, name="bms-test-list"),
    path("bms-tests/<int:pk>/", pages.bms_test_page, name="bms-test-page"),
    path("bms-files/<int:pk>/decode/", pages.bms_file_decode, name="bms-file-decode"),
]

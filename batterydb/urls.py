"""BatteryDB v2 URLs under ``/api/v2/``: the resources and the measurement data.

Organizations and users come from ``core.api_urls``, mounted ahead of these.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("batterydb.urls_measurements")),
    path("", include("batterydb.urls_resources")),
]

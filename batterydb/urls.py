"""BatteryDB v2 URLs under ``/api/v2/``: the API root, the resources and the measurement data.

Organizations and users come from ``core.api_urls``, mounted ahead of these.
"""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView

from batterydb import urls_measurements, urls_resources
from core import api_urls


class BatteryDBRootView(APIRootView):
    """The BatteryDB v2 API root: a link to each resource's list."""

    permission_classes = [AllowAny]


def _root_links() -> dict[str, str]:
    links = {"eis/tests/report": "batterydb-eis-test-report"}
    for router in (api_urls.router, urls_measurements.router, urls_resources.router):
        for prefix, _viewset, basename in router.registry:
            links.setdefault(prefix, f"{basename}-list")
    return dict(sorted(links.items()))


urlpatterns = [
    path("", BatteryDBRootView.as_view(api_root_dict=_root_links()), name="batterydb-api-root"),
    path("", include("batterydb.urls_measurements")),
    path("", include("batterydb.urls_resources")),
]

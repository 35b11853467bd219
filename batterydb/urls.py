"""BatteryDB v2 URLs under ``/api/v2/``, in the ``batterydb`` namespace: the API root, the
resources and the measurement data (``batterydb:battery-list``, ``batterydb:eis-data-list``...).

Organizations and users come from ``core.api_urls``, mounted ahead of these with the
platform's own names (``organization-list``, ``user-list``).
"""

from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from batterydb import urls_analysis, urls_measurements, urls_resources
from core import api_urls

app_name = "batterydb"


class BatteryDBRootView(APIView):
    """The BatteryDB v2 API root: a link to each resource's list."""

    permission_classes = [permissions.AllowAny]
    links: dict[str, str] = {}

    @extend_schema(
        summary="The API root: a link to each resource's list",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, *args, **kwargs):
        return Response(
            {prefix: reverse(name, request=request) for prefix, name in self.links.items()}
        )


def _root_links() -> dict[str, str]:
    links = {"eis/tests/report": f"{app_name}:eis-test-report"}
    for router in (urls_measurements.router, urls_analysis.router, urls_resources.router):
        for prefix, _viewset, basename in router.registry:
            links.setdefault(prefix, f"{app_name}:{basename}-list")
    for prefix, _viewset, basename in api_urls.router.registry:
        links.setdefault(prefix, f"{basename}-list")
    return dict(sorted(links.items()))


urlpatterns = [
    path("", BatteryDBRootView.as_view(links=_root_links()), name="api-root"),
    path("", include("batterydb.urls_measurements")),
    path("", include("batterydb.urls_imports")),
    path("", include("batterydb.urls_analysis")),
    path("", include("batterydb.urls_resources")),
]

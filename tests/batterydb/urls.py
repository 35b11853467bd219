"""The platform's URLs with the BatteryDB pages at ``/batterydb/``, so the page tests pass
whether or not the root URLs mount them (they do since the pages were wired in)."""

from django.urls import include, path

from core.urls import urlpatterns as platform_urlpatterns

already_mounted = any(getattr(p, "namespace", None) == "batterydb" for p in platform_urlpatterns)

urlpatterns = [
    *([] if already_mounted else [path("batterydb/", include("batterydb.urls_pages"))]),
    path("", include("core.urls")),
]

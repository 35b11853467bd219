"""The platform's URLs plus the BatteryDB pages, for tests that run before the root URLs
mount them."""

from django.urls import include, path

urlpatterns = [
    path("batterydb/", include("batterydb.urls_pages")),
    path("", include("core.urls")),
]

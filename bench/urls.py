"""The platform's URLs plus bench-only endpoints under ``/bench/``."""

from django.urls import include, path

from bench.views import AuthView, NoAuthDatabaseView, NoAuthView, plain_view

urlpatterns = [
    path("bench/plain/", plain_view, name="bench-plain"),
    path("bench/drf/", NoAuthView.as_view(), name="bench-drf"),
    path("bench/drf-db/", NoAuthDatabaseView.as_view(), name="bench-drf-db"),
    path("bench/drf-auth/", AuthView.as_view(), name="bench-drf-auth"),
    path("", include("core.urls")),
]

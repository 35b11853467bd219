"""The bench URLs plus the plain-Django reference list of EIS analyses."""

from django.urls import include, path

from bench.analysis_views import eis_analyses_plain

urlpatterns = [
    path("bench/analyses-plain/", eis_analyses_plain, name="bench-eis-analyses-plain"),
    path("", include("bench.urls")),
]

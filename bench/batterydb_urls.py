"""The bench URLs plus the plain-Django reference lists of EIS data."""

from django.urls import include, path

from bench.batterydb_views import eis_data_plain_json, eis_data_plain_orjson

urlpatterns = [
    path("bench/batterydb/eis-data-plain/", eis_data_plain_json, name="bench-eis-data-plain"),
    path(
        "bench/batterydb/eis-data-plain-orjson/",
        eis_data_plain_orjson,
        name="bench-eis-data-plain-orjson",
    ),
    path("", include("bench.urls")),
]

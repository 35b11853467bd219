"""The bench URLs plus the plain-Django reference of the passport benchmark
(``bench.views.passport_plain``), after the platform's own: resolving its URL walks the same
patterns as the API's."""

from django.urls import include, re_path

from bench.views import passport_plain
from passport.definitions import ID_REGEX, SECTIONS

SECTION = "|".join(SECTIONS)

urlpatterns = [
    re_path(r"", include("bench.urls")),
    re_path(
        rf"^bench/passport-plain/(?P<battery_id>{ID_REGEX})/(?P<section>{SECTION})/$",
        passport_plain,
        name="bench-passport-plain-section",
    ),
    re_path(
        rf"^bench/passport-plain/(?P<battery_id>{ID_REGEX})/$",
        passport_plain,
        name="bench-passport-plain",
    ),
]

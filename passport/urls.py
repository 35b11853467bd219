"""URLs of the Digital Battery Passport API, mounted at ``/passport/``, and of its web pages
(``p/``: the list, ``p/<batteryIDDMCCode>/`` the public page of a passport, the address its QR
code encodes: keep it stable, it is printed on batteries).

Every route answers with and without the trailing slash, for every method
(``core.routers.optional_slash``); the slashed form is the named one. The id in the path is
``batteryIDDMCCode`` in its own alphabet (``passport.schema.ID_REGEX``, dots included), and no
format-suffix route competes with it.
"""

from django.urls import re_path

from core.routers import optional_slash
from passport import pages
from passport.definitions import ID_FIELD, ID_REGEX
from passport.views import (
    SECTION_VIEWSETS,
    PassportCarrierPNGViewSet,
    PassportCarrierSVGViewSet,
    PassportCompletenessViewSet,
    PassportGrantViewSet,
    PassportHistoryViewSet,
    PassportViewSet,
)

app_name = "passport"

PASSPORT = rf"^batteryPass/(?P<{ID_FIELD}>{ID_REGEX})"

DETAIL = {"get": "retrieve", "put": "update", "patch": "partial_update"}

urlpatterns = optional_slash(
    [
        re_path(
            r"^batteryPass/$",
            PassportViewSet.as_view({"get": "list", "post": "create"}),
            name="battery-pass-list",
        ),
        re_path(
            rf"{PASSPORT}/$",
            PassportViewSet.as_view({**DETAIL, "delete": "destroy"}),
            name="battery-pass-detail",
        ),
        *[
            re_path(
                rf"{PASSPORT}/{section}/$",
                viewset.as_view(DETAIL),
                name=f"battery-pass-{section}",
            )
            for section, viewset in SECTION_VIEWSETS.items()
        ],
        re_path(
            rf"{PASSPORT}/grants/$",
            PassportGrantViewSet.as_view({"get": "list", "post": "create"}),
            name="battery-pass-grant-list",
        ),
        re_path(
            rf"{PASSPORT}/grants/(?P<grant_id>[0-9]{{1,18}})/$",
            PassportGrantViewSet.as_view({"delete": "destroy"}),
            name="battery-pass-grant-detail",
        ),
        re_path(
            rf"{PASSPORT}/history/$",
            PassportHistoryViewSet.as_view({"get": "list"}),
            name="battery-pass-history",
        ),
        re_path(
            rf"{PASSPORT}/history/(?P<version>[0-9]{{1,9}})/$",
            PassportHistoryViewSet.as_view({"get": "retrieve"}),
            name="battery-pass-version",
        ),
        re_path(
            rf"{PASSPORT}/completeness/$",
            PassportCompletenessViewSet.as_view({"get": "retrieve"}),
            name="battery-pass-completeness",
        ),
        re_path(
            rf"{PASSPORT}/carrier\.svg/$",
            PassportCarrierSVGViewSet.as_view({"get": "retrieve"}),
            name="battery-pass-carrier-svg",
        ),
        re_path(
            rf"{PASSPORT}/carrier\.png/$",
            PassportCarrierPNGViewSet.as_view({"get": "retrieve"}),
            name="battery-pass-carrier-png",
        ),
        # Web pages.
        re_path(r"^p/$", pages.passport_list, name="page-list"),
        re_path(rf"^p/(?P<battery_id>{ID_REGEX})/$", pages.passport_page, name="page"),
    ]
)

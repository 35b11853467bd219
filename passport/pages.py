"""Web pages of the passports, under ``/passport/p/``: the public page of each passport (the
address its QR code encodes) and the list of the passports of one's organizations.

The public page is for anyone, without logging in: the passport's public part (Annex XIII
point 1), the manufacturer from the organization's profile, grouped by the regulation's
sections with units (``passport.presentation``), and the QR code. A logged-in reader with
more classes (a grant, the organization, staff) sees the other points too, as in the API.
The pages live under the API's prefix but keep the site's HTML error pages
(``html_errors``). No inline script or style.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from core.exceptions import html_errors
from core.tenancy import is_staff, organization_roles
from core.web_views import require_methods
from passport import carrier, catenax
from passport.access import points_of
from passport.classes import ALL_POINTS, trim
from passport.completeness import UNKNOWN
from passport.definitions import ID_FIELD
from passport.models import Passport
from passport.presentation import page_sections

PASSPORTS_PER_PAGE = 50

POINT_NAMES = {
    1: "public information",
    2: "composition, parts and dismantling",
    3: "test reports",
    4: "state of health and use",
}


@html_errors
@require_methods("GET", "HEAD")
def passport_page(request: HttpRequest, battery_id: str) -> HttpResponse:
    passport = (
        Passport.objects.select_related("organization")
        .only("id", "battery_id", "document", "organization", "version", "updated_at")
        .filter(battery_id=battery_id)
        .first()
    )
    if passport is None:
        raise Http404("No battery passport has this identifier.")
    points = points_of(request, passport)
    document = trim({ID_FIELD: passport.battery_id, **passport.document}, points)
    api_url = reverse("passport:battery-pass-detail", args=[passport.battery_id])
    context = {
        "passport": passport,
        "sections": page_sections(document, passport.organization),
        "points": sorted(points),
        "point_names": [POINT_NAMES[point] for point in sorted(points)],
        "sees_everything": points >= ALL_POINTS,
        "page_url": carrier.page_url(request, passport.battery_id),
        # The images by their file names (the routes answer with and without the slash).
        "qr_svg": reverse("passport:battery-pass-carrier-svg", args=[passport.battery_id])[:-1],
        "qr_png": reverse("passport:battery-pass-carrier-png", args=[passport.battery_id])[:-1],
        "api_url": api_url,
        "catenax_url": f"{api_url}?format={catenax.FORMAT}",
    }
    return render(request, "passport/page.html", context)


@html_errors
@login_required
@require_methods("GET", "HEAD")
def passport_list(request: HttpRequest) -> HttpResponse:
    """The passports of the user's organizations (staff: every one), newest first."""
    passports = Passport.objects.select_related("organization").only(
        "id",
        "battery_id",
        "battery_category",
        "completeness",
        "complete",
        "version",
        "updated_at",
        "organization__name",
    )
    if not is_staff(request):
        passports = passports.filter(organization_id__in=list(organization_roles(request)))
    query = request.GET.get("q", "").strip()[:128]
    if query:
        passports = passports.filter(battery_id__icontains=query)
    page = Paginator(passports.order_by("-id"), PASSPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "passport/page_list.html", {"page": page, "query": query, "unknown": UNKNOWN}
    )

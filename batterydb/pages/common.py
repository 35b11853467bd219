"""What the BatteryDB pages share: scoping to the user's organizations, reading ids from the
query string, and the page answering bad input."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.tenancy import scope_queryset


def visible(request: HttpRequest, model: type[Model]) -> QuerySet:
    """``model``'s objects in the user's organizations (all of them for staff)."""
    return scope_queryset(model.objects.all(), request, "organization")


def visible_tests(request: HttpRequest) -> QuerySet:
    """The EIS tests the user may see, with what the pages show of them."""
    from batterydb.models import EISTest

    return visible(request, EISTest).select_related("organization", "battery", "device")


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The site's error page with status 400; ``message`` names the field and what it wants."""
    context = {"status": 400, "title": "Bad request", "message": message}
    return render(request, "core/error.html", context, status=400)

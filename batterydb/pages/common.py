"""What the BatteryDB pages share: scoping to the user's organizations, reading ids from the
query string, and the page answering bad input."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from core.filters import parse_id
from core.tenancy import scope_queryset


def visible(request: HttpRequest, model: type[Model]) -> QuerySet:
    """``model``'s objects in the user's organizations (all of them for staff)."""
    return scope_queryset(model.objects.all(), request, "organization")


def visible_tests(request: HttpRequest) -> QuerySet:
    """The EIS tests the user may see, with what the pages show of them."""
    from batterydb.models import EISTest

    return visible(request, EISTest).select_related("organization", "battery", "device")


class BadFilter(Exception):
    """A list filter's value is not an id: the page answers :func:`bad_request`."""


def by_battery_or_device(request: HttpRequest, tests: QuerySet) -> tuple[QuerySet, dict]:
    """``tests`` narrowed by ``?battery=<id>`` or ``?device=<id>`` (visible ones, else 404),
    and the battery or device for the page's heading; :class:`BadFilter` for a bad id."""
    from batterydb.models import Battery, EISDevice

    context: dict = {}
    for name, model in (("battery", Battery), ("device", EISDevice)):
        raw = request.GET.get(name)
        if raw is None or raw == "":
            continue
        pk = parse_id(raw)
        if pk is None:
            raise BadFilter(f"{name}: give the id of a {name}, a positive integer.")
        context[name] = get_object_or_404(visible(request, model), pk=pk)
        tests = tests.filter(**{name: context[name]})
    return tests, context


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The site's error page with status 400; ``message`` names the field and what it wants."""
    context = {"status": 400, "title": "Bad request", "message": message}
    return render(request, "core/error.html", context, status=400)

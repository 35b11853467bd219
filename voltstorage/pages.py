"""Web pages of VoltStorage, mounted at ``/voltstorage/``: the products one may see and a page
per product with its latest data, live over the product's stream, and a day's power curves and
state of charge drawn from the export (``maxPoints``) by ``voltstorage/product.js``.

Login required; scoped like the API (a product one may not see is a 404; staff see all). The
pages live under the API's prefix but keep the site's HTML error pages (``html_errors``). No
inline script: the page hands its URLs to the script in ``data-`` attributes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from core.exceptions import html_errors
from voltstorage import catalogue
from voltstorage.models import Series
from voltstorage.services import latest_message
from voltstorage.views import visible_products

PRODUCTS_PER_PAGE = 50
#: The fields the day's chart draws: powers on the left axis, the state of charge on the right.
CHART_FIELDS = ("pvPower", "householdPower", "gridPower", "inverterPower", "stateOfCharge")
CHART_POINTS = 2000


@html_errors
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    products = visible_products(request).select_related("type", "group").order_by("id")
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "voltstorage/product_list.html", {"page": page})


def _day(request: HttpRequest, zone: zoneinfo.ZoneInfo) -> dt.date:
    raw = request.GET.get("day")
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    return dt.datetime.now(zone).date()


@html_errors
@login_required
def product_page(request: HttpRequest, pk: int) -> HttpResponse:
    product = visible_products(request).select_related("type", "group", "owner").filter(pk=pk)
    product = product.first()
    if product is None:
        raise Http404("No such product.")
    zone = zoneinfo.ZoneInfo(product.timezone)
    day = _day(request, zone)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    series = Series.objects.filter(product=product, component__isnull=True).first()
    latest = latest_message(series.latest if series else {})
    rows = [(spec, latest["data"].get(spec.name)) for spec in catalogue.FIELDS]
    offset_minutes = int(start.utcoffset().total_seconds() // 60)
    export = reverse("voltstorage:export-json")
    context = {
        "product": product,
        "rows": rows,
        "latest_time": (
            dt.datetime.fromtimestamp(latest["time"], zone) if latest["time"] is not None else None
        ),
        "day": day,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "stream_path": f"/voltstorage/rest/products/{product.pk}/stream",
        "export_url": (
            f"{export}?productId={product.pk}&from={int(start.timestamp())}"
            f"&to={int(end.timestamp()) - 1}&fields={','.join(CHART_FIELDS)}"
            f"&maxPoints={CHART_POINTS}&tz={offset_minutes}&precision=4"
        ),
        "chart_fields": ",".join(CHART_FIELDS),
        "day_start": int(start.timestamp()),
        "day_end": int(end.timestamp()),
        "api_url": reverse("voltstorage:product-detail", args=[product.pk]),
    }
    return render(request, "voltstorage/product_page.html", context)

"""Reference views for the EIS data list: plain Django, ``values()`` and JSON.

They paginate as the API does (``limit`` up to 10,000, ``offset``, ``count``, an offset
``next`` link, the ``?test=`` filter, ordered by id) but have no authentication, no scoping,
no DRF and no keyset cursor. ``eis_data_plain_json`` answers with ``JsonResponse`` (the
standard library's json), ``eis_data_plain_orjson`` with orjson: the stricter reference.
"""

from __future__ import annotations

import orjson
from django.db.models import Q
from django.http import HttpResponse, JsonResponse

from batterydb.models import EISData

FIELDS = ("id", "organization", "test", "frequency", "parameter", "value")


def _page(request) -> dict:
    limit = max(1, min(int(request.GET.get("limit", 100)), 10_000))
    offset = max(0, int(request.GET.get("offset", 0)))
    queryset = EISData.objects.order_by("id")
    tests = [int(t) for value in request.GET.getlist("test") for t in value.split(",") if t]
    if tests:
        # The same query as the API's (see EISDataFilterSet.filter_test), so that both lists
        # use the partial indexes.
        either = Q(frequency__isnull=True) | Q(frequency__isnull=False)
        queryset = queryset.filter(either, test_id__in=tests)
    count = queryset.count()
    results = list(queryset.values(*FIELDS)[offset : offset + limit])
    next_link = None
    if offset + limit < count:
        query = request.GET.copy()
        query["limit"], query["offset"] = str(limit), str(offset + limit)
        next_link = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"count": count, "next": next_link, "previous": None, "results": results}


def eis_data_plain_json(request):
    return JsonResponse(_page(request))


def eis_data_plain_orjson(request):
    return HttpResponse(orjson.dumps(_page(request)), content_type="application/json")

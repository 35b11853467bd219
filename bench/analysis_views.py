"""The reference for reading stored EIS analyses: plain Django, ``values()`` and
``JsonResponse``, the first ``limit`` analyses by id with the same fields as the API's items
(results included), without authentication, scoping, filters, DRF or a keyset cursor."""

from __future__ import annotations

from django.http import JsonResponse

from batterydb.models import EISAnalysis

FIELDS = {
    "test": "test_id",
    "battery": "test__battery_id",
    "completed_at": "test__completed_at",
    "status": "job__status",
    "progress": "job__progress",
    "error": "job__error",
    "job": "job_id",
    "stale": "stale",
    "params": "params",
    "created_at": "created_at",
    "analysed_at": "analysed_at",
    "kk_passed": "kk_passed",
    "ohmic_resistance": "ohmic_resistance",
    "charge_transfer_resistance": "charge_transfer_resistance",
    "kk": "kk",
    "fit": "fit",
    "drt": "drt",
}


def eis_analyses_plain(request):
    limit = max(1, min(int(request.GET.get("limit", 100)), 1000))
    rows = EISAnalysis.objects.order_by("id").values_list(*FIELDS.values())[:limit]
    names = list(FIELDS)
    return JsonResponse({"results": [dict(zip(names, row, strict=True)) for row in rows]})

"""Annex XIII completeness of a passport."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from passport.access import points_of
from passport.completeness import UNKNOWN, completeness_of
from passport.definitions import ID_FIELD
from passport.openapi import ref
from passport.views.base import PassportViewSetBase


class PassportCompletenessViewSet(PassportViewSetBase):
    """What Annex XIII requires of a passport's category and is missing."""

    @extend_schema(
        summary="Get the Annex XIII completeness of a batteryPass",
        description=(
            "The category is recognised from batteryCategory (LMT battery, electric vehicle "
            "battery, industrial battery, stationary battery energy storage system; any case); "
            "anything else answers `category unknown`. `complete` and `percentage` are over "
            "every point; `points` shows the points the reader sees, with the missing paths."
        ),
        responses={200: ref("Completeness")},
    )
    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        points = points_of(request, passport)
        document = {ID_FIELD: passport.battery_id, **passport.document}
        result = completeness_of(document)
        if result.category is None:
            state = UNKNOWN
        else:
            state = "complete" if result.complete else "incomplete"
        return Response(
            {
                ID_FIELD: passport.battery_id,
                "batteryCategory": passport.document.get("batteryCategory"),
                "category": result.category,
                "status": state,
                "complete": result.complete,
                "percentage": result.percentage,
                "points": {
                    str(number): {
                        "required": point.required,
                        "present": point.present,
                        "percentage": point.percentage,
                        "missing": point.missing,
                    }
                    for number, point in result.points.items()
                    if number in points
                },
            }
        )

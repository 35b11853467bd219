"""The versions of a passport."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.openapi import PAGE_HEADERS
from passport.access import RESTRICTED, is_member_or_staff, points_of
from passport.classes import ALL_POINTS, node_at, trim
from passport.definitions import ID_FIELD
from passport.models import Passport
from passport.openapi import PAGE_PARAMETERS, PassportAutoSchema, ref
from passport.pagination import Page
from passport.schema import path_parts
from passport.serializers import PassportFormSerializer, passport_data
from passport.views.base import TRIM_NOTE

HistoricalPassport = Passport.history.model


class PassportHistoryViewSet(viewsets.GenericViewSet):
    """The versions of a passport, newest first, trimmed to the reader. Read by whoever sees
    more than the public point (a grant or the organization) and staff; once the passport is
    deleted, by its organization and staff only."""

    permission_classes = [IsAuthenticated]
    serializer_class = PassportFormSerializer
    pagination_class = None
    filter_backends: list = []
    schema = PassportAutoSchema()
    queryset = HistoricalPassport.objects.none()

    def versions(self):
        """The passport's versions (without the record of its deletion) and the reader's
        points."""
        battery_id = self.kwargs[ID_FIELD]
        passport = Passport.objects.filter(battery_id=battery_id).first()
        if passport is not None:
            points = points_of(self.request, passport)
            if not points & RESTRICTED:
                raise PermissionDenied(
                    "The history of a passport is read by its organization and by users it "
                    "granted legitimate interest or authorities access."
                )
            passport_pk = passport.pk
        else:
            last = (
                HistoricalPassport.objects.filter(battery_id=battery_id)
                .order_by("-history_id")
                .values("id", "organization_id")
                .first()
            )
            if last is None or not is_member_or_staff(self.request, last["organization_id"]):
                raise NotFound("No passport with this batteryIDDMCCode.")
            passport_pk, points = last["id"], ALL_POINTS
        versions = HistoricalPassport.objects.filter(id=passport_pk, battery_id=battery_id)
        return versions.exclude(history_type="-"), points

    @extend_schema(
        summary="Get the versions of a batteryPass",
        description=(
            "Newest first: who changed what and when, with JSON paths into the passport; "
            "version 1 is the passport as created. Paged like the list. " + TRIM_NOTE
        ),
        parameters=[*PAGE_PARAMETERS, *PAGE_HEADERS],
        responses={
            200: ref("History"),
            403: OpenApiResponse(
                description="The reader sees only the public point of this passport."
            ),
        },
    )
    def list(self, request, *args, **kwargs):
        versions, points = self.versions()
        versions = versions.select_related("history_user").order_by("-version", "-history_id")
        page = Page(request, versions)
        data = [
            {
                "version": version.version,
                "at": version.history_date.isoformat().replace("+00:00", "Z"),
                "by": version.history_user.username if version.history_user else None,
                "changes": visible_changes(version.changes, points),
            }
            for version in page.items
        ]
        return Response({"data": data}, headers=page.headers())

    @extend_schema(
        summary="Get a batteryPass as it was at a version",
        description=TRIM_NOTE,
        responses={
            200: ref("Envelope"),
            403: OpenApiResponse(
                description="The reader sees only the public point of this passport."
            ),
        },
    )
    def retrieve(self, request, *args, **kwargs):
        versions, points = self.versions()
        version = versions.filter(version=self.kwargs["version"]).order_by("-history_id").first()
        if version is None:
            raise NotFound("No such version of this passport.")
        return Response({"data": [passport_data(version, points)]})


def _shown(value, points, node):
    """``value`` at ``node`` as ``points`` may see it, and whether anything of it shows."""
    if value is None:
        return None, False
    visible = trim(value, points, node)
    if visible is None or (visible == {} and value != {}):
        return None, False
    return visible, True


def visible_changes(changes: list[dict], points: frozenset[int]) -> list[dict]:
    """The changes of a version as ``points`` may see them: a change of a field the reader
    may not see goes; a change of a whole object keeps only its visible part."""
    if points >= ALL_POINTS:
        return changes
    result = []
    for change in changes:
        try:
            node = node_at(path_parts(change["path"]))
        except ValueError:  # not a path of this API: nothing of it is known to be public
            continue
        if node is None:
            continue
        old, old_shows = _shown(change["old"], points, node)
        new, new_shows = _shown(change["new"], points, node)
        if old_shows or new_shows:
            result.append({"path": change["path"], "old": old, "new": new})
    return result

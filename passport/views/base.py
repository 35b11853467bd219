"""The base of the passport views: a passport found by its id under the passport access policy,
and the notes their documentation shares."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS

from core.access import AccessControlledViewSetMixin
from core.parsers import ORJSONParser
from passport.access import PASSPORT_ACCESS
from passport.definitions import ID_FIELD, ID_REGEX
from passport.models import Passport
from passport.openapi import PassportAutoSchema
from passport.serializers import PassportFormSerializer

PATCH_NOTE = (
    "The body is merged into the stored passport as JSON Merge Patch does (RFC 7396): objects "
    "merge key by key, `null` removes a key, any other value (an array too) replaces what was "
    "there. The result is checked as a whole."
)
TRIM_NOTE = (
    "Trimmed to the reader (EU Battery Regulation 2023/1542, Annex XIII): anyone sees point 1; "
    "a user granted legitimate interest points 1, 2 and 4; a user granted authorities points "
    "1, 2 and 3; the owning organization's members and staff everything. Keys the reader may "
    "not see are left out."
)
NOT_YOURS = (
    "Only members of the passport's organization may do this (members to create and update, "
    "owners to delete); a grant never allows writing."
)
WRITE_ERRORS = {
    403: OpenApiResponse(description=NOT_YOURS),
}


class PassportViewSetBase(AccessControlledViewSetMixin, viewsets.GenericViewSet):
    """A passport found by its ``batteryIDDMCCode`` under the passport access policy. Writes
    read the row locked (``SELECT ... FOR UPDATE``) in the transaction that changes it."""

    access = PASSPORT_ACCESS
    queryset = Passport.objects.all()
    lookup_field = "battery_id"
    lookup_url_kwarg = ID_FIELD
    lookup_value_regex = ID_REGEX
    parser_classes = [ORJSONParser]
    serializer_class = PassportFormSerializer
    filter_backends: list = []
    pagination_class = None
    schema = PassportAutoSchema()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.method not in SAFE_METHODS:
            queryset = queryset.select_for_update()
        return queryset

    def user(self):
        return self.request.user if self.request.user.is_authenticated else None

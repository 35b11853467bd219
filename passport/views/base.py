"""The base of the passport views: a passport found by its id under the passport access policy,
the answers read as they are stored, and the notes their documentation shares."""

from __future__ import annotations

import orjson
from django.db import connection
from django.db.models import BooleanField, TextField
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import OpenApiResponse
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS

from core.access import AccessControlledViewSetMixin
from core.models import Membership
from core.parsers import ORJSONParser
from core.tenancy import is_staff
from passport.access import PASSPORT_ACCESS
from passport.classes import ALL_POINTS, PUBLIC
from passport.definitions import ID_FIELD, ID_REGEX
from passport.models import Passport, PassportGrant, today_utc
from passport.openapi import PassportAutoSchema
from passport.representations import STAMP, passport_view
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


# --- answers as stored (passport.representations) -------------------------------------------
def _reader_sql(request) -> tuple[str, tuple]:
    """The SQL of ``reader_is_member`` for the request's user, and its parameters."""
    user = request.user if request.user.is_authenticated else None
    if user is None or is_staff(request):
        return ("TRUE" if user is not None else "FALSE"), ()
    membership = Membership._meta.db_table
    table = Passport._meta.db_table
    return (
        f'EXISTS (SELECT 1 FROM "{membership}" WHERE "{membership}"."user_id" = %s '
        f'AND "{membership}"."organization_id" = "{table}"."organization_id")',
        (user.pk,),
    )


def _grant_sql(request) -> tuple[str, tuple]:
    """The SQL of ``reader_has_grant`` (a grant in force of the request's user on the row's
    passport), and its parameters."""
    user = request.user if request.user.is_authenticated else None
    if user is None or is_staff(request):
        return "FALSE", ()
    grant = PassportGrant._meta.db_table
    table = Passport._meta.db_table
    today = connection.ops.adapt_datefield_value(today_utc())
    return (
        f'EXISTS (SELECT 1 FROM "{grant}" WHERE "{grant}"."user_id" = %s '
        f'AND "{grant}"."passport_id" = "{table}"."id" '
        f'AND ("{grant}"."valid_until" IS NULL OR "{grant}"."valid_until" >= %s))',
        (user.pk, today),
    )


def with_reader(queryset, request, **annotations):
    """``queryset`` reading with each row whether the request's user is a member of its
    organization (``reader_is_member``; staff count as members) and whether they hold a grant
    in force on it (``reader_has_grant``), and ``annotations``: the points of the row then need
    no query of the user's memberships, and the grants are read only for the rows that have
    some (``passport.access``). Written as raw SQL: Django's own ``Exists`` costs more to
    build than the rest of a request."""
    sql, params = _reader_sql(request)
    member = RawSQL(sql, params, output_field=BooleanField())
    sql, params = _grant_sql(request)
    grant = RawSQL(sql, params, output_field=BooleanField())
    return queryset.annotate(reader_is_member=member, reader_has_grant=grant, **annotations)


def with_stored_answers(queryset, request):
    """``queryset`` reading, of each passport, its id, organization, the stamp and the stored
    answer for the request's reader (``answer``: one column, chosen in SQL), not the
    document. Staff and the members of its organization get the whole passport, anyone else
    the public one; grants are looked at afterwards (:func:`answers`)."""
    sql, params = _reader_sql(request)
    table = Passport._meta.db_table
    answer = f'CASE WHEN {sql} THEN "{table}"."full_json" ELSE "{table}"."public_json" END'
    queryset = queryset.only("id", "battery_id", "organization_id", "rendered_with")
    return with_reader(queryset, request, answer=RawSQL(answer, params, output_field=TextField()))


#: What :func:`answers` and the points read of each row of :func:`with_stored_answers`.
ANSWER_COLUMNS = (
    "pk",
    "battery_id",
    "organization_id",
    "rendered_with",
    "reader_is_member",
    "reader_has_grant",
    "answer",
)


def answer_rows(queryset):
    """The rows of :func:`with_stored_answers` as named tuples of ``ANSWER_COLUMNS``, which
    :func:`answers` reads as it reads passports: for a page of 1,000, 5 ms of CPU less than
    making model instances."""
    return queryset.values_list(*ANSWER_COLUMNS, named=True)


def answers(request, passports: list, points: dict[int, frozenset[int]]) -> list:
    """What the request's reader gets of each passport (rows of :func:`with_stored_answers`,
    their points by pk): the stored answer, as it is, when it is the one for those points and
    was made with the current rules; else the answer made from the document, read for all
    such passports in one query (readers with a grant, stale answers). A passport deleted in
    between is left out."""
    found: dict[int, object] = {}
    others = []
    for passport in passports:
        seen = points[passport.pk]
        whole = passport.reader_is_member
        if passport.rendered_with == STAMP and seen == (ALL_POINTS if whole else PUBLIC):
            found[passport.pk] = orjson.Fragment(passport.answer)
        else:
            others.append(passport)
    if others:
        documents = dict(
            Passport.objects.filter(pk__in=[passport.pk for passport in others]).values_list(
                "id", "document"
            )
        )
        for passport in others:
            if passport.pk in documents:
                found[passport.pk] = passport_view(
                    battery_id=passport.battery_id,
                    document=documents[passport.pk],
                    organization_id=passport.organization_id,
                    points=points[passport.pk],
                )
    return [found[passport.pk] for passport in passports if passport.pk in found]

"""The access policy of passports and the points of Annex XIII each reader sees.

Anyone reads a passport, without credentials too (``core.access.Anyone``); what a reader sees
of it depends on their class (``passport.classes.CLASS_POINTS``): the owning organization's
members, any role, and staff see every point; a user holding a grant in force sees the points
of its class (both, when they hold both); anyone else sees point 1. Members of the organization
create and update, owners delete; a grant never allows writing.

The points of a whole page of passports come in at most two queries, whatever its length: the
user's memberships (read once per request, or with the passports' rows) and their grants on
the page's passports (only on those the rows say they hold a grant on, when they say it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.access import AccessPolicy, Anyone, Granted, Members
from core.tenancy import is_staff, organization_roles
from passport.classes import ALL_POINTS, CLASS_POINTS, PUBLIC
from passport.models import PassportGrant, active_grants


@dataclass(frozen=True)
class GrantedInForce(Granted):
    """Users holding a grant whose last day (UTC) is today or later, or without an end."""

    def grants(self, model, user):
        grants, link = super().grants(model, user)
        return grants.filter(active_grants()), link


PASSPORT_ACCESS = AccessPolicy(readers=(Anyone(), Members(), GrantedInForce("grants")))

#: Points beyond the public one: whoever sees one of them reads the history.
RESTRICTED = frozenset({2, 3, 4})


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def reader_is_member(request, passport) -> bool:
    """Whether the request's user is a member of the passport's organization: as read with
    the row when the view asked for it (``reader_is_member``, see ``passport.views.base``),
    else from the user's memberships (one query per request)."""
    known = getattr(passport, "reader_is_member", None)
    if known is not None:
        return known
    return passport.organization_id in organization_roles(request)


def points_by_passport(request, passports: Iterable) -> dict[int, frozenset[int]]:
    """``{passport pk: points}`` for the request's reader."""
    passports = list(passports)
    if is_staff(request):
        return {passport.pk: ALL_POINTS for passport in passports}
    user_id = _user_id(request)
    if user_id is None:
        return {passport.pk: PUBLIC for passport in passports}
    points = {}
    others = []
    for passport in passports:
        if reader_is_member(request, passport):
            points[passport.pk] = ALL_POINTS
        else:
            points[passport.pk] = PUBLIC
            # Rows read by ``with_reader`` say whether the reader holds a grant on them.
            if getattr(passport, "reader_has_grant", True):
                others.append(passport.pk)
    if others:
        granted = PassportGrant.objects.filter(
            active_grants(), user_id=user_id, passport_id__in=others
        ).values_list("passport_id", "access")
        for passport_id, access in granted:
            points[passport_id] = points[passport_id] | CLASS_POINTS[access]
    return points


def points_of(request, passport) -> frozenset[int]:
    return points_by_passport(request, [passport])[passport.pk]


def is_member_or_staff(request, organization_id: int) -> bool:
    return is_staff(request) or organization_id in organization_roles(request)

"""Writes of passports and grants: every change keeps a version with what it changed.

The document given to these functions is valid (``passport.serializers`` checked it) and
holds neither ``batteryIDDMCCode`` nor ``organization``: the columns keep those. Each write
sets the columns the lists filter on from the document, the completeness, the stored answers
(``passport.representations``), the version number, and the version's author and changes
(the JSON paths deepdiff finds between the old and the new document).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException

from core.models import User
from passport import representations
from passport.completeness import completeness_of
from passport.definitions import ID_FIELD
from passport.models import Passport, PassportGrant
from passport.schema import json_path


class Conflict(APIException):
    status_code = 409
    default_detail = "Conflict."
    default_code = "conflict"


def document_changes(old: dict, new: dict) -> list[dict[str, Any]]:
    """What changed from ``old`` to ``new``: ``[{"path", "old", "new"}]`` in the order of the
    paths, a value that was not there (or is no more) as null. An added or removed object or
    list item is one change holding it whole; a number that only changed type (1 to 1.0) is
    no change."""
    found: list[tuple[list, Any, Any]] = []
    if not old or not new:
        # deepdiff reports an empty document against a full one as one change of the root.
        keys = list(old) + [key for key in new if key not in old]
        found = [([key], old.get(key), new.get(key)) for key in keys]
    else:
        # Imported here: deepdiff loads pandas when it is installed (impedance.py brings it),
        # some 50 MB and 0.3 s that only a process writing passports needs.
        from deepdiff import DeepDiff
        from deepdiff.helper import notpresent

        diff = DeepDiff(old, new, view="tree", ignore_numeric_type_changes=True, verbose_level=2)
        for items in diff.values():
            for level in items:
                found.append(
                    (
                        level.path(output_format="list"),
                        None if level.t1 is notpresent else level.t1,
                        None if level.t2 is notpresent else level.t2,
                    )
                )
    found.sort(key=lambda item: [(isinstance(part, int), part) for part in item[0]])
    return [
        {"path": json_path(parts), "old": before, "new": after} for parts, before, after in found
    ]


def _whole(passport: Passport, document: dict) -> dict:
    return {ID_FIELD: passport.battery_id, **document}


def _apply(passport: Passport, document: dict) -> None:
    """Sets the document and every column derived from it."""
    passport.document = document
    category = document.get("batteryCategory")
    passport.battery_category = category if isinstance(category, str) else ""
    place = document.get("placeOfManufacturing")
    passport.place_of_manufacturing = place if isinstance(place, str) else ""
    result = completeness_of(_whole(passport, document))
    passport.completeness = result.percentage
    passport.complete = result.complete
    representations.render(passport)


def passport_build(
    *, organization_id: int, battery_id: str, document: dict, user: User | None
) -> Passport:
    """An unsaved passport at version 1 with every column derived from its document: what
    :func:`passport_create` saves (with its first version), and what a bulk load inserts."""
    passport = Passport(organization_id=organization_id, battery_id=battery_id, created_by=user)
    _apply(passport, document)
    passport.version = 1
    return passport


def passport_create(
    *, organization_id: int, battery_id: str, document: dict, user: User | None
) -> Passport:
    """Creates a passport (version 1). A passport with the same id already stored, also by a
    concurrent request, is a 409 that names the id."""
    passport = passport_build(
        organization_id=organization_id, battery_id=battery_id, document=document, user=user
    )
    passport._history_user = user
    passport._history_changes = document_changes({}, _whole(passport, document))
    try:
        with transaction.atomic():
            passport.save()
    except IntegrityError as exc:
        if Passport.objects.filter(battery_id=battery_id).exists():
            raise Conflict(
                f"A passport with batteryIDDMCCode '{battery_id}' already exists."
            ) from exc
        raise
    return passport


def passport_update(*, passport: Passport, document: dict, user: User | None) -> Passport:
    """Replaces the document of ``passport`` (a row the caller locked and read in this
    transaction) and keeps the next version. A write that changes nothing keeps no version."""
    old = _whole(passport, passport.document)
    changes = document_changes(old, _whole(passport, document))
    if not changes:
        return passport
    _apply(passport, document)
    passport.version += 1
    passport._history_user = user
    passport._history_changes = changes
    passport.save()
    return passport


def passport_delete(*, passport: Passport, user: User | None) -> None:
    """Deletes the passport and its grants; its history stays, readable by its organization
    and staff."""
    passport._history_user = user
    passport._history_changes = []
    with transaction.atomic():
        passport.delete()


def passport_lock(*, passport: Passport) -> Passport:
    """The passport's row again, locked until the transaction ends (updates merge into the
    document as stored, never as another request left it half-way)."""
    return Passport.objects.select_for_update().get(pk=passport.pk)


def grant_create(
    *,
    passport: Passport,
    user: User,
    access: str,
    valid_until: dt.date | None,
    created_by: User | None,
) -> PassportGrant:
    """Gives ``user`` an access class on ``passport``; the same class twice is a 409."""
    try:
        with transaction.atomic():
            return PassportGrant.objects.create(
                passport=passport,
                user=user,
                access=access,
                valid_until=valid_until,
                created_by=created_by,
            )
    except IntegrityError as exc:
        existing = PassportGrant.objects.filter(passport=passport, user=user, access=access).first()
        if existing is None:
            raise
        raise Conflict(
            f"This user already holds the {access} class on this passport (grant {existing.pk}); "
            "delete that grant first to change it."
        ) from exc


def grant_delete(*, grant: PassportGrant) -> None:
    grant.delete()

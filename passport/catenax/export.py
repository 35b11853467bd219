"""The export itself: a passport's Catena-X battery pass as its reader may see it, the
manufacturer from the owning organization's profile, every export validated before it is
answered, and a 422 (:class:`ExportIncomplete`) naming every value Catena-X requires that is
missing or unusable."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException

from passport.catenax.conversions import ADDRESS_PARTS, Export, Source, address, contact
from passport.catenax.mapping import FIELDS
from passport.catenax.model import required, validator
from passport.classes import ALL_POINTS, point_of, trim
from passport.completeness import is_empty, value_at
from passport.definitions import ID_FIELD
from passport.schema import json_path


class ExportIncomplete(APIException):
    """422: the values Catena-X requires that the passport (or its organization's profile)
    lacks, or holds in a form Catena-X cannot take, by Catena-X path."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The passport lacks values the Catena-X battery pass requires."
    default_code = "catenax_incomplete"


def _manufacturer(export: Export) -> None:
    """The manufacturer, from the owning organization's profile (Annex XIII point 1(a):
    public)."""
    organization = export.organization

    def fill_in(what: str) -> str:
        return f"fill in the {what} in the profile of organization {organization.pk}"

    export.put("manufacturer.name", organization.name)
    parts = {
        part: getattr(organization, attribute) for part, (_, attribute, _) in ADDRESS_PARTS.items()
    }
    labels = {part: label for part, (_, _, label) in ADDRESS_PARTS.items()}
    export.put(
        "manufacturer.address",
        address(parts, "manufacturer.address", export, lambda part: fill_in(labels[part])),
    )
    details = contact(organization.website, organization.contact_phone, organization.contact_email)
    if not details:
        export.problem(
            "manufacturer.contact",
            "Required by Catena-X: "
            + fill_in("website, contact email or contact phone (at least one)")
            + ".",
        )
    export.put("manufacturer.contact", details)


def catenax_export(
    *, battery_id: str, document: dict, organization, points: frozenset[int]
) -> dict:
    """The Catena-X battery pass 3.0.1 of a passport (its id, its stored document, its
    organization) as a reader who sees ``points`` may see it. Raises :class:`ExportIncomplete`
    (422) naming every value Catena-X requires that is missing or unusable."""
    visible = trim({ID_FIELD: battery_id, **document}, points)
    export = Export(visible, points, organization)
    _manufacturer(export)
    for target, path, convert in FIELDS:
        if point_of(path) not in points:
            continue
        value = value_at(export.document, path)
        if is_empty(value):
            if required(target):
                export.problem(target, f"Required by Catena-X: {Source(path).fill_in()}.")
            continue
        converted = convert(value, target, Source(path), export)
        if converted is not None:
            export.put(target, converted)
    if not export.problems:
        for error in validator(points >= ALL_POINTS).iter_errors(export.output):
            target = json_path(list(error.absolute_path)) or "non_field_errors"
            export.problem(target, f"Catena-X refuses this value: {error.message}")
    if export.problems:
        raise ExportIncomplete(dict(sorted(export.problems.items())))
    return export.output

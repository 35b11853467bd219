"""Input and output shapes of the passport API.

Input: a body is a JSON object within the platform's JSON limits (``core.fields``), checked
against the BatteryPass schema (``passport.schema``) as a whole, every problem at once, each
under its JSON path. ``organization`` is checked beside it; the electrochemical properties may
come under the one-e key. Updates merge into the stored document as JSON Merge Patch does
(RFC 7396: objects merge, a ``null`` removes a key, anything else, arrays included, replaces)
and the result is checked as a whole.

Output: a passport is its document trimmed to the reader's points (``passport.classes``), in
documented order, with the electrochemical properties also under the one-e key and
``organization`` as one extra key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.fields import BoundedJSONField
from core.models import User
from passport.classes import ALL_POINTS, TREE, AccessClass, trim
from passport.definitions import ELECTROCHEMICAL, ELECTROCHEMICAL_ALIAS, ID_FIELD
from passport.models import PassportGrant, today_utc
from passport.representations import passport_view
from passport.schema import document_errors

NOT_AN_OBJECT = "Expected a JSON object."
A_LIST = "A JSON list is not accepted here: send one passport per request."


# --- input -----------------------------------------------------------------------------------
def json_object(data: Any, *, what: str = "passport") -> dict:
    """``data`` if it is a JSON object within the platform's limits of depth, size and
    characters; a 400 otherwise."""
    if isinstance(data, list):
        message = A_LIST if what == "passport" else NOT_AN_OBJECT
        raise ValidationError({"non_field_errors": [message]})
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [NOT_AN_OBJECT]})
    try:
        BoundedJSONField().run_validation(data)
    except ValidationError as exc:
        raise ValidationError({"non_field_errors": exc.detail}) from exc
    return data


def merge_patch(target: Any, patch: Any) -> Any:
    """``patch`` applied to ``target`` (RFC 7396): objects merge key by key, ``null`` removes
    a key, any other value (an array too) replaces what was there."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _take_alias(body: dict, errors: dict) -> tuple[dict, bool]:
    """``body`` with the one-e key moved to the documented one; whether the client wrote it
    only under the one-e key (errors then name that key)."""
    if ELECTROCHEMICAL_ALIAS not in body:
        return body, False
    body = dict(body)
    alias = body.pop(ELECTROCHEMICAL_ALIAS)
    if ELECTROCHEMICAL not in body:
        body[ELECTROCHEMICAL] = alias
        return body, True
    if body[ELECTROCHEMICAL] != alias:
        errors[ELECTROCHEMICAL_ALIAS] = [
            f"Differs from {ELECTROCHEMICAL}: send the electrochemical properties once, under "
            "either key, or twice the same."
        ]
    return body, False


def _rename(errors: dict[str, list[str]], old: str, new: str) -> dict[str, list[str]]:
    renamed = {}
    for path, messages in errors.items():
        if path == old or path.startswith((old + ".", old + "[")):
            path = new + path[len(old) :]
        renamed[path] = messages
    return renamed


def _organization_value(value: Any, errors: dict) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**63 - 1:
        return value
    errors["organization"] = ["Must be the id of an organization (a positive integer)."]
    return None


@dataclass(frozen=True)
class PassportInput:
    """A checked body of a create: the id, the document without id and organization, and the
    id of the organization to create the passport in."""

    battery_id: str
    document: dict
    organization: int


def _finish(whole: dict, errors: dict, *, aliased: bool) -> dict:
    """Checks a whole document (id included) and raises every problem found, those of the
    body's other keys included; returns the document without its id."""
    found = document_errors(whole)
    if aliased:
        found = _rename(found, ELECTROCHEMICAL, ELECTROCHEMICAL_ALIAS)
    for path, messages in found.items():
        errors.setdefault(path, []).extend(messages)
    if errors:
        raise ValidationError(dict(sorted(errors.items())))
    document = dict(whole)
    document.pop(ID_FIELD, None)
    return document


def passport_for_create(
    data: Any, *, resolve_organization: Callable[[int | None], tuple[int | None, str | None]]
) -> PassportInput:
    """The body of a create: a whole BatteryPass with its id, and maybe ``organization``, which
    ``resolve_organization`` turns into the organization to create in, or the reason why not
    (reported with every other problem of the body)."""
    body = dict(json_object(data))
    errors: dict[str, list[str]] = {}
    named = None
    if "organization" in body:
        named = _organization_value(body.pop("organization"), errors)
    organization = None
    if "organization" not in errors:
        organization, problem = resolve_organization(named)
        if problem:
            errors["organization"] = [problem]
    body, aliased = _take_alias(body, errors)
    if ID_FIELD not in body:
        errors[ID_FIELD] = ["This field is required."]
    document = _finish(body, errors, aliased=aliased)
    return PassportInput(body[ID_FIELD], document, organization)


def _check_fixed(body: dict, battery_id: str, organization_id: int, errors: dict) -> None:
    """The id and the organization a body of an update may repeat, never change."""
    if ID_FIELD in body and body[ID_FIELD] != battery_id:
        errors[ID_FIELD] = [f"Must equal the batteryIDDMCCode in the URL ('{battery_id}')."]
    if "organization" in body and body["organization"] != organization_id:
        errors["organization"] = ["The organization cannot be changed after create."]


def passport_for_replace(data: Any, *, battery_id: str, organization_id: int) -> dict:
    """The body of a PUT: a whole BatteryPass replacing the stored one."""
    body = dict(json_object(data))
    errors: dict[str, list[str]] = {}
    _check_fixed(body, battery_id, organization_id, errors)
    body.pop("organization", None)
    body, aliased = _take_alias(body, errors)
    body[ID_FIELD] = battery_id
    return _finish(body, errors, aliased=aliased)


def passport_for_patch(data: Any, *, battery_id: str, organization_id: int, current: dict) -> dict:
    """The body of a PATCH merged into the stored document (``current``, without id)."""
    body = dict(json_object(data))
    errors: dict[str, list[str]] = {}
    _check_fixed(body, battery_id, organization_id, errors)
    body.pop("organization", None)
    body.pop(ID_FIELD, None)
    body, aliased = _take_alias(body, errors)
    whole = merge_patch({ID_FIELD: battery_id, **current}, body)
    return _finish(whole, errors, aliased=aliased)


def section_for_write(
    data: Any, *, key: str, battery_id: str, current: dict, partial: bool
) -> dict:
    """The document after a PUT (``partial`` False) or PATCH of the property object under
    ``key``; errors are keyed by paths inside the object, as the body has them."""
    body = json_object(data, what="section")
    section = merge_patch(current.get(key), body) if partial else body
    whole = {ID_FIELD: battery_id, **current, key: section}
    found = document_errors(whole)
    if found:
        relative = {}
        for path, messages in found.items():
            inner = path[len(key) :].lstrip(".") if path.startswith(key) else path
            relative[inner or "non_field_errors"] = messages
        raise ValidationError(relative)
    whole.pop(ID_FIELD)
    return whole


# --- output ----------------------------------------------------------------------------------
def passport_data(passport, points: frozenset[int]) -> dict:
    """A passport (or a version of one: anything with ``battery_id``, ``document`` and
    ``organization_id``) as the API answers it to a reader who sees ``points``."""
    return passport_view(
        battery_id=passport.battery_id,
        document=passport.document,
        organization_id=passport.organization_id,
        points=points,
    )


def section_data(document: dict, key: str, points: frozenset[int]) -> dict:
    """The property object under ``key`` as the reader may see it; ``{}`` when nothing is."""
    if key not in document:
        return {}
    return trim(document[key], points, TREE[key]) or {}


class PassportFormSerializer(serializers.Serializer):
    """The starting point of the browsable API's raw form: the passport (or the view's
    property object) as the organization's members see it. Bodies are read by the functions
    above, never by this serializer."""

    def to_representation(self, instance):
        view = self.context.get("view")
        key = getattr(view, "key", None)
        if key:
            return section_data(instance.document, key, ALL_POINTS)
        return passport_data(instance, ALL_POINTS)


# --- grants ----------------------------------------------------------------------------------
class PassportGrantSerializer(serializers.ModelSerializer):
    """A grant of an access class to a user, named by email. ``validUntil`` is the last day
    (UTC, inclusive) of the grant; without it, the grant has no end."""

    email = serializers.EmailField(max_length=254, help_text="The email of the user granted.")
    access = serializers.ChoiceField(
        choices=AccessClass.CHOICES,
        help_text="legitimate_interest: Annex XIII points 1, 2 and 4; authorities: 1, 2, 3.",
    )
    validUntil = serializers.DateField(
        source="valid_until",
        required=False,
        allow_null=True,
        default=None,
        help_text="Last day (UTC) of the grant, inclusive; null or absent: no end.",
    )
    active = serializers.BooleanField(
        read_only=True, help_text="Whether the grant is in force today (UTC)."
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = PassportGrant
        fields = ["id", "email", "access", "validUntil", "active", "createdAt"]

    def validate_email(self, value: str) -> User:
        user = User.objects.filter(email__iexact=value.strip()).first()
        if user is None:
            raise serializers.ValidationError("No user has this email address.")
        return user

    def validate_validUntil(self, value):
        if value is not None and value < today_utc():
            raise serializers.ValidationError("Must be today or a later day (UTC).")
        return value

    def to_representation(self, instance):
        return {
            "id": instance.pk,
            "email": instance.user.email,
            "access": instance.access,
            "validUntil": instance.valid_until.isoformat() if instance.valid_until else None,
            "active": instance.active,
            "createdAt": serializers.DateTimeField().to_representation(instance.created_at),
        }


class PassportGrantListSerializer(serializers.Serializer):
    """The grants of a passport."""

    data = PassportGrantSerializer(many=True)

"""Writes on identity and tenancy that do more than save one row."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from core.broadcast import broadcast
from core.deletion import organization_delete_everything
from core.models import Membership, Organization, User, UserAPIKey

PLATFORM_GROUP = "platform"


@transaction.atomic
def organization_create(*, name: str, owner: User) -> Organization:
    """Create an organization with ``owner`` as its first owner."""
    organization = Organization.objects.create(name=name)
    Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    return organization


def organization_delete(*, organization: Organization) -> None:
    """Delete ``organization`` with every row it owns in every app, in one transaction; the
    files of those rows leave the storage once it commits (see ``core.deletion``).

    Rows of other organizations that refer to it through a PROTECT foreign key make it a
    ``ProtectedError`` (409) and nothing is deleted."""
    organization_delete_everything(organization=organization)


def _lock_owners(organization: Organization) -> list[int]:
    return list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Membership.Role.OWNER)
        .values_list("user_id", flat=True)
    )


@transaction.atomic
def membership_add(*, organization: Organization, user: User, role: str) -> Membership:
    """Add ``user`` to ``organization``; a user already in it is a 400."""
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError({"email": ["This user is already a member of the organization."]})
    return Membership.objects.create(organization=organization, user=user, role=role)


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; demoting the last owner is a 400."""
    owners = _lock_owners(membership.organization)
    demoting = membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER
    if demoting and owners == [membership.user_id]:
        raise ValidationError({"role": ["An organization must keep at least one owner."]})
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member; removing the last owner is a 400."""
    owners = _lock_owners(membership.organization)
    if membership.role == Membership.Role.OWNER and owners == [membership.user_id]:
        raise ValidationError({"detail": "An organization must keep at least one owner."})
    membership.delete()


def api_key_create(
    *, user: User, name: str, expiry_date: dt.datetime | dt.date | None = None
) -> tuple[UserAPIKey, str]:
    """Create a personal API key; returns the object and the key, which is never stored."""
    if isinstance(expiry_date, dt.date) and not isinstance(expiry_date, dt.datetime):
        # A key valid "until" a date stays valid through the end of that day (UTC).
        expiry_date = dt.datetime.combine(expiry_date, dt.time.max, tzinfo=dt.UTC)
    if expiry_date is not None and expiry_date <= timezone.now():
        raise ValidationError({"expiry_date": ["The expiry must be in the future."]})
    return UserAPIKey.objects.create_key(user=user, name=name, expiry_date=expiry_date)


def api_key_revoke(*, api_key: UserAPIKey) -> UserAPIKey:
    """Revoke a key for good."""
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key


def platform_broadcast(*, message: object) -> None:
    """Send ``message`` to every socket on the platform stream, after the current commit, as
    ``{"type": "message", "message": message}``.

    With Redis configured this reaches consumers in every ASGI process. A failure of the
    channel layer is logged and counted, never raised (``core.broadcast``)."""
    broadcast(group=PLATFORM_GROUP, message={"type": "message", "message": message})

"""Helpers shared by the site's pages."""

from __future__ import annotations

from django.db.models import Count
from rest_framework.exceptions import ValidationError

from core.models import Membership


def error_messages(exc: ValidationError) -> list[str]:
    """The plain-text messages inside a DRF ``ValidationError``, however nested."""

    def flatten(detail) -> list[str]:
        if isinstance(detail, dict):
            return [text for value in detail.values() for text in flatten(value)]
        if isinstance(detail, list | tuple):
            return [text for value in detail for text in flatten(value)]
        return [str(detail)]

    return flatten(exc.detail)


def user_memberships(user):
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .annotate(member_count=Count("organization__memberships"))
        .order_by("organization__name", "organization_id")
    )

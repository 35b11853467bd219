"""Digital battery passports: the document, its history, and the grants of access classes.

A passport is one JSON document (the BatteryPass of the API), plus the columns that lists
filter on and constraints need: its ``batteryIDDMCCode`` (unique), organization, category,
place of manufacture, version and Annex XIII completeness, and the answers most readers get,
ready (``passport.representations``). Those columns are written from the document on every
save (``passport.services``), never on their own.

Every save keeps a version (django-simple-history): who, when, the document as it then was and
what changed (``changes``, JSON paths with old and new values). Versions are numbered per
passport from 1; the history outlives the passport's deletion, and a passport created again
with the same id starts a history of its own (its rows have another primary key).
"""

from __future__ import annotations

import datetime as dt

import orjson
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from simple_history.models import HistoricalRecords

from core.models import OrganizationOwnedModel
from passport.classes import AccessClass
from passport.definitions import CATEGORY_MAX_LENGTH, ID_MAX_LENGTH


class DocumentField(models.JSONField):
    """A JSON field read back with orjson: a page of 1,000 passports holds about 9 MB of JSON,
    which the standard library's parser needs three times as long to read."""

    def from_db_value(self, value, expression, connection):
        if value is None or (isinstance(expression, KeyTransform) and not isinstance(value, str)):
            return value
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value


class PassportVersionFields(models.Model):
    """What a version of a passport keeps beyond the passport's own fields."""

    changes = models.JSONField(
        default=list,
        help_text=(
            'What this version changed: [{"path", "old", "new"}], paths into the document '
            "in the API's JSON-path style; on a version 1 every field is new."
        ),
    )

    class Meta:
        abstract = True


class Passport(OrganizationOwnedModel):
    """A digital battery passport (EU Battery Regulation 2023/1542, Art. 77)."""

    battery_id = models.CharField(
        "batteryIDDMCCode",
        max_length=ID_MAX_LENGTH,
        unique=True,
        help_text="The battery's identifier (batteryIDDMCCode): unique, fixed after create.",
    )
    document = DocumentField(
        default=dict,
        help_text=(
            "The BatteryPass, without batteryIDDMCCode and organization (their columns hold "
            "them), with the electrochemical properties under the documented key only."
        ),
    )
    battery_category = models.CharField(
        max_length=CATEGORY_MAX_LENGTH,
        blank=True,
        default="",
        db_index=True,
        help_text="batteryCategory as written in the document (free text).",
    )
    place_of_manufacturing = models.TextField(
        blank=True, default="", help_text="placeOfManufacturing as written in the document."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="The number of the current version: 1 as created, +1 per change."
    )
    completeness = models.FloatField(
        null=True,
        blank=True,
        help_text="Percentage of the fields Annex XIII requires for the category that are "
        "filled in; empty when the category is unknown.",
    )
    complete = models.BooleanField(
        default=False,
        db_index=True,
        help_text="Whether every field Annex XIII requires for the (known) category is filled.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who created the passport.",
    )
    public_json = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="The passport as the API answers it to anyone (point 1 of Annex XIII), as "
        "JSON, written with the document (passport.representations).",
    )
    full_json = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="The passport as the API answers it to readers who see every point (its "
        "organization, staff), as JSON, written with the document.",
    )
    rendered_with = models.CharField(
        max_length=16,
        blank=True,
        default="",
        editable=False,
        help_text="The rules the two answers were written with (passport.representations."
        "STAMP): answers written with other rules are not used.",
    )

    history = HistoricalRecords(
        bases=[PassportVersionFields],
        # The stored answers are made from the document, which every version keeps.
        excluded_fields=["updated_at", "public_json", "full_json", "rendered_with"],
        # Versions are found by passport (id), by batteryIDDMCCode once deleted, and by
        # organization when one is deleted; the passports' list filters need no index there.
        no_db_index=["battery_category", "complete", "created_at", "created_by"],
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "battery passport"

    def __str__(self) -> str:
        return self.battery_id


def today_utc() -> dt.date:
    """Today's date in UTC: the day against which grants' ``validUntil`` is compared."""
    return dt.datetime.now(dt.UTC).date()


def active_grants() -> Q:
    """Grants in force today (UTC): without an end, or ending today or later (inclusive)."""
    return Q(valid_until__isnull=True) | Q(valid_until__gte=today_utc())


class PassportGrant(models.Model):
    """An access class given to a user on one passport by its organization. A grant lets its
    user read more of the passport (its history too), never change it."""

    organization_field = "passport__organization"

    passport = models.ForeignKey(Passport, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passport_grants"
    )
    access = models.CharField(
        max_length=32,
        choices=AccessClass.CHOICES,
        help_text="legitimate_interest: Annex XIII points 1, 2, 4; authorities: points 1, 2, 3.",
    )
    valid_until = models.DateField(
        null=True,
        blank=True,
        help_text="Last day (UTC, inclusive) on which the grant is in force; empty: no end.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who gave the grant.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["passport", "user", "access"], name="passport_grant_unique_class"
            ),
        ]
        indexes = [models.Index(fields=["user", "passport"], name="passport_grant_user")]

    def __str__(self) -> str:
        return f"{self.access} for {self.user_id} on {self.passport_id}"

    @property
    def active(self) -> bool:
        return self.valid_until is None or self.valid_until >= today_utc()

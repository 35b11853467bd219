"""VoltStorage: product types, groups, products and their components, and their time series.

Who owns what: product types are platform-wide (staff edit them); groups and products belong to
an organization (the operator or installer) and may name an owner user (the homeowner). A
component is a part of a product with a series of its own (a battery module, the inverter).

The time series:

* ``Series``: one per product (its own data) and one per component; holds the latest value
  of every field and the time of the newest sample.
* ``Sample``: the raw series, one row per (series, time) with a column per field of the
  catalogue (``voltstorage.catalogue``): dense, at most 16 bytes per value with the primary
  key's index. On PostgreSQL the table is partitioned by time, one partition per UTC day, made
  when ingestion first needs it (``voltstorage.partitions``), and old partitions are dropped by
  the retention command while the rollups stay; on SQLite it is one plain table.
* ``QuarterRollup`` and ``HourRollup``: per series and UTC quarter hour (and hour), the
  aggregates of every field (``voltstorage.rollups``), kept current at ingestion. Statistics
  read these, never the raw series.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import OrganizationOwnedModel
from voltstorage import catalogue


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            f"{value!r} is not an IANA time zone (such as Europe/Berlin or Asia/Kolkata)."
        )


class ProductType(models.Model):
    """A kind of product (``VoltStorage SMART``); platform-wide, edited by staff."""

    name = models.CharField(max_length=200, unique=True, help_text="Name of the product type.")
    start_of_production = models.DateField(
        null=True, blank=True, help_text="When the type went into production."
    )
    base_type = models.CharField(
        max_length=50,
        default="storage",
        help_text="The family the type belongs to (`storage` for a home energy storage).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Group(OrganizationOwnedModel):
    """A group of products (an installation site, a customer); may name its owner user."""

    name = models.CharField(max_length=200, help_text="Name of the group.")
    latitude = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text="Latitude of the site in degrees.",
    )
    longitude = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text="Longitude of the site in degrees.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="voltstorage_groups",
        help_text="The user who owns the group (the homeowner); sees its products.",
    )

    class Meta(OrganizationOwnedModel.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class Product(OrganizationOwnedModel):
    """A home energy storage unit (or another product) that reports data."""

    serial_number = models.CharField(max_length=100, help_text="The product's serial number.")
    hardware_version = models.CharField(max_length=50, blank=True, default="")
    manufacturing_date = models.DateField(null=True, blank=True)
    installation_date = models.DateField(
        null=True, blank=True, help_text="When the product was installed; empty if not yet."
    )
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone of the site: the day, month and year buckets of the "
        "statistics follow it.",
    )
    type = models.ForeignKey(ProductType, on_delete=models.PROTECT, related_name="products")
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="voltstorage_products",
        help_text="The user who owns the product (the homeowner); sees it and its data.",
    )
    errors = models.JSONField(
        default=list,
        blank=True,
        help_text="The product's current error codes, as its latest ingestion sent them.",
    )
    last_received_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When data of the product last arrived (server time): it is online while "
        "this is within VOLTSTORAGE_ONLINE_SECONDS.",
    )

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "serial_number"],
                name="voltstorage_product_serial_unique",
            )
        ]

    def __str__(self) -> str:
        return self.serial_number

    @property
    def online(self) -> bool:
        if self.last_received_at is None:
            return False
        window = settings.VOLTSTORAGE_ONLINE_SECONDS
        return (timezone.now() - self.last_received_at).total_seconds() <= window


class Component(models.Model):
    """A part of a product with its own series (a battery module, the inverter); visible with
    its product."""

    organization_field = "product__organization"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=200, help_text="Name of the component (`Module 1`).")
    kind = models.CharField(
        max_length=50, blank=True, default="", help_text="What it is (`battery-module`)."
    )
    serial_number = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product} / {self.name}"


class Series(models.Model):
    """The series of a product's own data (``component`` empty) or of one component.

    Its id is a 32-bit integer: every raw row carries it. ``latest`` holds the newest value of
    each field with its time, ``{"pvPower": [<unix ms>, 421.0], ...}``; ``last_time`` the time
    of the newest sample, whatever its fields."""

    organization_field = "product__organization"

    id = models.AutoField(primary_key=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="series")
    component = models.OneToOneField(
        Component, null=True, blank=True, on_delete=models.CASCADE, related_name="series"
    )
    first_time = models.DateTimeField(null=True, blank=True)
    last_time = models.DateTimeField(null=True, blank=True)
    latest = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(component__isnull=True),
                name="voltstorage_series_product_unique",
            )
        ]

    def __str__(self) -> str:
        return f"series {self.pk} of product {self.product_id}"


def _sample_value_field(spec: catalogue.Field) -> models.Field:
    kwargs = {"null": True, "blank": True, "help_text": f"{spec.meaning} ({spec.unit})"}
    if spec.integer:
        return models.IntegerField(**kwargs)
    return models.FloatField(**kwargs)


class Sample(models.Model):
    """One sample of a series: its time (milliseconds) and a value for each field it has.

    Created by raw SQL on PostgreSQL (``voltstorage.partitions``): partitioned by range of
    ``time``, the primary key's index with fillfactor 100, ``series`` and ``status`` first so
    that the two 4-byte columns share one 8-byte slot. No foreign key constraint: series go
    with their product (``on_delete`` in Django, ``DELETE`` by series)."""

    organization_field = "series__product__organization"

    pk = models.CompositePrimaryKey("series", "time")
    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    time = models.DateTimeField(help_text="When the sample was taken (milliseconds kept).")

    class Meta:
        ordering = ["series", "time"]

    def __str__(self) -> str:
        return f"series {self.series_id} at {self.time.isoformat()}"


for _spec in catalogue.FIELDS:
    Sample.add_to_class(_spec.column, _sample_value_field(_spec))


class Rollup(models.Model):
    """Aggregates of every field of a series over one period starting at ``start`` (UTC)."""

    organization_field = "series__product__organization"

    pk = models.CompositePrimaryKey("series", "start")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, db_index=False, related_name="+")
    start = models.DateTimeField()

    #: Seconds a period of this model lasts.
    period_seconds: int = 0

    class Meta:
        abstract = True
        ordering = ["series", "start"]

    def __str__(self) -> str:
        return f"series {self.series_id} from {self.start.isoformat()}"


def _rollup_field(aggregate: str) -> models.Field:
    if aggregate == "count":
        return models.IntegerField(null=True, blank=True)
    return models.FloatField(null=True, blank=True)


class QuarterRollup(Rollup):
    """Per UTC quarter hour: exact for every time zone whose offset is a whole number of
    quarter hours (all of them today, 30- and 45-minute offsets included)."""

    period_seconds = 900

    class Meta(Rollup.Meta):
        pass

    def __str__(self) -> str:
        return f"quarter of {super().__str__()}"


class HourRollup(Rollup):
    """Per UTC hour: what statistics read for zones whose offsets are whole hours."""

    period_seconds = 3600

    class Meta(Rollup.Meta):
        pass

    def __str__(self) -> str:
        return f"hour of {super().__str__()}"


ROLLUP_COLUMNS: tuple[str, ...] = tuple(
    spec.rollup_column(aggregate) for spec in catalogue.FIELDS for aggregate in spec.aggregates
)

for _model in (QuarterRollup, HourRollup):
    for _spec in catalogue.FIELDS:
        for _aggregate in _spec.aggregates:
            _model.add_to_class(_spec.rollup_column(_aggregate), _rollup_field(_aggregate))

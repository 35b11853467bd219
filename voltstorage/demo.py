"""Sample VoltStorage data for the demo organization (``manage.py setupdemo``).

Fills the organization only when it holds no VoltStorage product: a product type, a group
owned by the demo user, two home storage units and three days of simulated data at one sample
a minute up to now (``voltstorage.simulation``), so that the product pages show curves and
statistics at once. ``manage.py voltstorage_simulate --product <id> --days 0 --interval 1
--live`` then feeds one live.
"""

from __future__ import annotations

import datetime as dt
import time

from django.contrib.auth import get_user_model
from django.db import transaction

from core.models import Membership, Organization
from voltstorage.management.commands.voltstorage_simulate import simulate_product
from voltstorage.models import Group, Product, ProductType

DEMO_DAYS = 3
DEMO_INTERVAL_MS = 60_000


def create_demo_data(*, organization: Organization) -> bool:
    """Returns whether it created the data."""
    if Product.objects.filter(organization=organization).exists():
        return False
    with transaction.atomic():
        product_type, _ = ProductType.objects.get_or_create(
            name="VoltStorage SMART", defaults={"start_of_production": dt.date(2018, 8, 20)}
        )
        owner = (
            get_user_model()
            .objects.filter(
                memberships__organization=organization,
                memberships__role=Membership.Role.OWNER,
            )
            .order_by("id")
            .first()
        )
        group = Group.objects.create(
            organization=organization, name="Demo home", latitude=50.11, longitude=8.68, owner=owner
        )
        products = [
            Product.objects.create(
                organization=organization,
                type=product_type,
                group=group,
                serial_number=serial,
                hardware_version="5.4",
                manufacturing_date=dt.date(2023, 5, 21),
                installation_date=dt.date(2023, 7, 1),
                timezone="Europe/Berlin",
            )
            for serial in ("DEMO-VS-0001", "DEMO-VS-0002")
        ]
    end_ms = round(time.time() * 1000) // DEMO_INTERVAL_MS * DEMO_INTERVAL_MS
    for product in products:
        simulate_product(
            product,
            start_ms=end_ms - DEMO_DAYS * 86_400_000,
            end_ms=end_ms,
            interval_ms=DEMO_INTERVAL_MS,
            seed=product.pk,
        )
    return True

"""``manage.py voltstorage_simulate``: realistic data for VoltStorage products.

Simulates (``voltstorage.simulation``) N new products or the given ones over D days up to now
(or ``--end``) at a chosen interval, and writes the samples through the ingestion path
(``voltstorage.services``: partitions on demand, binary ``COPY``, rollups, latest data) a day
at a time. ``--live`` then goes on sending one sample per interval in real time, broadcast to
the products' streams, until interrupted.

    manage.py voltstorage_simulate --products 2 --days 3 --interval 60
    manage.py voltstorage_simulate --product 7 --days 30 --interval 1      # a month at 1 Hz
    manage.py voltstorage_simulate --product 7 --days 0 --interval 1 --live
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models import Organization
from voltstorage import simulation
from voltstorage.models import Product, ProductType, Series
from voltstorage.rollups import to_epoch_ms
from voltstorage.services import product_data_ingest
from voltstorage.validators import CheckedBody, SeriesBatch

DAY_MS = 86_400_000


def simulate_product(
    product: Product, *, start_ms: int, end_ms: int, interval_ms: int, seed: int
) -> int:
    """Write the product's simulated samples in [start, end) a day at a time; returns how many.
    Starts after the product's newest sample, so that a second run appends."""
    series = Series.objects.filter(product=product, component__isnull=True).first()
    if series is not None and series.last_time is not None:
        start_ms = max(start_ms, to_epoch_ms(series.last_time) + interval_ms)
    written = 0
    chunk = max(DAY_MS // interval_ms, 1) * interval_ms
    for offset, chunk_start in enumerate(range(start_ms, end_ms, chunk)):
        times, values = simulation.simulate(
            start_ms=chunk_start,
            end_ms=min(chunk_start + chunk, end_ms),
            interval_ms=interval_ms,
            seed=seed * 100_003 + product.pk * 1_009 + offset,
        )
        if not len(times):
            continue
        batch = SeriesBatch(component_id=None, times=times, values=values)
        checked = CheckedBody(batches=[batch], samples=len(times))
        product_data_ingest(product=product, checked=checked)
        written += len(times)
    return written


class Command(BaseCommand):
    help = "Simulate realistic VoltStorage products (PV, household, storage) over days."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=0, help="New products to create.")
        parser.add_argument(
            "--product", type=int, action="append", default=[], help="An existing product's id."
        )
        parser.add_argument("--organization", type=int, help="Where new products go.")
        parser.add_argument("--days", type=float, default=1.0)
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds per sample.")
        parser.add_argument("--end", help="End of the span (ISO 8601, UTC); now by default.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--live", action="store_true", help="Then send live samples.")

    def handle(self, *args, **options):
        interval_ms = round(options["interval"] * 1000)
        if interval_ms < 1:
            raise CommandError("--interval must be at least a millisecond.")
        products = list(Product.objects.filter(pk__in=options["product"]))
        missing = set(options["product"]) - {p.pk for p in products}
        if missing:
            raise CommandError(f"No product {sorted(missing)}.")
        if options["products"]:
            products += self.create_products(options["products"], options["organization"])
        if not products:
            raise CommandError("Give --products N or --product ID.")
        end = (
            dt.datetime.fromisoformat(options["end"]).replace(tzinfo=dt.UTC)
            if options["end"]
            else dt.datetime.now(dt.UTC)
        )
        end_ms = to_epoch_ms(end) // interval_ms * interval_ms
        start_ms = end_ms - round(options["days"] * DAY_MS)
        for product in products:
            began = time.monotonic()
            count = simulate_product(
                product,
                start_ms=start_ms,
                end_ms=end_ms,
                interval_ms=interval_ms,
                seed=options["seed"],
            )
            self.stdout.write(
                f"Product {product.pk} ({product.serial_number}): {count} samples in "
                f"{time.monotonic() - began:.1f} s."
            )
        if options["live"]:
            self.live(products, interval_ms, options["seed"])

    def create_products(self, count: int, organization_id: int | None) -> list[Product]:
        if organization_id is None:
            organizations = list(Organization.objects.order_by("id")[:2])
            if len(organizations) != 1:
                raise CommandError("Name the organization of the new products: --organization.")
            organization = organizations[0]
        else:
            organization = Organization.objects.filter(pk=organization_id).first()
            if organization is None:
                raise CommandError(f"No organization {organization_id}.")
        product_type, _ = ProductType.objects.get_or_create(
            name="VoltStorage SMART", defaults={"start_of_production": dt.date(2018, 8, 20)}
        )
        created = []
        with transaction.atomic():
            first = Product.objects.count() + 1
            for number in range(first, first + count):
                created.append(
                    Product.objects.create(
                        organization=organization,
                        type=product_type,
                        serial_number=f"SIM{number:05d}",
                        hardware_version="5.4",
                        timezone="Europe/Berlin",
                        installation_date=dt.date.today(),
                    )
                )
        return created

    def live(self, products, interval_ms: int, seed: int) -> None:
        self.stdout.write("Sending live samples; Ctrl+C to stop.")
        try:
            while True:
                now_ms = round(time.time() * 1000) // interval_ms * interval_ms
                for product in products:
                    times, values = simulation.simulate(
                        start_ms=now_ms,
                        end_ms=now_ms + 1,
                        interval_ms=interval_ms,
                        seed=seed + now_ms // DAY_MS,
                    )
                    batch = SeriesBatch(component_id=None, times=times, values=values)
                    checked = CheckedBody(batches=[batch], samples=1)
                    product_data_ingest(product=product, checked=checked)
                time.sleep(max(0.0, (now_ms + interval_ms) / 1000 - time.time()))
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

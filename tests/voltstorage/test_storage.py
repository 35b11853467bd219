"""The raw series' storage: on PostgreSQL a table partitioned by day whose partitions are made
when a write first needs them (the next day's too), also for data written into the past and
by concurrent writers; retention drops whole old partitions (rows elsewhere) while the
statistics stay; deleting a product deletes its series."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from tests.factories import MembershipFactory
from tests.voltstorage.conftest import T0
from tests.voltstorage.factories import ProductFactory
from voltstorage import partitions
from voltstorage.management.commands.voltstorage_retention import retention_apply
from voltstorage.models import HourRollup, QuarterRollup, Sample, Series

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="partitions exist on PostgreSQL only"
)


def day(moment: float) -> dt.date:
    return dt.datetime.fromtimestamp(moment, dt.UTC).date()


@postgres_only
def test_partitions_are_made_on_demand_with_the_next_day(ingest, product):
    before = set(partitions.existing_partitions())
    assert day(T0) not in before
    ingest(product, [{"time": T0, "data": {"pvPower": 1}}])
    made = set(partitions.existing_partitions()) - before
    assert made == {day(T0), day(T0) + dt.timedelta(days=1)}

    long_ago = T0 - 400 * 86400  # a device backfilling last year
    ingest(product, [{"time": long_ago, "data": {"pvPower": 2}}])
    assert day(long_ago) in partitions.existing_partitions()
    assert Sample.objects.count() == 2


@postgres_only
def test_the_table_is_partitioned_by_time_with_a_packed_primary_key():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_partkeydef('voltstorage_sample'::regclass), "
            "pg_get_indexdef('voltstorage_sample_pkey'::regclass)"
        )
        key, index = cursor.fetchone()
    assert key == 'RANGE ("time")'
    assert "USING btree (series_id, \"time\") WITH (fillfactor='100')" in index


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_a_partition_once():
    errors = []
    target = dt.date(2031, 1, 1)

    def make():
        try:
            partitions.ensure_partitions([target])
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=make) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert target in partitions.existing_partitions()
    partitions.drop_partitions_before(dt.date(2100, 1, 1))


def test_retention_drops_old_raw_data_and_keeps_the_statistics(ingest, product, client_for, member):
    old, recent = T0, T0 + 10 * 86400
    ingest(product, [{"time": old + i * 60, "data": {"pvPower": 100}} for i in range(30)])
    ingest(product, [{"time": recent + i * 60, "data": {"pvPower": 50}} for i in range(30)])
    url = f"/voltstorage/rest/products/{product.pk}/statistics"
    params = {"tstart": old - 86400, "tend": recent + 86400, "timespan": "day"}
    before = client_for(member).get(url, params).json()
    rollups = QuarterRollup.objects.count(), HourRollup.objects.count()

    first_kept, dropped = retention_apply(days=5, today=day(recent))

    assert first_kept == day(recent) - dt.timedelta(days=5)
    assert dropped
    times = [sample.time for sample in Sample.objects.order_by("time")]
    assert len(times) == 30 and times[0] >= dt.datetime.fromtimestamp(recent, dt.UTC)
    assert client_for(member).get(url, params).json() == before
    assert (QuarterRollup.objects.count(), HourRollup.objects.count()) == rollups
    # Data written again for kept days still goes in.
    ingest(product, [{"time": recent + 3600, "data": {"pvPower": 1}}])


def test_the_retention_command(settings):
    settings.VOLTSTORAGE_RAW_RETENTION_DAYS = 0
    out = StringIO()
    call_command("voltstorage_retention", stdout=out)
    assert "kept forever" in out.getvalue()
    out = StringIO()
    call_command("voltstorage_retention", "--days", "30", stdout=out)
    assert "Raw samples before" in out.getvalue()


def test_deleting_a_product_deletes_its_series_and_rollups(ingest, product, client_for, owner):
    other = ProductFactory(organization=product.organization)
    ingest(product, [{"time": T0 + i, "data": {"pvPower": i}} for i in range(10)])
    ingest(other, [{"time": T0, "data": {"pvPower": 1}}])
    response = client_for(owner).delete(f"/voltstorage/rest/products/{product.pk}")
    assert response.status_code == 204
    assert Sample.objects.count() == 1
    assert not Series.objects.filter(product_id=product.pk).exists()
    assert QuarterRollup.objects.exclude(series__product=other).count() == 0


def test_deleting_an_organization_deletes_its_voltstorage_data(
    ingest, product, client_for, owner, other_organization
):
    bystander = ProductFactory(organization=other_organization)
    ingest(product, [{"time": T0 + i, "data": {"pvPower": i}} for i in range(10)])
    outside = MembershipFactory(organization=other_organization).user
    response = client_for(outside).post(
        f"/voltstorage/rest/products/{bystander.pk}/data",
        {"time": T0, "data": {"pvPower": 3}},
        format="json",
    )
    assert response.status_code == 201

    response = client_for(owner).delete(f"/api/v2/organizations/{product.organization_id}/")

    assert response.status_code == 204, response.content
    assert list(Sample.objects.values_list("pv_power", flat=True)) == [3.0]
    assert list(Series.objects.values_list("product_id", flat=True)) == [bystander.pk]
    assert not QuarterRollup.objects.exclude(series__product=bystander).exists()

"""Statistics from the rollups: every documented key, energies in watt-seconds from power held
over time, buckets in the product's time zone (daylight saving, 30- and 45-minute offsets),
rollups that stay exact whatever order data arrives in, and no raw row read per request."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.voltstorage.conftest import T0, data_url
from tests.voltstorage.factories import ProductFactory
from voltstorage import catalogue
from voltstorage.models import ROLLUP_COLUMNS, HourRollup, QuarterRollup, Sample, Series
from voltstorage.rollups import aggregate, hold_ms

pytestmark = pytest.mark.django_db

KEYS = [
    "timespan_start",
    "pv-total",
    "pv-activity",
    "consumption-total",
    "storage-total-released",
    "storage-total-stored",
    "max-temperature",
    "own-consumption",
    "electrolyte-temp",
    "pump-temp",
    "dc-capacity",
    "ac-capacity",
    "dc-efficiency",
    "ac-efficiency",
    "self-sufficiency",
]


def statistics(client, product, **params) -> list[dict]:
    response = client.get(f"/voltstorage/rest/products/{product.pk}/statistics", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def client(client_for, member):
    return client_for(member)


def series_of(count, step, start=T0, **fields) -> list[dict]:
    """``count`` samples every ``step`` seconds from ``start``, each field constant or a
    function of the index."""

    def data(i):
        return {name: (value(i) if callable(value) else value) for name, value in fields.items()}

    return [{"time": start + i * step, "data": data(i)} for i in range(count)]


def test_a_bucket_has_exactly_the_documented_keys(ingest, product, client):
    ingest(product, series_of(10, 60, pvPower=0))
    [bucket] = statistics(client, product, tstart=T0, tend=T0 + 3600, timespan="hour")
    assert list(bucket) == KEYS
    assert bucket["timespan_start"] == T0
    for key in ("own-consumption", "electrolyte-temp", "pump-temp", "dc-capacity"):
        assert list(bucket[key]) == ["nSamples", "value"]
    assert list(bucket["self-sufficiency"]) == ["totalWeight", "value"]


def test_energy_integrates_power_held_over_time_in_watt_seconds(ingest, product, client):
    # 1000 W every 10 s for an hour: 360 intervals of 10 s = 3,600,000 Ws (1 kWh).
    ingest(product, series_of(361, 10, pvPower=1000, householdPower=250))
    [bucket, _] = statistics(client, product, tstart=T0, tend=T0 + 7200, timespan="hour")
    assert bucket["pv-total"] == 3_600_000
    assert bucket["consumption-total"] == 900_000
    assert bucket["pv-activity"] == 1.0


def test_a_gap_longer_than_the_hold_counts_only_the_hold(ingest, product, client, settings):
    settings.VOLTSTORAGE_HOLD_SECONDS = 300
    body = [{"time": T0, "data": {"pvPower": 100}}, {"time": T0 + 600, "data": {"pvPower": 100}}]
    ingest(product, body)
    [bucket] = statistics(client, product, tstart=T0, tend=T0 + 3600, timespan="hour")
    # Each value held 300 s: the first until the gap's limit, the newest until more comes.
    assert bucket["pv-total"] == 2 * 100 * 300
    ingest(product, {"time": T0 + 660, "data": {"pvPower": 100}})
    [bucket] = statistics(client, product, tstart=T0, tend=T0 + 3600, timespan="hour")
    assert bucket["pv-total"] == 100 * (300 + 60 + 300)


def test_energy_is_split_at_bucket_boundaries(ingest, product, client):
    # 600 W at 00:59, 01:00 and 01:01 (UTC product): a minute before the hour, then a minute
    # and the newest value's hold (300 s) after it.
    product.timezone = "UTC"
    product.save()
    start = T0 + 3600 - 60
    ingest(product, series_of(3, 60, start=start, pvPower=600))
    buckets = statistics(client, product, tstart=T0, tend=T0 + 7200, timespan="hour")
    assert [(b["timespan_start"], b["pv-total"]) for b in buckets] == [
        (T0, 600 * 60),
        (T0 + 3600, 600 * (60 + 300)),
    ]


def test_shares_capacities_and_efficiencies(ingest, product, client):
    """An hour of charging from PV, then an hour of discharging, every 10 s (the last sample,
    at the end of the two hours, is left out of the range). The storage's powers are negative
    while it charges and positive while it discharges, as in the original's CSV sample."""
    hour, half = 3600, 360

    def phase(first, second):
        return lambda i: first if i < half else second

    body = series_of(
        2 * half + 1,
        10,
        pvPower=phase(2000, 0),
        gridPower=phase(-500, 250),
        householdPower=1000,
        storagePower=phase(-1000, 800),
        inverterPower=phase(-1100, 700),
        stateOfCharge=lambda i: 0.5 + 0.4 * (i if i <= half else 2 * half - i) / half,
        electrolyteTemperature=lambda i: 30 + i % 2 if i < half else 36,
        pumpTemperature=phase(40, 41),
    )
    ingest(product, body)
    [both] = statistics(client, product, tstart=T0, tend=T0 + 2 * hour, timespan="lifetime")

    assert both["pv-total"] == 2000 * hour
    assert both["pv-activity"] == pytest.approx(0.5)
    assert both["consumption-total"] == 1000 * 2 * hour
    assert both["storage-total-stored"] == 1000 * hour
    assert both["storage-total-released"] == 800 * hour
    assert both["max-temperature"] == 36
    assert both["electrolyte-temp"]["nSamples"] == 2 * half
    assert both["pump-temp"]["value"] == pytest.approx(40.5)
    # 500 W of the 2000 W of PV were exported: three quarters used on site.
    assert both["own-consumption"] == {"nSamples": 720, "value": pytest.approx(0.75)}
    # 250 W of the 1000 W consumed came from the grid for one of the two hours.
    assert both["self-sufficiency"] == {"totalWeight": 7_200_000, "value": pytest.approx(0.875)}
    # The charge rose by 0.4; of its fall, the last step comes with the sample left out.
    rise, fall = 0.4, 0.4 * (half - 1) / half
    assert both["dc-capacity"] == {"nSamples": 720, "value": pytest.approx(800 * hour / fall)}
    assert both["dc-efficiency"]["value"] == pytest.approx((800 / fall) / (1000 / rise))
    assert both["ac-capacity"]["value"] == pytest.approx(700 * hour / fall)
    assert both["ac-efficiency"] == {
        "nSamples": 720,
        "value": pytest.approx((700 / fall) / (1100 / rise)),
    }


def test_storage_powers_are_positive_while_discharging_as_in_the_documented_sample(
    ingest, product, client
):
    """The original's CSV sample: ``inverterPower`` and ``Power_Power Electronics`` at +433 W
    while the state of charge falls (0.611868 to 0.611709) and the household takes PV plus
    inverter plus grid. Positive storage power is energy released, negative energy stored.
    Seven seconds of power; the eighth sample, at zero, ends it."""

    def seven(value):
        return lambda i: value if i < 7 else 0

    ingest(
        product,
        series_of(
            8,
            1,
            inverterPower=seven(433.105),
            powerElectronicsPower=seven(433.105),
            storagePower=seven(450),
            stateOfCharge=lambda i: 0.611868 - 0.0000227 * i,
        ),
    )
    [discharging] = statistics(client, product, tstart=T0, tend=T0 + 7, timespan="lifetime")
    assert discharging["storage-total-released"] == 450 * 7
    assert discharging["storage-total-stored"] == 0
    assert discharging["ac-capacity"]["value"] == pytest.approx(433.105 * 7 / (0.0000227 * 7))
    assert discharging["dc-capacity"]["value"] > 0

    charging = ProductFactory(organization=product.organization)
    ingest(
        charging,
        series_of(
            8,
            1,
            inverterPower=seven(-45.99),
            storagePower=seven(-40),
            stateOfCharge=lambda i: 0.5 + 0.0001 * i,
        ),
    )
    [bucket] = statistics(client, charging, tstart=T0, tend=T0 + 7, timespan="lifetime")
    assert bucket["storage-total-stored"] == 40 * 7
    assert bucket["storage-total-released"] == 0
    # Nothing fell: no capacity to report.
    assert bucket["ac-capacity"]["value"] is None and bucket["dc-capacity"]["value"] is None


def test_undefined_means_and_ratios_are_null_and_totals_zero(ingest, product, client):
    ingest(product, series_of(3, 60, status=1))
    [bucket] = statistics(client, product, tstart=T0, tend=T0 + 3600, timespan="hour")
    assert bucket["pv-total"] == 0 and bucket["storage-total-stored"] == 0
    assert bucket["max-temperature"] is None and bucket["pv-activity"] is None
    assert bucket["electrolyte-temp"] == {"nSamples": 0, "value": None}
    assert bucket["dc-efficiency"] == {"nSamples": 0, "value": None}
    assert bucket["self-sufficiency"] == {"totalWeight": 0, "value": None}
    assert bucket["own-consumption"] == {"nSamples": 0, "value": 0.0}


def local_midnight(zone: str, day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(zone)).timestamp())


def test_days_follow_the_time_zone_across_daylight_saving(ingest, client, organization):
    product = ProductFactory(organization=organization, timezone="Europe/Berlin")
    start = local_midnight("Europe/Berlin", dt.date(2024, 3, 30))
    end = local_midnight("Europe/Berlin", dt.date(2024, 4, 2))
    ingest(product, series_of((end - start) // 900, 900, start=start, pvPower=100))

    buckets = statistics(client, product, tstart=start, tend=end, timespan="day")

    assert [b["timespan_start"] for b in buckets] == [
        local_midnight("Europe/Berlin", dt.date(2024, 3, 30)),
        local_midnight("Europe/Berlin", dt.date(2024, 3, 31)),
        local_midnight("Europe/Berlin", dt.date(2024, 4, 1)),
    ]
    # The day the clocks go forward has 23 hours of samples.
    assert [b["own-consumption"]["nSamples"] for b in buckets] == [96, 92, 96]


def test_the_autumn_day_has_25_hours_and_its_repeated_hour_is_a_bucket(
    ingest, client, organization
):
    product = ProductFactory(organization=organization, timezone="Europe/Berlin")
    start = local_midnight("Europe/Berlin", dt.date(2024, 10, 27))
    end = local_midnight("Europe/Berlin", dt.date(2024, 10, 28))
    ingest(product, series_of((end - start) // 900, 900, start=start, pvPower=100))

    [day] = statistics(client, product, tstart=start, tend=end, timespan="day")
    assert day["own-consumption"]["nSamples"] == 100
    hours = statistics(client, product, tstart=start, tend=end, timespan="hour")
    assert len(hours) == 25
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    labels = [dt.datetime.fromtimestamp(h["timespan_start"], zone).strftime("%H%z") for h in hours]
    assert labels[2:4] == ["02+0200", "02+0100"]


@pytest.mark.parametrize(
    ("zone", "minute"), [("Asia/Kolkata", 30), ("Asia/Kathmandu", 15), ("Australia/Eucla", 15)]
)
def test_hours_and_days_start_on_the_local_hour_in_zones_offset_by_30_or_45_minutes(
    ingest, client, organization, zone, minute
):
    product = ProductFactory(organization=organization, timezone=zone)
    start = local_midnight(zone, dt.date(2024, 6, 1))
    ingest(product, series_of(2 * 96, 900, start=start, pvPower=100))

    hours = statistics(client, product, tstart=start, tend=start + 6 * 3600, timespan="hour")
    assert len(hours) == 6
    assert {h["timespan_start"] % 3600 // 60 for h in hours} == {minute}
    assert all(h["own-consumption"]["nSamples"] == 4 for h in hours)
    days = statistics(client, product, tstart=start, tend=start + 2 * 86400, timespan="day")
    assert [d["timespan_start"] for d in days] == [start, start + 86400]
    assert [d["own-consumption"]["nSamples"] for d in days] == [96, 96]


def test_months_years_and_lifetime(ingest, client, organization):
    product = ProductFactory(organization=organization, timezone="Europe/Berlin")
    start = local_midnight("Europe/Berlin", dt.date(2023, 12, 30))
    ingest(product, series_of(5, 86400, start=start, pvPower=100))

    months = statistics(client, product, tstart=start, tend=start + 5 * 86400, timespan="month")
    assert [m["timespan_start"] for m in months] == [
        local_midnight("Europe/Berlin", dt.date(2023, 12, 1)),
        local_midnight("Europe/Berlin", dt.date(2024, 1, 1)),
    ]
    assert [m["own-consumption"]["nSamples"] for m in months] == [2, 3]
    years = statistics(client, product, tstart=start, tend=start + 5 * 86400, timespan="year")
    assert [y["own-consumption"]["nSamples"] for y in years] == [2, 3]
    [lifetime] = statistics(client, product, timespan="lifetime")
    assert lifetime["own-consumption"]["nSamples"] == 5
    assert lifetime["timespan_start"] == start
    same = client.get(
        f"/voltstorage/rest/data/statistics?productId={product.pk}&timespan=lifetime"
    ).json()
    assert same == [lifetime]


def test_statistics_read_the_rollups_not_the_raw_rows(ingest, product, client):
    ingest(product, series_of(120, 30, pvPower=lambda i: 10 * i, householdPower=300))
    before = statistics(client, product, tstart=T0, tend=T0 + 7200, timespan="hour")
    Sample.objects.all().delete()  # what retention does to old raw data
    assert statistics(client, product, tstart=T0, tend=T0 + 7200, timespan="hour") == before


def test_bad_parameters_are_a_400_naming_them(client, product):
    url = f"/voltstorage/rest/products/{product.pk}/statistics"
    cases = {
        "timespan=week": "timespan: Must be one of hour, day, month, year, lifetime.",
        "tstart=abc": "tstart: Must be a number of seconds since 1970-01-01T00:00:00Z; got 'abc'.",
        f"tstart={T0}&tend={T0}": "tstart: Must be before tend.",
        "tstart=0&tend=2000000000&timespan=hour": "tstart: At most 10000 buckets per request",
    }
    for query, message in cases.items():
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, query
        assert response.json()["errors"][0].startswith(message), response.json()


def test_statistics_without_data_are_an_empty_list(client, product):
    assert statistics(client, product, timespan="day") == []
    response = client.get("/voltstorage/rest/data/statistics")
    assert response.json() == {"errors": ["productId: Required: the product's id."]}


# --- The rollups stay exact whatever the order of arrival ------------------------------------


def stored_rollups(product) -> dict:
    series = Series.objects.get(product=product, component__isnull=True)
    result = {}
    for model in (QuarterRollup, HourRollup):
        for row in model.objects.filter(series=series).values_list("start", *ROLLUP_COLUMNS):
            result[(model.__name__, row[0])] = row[1:]
    return result


def assert_same_rollups(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        for x, y in zip(a[key], b[key], strict=True):
            assert (x is None and y is None) or x == pytest.approx(y, rel=1e-9, abs=1e-9), key


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    samples=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4 * 3600),
            st.sampled_from(["pvPower", "gridPower", "stateOfCharge", "electrolyteTemperature"]),
            st.floats(min_value=-2000, max_value=2000, allow_nan=False),
        ),
        min_size=1,
        max_size=60,
    ),
    chunks=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_rollups_equal_those_of_all_data_at_once_whatever_the_order(
    ingest, organization, samples, chunks, seed
):
    def sample(offset, name, value):
        if name == "stateOfCharge":
            value = abs(value) / 2000
        return {"time": T0 + offset, "data": {name: value}}

    body = [sample(*item) for item in samples]
    in_pieces = ProductFactory(organization=organization)
    shuffled = list(body)
    random.Random(seed).shuffle(shuffled)
    size = max(1, len(shuffled) // chunks)
    for start in range(0, len(shuffled), size):
        ingest(in_pieces, shuffled[start : start + size])
    # All of them in one request, in the order the pieces came (the last of equal times wins).
    reference = ProductFactory(organization=organization)
    ingest(reference, shuffled)
    assert_same_rollups(stored_rollups(in_pieces), stored_rollups(reference))


def test_the_stored_rollups_are_those_of_the_raw_rows(ingest, product):
    rng = np.random.default_rng(3)
    body = [
        {"time": T0 + int(t), "data": {"pvPower": float(v), "stateOfCharge": float(s)}}
        for t, v, s in zip(
            np.sort(rng.choice(7200, 400, replace=False)),
            rng.normal(500, 200, 400),
            rng.uniform(0, 1, 400),
            strict=True,
        )
    ]
    ingest(product, body[:150])
    ingest(product, body[300:])
    ingest(product, body[150:300])  # a backfill between the two
    series = Series.objects.get(product=product, component__isnull=True)
    times = np.array([round(item["time"] * 1000) for item in body], dtype=np.int64)
    values = np.full((len(body), len(catalogue.FIELDS)), np.nan)
    values[:, catalogue.INDEX["pvPower"]] = [item["data"]["pvPower"] for item in body]
    values[:, catalogue.INDEX["stateOfCharge"]] = [item["data"]["stateOfCharge"] for item in body]
    expected = aggregate(times, values, hold=hold_ms())
    stored = {
        row[0]: row[1:]
        for row in QuarterRollup.objects.filter(series=series).values_list("start", *ROLLUP_COLUMNS)
    }
    assert len(stored) == len(expected)
    for index, row in zip(expected.index.tolist(), expected.values.tolist(), strict=True):
        start = dt.datetime.fromtimestamp(index * 900, dt.UTC)
        for value, saved in zip(row, stored[start], strict=True):
            assert (value != value and saved is None) or saved == pytest.approx(value)


def test_a_resent_value_recomputes_its_periods(ingest, product, client, client_for, member):
    ingest(product, series_of(100, 30, pvPower=100))
    ingest(product, series_of(10, 30, start=T0 + 900, pvPower=5000))  # replaces ten samples
    changed = statistics(client, product, tstart=T0, tend=T0 + 7200, timespan="hour")
    fresh = ProductFactory(organization=product.organization, timezone=product.timezone)
    body = series_of(100, 30, pvPower=lambda i: 5000 if 30 <= i < 40 else 100)
    response = client_for(member).post(data_url(fresh.pk), body, format="json")
    assert response.status_code == 201
    expected = statistics(client, fresh, tstart=T0, tend=T0 + 7200, timespan="hour")
    assert changed == expected

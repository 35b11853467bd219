"""Device ingestion: ``POST /voltstorage/rest/products/{id}/data`` stores one sample or a list,
all or nothing, merges by time (a field sent again takes the new value, fields not sent keep
theirs), never duplicates, names every bad sample, and keeps the latest data and the product's
error codes and online state current."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core import services as core_services
from tests.conftest import jwt_for
from tests.factories import UserFactory
from tests.voltstorage.conftest import T0, data_url
from tests.voltstorage.factories import ComponentFactory, GroupFactory, ProductFactory
from voltstorage.models import Product, Sample, Series
from voltstorage.views import IngestView

pytestmark = pytest.mark.django_db


def stored(product, component=None) -> list[dict]:
    """The stored samples of the product's (or component's) series, with their fields."""
    series = Series.objects.filter(product=product, component=component).first()
    if series is None:
        return []
    rows = Sample.objects.filter(series=series).order_by("time")
    result = []
    for sample in rows:
        values = {
            name: getattr(sample, column)
            for name, column in (
                ("pvPower", "pv_power"),
                ("gridPower", "grid_power"),
                ("status", "status"),
                ("stateOfCharge", "state_of_charge"),
            )
            if getattr(sample, column) is not None
        }
        result.append({"time": sample.time.timestamp(), **values})
    return result


def errors_of(response) -> list[str]:
    body = response.json()
    assert set(body) == {"errors"}, body
    return body["errors"]


def test_one_sample_is_stored_with_milliseconds(ingest, product):
    response = ingest(product, {"time": T0 + 0.25, "data": {"pvPower": 421, "dcVoltage": 26.3}})

    assert response.json() == {"samples": 1}
    [sample] = Sample.objects.all()
    assert sample.time == dt.datetime.fromtimestamp(T0 + 0.25, dt.UTC)
    assert (sample.pv_power, sample.dc_voltage, sample.grid_power) == (421.0, 26.3, None)


def test_times_are_kept_to_the_millisecond_and_rounded_beyond(ingest, product):
    ingest(product, [{"time": T0 + 0.0014, "data": {"pvPower": 1}}])
    [sample] = Sample.objects.all()
    assert sample.time == dt.datetime.fromtimestamp(T0 + 0.001, dt.UTC)


def test_a_list_is_stored_and_resending_it_duplicates_nothing(ingest, product):
    body = [{"time": T0 + i, "data": {"pvPower": 100 + i, "status": 1}} for i in range(50)]
    ingest(product, body)
    ingest(product, body)

    rows = stored(product)
    assert len(rows) == 50
    assert rows[7] == {"time": T0 + 7, "pvPower": 107.0, "status": 1}


def test_a_sample_for_a_stored_time_merges_field_by_field(ingest, product):
    ingest(product, [{"time": T0, "data": {"pvPower": 100, "gridPower": -50}}])
    ingest(product, [{"time": T0, "data": {"pvPower": 120, "status": 2}}])

    assert stored(product) == [{"time": T0, "pvPower": 120.0, "gridPower": -50.0, "status": 2}]


def test_within_one_body_the_later_sample_of_a_time_wins(ingest, product):
    ingest(
        product,
        [
            {"time": T0, "data": {"pvPower": 1, "gridPower": 5}},
            {"time": T0, "data": {"pvPower": 2}},
        ],
    )
    assert stored(product) == [{"time": T0, "pvPower": 2.0, "gridPower": 5.0}]


def test_samples_may_come_in_any_order_and_fill_gaps(ingest, product):
    ingest(product, [{"time": T0 + 10, "data": {"pvPower": 10}}])
    ingest(
        product,
        [{"time": T0 + 5, "data": {"pvPower": 5}}, {"time": T0, "data": {"pvPower": 0}}],
    )

    assert [row["pvPower"] for row in stored(product)] == [0.0, 5.0, 10.0]


def test_one_bad_sample_writes_nothing_and_is_named(client_for, member, product):
    body = [{"time": T0 + i, "data": {"pvPower": i}} for i in range(5)]
    body[3] = {"time": T0 + 3, "data": {"pvPower": "lots"}}

    response = client_for(member).post(data_url(product.pk), body, format="json")

    assert response.status_code == 400
    assert errors_of(response) == ["samples[3].data.pvPower: must be a finite number."]
    assert not Sample.objects.exists()


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"time": T0, "data": {"sunshine": 3}}, "sample.data: unknown field 'sunshine'."),
        ({"time": T0, "data": {"pvPower": True}}, "sample.data.pvPower: must be a finite number."),
        ({"time": T0, "data": {"status": 1.5}}, "sample.data.status: must be an integer code."),
        (
            {"time": T0, "data": {"stateOfCharge": 61.2}},
            "sample.data.stateOfCharge: 61.2 is outside 0 to 1.",
        ),
        ({"data": {"pvPower": 1}}, "sample.time: must be a number of seconds since"),
        ({"time": "yesterday", "data": {}}, "sample.time: must be a number of seconds since"),
        ({"time": -5, "data": {"pvPower": 1}}, "sample.time: must not be before 1970"),
        ({"time": T0}, "sample.data: must be an object"),
        ({"time": T0, "data": {}, "componentId": 12345}, "sample.componentId: no component"),
        ({"time": T0, "data": {}, "errors": "broken"}, "sample.errors: must be a list"),
        ({"time": T0, "data": {}, "extra": 1}, "sample: unknown keys extra"),
    ],
)
def test_bad_samples_are_a_400_naming_the_problem(client_for, member, product, sample, message):
    response = client_for(member).post(data_url(product.pk), sample, format="json")

    assert response.status_code == 400
    [error] = errors_of(response)
    assert error.startswith(message), error
    assert not Sample.objects.exists()


def test_a_body_that_is_not_json_or_not_samples_is_a_400(client_for, member, product):
    client = client_for(member)
    url = data_url(product.pk)
    assert errors_of(client.post(url, [], format="json")) == [
        "The body is an empty list: send at least one sample."
    ]
    assert errors_of(client.post(url, "3", content_type="application/json")) == [
        "The body must be a sample object or a list of samples."
    ]
    response = client.post(url, "{not json", content_type="application/json")
    assert response.status_code == 400 and errors_of(response)


def test_times_too_far_in_the_future_are_refused(client_for, member, product, settings):
    settings.VOLTSTORAGE_FUTURE_SECONDS = 60
    soon = time.time() + 30
    later = time.time() + 600
    client = client_for(member)

    response = client.post(data_url(product.pk), {"time": soon, "data": {"pvPower": 1}})
    assert response.status_code == 201
    response = client.post(data_url(product.pk), [{"time": later, "data": {"pvPower": 1}}])
    assert response.status_code == 400
    assert "too far in the future" in errors_of(response)[0]


def test_times_before_the_retention_are_refused(client_for, member, product, settings):
    settings.VOLTSTORAGE_RAW_RETENTION_DAYS = 30
    old = time.time() - 40 * 86400
    response = client_for(member).post(data_url(product.pk), {"time": old, "data": {"pvPower": 1}})
    assert response.status_code == 400
    assert "before the oldest time raw data is kept for" in errors_of(response)[0]


def test_too_many_samples_are_refused(client_for, member, product, settings):
    settings.VOLTSTORAGE_MAX_SAMPLES = 3
    body = [{"time": T0 + i, "data": {"pvPower": i}} for i in range(4)]
    response = client_for(member).post(data_url(product.pk), body, format="json")
    assert errors_of(response) == ["At most 3 samples per request; got 4."]


def test_problems_are_listed_for_every_sample_up_to_a_limit(client_for, member, product):
    body = [{"time": T0 + i, "data": {"nope": i}} for i in range(30)]
    errors = errors_of(client_for(member).post(data_url(product.pk), body, format="json"))
    assert errors[0] == "samples[0].data: unknown field 'nope'."
    assert errors[19] == "samples[19].data: unknown field 'nope'."
    assert errors[20] == "... and 10 more problems."


def test_a_body_over_the_limit_is_a_413_in_the_api_s_shape(
    client_for, member, product, monkeypatch
):
    monkeypatch.setattr(IngestView, "max_body_size", 1000)
    body = [{"time": T0 + i, "data": {"pvPower": i}} for i in range(100)]
    response = client_for(member).post(data_url(product.pk), body, format="json")
    assert response.status_code == 413
    assert errors_of(response)[0].startswith("Request body too large")


def test_component_samples_go_to_the_component_s_series(ingest, product):
    component = ComponentFactory(product=product)
    ingest(
        product,
        [
            {"time": T0, "data": {"pvPower": 1}},
            {"time": T0, "data": {"pvPower": 7}, "componentId": component.pk},
        ],
    )
    assert stored(product) == [{"time": T0, "pvPower": 1.0}]
    assert stored(product, component) == [{"time": T0, "pvPower": 7.0}]


def test_a_component_of_another_product_is_refused(client_for, member, product, organization):
    elsewhere = ComponentFactory(product=ProductFactory(organization=organization))
    sample = {"time": T0, "data": {"pvPower": 1}, "componentId": elsewhere.pk}
    response = client_for(member).post(data_url(product.pk), sample, format="json")
    assert response.status_code == 400


def test_errors_when_sent_replace_the_product_s_error_codes(ingest, product):
    ingest(product, {"time": T0, "data": {"pvPower": 1}, "errors": ["nonDefaultStrategy"]})
    product.refresh_from_db()
    assert product.errors == ["nonDefaultStrategy"]

    ingest(product, {"time": T0 + 1, "data": {"pvPower": 1}})  # no errors sent: unchanged
    product.refresh_from_db()
    assert product.errors == ["nonDefaultStrategy"]

    ingest(
        product,
        [
            {"time": T0 + 3, "data": {}, "errors": ["pumpFault"]},
            {"time": T0 + 2, "data": {}, "errors": ["older"]},
        ],
    )
    product.refresh_from_db()
    assert product.errors == ["pumpFault"]  # the newest sample's

    ingest(product, {"time": T0 + 4, "data": {}, "errors": []})
    product.refresh_from_db()
    assert product.errors == []


def test_latest_data_follows_the_newest_value_of_each_field(ingest, product, client_for, member):
    ingest(product, [{"time": T0, "data": {"pvPower": 1, "gridPower": 9}}])
    ingest(product, [{"time": T0 + 5, "data": {"pvPower": 2}}])
    ingest(product, [{"time": T0 + 3, "data": {"pvPower": 99, "gridPower": 8}}])  # backfill

    client = client_for(member)
    url = f"/voltstorage/rest/products/{product.pk}/latest-data"
    assert client.get(url).json() == {"gridPower": 8, "pvPower": 2}
    assert client.get(url, {"includeTime": "true"}).json() == {
        "time": T0 + 5,
        "data": {"gridPower": 8, "pvPower": 2},
    }
    same = client.get(f"/voltstorage/rest/data/latest?productId={product.pk}&includeTime=true")
    assert same.json()["time"] == T0 + 5


def test_latest_data_of_a_product_without_data(client_for, member, product):
    client = client_for(member)
    assert client.get(f"/voltstorage/rest/products/{product.pk}/latest-data").json() == {}
    assert client.get(
        f"/voltstorage/rest/data/latest?productId={product.pk}&includeTime=true"
    ).json() == {"time": None, "data": {}}


def test_latest_data_keeps_fractional_seconds(ingest, product, client_for, member):
    ingest(product, {"time": T0 + 0.5, "data": {"dcVoltage": 26.3}})
    response = client_for(member).get(
        f"/voltstorage/rest/products/{product.pk}/latest-data?includeTime=true"
    )
    assert response.json() == {"time": T0 + 0.5, "data": {"dcVoltage": 26.3}}


def test_latest_data_needs_a_product_id(client_for, member):
    response = client_for(member).get("/voltstorage/rest/data/latest")
    assert response.status_code == 400
    assert errors_of(response) == ["productId: Required: the product's id."]
    response = client_for(member).get("/voltstorage/rest/data/latest?productId=x")
    assert errors_of(response) == ["productId: Must be an integer; got 'x'."]


def test_online_means_data_within_the_window(ingest, product, client_for, member, settings):
    url = f"/voltstorage/rest/products/{product.pk}"
    client = client_for(member)
    assert client.get(url).json()["online"] is False

    ingest(product, {"time": T0, "data": {"pvPower": 1}})  # old data, received now
    assert client.get(url).json()["online"] is True

    Product.objects.filter(pk=product.pk).update(
        last_received_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=400)
    )
    settings.VOLTSTORAGE_ONLINE_SECONDS = 300
    assert client.get(url).json()["online"] is False


# --- Who may write ---------------------------------------------------------------------------


def post_as(user, product):
    client_headers = {"HTTP_AUTHORIZATION": f"Bearer {jwt_for(user)}"}
    from rest_framework.test import APIClient

    return APIClient().post(
        data_url(product.pk), {"time": T0, "data": {"pvPower": 1}}, format="json", **client_headers
    )


def test_members_and_owners_write_viewers_and_homeowners_may_not(
    product, member, owner, viewer, outsider, staff
):
    homeowner = UserFactory()
    product.owner = homeowner
    product.group = GroupFactory(organization=product.organization, owner=UserFactory())
    product.save()

    assert post_as(member, product).status_code == 201
    assert post_as(owner, product).status_code == 201
    assert post_as(staff, product).status_code == 201
    assert post_as(viewer, product).status_code == 403
    assert post_as(homeowner, product).status_code == 403
    assert post_as(product.group.owner, product).status_code == 403
    assert post_as(outsider, product).status_code == 404


def test_a_device_posts_with_its_member_s_api_key(member, product):
    from rest_framework.test import APIClient

    _, key = core_services.api_key_create(user=member, name="device")
    response = APIClient().post(
        data_url(product.pk),
        {"time": T0, "data": {"pvPower": 5}},
        format="json",
        HTTP_AUTHORIZATION=f"User {key}",
    )
    assert response.status_code == 201
    assert Sample.objects.count() == 1


def test_anonymous_is_a_401(product):
    from rest_framework.test import APIClient

    response = APIClient().post(data_url(product.pk), {"time": T0, "data": {}}, format="json")
    assert response.status_code == 401
    assert errors_of(response) == ["Authentication credentials were not provided."]


def test_an_unknown_product_is_a_404(client_for, member):
    response = client_for(member).post(data_url(999999), {"time": T0, "data": {}}, format="json")
    assert response.status_code == 404
    assert errors_of(response) == ["No product 999999: it does not exist or is not visible to you."]

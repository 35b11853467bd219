"""Input limits of the BatteryDB resources: JSON fields (depth, size, NUL, non-finite
numbers, null), text lengths and date filters. Each bad input is a 400 naming the field,
writes nothing, and leaves every list readable."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.urls import reverse

from batterydb.models import EISTest, ModelVersion, Project
from tests.batterydb.factories import BatteryModelFactory, EISTestFactory

pytestmark = pytest.mark.django_db

TESTS = reverse("batterydb:eis-test-list")

LIST_NAMES = [
    "batterydb:project-list",
    "batterydb:battery-type-list",
    "batterydb:battery-list",
    "batterydb:eis-device-list",
    "batterydb:eis-test-list",
    "batterydb:bms-test-list",
    "batterydb:dbc-file-list",
    "batterydb:bms-file-list",
    "batterydb:model-list",
    "batterydb:model-version-list",
    "batterydb:model-prediction-list",
]


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def post_raw(client, url: str, body) -> object:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("depth", [33, 255, 1023])
def test_deeply_nested_bms_data_is_400_and_not_stored(client_for, member, organization, depth):
    client = client_for(member)
    deep = '{"a":' * depth + "1" + "}" * depth  # beyond what Python's json module writes
    body = f'{{"organization": {organization.pk}, "bms_data": {deep}}}'
    response = client.post(TESTS, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "Nested too deeply" in response.json()["bms_data"][0]
    assert EISTest.objects.count() == 0
    assert client.get(TESTS).status_code == 200


def test_a_bulk_list_with_one_deep_item_writes_nothing(client_for, member, organization):
    items = [
        {"organization": organization.pk, "bms_data": {"ok": True}},
        {"organization": organization.pk, "bms_data": nested(300)},
    ]
    response = post_raw(client_for(member), TESTS, items)
    assert response.status_code == 400
    assert "bms_data" in response.json()["1"]
    assert EISTest.objects.count() == 0


def test_json_at_the_depth_limit_is_stored_and_listed(client_for, member, organization):
    client = client_for(member)
    body = {"organization": organization.pk, "bms_data": nested(settings.API_MAX_JSON_DEPTH)}
    assert post_raw(client, TESTS, body).status_code == 201
    assert client.get(TESTS).json()["results"][0]["bms_data"] == body["bms_data"]


def test_a_json_field_over_the_size_limit_is_400(client_for, member, organization, settings):
    settings.API_MAX_JSON_FIELD_SIZE = 1000
    body = {"organization": organization.pk, "bms_data": {"cells": [3.7] * 400}}
    response = post_raw(client_for(member), TESTS, body)
    assert response.status_code == 400
    assert "Too large" in response.json()["bms_data"][0]


@pytest.mark.parametrize("value", [{"k": "a\u0000b"}, {"a\u0000": 1}, ["\u0000"]])
def test_nul_characters_in_json_are_400(client_for, member, organization, value):
    response = post_raw(
        client_for(member), TESTS, {"organization": organization.pk, "bms_data": value}
    )
    assert response.status_code == 400
    assert "Null characters" in response.json()["bms_data"][0]
    assert EISTest.objects.count() == 0


def test_nul_characters_in_text_are_400(client_for, member, organization):
    body = {"organization": organization.pk, "name": "a\u0000b"}
    response = post_raw(client_for(member), reverse("batterydb:project-list"), body)
    assert response.status_code == 400
    assert "name" in response.json()
    assert Project.objects.count() == 0


@pytest.mark.parametrize("encoding", ["multipart", "form"])
def test_output_indices_null_in_a_form_is_400(client_for, member, organization, encoding):
    model = BatteryModelFactory(organization=organization)
    body = {
        "organization": organization.pk,
        "battery_model": model.pk,
        "version": "1",
        "output_indices": "null",
    }
    client = client_for(member)
    url = reverse("batterydb:model-version-list")
    if encoding == "form":
        from urllib.parse import urlencode

        response = client.post(
            url, urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(url, body, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json() == {"output_indices": ["This field may not be null."]}
    assert ModelVersion.objects.count() == 0


def test_nan_in_a_form_json_field_is_400(client_for, member, organization):
    model = BatteryModelFactory(organization=organization)
    body = {
        "organization": organization.pk,
        "battery_model": model.pk,
        "version": "1",
        "output_indices": '{"soh": NaN}',
    }
    response = client_for(member).post(
        reverse("batterydb:model-version-list"), body, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"output_indices": ["Value must be valid JSON."]}


@pytest.mark.parametrize(
    ("url_name", "field"),
    [("batterydb:project-list", "notes"), ("batterydb:eis-test-list", "bms_keys")],
)
def test_text_fields_have_a_length_limit(client_for, member, organization, url_name, field):
    body = {"organization": organization.pk, "name": "p", field: "x" * 1_000_000}
    response = post_raw(client_for(member), reverse(url_name), body)
    assert response.status_code == 400
    assert "no more than 10000 characters" in response.json()[field][0]


@pytest.mark.parametrize("url_name", LIST_NAMES)
@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01T00:00:00+16:00",
        "2024-01-01T00:00:00-23:59",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:30:00-01:00",
    ],
)
def test_date_filters_out_of_range_are_400(client_for, member, url_name, value):
    response = client_for(member).get(reverse(url_name), {"created_after": value})
    assert response.status_code == 400
    assert "created_after" in response.json()


def test_a_date_filter_at_the_largest_offset_works(client_for, member, organization):
    EISTestFactory(organization=organization)
    client = client_for(member)
    response = client.get(TESTS, {"created_after": "2000-01-01T00:00:00+15:59"})
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("param", ["timestamp", "timestamp_after", "timestamp_before"])
def test_bms_result_timestamp_filters_out_of_range_are_400(client_for, member, param):
    url = reverse("batterydb:bms-result-list")
    response = client_for(member).get(url, {param: "2024-01-01T00:00:00+20:00"})
    assert response.status_code == 400
    assert param in response.json()

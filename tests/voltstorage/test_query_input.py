"""What the fuzzer found the VoltStorage API answering badly: a NUL character in the free
text of the product list (a 500 on PostgreSQL, which refuses NUL in text), the export's 404
missing from the OpenAPI document, and the statistics declared as an object."""

from __future__ import annotations

import pytest

from voltstorage.statistics import BUCKET_KEYS

pytestmark = pytest.mark.django_db


def test_a_nul_character_in_the_free_text_is_a_400_naming_q(client_for, member, product):
    response = client_for(member).get("/voltstorage/rest/products/", {"q": "VS\x00-1"})

    assert response.status_code == 400
    assert any(message.startswith("q") for message in response.json()["errors"])


def test_free_text_of_digits_that_are_not_ascii_is_searched_as_text(client_for, member, product):
    response = client_for(member).get("/voltstorage/rest/products/", {"q": "\u00b9"})

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("name", ["export.csv", "export.json"])
def test_the_export_declares_the_404_of_a_product_it_cannot_show(client, name):
    schema = client.get("/api/schema/?format=json").json()

    responses = schema["paths"][f"/voltstorage/rest/data/{name}/"]["get"]["responses"]

    body = responses["404"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/VoltStorageErrors"}


@pytest.mark.parametrize(
    "path",
    ["/voltstorage/rest/products/{product_id}/statistics/", "/voltstorage/rest/data/statistics/"],
)
def test_statistics_are_declared_as_the_list_of_buckets_they_are(
    client, client_for, member, product, path
):
    schema = client.get("/api/schema/?format=json").json()

    declared = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    answer = client_for(member).get(f"/voltstorage/rest/products/{product.pk}/statistics/")

    assert answer.status_code == 200
    assert answer.json() == []
    assert declared["schema"]["type"] == "array"
    item = declared["schema"]["items"]["$ref"].rsplit("/", 1)[-1]
    bucket = schema["components"]["schemas"][item]
    assert set(bucket["required"]) == set(bucket["properties"]) == set(BUCKET_KEYS)

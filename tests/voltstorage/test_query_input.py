"""Input the fuzzer found the VoltStorage API answering badly: a NUL character in the free
text of the product list (a 500 on PostgreSQL, which refuses NUL in text), and the export's
404 missing from the OpenAPI document."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_nul_character_in_the_free_text_is_a_400_naming_q(client_for, member, product):
    response = client_for(member).get("/voltstorage/rest/products/", {"q": "VS\x00-1"})

    assert response.status_code == 400
    assert any(message.startswith("q") for message in response.json()["errors"])


@pytest.mark.parametrize("name", ["export.csv", "export.json"])
def test_the_export_declares_the_404_of_a_product_it_cannot_show(client, name):
    schema = client.get("/api/schema/?format=json").json()

    responses = schema["paths"][f"/voltstorage/rest/data/{name}/"]["get"]["responses"]

    body = responses["404"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/VoltStorageErrors"}

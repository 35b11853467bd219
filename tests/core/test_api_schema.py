"""One API's own OpenAPI document (core.schema): only its paths, its component names without
the app's prefix, Swagger UI and Redoc on it; the platform's document keeps the prefix."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_api_schema")]


def schema(client, url):
    response = client.get(url, {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_api_schema_holds_only_its_paths_with_its_own_component_names(client):
    document = schema(client, reverse("demo:schema"))
    assert document["info"]["title"] == "Demo API"
    assert list(document["paths"]) == ["/demo/widgets/"]
    assert "Widget" in document["components"]["schemas"]
    assert "DemoWidget" not in document["components"]["schemas"]
    items = document["paths"]["/demo/widgets/"]["get"]["responses"]["200"]["content"]
    assert items["application/json"]["schema"]["items"]["$ref"] == "#/components/schemas/Widget"


def test_the_platform_schema_keeps_the_prefixed_names(client):
    document = schema(client, reverse("schema"))
    assert "/demo/widgets/" in document["paths"] and "/api/v2/batteries/" in document["paths"]
    assert "DemoWidget" in document["components"]["schemas"]


def test_the_docs_pages_point_at_the_api_schema(client):
    page = client.get(reverse("demo:swagger-ui"))
    assert page.status_code == 200
    assert reverse("demo:schema").encode() in page.content or b"demo/api/schema" in page.content
    redoc = client.get(reverse("demo:redoc"))
    assert redoc.status_code == 200
    assert b'spec-url="/demo/api/schema/"' in redoc.content
    assert "script-src" in redoc["Content-Security-Policy"]

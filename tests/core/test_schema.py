"""The OpenAPI schema builds without a single warning, with every credential scheme."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_builds_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for scheme in ("UserApiKey", "jwtAuth", "cookieAuth"):
        assert scheme in text
    for tag in ("batterydb", "platform"):
        assert f"- {tag}" in text


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_docs_are_served(client, url):
    response = client.get(url)
    assert response.status_code == 200

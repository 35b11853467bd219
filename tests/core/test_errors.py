"""Errors are JSON under the API prefixes: 404, 405, 413, 500, parse errors."""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.test import APIClient

from core.urls import urlpatterns as core_urlpatterns
from tests.conftest import jwt_for


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [*core_urlpatterns, path("api/v2/boom/", _boom)]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v2/nothing-here/", "/passport/nope", "/dmlf/nope/"])
def test_unknown_api_paths_are_json_404(client_for, member, url):
    response = client_for(member).get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_unknown_page_outside_the_apis_is_not_json(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_method_not_allowed_is_json_405(client_for, member):
    response = client_for(member).put("/api/v2/users/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["detail"]


@override_settings(ROOT_URLCONF=__name__)
def test_server_error_is_json_500(member):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(member)}")
    response = client.get("/api/v2/boom/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


def test_detail_url_without_trailing_slash_answers_without_a_redirect(
    client_for, member, organization
):
    response = client_for(member).get(f"/api/v2/organizations/{organization.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == organization.pk


def test_an_unknown_url_without_the_slash_is_a_json_404(client_for, member):
    response = client_for(member).get("/api/v2/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_body_over_the_limit_is_json_413_before_reading(client_for, member, settings):
    settings.API_MAX_BODY_SIZE = 1000
    response = client_for(member).post(
        "/api/v2/organizations/", {"name": "x" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


def test_body_over_djangos_limit_without_length_is_json_413(client_for, member, settings):
    """A body that passes the Content-Length check but trips Django's own limit while DRF
    reads it (DRF >= 3.17 would otherwise answer a plain-text 400)."""
    settings.API_MAX_BODY_SIZE = 10_000_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_for(member).post(
        "/api/v2/organizations/", {"name": "x" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"name": NaN}', b'{"name": Infinity}', b"\xff\xfe"]
)
def test_malformed_json_is_400(client_for, member, body):
    response = client_for(member).generic(
        "POST", "/api/v2/organizations/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_unsupported_media_type_is_415(client_for, member):
    response = client_for(member).generic(
        "POST", "/api/v2/organizations/", b"name=x", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json()["detail"]


def test_form_encoded_and_multipart_bodies_work(client_for, member):
    client = client_for(member)
    form = client.generic(
        "POST",
        "/api/v2/organizations/",
        "name=Form+Lab",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 201 and form.json()["name"] == "Form Lab"
    multipart = client.post("/api/v2/organizations/", {"name": "Multi Lab"}, format="multipart")
    assert multipart.status_code == 201 and multipart.json()["name"] == "Multi Lab"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"

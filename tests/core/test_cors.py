"""CORS for browser clients: origins from ``CORS_ALLOWED_ORIGINS`` (none by default), only on the
API base URLs, with the Authorization header allowed and the paging headers exposed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.conftest import jwt_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parents[2]
APP = "https://app.example.org"
ELSEWHERE = "https://evil.example.net"
ORIGINS_PROBE = (
    "import json; from core import settings; print(json.dumps(settings.CORS_ALLOWED_ORIGINS))"
)


@pytest.fixture
def allowed_origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP, "http://localhost:5173"]


def preflight(url: str, origin: str, method: str = "POST", headers: str = "authorization"):
    return APIClient().options(
        url,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def header_values(response, name: str) -> set[str]:
    return {value.strip().lower() for value in response.get(name, "").split(",") if value}


@pytest.mark.parametrize(
    "url",
    [
        "/api/token/",
        "/api/v2/organizations/",
        "/passport/passports",
        "/voltstorage/rest/login/password",
        "/voltstorage/rest/products",
        "/dmlf/api/token/",
    ],
)
def test_preflight_from_an_allowed_origin_is_answered(allowed_origins, url):
    response = preflight(url, APP, headers="authorization, content-type, prefer")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert {"authorization", "content-type", "prefer"} <= header_values(
        response, "Access-Control-Allow-Headers"
    )
    assert {"get", "post", "patch", "delete"} <= header_values(
        response, "Access-Control-Allow-Methods"
    )
    assert "Access-Control-Allow-Credentials" not in response


def test_answers_expose_the_paging_headers_to_the_allowed_origin(allowed_origins):
    user = UserFactory()
    response = APIClient().get(
        "/api/v2/organizations/",
        HTTP_ORIGIN=APP,
        HTTP_AUTHORIZATION=f"Bearer {jwt_for(user)}",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert {"x-total-count", "link", "retry-after"} <= header_values(
        response, "Access-Control-Expose-Headers"
    )


def test_errors_of_the_api_carry_cors_so_the_browser_can_read_them(allowed_origins):
    response = APIClient().get("/api/v2/users/me/", HTTP_ORIGIN=APP)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == APP


def test_a_foreign_origin_gets_no_cors(allowed_origins):
    response = preflight("/api/v2/organizations/", ELSEWHERE)
    assert "Access-Control-Allow-Origin" not in response

    answer = APIClient().get("/api/v2/users/me/", HTTP_ORIGIN=ELSEWHERE)
    assert "Access-Control-Allow-Origin" not in answer


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/", "/healthz"])
def test_pages_outside_the_api_get_no_cors_even_for_an_allowed_origin(allowed_origins, url):
    response = preflight(url, APP)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in APIClient().get(url, HTTP_ORIGIN=APP)


def test_no_origin_is_allowed_by_default():
    response = preflight("/api/v2/organizations/", "http://localhost:8000")
    assert "Access-Control-Allow-Origin" not in response


def cors_origins_with(environment: dict[str, str]) -> list[str]:
    """``CORS_ALLOWED_ORIGINS`` as ``core.settings`` reads it from ``environment``."""
    env = {k: v for k, v in os.environ.items() if k != "CORS_ALLOWED_ORIGINS"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["DJANGO_SECRET_KEY"] = "settings-probe-" + "x" * 50
    env.update(environment)
    completed = subprocess.run(
        [sys.executable, "-c", ORIGINS_PROBE],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_allowed_origins_come_from_the_environment():
    assert cors_origins_with({}) == []
    assert cors_origins_with({"CORS_ALLOWED_ORIGINS": f"{APP}, http://localhost:5173"}) == [
        APP,
        "http://localhost:5173",
    ]

"""DMLF's own token endpoints: the original's bodies, 1 hour and 1 day whatever the platform's
settings, tokens accepted only under ``/dmlf/``, the platform's login throttle, and URL names
in the ``dmlf`` namespace beside core's."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def login(**body):
    return APIClient().post(reverse("dmlf:token"), body, format="json")


def lifetime(token: str) -> dt.timedelta:
    claims = jwt.decode(token, options={"verify_signature": False})
    return dt.timedelta(seconds=claims["exp"] - claims["iat"])


def test_login_by_username_or_email_gives_the_documented_lifetimes(member, settings):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=5),
        "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=30),
    }
    for login_name in (member.username, member.email.upper()):
        response = login(username=login_name, password=PASSWORD)
        assert response.status_code == 200, response.json()
        assert set(response.json()) == {"refresh", "access"}
        assert lifetime(response.json()["access"]) == dt.timedelta(hours=1)
        assert lifetime(response.json()["refresh"]) == dt.timedelta(days=1)


def test_bad_credentials_answer_the_originals_401(member):
    response = login(username=member.username, password="wrong")
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials"}


def test_refresh_answers_an_access_token_and_stays_usable(member):
    refresh = login(username=member.username, password=PASSWORD).json()["refresh"]
    for _ in range(2):
        response = APIClient().post(reverse("dmlf:token-refresh"), {"refresh": refresh})
        assert response.status_code == 200
        assert set(response.json()) == {"access"}


def test_a_dmlf_token_works_under_dmlf_only(member):
    access = login(username=member.username, password=PASSWORD).json()["access"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/dmlf/institutes/").status_code == 200
    response = client.get("/api/v2/organizations/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_wrong_api"


def test_an_invalid_token_is_the_originals_401(member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = client.get("/dmlf/institutes/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert response.json()["detail"] == "Given token not valid for any token type"


def test_the_platform_login_throttle_guards_the_token_endpoint(member, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        assert login(username=member.username, password="wrong").status_code == 401
    locked = login(username=member.username, password=PASSWORD)
    assert locked.status_code == 429
    assert "Retry-After" in locked


def test_url_names_live_in_the_dmlf_namespace():
    assert reverse("dmlf:token") == "/dmlf/api/token/"
    assert reverse("dmlf:schema") == "/dmlf/api/schema/"
    assert reverse("dmlf:swagger-ui") == "/dmlf/api/schema/swagger-ui/"
    assert reverse("dmlf:redoc") == "/dmlf/api/schema/redoc/"
    assert reverse("dmlf:sample-list") == "/dmlf/samples/"
    # Core's names are untouched.
    assert reverse("schema") == "/api/schema/"
    assert reverse("swagger-ui") == "/api/docs/"
    assert reverse("token_obtain_pair") == "/api/token/"

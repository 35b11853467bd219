"""``POST /voltstorage/rest/login/password``: e-mail (any case) and password in, one JWT valid
for ``validity`` seconds out, accepted by the VoltStorage API only, in ``Authorization`` or
``?token=``; errors in the API's shape (bad credentials a 400, as the original documents)."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/voltstorage/rest/login/password"
PASSWORD = "pass-word-123"


@pytest.fixture
def user(organization):
    from tests.factories import MembershipFactory

    return MembershipFactory(
        organization=organization, user=UserFactory(email="Ada@Example.com")
    ).user


def login(**body):
    return APIClient().post(LOGIN, body, format="json")


def lifetime(token: str) -> dt.timedelta:
    claims = jwt.decode(token, options={"verify_signature": False})
    return dt.timedelta(seconds=claims["exp"] - claims["iat"])


def test_login_answers_a_token_valid_for_a_day_by_default(user):
    response = login(email="ada@example.COM", password=PASSWORD)
    assert response.status_code == 200
    assert list(response.json()) == ["token"]
    assert lifetime(response.json()["token"]) == dt.timedelta(days=1)


@pytest.mark.parametrize("validity", [1, 3600, 31_622_400])
def test_validity_sets_the_lifetime(user, validity):
    token = login(email=user.email, password=PASSWORD, validity=validity).json()["token"]
    assert lifetime(token) == dt.timedelta(seconds=validity)


def test_validity_zero_gives_a_token_that_has_already_expired(user):
    token = login(email=user.email, password=PASSWORD, validity=0).json()["token"]
    response = APIClient().get(f"/voltstorage/rest/products?token={token}")
    assert response.status_code == 401
    assert response.json()["errors"] == [
        "Given token not valid for any token type",
        "Token is expired",
    ]


@pytest.mark.parametrize("validity", [-1, 31_622_401, "a day"])
def test_validity_out_of_range_is_a_400_naming_it(user, validity):
    response = login(email=user.email, password=PASSWORD, validity=validity)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error.startswith("validity: ")


def test_bad_credentials_and_missing_parameters_are_400s(user):
    response = login(email=user.email, password="wrong")
    assert response.status_code == 400
    assert response.json() == {"errors": ["Invalid e-mail address or password."]}
    response = login(password=PASSWORD)
    assert response.status_code == 400
    assert response.json() == {"errors": ["email: This field is required."]}


def test_the_token_works_in_the_header_and_the_query(user):
    token = login(email=user.email, password=PASSWORD).json()["token"]
    assert APIClient().get(f"/voltstorage/rest/products?token={token}").status_code == 200
    bearer = APIClient().get("/voltstorage/rest/products", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bearer.status_code == 200


def test_the_token_is_refused_outside_voltstorage(user):
    token = login(email=user.email, password=PASSWORD).json()["token"]
    response = APIClient().get("/api/v2/organizations/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert "voltstorage" in response.json()["detail"]


def test_failed_logins_lock_out_with_a_429_in_the_api_s_shape(user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        assert login(email=user.email, password="wrong").status_code == 400
    response = login(email=user.email, password=PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert list(response.json()) == ["errors"]

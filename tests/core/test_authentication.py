"""Every credential scheme on a trivial endpoint: good, malformed, unknown, revoked, expired."""

import datetime as dt

import jwt
import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core import services, tokens
from core.models import UserAPIKey
from tests.conftest import jwt_for

pytestmark = pytest.mark.django_db

ME = reverse("user-me")


def get_me(header: str | None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(ME)


def test_anonymous_request_is_401_with_challenge(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("User")
    assert response.json()["detail"]


def test_api_key_authenticates_as_its_user(member):
    _, key = services.api_key_create(user=member, name="laptop")
    response = get_me(f"User {key}")
    assert response.status_code == 200
    assert response.json()["username"] == member.username


def test_api_key_keyword_is_case_insensitive(member):
    _, key = services.api_key_create(user=member, name="laptop")
    assert get_me(f"user {key}").status_code == 200


def test_only_the_hash_of_a_key_is_stored(member):
    api_key, key = services.api_key_create(user=member, name="laptop")
    stored = UserAPIKey.objects.get(pk=api_key.pk)
    secret = key.partition(".")[2]
    assert secret not in stored.hashed_key and secret not in stored.id
    assert stored.prefix == key.partition(".")[0]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("User", "api_key_malformed"),
        ("User nodot", "api_key_malformed"),
        ("User .secret", "api_key_malformed"),
        ("User prefix.", "api_key_malformed"),
        # The guide's sample key shape (8-character prefix, 33-character secret): unknown,
        # not rejected for its length.
        ("User hiMWl0P2.34bbUCC53c7RmcoS9FKF2jfVqFac7jBjm", "api_key_unknown"),
        ("User waytoolongprefix.secret", "api_key_unknown"),
    ],
)
def test_bad_api_keys_are_401_saying_why(db, header, code):
    response = get_me(header)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert code.split("_")[-1] in response.json()["detail"].lower()


def test_wrong_secret_for_a_known_prefix_is_unknown(member):
    _, key = services.api_key_create(user=member, name="laptop")
    prefix = key.partition(".")[0]
    response = get_me(f"User {prefix}.{'x' * 32}")
    assert response.status_code == 401
    assert "unknown" in response.json()["detail"].lower()


def test_revoked_key_is_401(member):
    api_key, key = services.api_key_create(user=member, name="laptop")
    services.api_key_revoke(api_key=api_key)
    response = get_me(f"User {key}")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_key_is_401(member):
    api_key, key = services.api_key_create(
        user=member, name="laptop", expiry_date=timezone.now() + dt.timedelta(days=1)
    )
    UserAPIKey.objects.filter(pk=api_key.pk).update(
        expiry_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = get_me(f"User {key}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_key_of_inactive_user_is_401(member):
    _, key = services.api_key_create(user=member, name="laptop")
    member.is_active = False
    member.save()
    assert get_me(f"User {key}").status_code == 401


def test_jwt_authenticates(member):
    response = get_me(f"Bearer {jwt_for(member)}")
    assert response.status_code == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_malformed_jwt_is_401(db, token):
    response = get_me(f"Bearer {token}")
    assert response.status_code == 401


def test_expired_jwt_is_401(member):
    token = AccessToken.for_user(member)
    token.set_exp(lifetime=-dt.timedelta(seconds=1))
    assert get_me(f"Bearer {token}").status_code == 401


def test_jwt_of_unknown_user_is_401(member):
    token = jwt_for(member)
    member.delete()
    assert get_me(f"Bearer {token}").status_code == 401


def test_jwt_of_inactive_user_is_401(member):
    token = jwt_for(member)
    member.is_active = False
    member.save()
    assert get_me(f"Bearer {token}").status_code == 401


def test_jwt_issued_before_a_password_change_is_refused(member):
    token = jwt_for(member)
    member.set_password("a-new-pass-word-456")
    member.save()
    assert get_me(f"Bearer {token}").status_code == 401
    assert get_me(f"Bearer {jwt_for(member)}").status_code == 200


def test_token_endpoint_accepts_username_or_email(member):
    client = APIClient()
    for login in (member.username, member.email.upper()):
        response = client.post(
            reverse("token_obtain_pair"), {"username": login, "password": "pass-word-123"}
        )
        assert response.status_code == 200, response.content
        assert get_me(f"Bearer {response.json()['access']}").status_code == 200
    refresh = response.json()["refresh"]
    refreshed = client.post(reverse("token_refresh"), {"refresh": refresh})
    assert refreshed.status_code == 200
    assert "access" in refreshed.json()


def test_token_endpoint_refuses_a_wrong_password(member):
    response = APIClient().post(
        reverse("token_obtain_pair"), {"username": member.username, "password": "nope"}
    )
    assert response.status_code == 401


def test_session_authenticates_the_api(member):
    client = APIClient()
    client.force_login(member)
    assert client.get(ME).status_code == 200


def test_session_writes_need_csrf(member):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.patch(ME, {"first_name": "X"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_api_key_user_is_a_complete_user_with_aware_datetimes(member):
    api_key, key = services.api_key_create(
        user=member, name="laptop", expiry_date=timezone.now() + dt.timedelta(days=3)
    )
    found = UserAPIKey.objects.get_with_user(api_key.prefix)
    assert found.pk == api_key.pk and found.is_valid(key)
    assert found.user == member and found.user.email == member.email
    assert timezone.is_aware(found.user.date_joined)
    assert timezone.is_aware(found.expiry_date)
    assert UserAPIKey.objects.get_with_user("nothing") is None


def test_jwt_without_a_generation_claim_counts_as_generation_zero(member):
    """Tokens issued before token generations existed stay valid until the first revocation."""
    token = str(AccessToken.for_user(member))  # simplejwt's own, without the claim
    assert "gen" not in AccessToken(token)
    assert get_me(f"Bearer {token}").status_code == 200

    response = APIClient().post(reverse("token_revoke"), HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 204
    member.refresh_from_db()
    assert member.token_generation == 1
    refused = get_me(f"Bearer {token}")
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_revoked"


def test_tokens_of_the_platform_carry_the_users_generation_and_no_api(member):
    tokens.user_tokens_revoke(user=member)
    tokens.user_tokens_revoke(user=member)
    pair = (
        APIClient()
        .post(
            reverse("token_obtain_pair"), {"username": member.username, "password": "pass-word-123"}
        )
        .json()
    )
    for raw in (pair["access"], pair["refresh"]):
        claims = jwt.decode(raw, options={"verify_signature": False})
        assert claims["gen"] == 2
        assert "api" not in claims
    assert get_me(f"Bearer {pair['access']}").status_code == 200

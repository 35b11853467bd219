"""JWTs: each API's lifetimes, the scope rule (HTTP and WebSocket), single-use refresh tokens
(also under 20 concurrent refreshes against a live server) and log out everywhere.

The DMLF and VoltStorage apps' own endpoints are built later; this module is also the urlconf
of its tests (``@pytest.mark.urls``): tiny login, refresh and "who am I" views under ``/dmlf/``
and ``/voltstorage/rest/``, made from core's bases as those apps will make theirs, in front
of the platform's real URLs.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import httpx
import jwt
import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from core import services, tokens
from core.authentication import JWTAuthentication, QueryTokenJWTAuthentication
from core.consumers import PlatformStreamConsumer
from core.exceptions import error_format_for, register_error_format, unregister_error_format
from core.views import AccessTokenObtainView, TokenObtainPairView, TokenRefreshView
from core.websocket_auth import WebSocketAuthMiddlewareStack
from tests.factories import UserFactory

PASSWORD = "pass-word-123"  # the factories' password
ME = "/api/v2/users/me/"
DMLF_ME = "/dmlf/whoami/"
VOLTSTORAGE_ME = "/voltstorage/rest/whoami"


# --- The test urlconf: an app's endpoints as the apps will declare them -----------------------


class DMLFTokenObtainPairSerializer(tokens.TokenObtainPairSerializer):
    token_class = tokens.DMLFRefreshToken


class DMLFTokenRefreshSerializer(tokens.TokenRefreshSerializer):
    token_class = tokens.DMLFRefreshToken


class VoltStorageLoginSerializer(tokens.AccessTokenObtainSerializer):
    token_class = tokens.VoltStorageAccessToken
    username_field = "email"
    lifetime_field = "validity"

    def invalid_credentials(self, exc):
        raise exceptions.ValidationError({"errors": ["missing parameters or invalid credentials"]})


class WhoAmI(APIView):
    """The user of the request's credential (the platform's default authentication)."""

    def get(self, request):
        return Response({"username": request.user.username})


class VoltStorageWhoAmI(WhoAmI):
    authentication_classes = [QueryTokenJWTAuthentication, JWTAuthentication]


urlpatterns = [
    path(
        "dmlf/api/token/",
        TokenObtainPairView.as_view(serializer_class=DMLFTokenObtainPairSerializer),
        name="test-dmlf-token",
    ),
    path(
        "dmlf/api/token/refresh/",
        TokenRefreshView.as_view(serializer_class=DMLFTokenRefreshSerializer),
        name="test-dmlf-token-refresh",
    ),
    path("dmlf/whoami/", WhoAmI.as_view()),
    path("dmlf-lookalike/whoami/", WhoAmI.as_view()),
    path(
        "voltstorage/rest/login/password",
        AccessTokenObtainView.as_view(serializer_class=VoltStorageLoginSerializer),
        name="test-voltstorage-login",
    ),
    path("voltstorage/rest/whoami", VoltStorageWhoAmI.as_view()),
    path("voltstorage/restricted/whoami", VoltStorageWhoAmI.as_view()),
    path("", include("core.urls")),
]

VOLTSTORAGE_PREFIX = "/voltstorage/"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _drf_error_shape_under_voltstorage():
    """These views stand in for the apps' own: their errors keep DRF's shape here, also under
    /voltstorage/ (the VoltStorage app's ``{"errors": [...]}`` is tested in tests/voltstorage)."""
    formatter = error_format_for(VOLTSTORAGE_PREFIX)
    unregister_error_format(VOLTSTORAGE_PREFIX)
    yield
    if formatter is not None:
        register_error_format(VOLTSTORAGE_PREFIX, formatter)


# --- Helpers ------------------------------------------------------------------------------------


def claims(token: str) -> dict:
    """A token's claims, read without checking it."""
    return jwt.decode(token, options={"verify_signature": False})


def lifetime_of(token: str) -> dt.timedelta:
    payload = claims(token)
    return dt.timedelta(seconds=payload["exp"] - payload["iat"])


def bearer(token: str, url: str = ME, client: APIClient | None = None):
    return (client or APIClient()).get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def platform_login(user) -> dict:
    response = APIClient().post(
        reverse("token_obtain_pair"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()


def dmlf_login(user) -> dict:
    response = APIClient().post(
        "/dmlf/api/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def voltstorage_login(user, **body):
    return APIClient().post(
        "/voltstorage/rest/login/password",
        {"email": user.email, "password": PASSWORD, **body},
        format="json",
    )


def voltstorage_token(user, **body) -> str:
    response = voltstorage_login(user, **body)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def refresh(token: str, url: str = "/api/token/refresh/"):
    return APIClient().post(url, {"refresh": token}, format="json")


@pytest.fixture
def user(db):
    return UserFactory(username="ada")


# --- Lifetimes per API ----------------------------------------------------------------------


@pytest.fixture
def short_platform_lifetimes(settings):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=5),
        "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=3),
    }


def test_platform_tokens_follow_the_platform_settings(user, short_platform_lifetimes):
    pair = platform_login(user)
    assert lifetime_of(pair["access"]) == dt.timedelta(minutes=5)
    assert lifetime_of(pair["refresh"]) == dt.timedelta(days=3)

    refreshed = refresh(pair["refresh"]).json()
    assert lifetime_of(refreshed["access"]) == dt.timedelta(minutes=5)
    assert lifetime_of(refreshed["refresh"]) == dt.timedelta(days=3)


def test_dmlf_tokens_keep_one_hour_and_one_day_whatever_the_platform_settings(
    user, short_platform_lifetimes
):
    pair = dmlf_login(user)
    assert set(pair) == {"access", "refresh"}
    assert lifetime_of(pair["access"]) == dt.timedelta(hours=1)
    assert lifetime_of(pair["refresh"]) == dt.timedelta(days=1)
    assert claims(pair["access"])["api"] == claims(pair["refresh"])["api"] == "dmlf"

    refreshed = refresh(pair["refresh"], "/dmlf/api/token/refresh/")
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access"}  # the original's answer: no rotation
    assert lifetime_of(refreshed.json()["access"]) == dt.timedelta(hours=1)
    assert bearer(refreshed.json()["access"], DMLF_ME).json() == {"username": "ada"}


def test_dmlf_refresh_token_serves_the_guides_client_all_day(user):
    """The guide's client refreshes with the token it got at login, every hour."""
    refresh_token = dmlf_login(user)["refresh"]
    answers = [refresh(refresh_token, "/dmlf/api/token/refresh/") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_dmlf_login_refuses_bad_credentials_with_the_originals_body(user):
    response = APIClient().post(
        "/dmlf/api/token/", {"username": user.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials"}


def test_voltstorage_token_lives_for_the_validity_asked_for(user, short_platform_lifetimes):
    assert lifetime_of(voltstorage_token(user)) == dt.timedelta(days=1)  # the default
    assert lifetime_of(voltstorage_token(user, validity=120)) == dt.timedelta(seconds=120)
    longest = voltstorage_token(user, validity=31_622_400)
    assert lifetime_of(longest) == dt.timedelta(days=366)
    assert claims(longest)["api"] == "voltstorage"
    assert bearer(longest, VOLTSTORAGE_ME).json() == {"username": "ada"}


def test_voltstorage_email_is_case_insensitive(user):
    token = voltstorage_token(user, email=user.email.upper())
    assert bearer(token, VOLTSTORAGE_ME).status_code == 200


def test_voltstorage_validity_zero_gives_a_token_that_has_expired(user):
    token = voltstorage_token(user, validity=0)
    response = bearer(token, VOLTSTORAGE_ME)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("validity", [-1, 31_622_401, "a day"])
def test_voltstorage_validity_out_of_range_is_a_400_naming_it(user, validity):
    response = voltstorage_login(user, validity=validity)
    assert response.status_code == 400
    assert "validity" in response.json()


def test_voltstorage_bad_credentials_are_what_the_app_declares(user):
    response = voltstorage_login(user, password="nope")
    assert response.status_code == 400
    assert response.json() == {"errors": ["missing parameters or invalid credentials"]}


def test_a_token_class_refuses_a_lifetime_beyond_its_maximum(user):
    with pytest.raises(ValueError, match="between 0 and"):
        tokens.VoltStorageAccessToken.for_user(user, lifetime=dt.timedelta(days=367))


# --- The scope rule over HTTP -------------------------------------------------------------------


def test_platform_token_works_under_every_api(user):
    access = platform_login(user)["access"]
    assert "api" not in claims(access)
    assert bearer(access).status_code == 200
    assert bearer(access, DMLF_ME).json() == {"username": "ada"}
    assert bearer(access, VOLTSTORAGE_ME).json() == {"username": "ada"}
    assert APIClient().get(f"{VOLTSTORAGE_ME}?token={access}").status_code == 200


def test_dmlf_token_is_accepted_only_under_dmlf(user):
    access = dmlf_login(user)["access"]
    assert bearer(access, DMLF_ME).json() == {"username": "ada"}

    for url in (ME, "/api/v2/organizations/", VOLTSTORAGE_ME, "/dmlf-lookalike/whoami/"):
        response = bearer(access, url)
        assert response.status_code == 401, url
        assert response.json()["detail"] == (
            "This token was issued by the login of the dmlf API and is accepted only under /dmlf/."
        )


def test_voltstorage_token_is_accepted_only_under_voltstorage(user):
    token = voltstorage_token(user)
    assert bearer(token, VOLTSTORAGE_ME).status_code == 200
    assert APIClient().get(f"{VOLTSTORAGE_ME}?token={token}").status_code == 200
    assert APIClient().get(f"{VOLTSTORAGE_ME}/?token={token}").status_code == 404

    for url in (ME, DMLF_ME, "/voltstorage/restricted/whoami"):
        response = bearer(token, url)
        assert response.status_code == 401, url
        assert "accepted only under /voltstorage/rest/" in response.json()["detail"]
    query = APIClient().get(f"/voltstorage/restricted/whoami?token={token}")
    assert query.status_code == 401


def test_a_token_of_an_api_without_prefixes_is_accepted_nowhere(user):
    class ElsewhereAccessToken(tokens.PlatformAccessToken):
        api = "elsewhere"

    token = str(ElsewhereAccessToken.for_user(user))
    for url in (ME, DMLF_ME, VOLTSTORAGE_ME):
        response = bearer(token, url)
        assert response.status_code == 401
        assert "no URL of this platform" in response.json()["detail"]


def test_refresh_tokens_are_refreshed_only_by_their_own_api(user):
    dmlf_refresh = dmlf_login(user)["refresh"]
    platform_refresh = platform_login(user)["refresh"]

    for token, url in (
        (dmlf_refresh, "/api/token/refresh/"),
        (platform_refresh, "/dmlf/api/token/refresh/"),
    ):
        response = refresh(token, url)
        assert response.status_code == 401
        assert response.json()["detail"] == (
            "This refresh token was issued by another API's login; refresh it there."
        )
    # Neither was used up by the refusal.
    assert refresh(dmlf_refresh, "/dmlf/api/token/refresh/").status_code == 200
    assert refresh(platform_refresh).status_code == 200


def test_scoped_access_token_is_not_a_refresh_token(user):
    access = dmlf_login(user)["access"]
    response = refresh(access, "/dmlf/api/token/refresh/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# --- The scope rule on the WebSocket ----------------------------------------------------------

socket_application = WebSocketAuthMiddlewareStack(
    URLRouter(
        [
            path("ws/platform/", PlatformStreamConsumer.as_asgi()),
            path("voltstorage/rest/products/<int:pk>/stream", PlatformStreamConsumer.as_asgi()),
            path("dmlf/stream/", PlatformStreamConsumer.as_asgi()),
        ]
    )
)


async def socket_user(path: str, headers=None) -> str | int:
    """The username the socket greets, or the code it was closed with."""
    communicator = WebsocketCommunicator(socket_application, path, headers=headers or [])
    connected, code = await communicator.connect(timeout=3)
    if not connected:
        return code
    frame = await communicator.receive_output(timeout=3)
    if frame["type"] == "websocket.close":  # accepted, then closed with the code
        return frame["code"]
    await communicator.disconnect()
    return json.loads(frame["text"])["user"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_applies_the_scope_rule_to_query_and_header_tokens():
    user = await sync_to_async(UserFactory)(username="ada")
    volt = await sync_to_async(voltstorage_token)(user)
    dmlf = (await sync_to_async(dmlf_login)(user))["access"]
    platform = (await sync_to_async(platform_login)(user))["access"]
    product = "/voltstorage/rest/products/1/stream"

    assert await socket_user(f"{product}?token={volt}") == "ada"
    assert await socket_user(product, [(b"authorization", f"Bearer {volt}".encode())]) == "ada"
    assert await socket_user(f"/ws/platform/?token={volt}") == 4401
    assert await socket_user(f"/dmlf/stream/?token={volt}") == 4401

    assert await socket_user(f"/dmlf/stream/?token={dmlf}") == "ada"
    assert await socket_user(f"{product}?token={dmlf}") == 4401
    assert (
        await socket_user("/ws/platform/", [(b"authorization", f"Bearer {dmlf}".encode())]) == 4401
    )

    for path_ in (product, "/dmlf/stream/", "/ws/platform/"):
        assert await socket_user(f"{path_}?token={platform}") == "ada"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_tokens_after_log_out_everywhere():
    user = await sync_to_async(UserFactory)(username="ada")
    volt = await sync_to_async(voltstorage_token)(user)
    platform = (await sync_to_async(platform_login)(user))["access"]
    assert await socket_user(f"/ws/platform/?token={platform}") == "ada"

    await sync_to_async(tokens.user_tokens_revoke)(user=user)

    assert await socket_user(f"/ws/platform/?token={platform}") == 4401
    assert await socket_user(f"/voltstorage/rest/products/1/stream?token={volt}") == 4401
    fresh = (await sync_to_async(platform_login)(user))["access"]
    assert await socket_user(f"/ws/platform/?token={fresh}") == "ada"


# --- Single-use refresh tokens ------------------------------------------------------------------


def test_refresh_rotates_and_the_used_token_is_refused(user):
    first = platform_login(user)

    answer = refresh(first["refresh"])
    assert answer.status_code == 200
    second = answer.json()
    assert set(second) == {"access", "refresh"}
    assert claims(second["refresh"])["jti"] != claims(first["refresh"])["jti"]
    assert bearer(second["access"]).status_code == 200

    again = refresh(first["refresh"])
    assert again.status_code == 401
    assert again.json()["detail"] == "This refresh token has already been used; log in again."
    assert refresh(second["refresh"]).status_code == 200
    assert refresh(second["refresh"]).status_code == 401


def test_refresh_refuses_an_expired_token(user):
    token = tokens.PlatformRefreshToken.for_user(user, lifetime=dt.timedelta(0))
    response = refresh(str(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_refuses_a_token_from_before_a_password_change(user):
    refresh_token = platform_login(user)["refresh"]
    user.set_password("a-new-pass-word-456")
    user.save()
    response = refresh(refresh_token)
    assert response.status_code == 401
    assert response.json()["detail"] == "The user's password has been changed."


def test_refresh_refuses_the_token_of_an_inactive_user(user):
    refresh_token = platform_login(user)["refresh"]
    user.is_active = False
    user.save()
    assert refresh(refresh_token).status_code == 401


def parallel_refreshes(base_url: str, refresh_token: str, count: int) -> list[httpx.Response]:
    """``count`` refreshes of one token, released at once from as many threads."""
    barrier = threading.Barrier(count)
    answers: list[httpx.Response | BaseException] = [None] * count  # type: ignore[list-item]

    def post(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            barrier.wait()
            try:
                answers[index] = client.post("/api/token/refresh/", json={"refresh": refresh_token})
            except BaseException as exc:  # reported by the assertion below
                answers[index] = exc

    threads = [threading.Thread(target=post, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(answer, httpx.Response) for answer in answers), answers
    return answers


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason=(
        "PostgreSQL only (set DATABASE_URL): SQLite's in-memory test database, shared between "
        "the live server's threads, refuses concurrent writers ('table is locked') instead of "
        "making them wait as the platform's SQLite file does"
    ),
)
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_refreshes_of_one_token_give_exactly_one_new_pair(live_server):
    user = UserFactory(username="ada")
    refresh_token = platform_login(user)["refresh"]

    answers = parallel_refreshes(live_server.url, refresh_token, 20)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [401] * 19, [answer.text for answer in answers]
    (winner,) = [answer.json() for answer in answers if answer.status_code == 200]
    for loser in (answer for answer in answers if answer.status_code == 401):
        assert loser.json()["detail"] == "This refresh token has already been used; log in again."
    assert bearer(winner["access"]).status_code == 200
    assert refresh(refresh_token).status_code == 401
    assert refresh(winner["refresh"]).status_code == 200


# --- Log out everywhere -------------------------------------------------------------------------


def test_revoke_ends_every_token_of_the_user_and_only_theirs(user):
    platform = platform_login(user)
    dmlf = dmlf_login(user)
    volt = voltstorage_token(user)
    other = UserFactory()
    others_access = platform_login(other)["access"]
    _, key = services.api_key_create(user=user, name="laptop")

    response = APIClient().post(
        reverse("token_revoke"), HTTP_AUTHORIZATION=f"Bearer {platform['access']}"
    )

    assert response.status_code == 204
    for token, url in ((platform["access"], ME), (dmlf["access"], DMLF_ME), (volt, VOLTSTORAGE_ME)):
        refused = bearer(token, url)
        assert refused.status_code == 401, url
        assert refused.json()["detail"] == (
            "This token has been revoked (log out everywhere); log in again."
        )
    assert refresh(platform["refresh"]).status_code == 401
    assert refresh(dmlf["refresh"], "/dmlf/api/token/refresh/").status_code == 401
    # API keys are not tokens; other users' tokens are untouched; a new login works.
    assert APIClient().get(ME, HTTP_AUTHORIZATION=f"User {key}").status_code == 200
    assert bearer(others_access).status_code == 200
    assert bearer(platform_login(user)["access"]).status_code == 200


def test_revoke_with_an_api_key(user):
    access = platform_login(user)["access"]
    _, key = services.api_key_create(user=user, name="laptop")
    response = APIClient().post(reverse("token_revoke"), HTTP_AUTHORIZATION=f"User {key}")
    assert response.status_code == 204
    assert bearer(access).status_code == 401


def test_revoke_with_the_session_needs_csrf(user):
    access = platform_login(user)["access"]
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post(reverse("token_revoke"))
    assert refused.status_code == 403
    assert bearer(access).status_code == 200

    client.get(reverse("profile"))  # sets the CSRF cookie
    response = client.post(
        reverse("token_revoke"), HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert response.status_code == 204
    assert bearer(access).status_code == 401


def test_revoke_needs_a_credential(db):
    response = APIClient().post(reverse("token_revoke"))
    assert response.status_code == 401


def test_revoke_only_answers_post(user):
    access = platform_login(user)["access"]
    response = bearer(access, reverse("token_revoke"))
    assert response.status_code == 405
    assert bearer(access).status_code == 200


def test_revoke_with_a_scoped_token_is_refused_outside_its_api(user):
    access = dmlf_login(user)["access"]
    response = APIClient().post(reverse("token_revoke"), HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 401
    assert bearer(access, DMLF_ME).status_code == 200


def test_profile_page_button_logs_out_everywhere(user):
    access = platform_login(user)["access"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    page = client.get(reverse("profile"))
    content = page.content.decode()
    assert f'action="{reverse("tokens_revoke")}"' in content
    assert "Revoke all my tokens" in content
    assert "API keys are not tokens and keep working" in content

    response = client.post(
        reverse("tokens_revoke"),
        {"csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "Every token and every other session of yours has been ended" in (
        response.content.decode()
    )
    assert bearer(access).status_code == 401
    assert client.get(reverse("profile")).status_code == 200  # this session stays


def test_log_out_everywhere_ends_the_other_browser_sessions(user):
    elsewhere, here = Client(), Client()
    elsewhere.force_login(user)
    here.force_login(user)
    assert elsewhere.get(reverse("profile")).status_code == 200
    here.get(reverse("profile"))
    here.post(reverse("tokens_revoke"), {"csrfmiddlewaretoken": here.cookies["csrftoken"].value})
    assert here.get(reverse("profile")).status_code == 200
    response = elsewhere.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_profile_page_revoke_refuses_get_and_anonymous(user):
    access = platform_login(user)["access"]
    client = Client()
    client.force_login(user)
    assert client.get(reverse("tokens_revoke")).status_code == 405
    anonymous = Client().post(reverse("tokens_revoke"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert bearer(access).status_code == 200


# --- The schema -------------------------------------------------------------------------------


def test_schema_documents_the_token_endpoints():
    schema = SchemaGenerator(urlconf="core.urls").get_schema(request=None, public=True)

    revoke = schema["paths"]["/api/token/revoke/"]["post"]
    assert revoke["tags"] == ["platform"]
    assert set(revoke["responses"]) >= {"204", "401"}
    assert "requestBody" not in revoke
    refreshed = schema["components"]["schemas"]["TokenRefresh"]["properties"]
    assert set(refreshed) == {"access", "refresh"}

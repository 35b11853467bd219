"""Brute-force protection of every credential check, and the token refresh throttle.

Each login endpoint (the JWT endpoint, the site's and the admin's login forms) shares the
lockouts of the authentication backend: a pair of account and client address, the account
alone and the address alone are locked after their limits of failures, with a 429 and
``Retry-After``; time is moved with ``core.throttling.clock``, never waited for.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.test import Client
from django.urls import path, reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from core import throttling
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
PAIR, ACCOUNT, ADDRESS = 3, 7, 12
LOCK_SECONDS, WINDOW_SECONDS = 300, 600
START = 1_800_000_000.0  # a frozen "now", at the start of a failure window


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(START)
    monkeypatch.setattr(throttling, "clock", frozen)
    return frozen


@pytest.fixture
def limits(settings, clock):
    """Small limits, so that the tests reach them in a few attempts."""
    settings.LOGIN_MAX_FAILURES = PAIR
    settings.LOGIN_MAX_ACCOUNT_FAILURES = ACCOUNT
    settings.LOGIN_MAX_ADDRESS_FAILURES = ADDRESS
    settings.LOGIN_FAILURE_WINDOW_SECONDS = WINDOW_SECONDS
    settings.LOGIN_LOCKOUT_SECONDS = LOCK_SECONDS
    settings.TRUSTED_PROXY_COUNT = 0


@pytest.fixture
def user(db):
    return UserFactory(username="ada", email="ada@example.com", is_staff=True)


# --- One helper per login endpoint ----------------------------------------------------------------


def login(endpoint: str, username: str, password: str, address: str = "10.0.0.1", **headers):
    """POST a login to ``endpoint`` from client ``address``; the response."""
    if endpoint == "token":
        return APIClient().post(
            reverse("token_obtain_pair"),
            {"username": username, "password": password},
            format="json",
            REMOTE_ADDR=address,
            **headers,
        )
    url = reverse("login") if endpoint == "site" else reverse("admin:login")
    return Client().post(
        url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def refused(endpoint: str, response) -> bool:
    """The endpoint's ordinary answer to a wrong password."""
    if endpoint == "token":
        return response.status_code == 401
    return response.status_code == 200 and "correct username" in response.content.decode()


def accepted(endpoint: str, response) -> bool:
    if endpoint == "token":
        return response.status_code == 200 and "access" in response.json()
    return response.status_code == 302


def lock_detail(endpoint: str, response) -> str:
    """The 429's message: JSON ``detail`` for the API, the page's text for the forms."""
    assert response.status_code == 429, response.content
    if endpoint == "token":
        assert response["Content-Type"] == "application/json"
        return response.json()["detail"]
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Too many attempts</h1>" in page
    assert 'class="topbar"' in page  # the site's page, with its navigation
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def fail(endpoint: str, times: int, username: str = "ada", address: str = "10.0.0.1") -> None:
    for _ in range(times):
        assert refused(endpoint, login(endpoint, username, "wrong", address))


ENDPOINTS = ["token", "site", "admin"]


# --- The pair of account and address --------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_failures_lock_the_account_from_that_address_even_for_the_right_password(
    endpoint, user, limits
):
    fail(endpoint, PAIR)

    response = login(endpoint, "ada", PASSWORD)

    assert response["Retry-After"] == str(LOCK_SECONDS)
    detail = lock_detail(endpoint, response)
    assert "Too many failed login attempts for this account from your address." in detail
    assert "300 seconds" in detail or "about 5 minutes" in detail
    assert lock_detail(endpoint, login(endpoint, "ada", "wrong")) == detail


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_lock_ends_after_its_time(endpoint, user, limits, clock):
    fail(endpoint, PAIR)
    clock.advance(LOCK_SECONDS - 10)
    response = login(endpoint, "ada", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "10"

    clock.advance(10)

    assert accepted(endpoint, login(endpoint, "ada", PASSWORD))


def test_after_a_lock_the_pair_has_its_full_count_again(user, limits, clock):
    fail("token", PAIR)
    clock.advance(LOCK_SECONDS)
    fail("token", PAIR - 1)
    assert accepted("token", login("token", "ada", PASSWORD))


def test_a_successful_login_resets_the_pair_count(user, limits):
    fail("token", PAIR - 1)
    assert accepted("token", login("token", "ada", PASSWORD))
    fail("token", PAIR - 1)
    assert accepted("token", login("token", "ada", PASSWORD))


def test_failures_by_username_and_by_email_count_together(user, limits):
    fail("token", PAIR - 1, username="ada")
    fail("token", 1, username="ADA@example.com")
    assert login("token", "ada", PASSWORD).status_code == 429


def test_a_login_naming_no_account_is_locked_the_same_way(user, limits):
    fail("token", PAIR, username="nobody")
    response = login("token", "nobody", "wrong")
    assert response.status_code == 429
    assert "for this account from your address" in response.json()["detail"]
    assert accepted("token", login("token", "ada", PASSWORD))


def test_the_locks_are_shared_by_every_login_endpoint(user, limits):
    fail("token", 1)
    fail("site", 1)
    fail("admin", 1)
    for endpoint in ENDPOINTS:
        assert login(endpoint, "ada", PASSWORD).status_code == 429


# --- Other addresses, the account cap and the address cap -----------------------------------------


def test_another_address_is_not_locked_until_the_account_cap(user, limits):
    fail("token", PAIR, address="10.0.0.1")
    assert login("token", "ada", PASSWORD, address="10.0.0.1").status_code == 429

    # The real user, from their own address, still gets in.
    assert accepted("token", login("token", "ada", PASSWORD, address="192.0.2.7"))

    # Failures from enough addresses reach the account's looser cap.
    fail("token", PAIR - 1, address="10.0.0.2")
    fail("token", ACCOUNT - PAIR - (PAIR - 1), address="10.0.0.3")
    response = login("token", "ada", PASSWORD, address="192.0.2.7")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed login attempts for this account.")
    assert response["Retry-After"] == str(LOCK_SECONDS)


def test_one_address_trying_many_accounts_is_locked_at_the_address_cap(user, limits):
    for n in range(ADDRESS):
        fail("token", 1, username=f"guess{n}", address="10.0.0.9")

    response = login("token", "ada", PASSWORD, address="10.0.0.9")

    assert response.status_code == 429
    assert "from your address" in response.json()["detail"]
    assert accepted("token", login("token", "ada", PASSWORD, address="10.0.0.10"))


def test_failures_in_an_older_window_do_not_count(user, limits, clock):
    fail("token", PAIR - 1)
    clock.advance(WINDOW_SECONDS)
    fail("token", PAIR - 1)
    assert accepted("token", login("token", "ada", PASSWORD))


# --- Client address behind proxies ----------------------------------------------------------------


def test_without_trusted_proxies_x_forwarded_for_is_ignored(user, limits):
    for n in range(PAIR):
        assert refused(
            "token", login("token", "ada", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        )
    response = login("token", "ada", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_appended_counts(user, limits, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "172.18.0.5"
    # The attacker writes whatever it likes to the left of what the proxy appends.
    for n in range(PAIR):
        forwarded = f"203.0.113.{n}, 198.51.100.1"
        assert refused(
            "token", login("token", "ada", "wrong", proxy, HTTP_X_FORWARDED_FOR=forwarded)
        )
    locked = login("token", "ada", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
    assert locked.status_code == 429

    # Another client behind the same proxy is not locked.
    other = login("token", "ada", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert accepted("token", other)


class Request:
    def __init__(self, remote: str, forwarded: str | None = None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "203.0.113.1", "10.0.0.1"),
        (1, "10.0.0.1", "203.0.113.1", "203.0.113.1"),
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.1", "203.0.113.1"),
        (2, "10.0.0.2", "6.6.6.6, 203.0.113.1, 10.0.0.1", "203.0.113.1"),
        # Fewer entries than trusted proxies: the request did not pass them all.
        (2, "198.51.100.4", "203.0.113.1", "198.51.100.4"),
        (1, "10.0.0.1", None, "10.0.0.1"),
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", " 203.0.113.1 ,", "203.0.113.1"),
        # IPv6 clients count per /64; IPv4 mapped into IPv6 is IPv4.
        (0, "2001:db8:1:2:aaaa::1", None, "2001:db8:1:2::/64"),
        (1, "10.0.0.1", "2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        (0, "::ffff:192.0.2.1", None, "192.0.2.1"),
    ],
)
def test_client_address(settings, trusted, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    assert throttling.client_address(Request(remote, forwarded)) == expected


# --- Where the counts live ------------------------------------------------------------------------


def test_the_lock_is_kept_in_the_shared_cache(user, limits):
    fail("token", PAIR)
    # Another worker has none of this process's memory, only the cache.
    throttling.counters.local.clear()
    assert login("token", "ada", PASSWORD).status_code == 429


def test_with_the_cache_down_lockouts_fail_open_to_this_process(user, limits, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="core.throttling"):
        fail("token", PAIR)
        response = login("token", "ada", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == str(LOCK_SECONDS)
    warnings = [r for r in caplog.records if "Throttle cache" in r.getMessage()]
    assert len(warnings) == 1  # once per retry period, not once per request
    assert "ConnectionError" in warnings[0].getMessage()
    # Other accounts and addresses still log in.
    other = UserFactory(username="grace")
    assert accepted("token", login("token", "grace", PASSWORD))
    assert accepted("token", login("token", other.email, PASSWORD, address="10.0.0.2"))


def test_with_the_cache_down_the_form_login_still_works(user, limits, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert accepted("site", login("site", "ada", PASSWORD))


# --- Any login endpoint under an API prefix, DRF or not -------------------------------------------


def plain_login_view(request):
    """A login endpoint outside DRF, as a later API might write one."""
    user = authenticate(request, username=request.POST["username"], password=request.POST["pw"])
    return JsonResponse({"ok": user is not None}, status=200 if user else 401)


urlpatterns = [path("api/plain-login/", plain_login_view)]


@pytest.mark.urls(__name__)
def test_a_login_view_outside_drf_answers_a_json_429(user, limits):
    client = Client()
    for _ in range(PAIR):
        response = client.post("/api/plain-login/", {"username": "ada", "pw": "wrong"})
        assert response.status_code == 401
    response = client.post("/api/plain-login/", {"username": "ada", "pw": PASSWORD})
    assert response.status_code == 429
    assert response["Retry-After"] == str(LOCK_SECONDS)
    assert response.json()["detail"].startswith("Too many failed login attempts")


# --- Token refresh --------------------------------------------------------------------------------


def refresh(token: str, address: str = "10.0.0.1"):
    return APIClient().post(
        reverse("token_refresh"), {"refresh": token}, format="json", REMOTE_ADDR=address
    )


def new_refresh_token(user) -> str:
    """Refresh tokens are single use: each refresh sends one of its own."""
    return str(RefreshToken.for_user(user))


def test_token_refresh_is_limited_per_client_address(user, settings, clock):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "token_refresh": "3/min"}
    clock.now = 60 * 30_000_000 + 15  # 15 s into a one-minute window
    for _ in range(3):
        assert refresh(new_refresh_token(user)).status_code == 200

    response = refresh(new_refresh_token(user))

    assert response.status_code == 429
    assert response["Retry-After"] == "45"
    assert "detail" in response.json()
    assert refresh(new_refresh_token(user), address="10.0.0.2").status_code == 200
    clock.advance(45)
    assert refresh(new_refresh_token(user)).status_code == 200


def test_token_refresh_with_the_cache_down_is_limited_per_process(user, settings, clock):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "token_refresh": "2/min"}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert [refresh(new_refresh_token(user)).status_code for _ in range(3)] == [200, 200, 429]


def test_refreshing_the_token_of_a_deleted_user_is_a_401(user):
    token = str(RefreshToken.for_user(user))
    user.delete()

    response = refresh(token)

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}
    assert response["WWW-Authenticate"].startswith("Bearer")

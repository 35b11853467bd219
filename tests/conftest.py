"""Shared fixtures: fast hashing, a temporary media folder, users in organizations, clients."""

from __future__ import annotations

import contextlib

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from core import throttling
from core.models import Membership
from core.tokens import PlatformAccessToken
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _temporary_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Templates resolve {% static %} without a collected manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Every test starts with an empty cache and no throttle counts (the shared ones in the
    cache, and the per-process fallback), and ends leaving none behind."""
    throttling.counters.reset()
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    throttling.counters.reset()
    for alias in settings.CACHES:
        # A test may have pointed the cache at a server that is down.
        with contextlib.suppress(Exception):
            caches[alias].clear()


@pytest.fixture(autouse=True)
def _generous_login_limits(settings):
    """Tests that log in many times, or fail to on purpose, are not locked out.

    The lockout tests (tests/core/test_throttling.py) set the limits they test.
    """
    settings.LOGIN_MAX_FAILURES = 1000
    settings.LOGIN_MAX_ACCOUNT_FAILURES = 1000
    settings.LOGIN_MAX_ADDRESS_FAILURES = 1000
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "token_refresh": "1000/min"}


@pytest.fixture(autouse=True, scope="session")
def _jobs_run_by_the_tests():
    """No embedded jobs worker in tests: jobs stay queued until a test runs them (run_jobs).

    Set for the whole session, not per test: a live server may still be answering a request
    (a page's poll) after a test's own settings are undone, and must not start a worker then."""
    from django.test import override_settings

    with override_settings(JOBS_WORKER="external"):
        yield


@pytest.fixture
def run_jobs(db):
    """``run_jobs()`` runs every queued job now, in the test's thread, and returns the jobs
    with their outcome (``core.jobs.run_queued``; ``run_jobs(kind="app.name")`` for one kind)."""
    from core.jobs import run_queued

    return run_queued


@pytest.fixture
def embedded_jobs_worker(settings):
    """For live-server tests: the server process runs jobs in its embedded worker thread (as
    with nothing configured), started by its first request and stopped after the test."""
    from core.jobs import worker

    settings.JOBS_WORKER = "embedded"
    yield
    settings.JOBS_WORKER = "external"  # before the stop: a late request starts no new one
    worker.stop_embedded()


def jwt_for(user) -> str:
    """An access token of the platform minted directly, without a login round trip (and
    without a query)."""
    return str(PlatformAccessToken.for_user(user))


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Elsewhere")


def _member(organization, role):
    return MembershipFactory(organization=organization, role=role).user


@pytest.fixture
def owner(organization):
    return _member(organization, Membership.Role.OWNER)


@pytest.fixture
def member(organization):
    return _member(organization, Membership.Role.MEMBER)


@pytest.fixture
def viewer(organization):
    return _member(organization, Membership.Role.VIEWER)


@pytest.fixture
def outsider(other_organization):
    """Owner of another organization."""
    return _member(other_organization, Membership.Role.OWNER)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def client_for():
    """``client_for(user)``: an APIClient authenticated with a freshly minted JWT."""

    def make(user):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(user)}")
        return client

    return make

"""Shared fixtures: fast hashing, a temporary media folder, users in organizations, clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from core.models import Membership
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


def jwt_for(user) -> str:
    """An access token minted directly, without a login round trip."""
    return str(RefreshToken.for_user(user).access_token)


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

"""Fixtures of the passport tests: passports of the ``organization`` fixture, users granted
each access class, and clients for every credential scheme."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.services import api_key_create
from passport.classes import AccessClass
from tests.factories import UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory, full_passport


def document_of(battery_id: str, **changes) -> dict:
    """The full sample without its id (a document as ``PassportFactory`` takes it)."""
    document = full_passport(battery_id, **changes)
    document.pop("batteryIDDMCCode")
    return document


@pytest.fixture
def passport(organization, owner):
    """A complete electric vehicle battery passport of ``organization``."""
    return PassportFactory(
        organization=organization,
        battery_id="EV-0001",
        document=document_of("EV-0001"),
        created_by=owner,
    )


@pytest.fixture
def legitimate(passport):
    """A user granted legitimate interest (points 1, 2, 4) on ``passport``."""
    user = UserFactory(username="recycler")
    PassportGrantFactory(passport=passport, user=user, access=AccessClass.LEGITIMATE_INTEREST)
    return user


@pytest.fixture
def authority(passport):
    """A user granted the authorities class (points 1, 2, 3) on ``passport``."""
    user = UserFactory(username="surveillance")
    PassportGrantFactory(passport=passport, user=user, access=AccessClass.AUTHORITIES)
    return user


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def key_client():
    """``key_client(user)``: an APIClient sending a personal API key."""

    def make(user):
        _, key = api_key_create(user=user, name="test key")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"User {key}")
        return client

    return make

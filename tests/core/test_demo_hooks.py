"""``manage.py setupdemo`` finds each platform app's demo hook by its module path, names no
app, and calls every hook on every run with the demo organization."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from core.management.commands.setupdemo import DEMO_ORGANIZATION, demo_hooks
from core.models import Organization
from tests.core.demo_hook_app import demo as stand_in

pytestmark = pytest.mark.django_db

STAND_IN = "tests.core.demo_hook_app"


@pytest.fixture(autouse=True)
def _stand_in_app(settings):
    """The platform apps are the stand-in and a package without a ``demo`` module."""
    settings.PLATFORM_APPS = ["tests.core", STAND_IN]
    stand_in.calls.clear()
    yield
    stand_in.calls.clear()


def setupdemo() -> str:
    out = io.StringIO()
    call_command("setupdemo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_hooks_are_found_from_the_platform_apps_alone():
    assert demo_hooks() == [(STAND_IN, stand_in.create_demo_data)]


def test_every_run_calls_the_hooks_with_the_demo_organization():
    first = setupdemo()
    second = setupdemo()
    organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    assert stand_in.calls == [organization.pk, organization.pk]
    assert f"Demo data added for: {STAND_IN}." in first
    assert "Demo data added" not in second


def test_an_app_added_later_gets_its_demo_data_on_the_next_run(settings):
    settings.PLATFORM_APPS = ["tests.core"]
    setupdemo()
    assert stand_in.calls == []
    settings.PLATFORM_APPS = ["tests.core", STAND_IN]
    assert f"Demo data added for: {STAND_IN}." in setupdemo()
    assert stand_in.calls == [Organization.objects.get(name=DEMO_ORGANIZATION).pk]

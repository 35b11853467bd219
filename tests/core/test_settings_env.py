"""Every knob is an environment variable read in the one settings file and listed in
``.env.example``; apps read their knobs from ``django.conf.settings``, never the environment.

The reads are found in the syntax tree (``tests.settings_env``), so that a read of any form,
and a helper added to the settings later (``env_float``), is covered without this test
changing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.settings_env import environment_reads, file_environment_reads

PROJECT_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = PROJECT_DIR / "core" / "settings.py"
# Read by the container's processes (gunicorn's configuration, the health check).
DEPLOY_FILES = sorted((PROJECT_DIR / "deploy").glob("*.py"))
# What ``manage.py``, ``asgi.py`` and ``wsgi.py`` set for Django itself.
DJANGO_OWN = {"DJANGO_SETTINGS_MODULE"}


def listed_in_env_example() -> set[str]:
    example = (PROJECT_DIR / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))


def test_env_example_lists_every_variable_the_settings_and_the_deployment_read():
    names = set().union(*(file_environment_reads(p).names for p in [SETTINGS_FILE, *DEPLOY_FILES]))
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "API_MAX_BODY_SIZE"} <= names
    missing = sorted(names - listed_in_env_example())
    assert not missing, f".env.example does not list {missing}"


def test_the_settings_name_every_variable_they_read():
    unnamed = environment_reads(SETTINGS_FILE.read_text()).unnamed
    assert not unnamed, f"core/settings.py reads variables it does not name, lines {unnamed}"


def app_modules() -> list[Path]:
    modules = []
    for package in ["core", *settings.PLATFORM_APPS]:
        root = PROJECT_DIR.joinpath(*package.split("."))
        modules += [
            path
            for path in root.rglob("*.py")
            if path != SETTINGS_FILE and "migrations" not in path.parts
        ]
    return modules


def test_apps_take_their_knobs_from_the_settings_not_from_the_environment():
    offending = {}
    for path in app_modules():
        reads = file_environment_reads(path)
        names = reads.names - DJANGO_OWN
        if names or reads.unnamed:
            offending[str(path.relative_to(PROJECT_DIR))] = sorted(names) or reads.unnamed
    assert len(app_modules()) > 20
    assert not offending, f"read the environment outside core/settings.py: {offending}"


# --- the reads are found whatever their form ----------------------------------------------------

HELPERS = """
import os
from os import environ, getenv

def env_bool(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value == "1"

def env_float(name, default):
    return float(env_text(name) or default)

def env_text(key):
    return os.environ.get(key, "")
"""


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ('A = os.environ.get("A", "")', {"A"}),
        ('A = os.environ.get(\n    "A",\n    "",\n)', {"A"}),
        ('A = os.getenv("A")', {"A"}),
        ('A = getenv("A")', {"A"}),
        ('A = os.environ["A"]', {"A"}),
        ('A = environ["A"]', {"A"}),
        ('A = "A" in os.environ', {"A"}),
        ('A = "A" not in environ', {"A"}),
        ('os.environ.setdefault("A", "x")', {"A"}),
        ('A = env_bool("A", True)', {"A"}),
        ('A = env_float("A", 1.5)', {"A"}),  # a helper calling a helper
        ('A = env_text(key="A")', {"A"}),
        ("A = os.environ.copy()", set()),
        ('A = {"A": 1}.get("A")', set()),
    ],
)
def test_every_form_of_read_is_found(code, names):
    reads = environment_reads(HELPERS + code)
    assert reads.names == names
    assert reads.unnamed == []


def test_a_read_of_a_name_made_at_run_time_is_reported():
    reads = environment_reads(HELPERS + 'PREFIX = "APP_"\nA = os.environ.get(PREFIX + "A")\n')
    assert reads.names == set()
    assert reads.unnamed == [HELPERS.count("\n") + 2]

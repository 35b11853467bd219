"""``manage.py check --deploy``: clean with production-like variables, an error with a secret
key that is no secret (``.env.example``'s placeholder above all)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from core.checks import PLACEHOLDER_SECRET_KEYS

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "x7#kq9!vL2@pR8zW4mN6bT1yH3jF5dS0aG_cE-uI*oP+lK^eQ&wR"
PRODUCTION = {
    "DJANGO_ALLOWED_HOSTS": "batteries.example.org",
    "DJANGO_SECURE_COOKIES": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_SECURE_HSTS_PRELOAD": "1",
    "DJANGO_BEHIND_PROXY": "1",
}


def env_example_secret_key() -> str:
    text = (ROOT / ".env.example").read_text()
    return re.search(r"^DJANGO_SECRET_KEY=(.*)$", text, re.M).group(1).strip()


def check_deploy(secret_key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION, "DJANGO_SECRET_KEY": secret_key}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = check_deploy(STRONG_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_the_env_example_secret_key():
    result = check_deploy(env_example_secret_key())
    assert result.returncode != 0
    assert "core.E001" in result.stderr
    assert "SECRET_KEY is a published placeholder" in result.stderr


def test_the_env_example_placeholder_is_a_known_one():
    assert env_example_secret_key() in PLACEHOLDER_SECRET_KEYS


def deploy_error_ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-50-or-more-random-characters-from-a-secret-generator",
        "CHANGEME-please-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        "django-insecure-" + "k9#v!2@Lp8zW4mN6bT1yH3jF5dS0aG_cE-uI*oP+lK^eQ&wR",
        "short-but-random-Zq8!",
        "ab" * 40,
    ],
    ids=["env-example", "placeholder-words", "django-insecure", "short", "few-characters"],
)
def test_a_secret_key_that_is_no_secret_is_a_deploy_error(settings, key):
    settings.SECRET_KEY = key
    assert "core.E001" in deploy_error_ids()


def test_a_random_key_passes_and_the_check_runs_only_for_deploy(settings):
    settings.SECRET_KEY = STRONG_KEY
    assert "core.E001" not in deploy_error_ids()
    settings.SECRET_KEY = env_example_secret_key()
    assert "core.E001" not in {message.id for message in run_checks()}


def test_a_placeholder_among_the_fallback_keys_is_a_deploy_error(settings):
    settings.SECRET_KEY = STRONG_KEY
    settings.SECRET_KEY_FALLBACKS = [STRONG_KEY[::-1], env_example_secret_key()]
    errors = [m for m in run_checks(include_deployment_checks=True) if m.id == "core.E002"]
    assert [e.msg for e in errors] == ["SECRET_KEY_FALLBACKS[1] is a published placeholder."]

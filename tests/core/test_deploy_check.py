"""``manage.py check --deploy`` is clean with production-like variables."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_variables():
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x7#kq9!vL2@pR8zW4mN6bT1yH3jF5dS0aG_cE-uI*oP+lK^eQ&wR",
        "DJANGO_ALLOWED_HOSTS": "batteries.example.org",
        "DJANGO_SECURE_COOKIES": "1",
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "DJANGO_SECURE_HSTS_PRELOAD": "1",
        "DJANGO_BEHIND_PROXY": "1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

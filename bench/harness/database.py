"""The run's database and environment: create, migrate, point Django at it, drop."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from bench.harness.common import (
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    HOST,
    PROJECT_DIR,
    PYTHON,
    BenchError,
)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _check_identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise BenchError(f"Unsafe database name {name!r}: use lowercase letters, digits, _.")
    return name


def _admin_connection(admin_url: str):
    import psycopg

    return psycopg.connect(admin_url, autocommit=True, connect_timeout=10)


def fresh_database(name: str, admin_url: str = DEFAULT_POSTGRES_URL) -> str:
    """Drop the PostgreSQL database ``name`` (closing its connections) and create it empty.

    Returns its ``DATABASE_URL``."""
    _check_identifier(name)
    with _admin_connection(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(admin_url, name)


def drop_database(name: str, admin_url: str = DEFAULT_POSTGRES_URL) -> None:
    """Drop the database ``name`` if it exists, closing its connections."""
    _check_identifier(name)
    with _admin_connection(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(
    database_url: str,
    redis_url: str | None = DEFAULT_REDIS_URL,
    *,
    settings_module: str = "bench.settings",
    secret_key: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for servers and management commands of a run.

    Production-like: DEBUG off, PostgreSQL with the pool, Redis when given, a random secret
    shared by every process of the run (so tokens minted here are valid in the servers)."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "DJANGO_SECURE_SSL_REDIRECT", "DJANGO_ALLOWED_HOSTS"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secret_key or secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra or {})
    return env


def manage(env: Mapping[str, str], *args: str, timeout: float = 600) -> str:
    """Run ``manage.py <args>`` in a subprocess with ``env``; returns its stdout."""
    completed = subprocess.run(
        [PYTHON, str(PROJECT_DIR / "manage.py"), *args],
        env=dict(env),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}"
        )
    return completed.stdout


def migrate(env: Mapping[str, str], timeout: float = 600) -> None:
    """Apply every migration to the database of ``env``."""
    manage(env, "migrate", "--noinput", timeout=timeout)


def setup_django(env: Mapping[str, str]) -> None:
    """Point this process at the run's settings and database and call ``django.setup()``.

    Call it once, before importing models; afterwards the ORM works on the bench database."""
    import django

    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in env:
            os.environ.pop(name, None)
    os.environ.update(env)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    django.setup()


def close_django_connections() -> None:
    """Close this process's database connections (and the pool), e.g. before dropping."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()

"""/healthz (liveness: can the server store writes?) and /healthz/ready (the strict check)."""

from __future__ import annotations

import os
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest
from django.db import transaction

from core import services
from core.broadcast import counters
from tests.live import PROJECT_DIR, PYTHON, gunicorn, live, server_env, sqlite_env

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _fresh_counters():
    counters.reset()
    yield
    counters.reset()


def test_healthz_without_redis_configured_checks_the_database(client, db, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok"},
        "broadcasts": {"sent": 0, "failed": 0, "dropped": 0},
    }
    assert client.get("/healthz/ready").status_code == 200


def test_redis_down_is_reported_but_healthz_stays_200(client, db, settings):
    settings.REDIS_URL = CLOSED_PORT_REDIS

    response = client.get("/healthz")

    # Writes still work without Redis: a load balancer must keep sending them.
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"] == {"database": "ok", "redis": "down"}


def test_redis_down_fails_the_readiness_check(client, db, settings):
    settings.REDIS_URL = CLOSED_PORT_REDIS

    response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": "ok", "redis": "down"}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_both_checks_pass_with_redis_up(client, db):
    for path in ("/healthz", "/healthz/ready"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_the_broadcasts_that_failed(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.broadcast.RedisChannelLayer",
            "CONFIG": {"hosts": [CLOSED_PORT_REDIS]},
        }
    }
    with transaction.atomic():
        services.platform_broadcast(message="lost")

    assert client.get("/healthz").json()["broadcasts"] == {"sent": 0, "failed": 1, "dropped": 0}


@live
def test_database_down_is_503_on_both_checks(tmp_path):
    # A server whose database does not answer (PostgreSQL at a port where nothing listens).
    env = server_env(
        DATABASE_URL="postgres://platform@127.0.0.1:1/platform",
        DATABASE_POOL_TIMEOUT="2",
        WEB_CONCURRENCY="1",
    )
    answered = lambda response: response.status_code in {200, 503}  # noqa: E731
    with gunicorn(env, tmp_path / "gunicorn.log", ready=answered) as server:
        health = httpx.get(f"{server.url}/healthz", timeout=30)
        ready = httpx.get(f"{server.url}/healthz/ready", timeout=30)

    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.json()["checks"] == {"database": "down"}
    assert ready.status_code == 503


def container_health_check(server, path: str) -> subprocess.CompletedProcess:
    """deploy/healthcheck.py as docker runs it in the container, against ``server``."""
    port = str(urlsplit(server.url).port)
    return subprocess.run(
        [PYTHON, str(PROJECT_DIR / "deploy" / "healthcheck.py"), port, path],
        env={**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@live
def test_container_health_checks_with_redis_down(tmp_path):
    # The web service stays healthy (liveness), the ws service's readiness check fails.
    env = sqlite_env(tmp_path, REDIS_URL=CLOSED_PORT_REDIS, WEB_CONCURRENCY="1")
    with gunicorn(env, tmp_path / "gunicorn.log") as server:
        web = container_health_check(server, "/healthz")
        ws = container_health_check(server, "/healthz/ready")

    assert web.returncode == 0, web.stdout + web.stderr
    assert '"redis": "down"' in web.stdout
    assert ws.returncode == 1
    assert ws.stdout.startswith("/healthz/ready: 503")

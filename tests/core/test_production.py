"""The production shape for real, and how the settings follow the environment.

Live tests (``-m live``) start gunicorn (WSGI, with ``deploy/gunicorn.conf.py``) and uvicorn
(ASGI) as subprocesses on loopback ports, against pytest-django's test database on PostgreSQL
and against Redis. They need ``DATABASE_URL`` and ``REDIS_URL``:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/platform REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/pytest tests/core/test_production.py

The settings tests import ``core.settings`` in fresh interpreters under different environments.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import jwt_for
from tests.factories import UserFactory
from tests.live import (
    AS_HTTPS,
    HOST,
    PROJECT_DIR,
    PYTHON,
    free_port,
    gunicorn,
    live,
    needs_services,
    open_socket,
    postgres_env,
    receive_json,
    receive_until,
    running_server,
    settings_env_vars,
    socket_refusal,
    uvicorn,
    websocket_url,
)

# --- Settings switching (no services needed) -------------------------------------------------

# Prints what the environment switches, as JSON, from a fresh interpreter.
SETTINGS_PROBE = """
import json
from core import settings as s

db = s.DATABASES["default"]
layer = s.CHANNEL_LAYERS["default"]
cache = s.CACHES["default"]
print(json.dumps({
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "host": db.get("HOST"),
    "port": db.get("PORT"),
    "user": db.get("USER"),
    "conn_max_age": db["CONN_MAX_AGE"],
    "conn_health_checks": db.get("CONN_HEALTH_CHECKS"),
    "options": db.get("OPTIONS", {}),
    "channel_layer": layer["BACKEND"],
    "channel_hosts": layer.get("CONFIG", {}).get("hosts"),
    "cache": cache["BACKEND"],
    "cache_location": cache.get("LOCATION"),
    "debug": s.DEBUG,
    "proxy_ssl_header": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "use_x_forwarded_host": getattr(s, "USE_X_FORWARDED_HOST", False),
}))
"""


# Prints the channel layer that channels builds from the settings, from a fresh interpreter.
LAYER_PROBE = """
import json
import django
django.setup()
from channels.layers import get_channel_layer

layer = get_channel_layer()
print(json.dumps({
    "class": f"{type(layer).__module__}.{type(layer).__qualname__}",
    "capacity": layer.capacity,
    "expiry": layer.expiry,
    "group_expiry": layer.group_expiry,
    "hosts": getattr(layer, "hosts", None),
}))
"""


def load_settings(probe: str = SETTINGS_PROBE, **env: str) -> dict:
    """Run ``probe`` (by default: import ``core.settings`` and print what the environment
    switches) in a subprocess with only ``env`` among the variables the settings read."""
    clean = {k: v for k, v in os.environ.items() if k not in settings_env_vars()}
    clean["DJANGO_SETTINGS_MODULE"] = "core.settings"
    clean["DJANGO_SECRET_KEY"] = "settings-probe-" + "x" * 50
    clean.update(env)
    completed = subprocess.run(
        [PYTHON, "-c", probe],
        env=clean,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_settings_read_some_environment_variables():
    names = settings_env_vars()
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG"} <= set(names)


def test_settings_without_services_use_sqlite_memory_layer_and_locmem_cache(tmp_path):
    sqlite_path = tmp_path / "probe.sqlite3"

    values = load_settings(SQLITE_PATH=str(sqlite_path))

    assert values["engine"] == "core.sqlite_backend"
    assert values["name"] == str(sqlite_path)
    assert values["conn_max_age"] == 0
    assert values["conn_health_checks"] is True
    assert values["channel_layer"] == "core.broadcast.InMemoryChannelLayer"
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["debug"] is False
    assert values["proxy_ssl_header"] is None


def test_settings_with_database_url_use_postgresql_with_the_pool():
    values = load_settings(DATABASE_URL="postgres://alice:s3cret@db.example.org:5433/platform")

    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"], values["port"], values["user"]) == (
        "platform",
        "db.example.org",
        5433,
        "alice",
    )
    assert values["conn_max_age"] == 0
    assert values["conn_health_checks"] is True
    assert values["options"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10}
    # The database alone does not switch the channel layer or the cache.
    assert values["channel_layer"] == "core.broadcast.InMemoryChannelLayer"
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_settings_pool_sizes_come_from_the_environment():
    values = load_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/platform",
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE="4",
        DATABASE_POOL_TIMEOUT="3",
    )

    assert values["options"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 3}


def test_settings_with_redis_url_use_redis_channel_layer_and_cache():
    url = "redis://cache.example.org:6380/2"

    values = load_settings(REDIS_URL=url)

    assert values["channel_layer"] == "core.broadcast.RedisChannelLayer"
    assert [host["address"] for host in values["channel_hosts"]] == [url]
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["cache_location"] == url
    assert values["engine"] == "core.sqlite_backend"


def test_channel_layer_limits_have_defaults_for_a_thousand_subscribers():
    memory = load_settings(LAYER_PROBE)
    redis_layer = load_settings(LAYER_PROBE, REDIS_URL="redis://127.0.0.1:1/0")

    assert memory["class"] == "core.broadcast.InMemoryChannelLayer"
    assert redis_layer["class"] == "core.broadcast.RedisChannelLayer"
    for layer in (memory, redis_layer):
        assert (layer["capacity"], layer["expiry"], layer["group_expiry"]) == (200, 30, 86400)
    # An unreachable Redis fails fast.
    assert redis_layer["hosts"] == [
        {"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 2}
    ]


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:1/0"], ids=["memory", "redis"])
def test_channel_layer_limits_come_from_the_environment(redis_url):
    layer = load_settings(
        LAYER_PROBE,
        REDIS_URL=redis_url,
        CHANNEL_LAYER_CAPACITY="1500",
        CHANNEL_LAYER_EXPIRY="12",
        CHANNEL_LAYER_GROUP_EXPIRY="3600",
    )

    assert (layer["capacity"], layer["expiry"], layer["group_expiry"]) == (1500, 12, 3600)


def test_settings_behind_proxy_trust_forwarded_proto_and_host():
    values = load_settings(DJANGO_BEHIND_PROXY="1")

    assert values["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["use_x_forwarded_host"] is True


# --- Live: real servers against PostgreSQL and Redis ------------------------------------------


@pytest.fixture
def live_env(transactional_db) -> dict[str, str]:
    return postgres_env()


@pytest.fixture
def gunicorn_url(live_env, tmp_path) -> Iterator[str]:
    with gunicorn(live_env, tmp_path / "gunicorn.log") as server:
        yield server.url


@pytest.fixture
def uvicorn_url(live_env, tmp_path) -> Iterator[str]:
    with uvicorn(live_env, tmp_path / "uvicorn.log") as server:
        yield server.url


@live
@needs_services
def test_gunicorn_serves_health_and_jwt_api_on_postgresql_and_redis(gunicorn_url):
    user = UserFactory(username="live-rest")

    health = httpx.get(f"{gunicorn_url}/healthz", timeout=10)
    me = httpx.get(
        f"{gunicorn_url}/api/v2/users/me/",
        headers={"Authorization": f"Bearer {jwt_for(user)}"},
        timeout=10,
    )
    anonymous = httpx.get(f"{gunicorn_url}/api/v2/users/me/", timeout=10)

    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "live-rest"
    assert anonymous.status_code == 401


async def _hello_then_broadcast(url: str, env: dict[str, str]) -> tuple[dict, dict, str]:
    async with open_socket(url) as sock:
        hello = await receive_json(sock)
        command = await asyncio.to_thread(
            subprocess.run,
            [PYTHON, "manage.py", "broadcast", '{"hello": "world"}'],
            env=env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert command.returncode == 0, command.stderr
        # Other runs may share this Redis: skip their messages, wait a few seconds for ours.
        expected = {"type": "message", "message": {"hello": "world"}}
        frame = await receive_until(sock, lambda frame: frame == expected, timeout=5)
        return hello, frame, command.stdout


@live
@needs_services
def test_broadcast_from_another_process_reaches_a_socket_on_uvicorn(uvicorn_url, live_env):
    pytest.importorskip("websockets")
    user = UserFactory(username="live-socket")
    url = websocket_url(uvicorn_url, "/ws/platform/", f"token={jwt_for(user)}")

    hello, message, stdout = asyncio.run(asyncio.wait_for(_hello_then_broadcast(url, live_env), 90))

    assert hello == {"type": "hello", "user": "live-socket"}
    assert message == {"type": "message", "message": {"hello": "world"}}
    assert stdout.strip() == "sent"


@live
@needs_services
@pytest.mark.parametrize("query", ["", "token=not-a-jwt"], ids=["no-credential", "bad-token"])
def test_socket_without_valid_credential_is_closed_with_4401(uvicorn_url, query):
    pytest.importorskip("websockets")
    url = websocket_url(uvicorn_url, "/ws/platform/", query)

    refusal = asyncio.run(asyncio.wait_for(socket_refusal(url), 30))

    # Accepted, then closed with the application's code: the client sees why.
    assert refusal.http_status is None
    assert refusal.code == 4401
    assert "credentials" in refusal.reason


# --- Live: the proxy of docker-compose (deploy/nginx.conf) in front of both servers -----------


def nginx_config(tmp_path: Path, proxy_port: int, web_url: str, ws_url: str) -> Path:
    """deploy/nginx.conf with the compose service names and paths replaced by local ones."""
    site = (PROJECT_DIR / "deploy" / "nginx.conf").read_text()
    replacements = {
        "server web:8000 resolve;": f"server {urlsplit(web_url).netloc};",
        "server ws:8001 resolve;": f"server {urlsplit(ws_url).netloc};",
        "listen 8000;": f"listen {HOST}:{proxy_port};",
        "/var/log/nginx/access.log": str(tmp_path / "access.log"),
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx.conf no longer contains {old!r}"
        site = site.replace(old, new)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"""
        daemon off;
        pid {tmp_path / "nginx.pid"};
        error_log {tmp_path / "error.log"} warn;
        events {{ worker_connections 128; }}
        http {{
            client_body_temp_path {temp / "body"};
            proxy_temp_path {temp / "proxy"};
            fastcgi_temp_path {temp / "fastcgi"};
            uwsgi_temp_path {temp / "uwsgi"};
            scgi_temp_path {temp / "scgi"};
            {site}
        }}
        """
    )
    return config


def running_nginx(config: Path, port: int, log: Path):
    """nginx in front of the servers; stopped gracefully (SIGQUIT), as docker stops it."""
    return running_server(
        ["nginx", "-e", str(log), "-c", str(config)],
        None,
        port,
        log,
        name="nginx",
        ready_path="/proxy-healthz",
        ready_headers=None,
        stop_signal=signal.SIGQUIT,
    )


def upstreams_by_path(access_log: Path) -> dict[str, set[str]]:
    """{path: {upstream address}} from the proxy's access log."""
    routes: dict[str, set[str]] = {}
    for line in access_log.read_text().splitlines():
        match = re.search(r'"[A-Z]+ (\S+) HTTP/[\d.]+".* upstream=(\S+)', line)
        if match:
            routes.setdefault(match.group(1), set()).add(match.group(2))
    return routes


@live
@needs_services
@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_proxy_routes_rest_to_gunicorn_and_sockets_to_uvicorn(live_env, tmp_path):
    pytest.importorskip("websockets")
    user = UserFactory(username="live-proxy")
    token = jwt_for(user)
    env = {**live_env, "DJANGO_BEHIND_PROXY": "1", "DJANGO_SECURE_SSL_REDIRECT": "1"}
    proxy_port = free_port()
    with contextlib.ExitStack() as stack:
        web_url = stack.enter_context(gunicorn(env, tmp_path / "gunicorn.log")).url
        ws_url = stack.enter_context(uvicorn(env, tmp_path / "uvicorn.log")).url
        config = nginx_config(tmp_path, proxy_port, web_url, ws_url)
        proxy = stack.enter_context(running_nginx(config, proxy_port, tmp_path / "nginx.log"))
        proxy_url = proxy.url

        plain_http = httpx.get(f"{proxy_url}/healthz", timeout=10)
        health = httpx.get(f"{proxy_url}/healthz", headers=AS_HTTPS, timeout=10)
        me = httpx.get(
            f"{proxy_url}/api/v2/users/me/",
            headers={**AS_HTTPS, "Authorization": f"Bearer {token}"},
            timeout=10,
        )
        socket_url = websocket_url(proxy_url, "/ws/platform/", f"token={token}")
        hello, message, _ = asyncio.run(
            asyncio.wait_for(_hello_then_broadcast(socket_url, env), 90)
        )

    # TLS ends before the proxy: a plain-HTTP request is redirected, a forwarded HTTPS one is
    # served, with the client's Host (Django refuses nginx's upstream name).
    assert plain_http.status_code == 301
    assert plain_http.headers["location"] == "https://127.0.0.1/healthz"
    assert health.status_code == 200, health.text
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "live-proxy"
    assert hello == {"type": "hello", "user": "live-proxy"}
    assert message == {"type": "message", "message": {"hello": "world"}}
    routes = upstreams_by_path(tmp_path / "access.log")
    assert routes["/api/v2/users/me/"] == {urlsplit(web_url).netloc}
    assert routes["/ws/platform/"] == {urlsplit(ws_url).netloc}
    # Tokens in query strings stay out of the access log.
    assert "token=" not in (tmp_path / "access.log").read_text()

"""Live test helpers for any app: real servers on 127.0.0.1 and a real WebSocket client.

- ``gunicorn(env, log)`` and ``uvicorn(env, log)`` start the production servers as subprocesses
  (``deploy/gunicorn.conf.py``; uvicorn as the ws service runs it) and yield a ``LiveServer``
  once ``/healthz`` answers; they are always stopped, the whole process group.
- Their database is either pytest-django's test database on PostgreSQL with the configured
  Redis (``postgres_env()``: rows the test creates are seen by the servers), or a
  SQLite file of their own (``sqlite_env``: no service needed; create rows in it with
  ``django_run``).
- ``websocket_url(base_url, path, query)``, ``open_socket``, ``receive_until`` and
  ``socket_refusal`` drive the ``websockets`` client against any socket path.

Tests that use them carry the ``live`` marker (``pytestmark = live``), and ``needs_services``
when they need PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.settings_env import file_environment_reads

PROJECT_DIR = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
HOST = "127.0.0.1"
START_TIMEOUT = 60  # seconds for a server to answer its ready path
STOP_TIMEOUT = 20  # seconds for a graceful stop before SIGKILL
SOCKET_TIMEOUT = 10  # seconds for a WebSocket handshake or an expected frame

# What the proxy says of a request that reached it over HTTPS (honoured with
# DJANGO_BEHIND_PROXY=1, ignored otherwise).
AS_HTTPS = {"X-Forwarded-Proto": "https"}

LIVE_REASON = (
    "live production test: set DATABASE_URL (PostgreSQL) and REDIS_URL; without Redis the "
    "in-memory channel layer cannot carry a broadcast from one process to another"
)
live = pytest.mark.live
needs_services = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")), reason=LIVE_REASON
)

SETTINGS_FILE = PROJECT_DIR / "core" / "settings.py"


def settings_env_vars() -> list[str]:
    """Every environment variable ``core/settings.py`` reads, whatever the form of the read
    (``tests.settings_env``)."""
    return sorted(file_environment_reads(SETTINGS_FILE).names)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class LiveServer:
    """A running server: its base URL and its process (the root of its process tree)."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def ws_url(self, path: str, query: str = "") -> str:
        return websocket_url(self.url, path, query)


@contextlib.contextmanager
def running_server(
    argv: list[str],
    env: Mapping[str, str] | None,
    port: int,
    log: Path,
    *,
    name: str | None = None,
    ready_path: str = "/healthz",
    ready_headers: Mapping[str, str] | None = AS_HTTPS,
    ready: Callable[[httpx.Response], bool] = lambda response: response.status_code == 200,
    stop_signal: int = signal.SIGTERM,
) -> Iterator[LiveServer]:
    """Start a server in its own process group, wait until ``ready_path`` answers as
    ``ready`` wants (a 200 by default), always stop it (``stop_signal`` to the group, then
    SIGKILL)."""
    name = name or argv[2]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            argv,
            env=None if env is None else dict(env),
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base_url = f"http://{HOST}:{port}"
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{name} exited with {process.returncode}:\n{log_tail(log)}")
                with contextlib.suppress(httpx.HTTPError):
                    answer = httpx.get(f"{base_url}{ready_path}", headers=ready_headers, timeout=5)
                    if ready(answer):
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} not ready in {START_TIMEOUT}s:\n{log_tail(log)}")
                time.sleep(0.2)
            yield LiveServer(name, base_url, process, log)
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, stop_signal)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)


def gunicorn(env: Mapping[str, str], log: Path, **kwargs):
    """gunicorn with the production config file, as the web service runs it (its workers:
    ``WEB_CONCURRENCY`` of ``env``). ``kwargs`` go to ``running_server``."""
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        "core.wsgi:application",
        "--config",
        str(PROJECT_DIR / "deploy" / "gunicorn.conf.py"),
        f"--bind={HOST}:{port}",
    ]
    return running_server(argv, env, port, log, **kwargs)


def uvicorn(env: Mapping[str, str], log: Path, *, workers: int = 1, **kwargs):
    """uvicorn as the ws service runs it. ``kwargs`` go to ``running_server``."""
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "uvicorn",
        "core.asgi:application",
        f"--host={HOST}",
        f"--port={port}",
        f"--workers={workers}",
        "--lifespan=off",
        "--no-access-log",
        "--ws-per-message-deflate=false",
        "--timeout-graceful-shutdown=5",
    ]
    env = dict(env)
    env.pop("WEB_CONCURRENCY", None)  # uvicorn would read it as --workers
    return running_server(argv, env, port, log, **kwargs)


# --- The servers' database -------------------------------------------------------------------


def server_env(**values: str) -> dict[str, str]:
    """This process's environment without any variable the settings read, plus what every
    live server needs (production settings on loopback, a secret of its own) and ``values``.
    Without a ``DATABASE_URL`` or ``SQLITE_PATH`` in ``values`` the servers would use the
    project's own SQLite file: prefer ``sqlite_env`` or ``postgres_env``."""
    env = {k: v for k, v in os.environ.items() if k not in settings_env_vars()}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": "2",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(values)
    return env


def postgres_env() -> dict[str, str]:
    """The environment of servers on pytest-django's test database on PostgreSQL and the
    configured Redis; skips the test without them. The test must use ``transactional_db``, so
    that the servers see the rows it creates::

        @pytest.fixture
        def live_env(transactional_db):
            return postgres_env()
    """
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip(LIVE_REASON)
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = connection.settings_dict["NAME"]
    return server_env(
        DATABASE_URL=urlunsplit(parts._replace(path=f"/{test_database}")),
        REDIS_URL=os.environ["REDIS_URL"],
        # Tokens minted in this process must verify in the servers.
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE="4",
    )


def sqlite_env(directory: Path, **values: str) -> dict[str, str]:
    """The environment of servers on a migrated SQLite database of their own in
    ``directory`` (with their media folder there), the in-memory channel layer and the
    local-memory cache: no service needed. ``values`` add or override variables."""
    directory.mkdir(parents=True, exist_ok=True)
    env = server_env(
        SQLITE_PATH=str(directory / "db.sqlite3"),
        DJANGO_MEDIA_ROOT=str(directory / "media"),
        **values,
    )
    django_run(env, "from django.core.management import call_command; call_command('migrate')")
    return env


def site_env(directory: Path, **values: str) -> dict[str, str]:
    """A :func:`sqlite_env` whose static files are collected in ``directory`` as production
    serves them (pages with their scripts and styles, for the browser tests)."""
    env = sqlite_env(directory, DJANGO_STATIC_ROOT=str(directory / "static"), **values)
    django_run(
        env,
        "from django.core.management import call_command\n"
        "call_command('collectstatic', '--noinput', verbosity=0)",
    )
    return env


def django_run(env: Mapping[str, str], code: str, *, timeout: float = 120) -> str:
    """Run ``code`` with Django set up in the servers' environment (their database); returns
    what it printed. For rows in a ``sqlite_env`` database."""
    completed = subprocess.run(
        [PYTHON, "-c", f"import django\ndjango.setup()\n{code}"],
        env=dict(env),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


# --- WebSockets ------------------------------------------------------------------------------


def websocket_url(base_url: str, path: str = "/ws/platform/", query: str = "") -> str:
    """``ws://`` URL of ``path`` on the server at ``base_url``."""
    url = base_url.replace("http://", "ws://", 1) + path
    return f"{url}?{query}" if query else url


def open_socket(url: str, *, origin: str | None = f"http://{HOST}", **kwargs):
    """``websockets``' client connection (an async context manager) with the loopback
    ``Origin`` of a browser on this site; ``origin=None`` connects as a device does."""
    from websockets.asyncio.client import connect

    kwargs.setdefault("open_timeout", SOCKET_TIMEOUT)
    kwargs.setdefault("close_timeout", 5)
    return connect(url, origin=origin, **kwargs)


async def receive_json(sock, timeout: float = SOCKET_TIMEOUT) -> dict:
    return json.loads(await asyncio.wait_for(sock.recv(), timeout))


async def receive_until(sock, wanted: Callable[[dict], bool], timeout: float = SOCKET_TIMEOUT):
    """The first JSON frame that ``wanted`` accepts, skipping others (runs sharing a Redis
    may broadcast to the same group); fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await receive_json(sock, max(0.05, deadline - time.monotonic()))
        if wanted(frame):
            return frame


@dataclass
class Refusal:
    """How a server refused a socket: an HTTP status to the handshake (``http_status``), or
    an accepted socket closed with ``code`` and ``reason``."""

    http_status: int | None = None
    code: int | None = None
    reason: str = ""


async def socket_refusal(url: str, **kwargs) -> Refusal:
    """Connect to ``url`` and wait for the server to close; what it answered."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    try:
        async with open_socket(url, **kwargs) as sock:
            try:
                while True:
                    await asyncio.wait_for(sock.recv(), SOCKET_TIMEOUT)
            except ConnectionClosed as closed:
                received = closed.rcvd
                if received is None:
                    return Refusal()
                return Refusal(code=received.code, reason=received.reason)
    except InvalidStatus as exc:
        return Refusal(http_status=exc.response.status_code)

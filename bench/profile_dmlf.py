"""Where the CPU of one DMLF request goes: the guide's two calls through the WSGI application,
in this process, on SQLite with a new connection per request (as under ``runserver``).

    .venv/bin/python -m bench.profile_dmlf                 # CPU ms per call, then profiles
    .venv/bin/python -m bench.profile_dmlf --calls 500 --top 40 --sort tottime
    .venv/bin/python -m bench.profile_dmlf --runserver     # through Django's runserver

Each call goes through Django's ``WSGIHandler`` (middleware, URL resolution, DRF, the
``request_started``/``request_finished`` signals that open and close the connection), without
a socket or a thread, so that the figures are the server's own work. It prints the median CPU
milliseconds per call (``time.process_time``), the queries of one call, and a cProfile of the
calls sorted by cumulative time. With ``--runserver`` the calls are HTTP requests from
``requests`` (a new connection each, as the guide's client) to Django's threaded development
server running in this process; the CPU and the profile are then those of the request's
thread (HTTP parsing, the WSGI handler, writing the answer). No PostgreSQL or Redis needed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from bench.bench_dmlf import GUIDE_SAMPLE_INFO, PASSWORD, UNLIMITED, USERNAME, WORLD, small_zip


@contextlib.contextmanager
def query_log(connection):
    """``(seconds, sql)`` of each query the block runs on ``connection``, timed (an execute
    wrapper: the request's signals reset the connection's own query log)."""
    captured: list[tuple[float, str]] = []

    def record(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append((time.perf_counter() - start, sql))

    with connection.execute_wrapper(record):
        yield captured


def environ_for(method: str, path: str, *, token: str, body: bytes = b"", content_type=""):
    """A WSGI environ as ``runserver`` builds it for a ``requests`` call."""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": harness.HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": f"{harness.HOST}:8000",
        "HTTP_USER_AGENT": "python-requests/2.32.3",
        "HTTP_ACCEPT": "*/*",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "HTTP_CONNECTION": "keep-alive",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
    boundary = "bench0boundary0dmlf"
    parts = []
    for name, value in fields.items():
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{header}{value}\r\n".encode())
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def call(application, environ) -> tuple[str, bytes]:
    status = []

    def start_response(value, headers, exc_info=None):
        status.append(value)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0], body


class ProfiledRunserver:
    """Django's threaded development server (``runserver``'s) on a free port, in a thread of
    this process. Each request's thread runs alone (a lock), its CPU time recorded and, while
    ``profile`` is set, profiled."""

    def __init__(self, application):
        import socketserver
        import threading

        from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

        self.cpu: list[float] = []
        self.profile: cProfile.Profile | None = None
        lock = threading.Lock()
        server = self

        class Server(socketserver.ThreadingMixIn, WSGIServer):
            daemon_threads = True

            def process_request_thread(self, request, client_address):
                with lock:
                    start = time.thread_time()
                    profile = server.profile
                    if profile is not None:
                        profile.enable()
                    try:
                        super().process_request_thread(request, client_address)
                    finally:
                        if profile is not None:
                            profile.disable()
                        server.cpu.append((time.thread_time() - start) * 1000)

        # The access log is runserver's too: its cost stays, its lines go nowhere.
        for handler in logging.getLogger("django.server").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (the process's life)
        self.httpd = Server((harness.HOST, 0), WSGIRequestHandler)
        self.httpd.set_app(application)
        self.base_url = f"http://{harness.HOST}:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls of each kind")
    parser.add_argument("--top", type=int, default=30, help="lines of each profile")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--only", choices=["get", "post"], help="one of the two calls")
    parser.add_argument(
        "--runserver", action="store_true", help="HTTP requests to Django's runserver"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="profile-dmlf-") as directory:
        tmp = Path(directory)
        env = harness.bench_env(
            "", redis_url=None, settings_module="core.settings", extra=UNLIMITED
        )
        env.pop("DATABASE_URL")
        env["SQLITE_PATH"] = str(tmp / "dmlf.sqlite3")
        env["DJANGO_MEDIA_ROOT"] = str(tmp / "media")
        harness.migrate(env)
        harness.manage(env, "shell", "-c", WORLD)
        harness.setup_django(env)

        from django.core.wsgi import get_wsgi_application
        from django.db import connection

        application = get_wsgi_application()
        status, body = call(
            application,
            {
                **environ_for(
                    "POST",
                    "/dmlf/api/token/",
                    token="",
                    body=json.dumps({"username": USERNAME, "password": PASSWORD}).encode(),
                    content_type="application/json",
                ),
            },
        )
        assert status.startswith("200"), body
        token = json.loads(body)["access"]
        archive = small_zip()
        info = json.dumps(GUIDE_SAMPLE_INFO).encode()
        counter = iter(range(10**6))
        server = ProfiledRunserver(application) if args.runserver else None

        def send(method: str, path: str, body: bytes = b"", content_type: str = ""):
            if server is None:
                environ = environ_for(
                    method, path, token=token, body=body, content_type=content_type
                )
                return call(application, environ)
            import requests

            headers = {"Authorization": f"Bearer {token}"}
            if content_type:
                headers["Content-Type"] = content_type
            response = requests.request(
                method, server.base_url + path, data=body or None, headers=headers, timeout=30
            )
            return f"{response.status_code} {response.reason}", response.content

        def get_institutes():
            status, body = send("GET", "/dmlf/institutes/")
            assert status.startswith("200"), body

        def post_sample():
            second = next(counter)
            clock = f"{second // 3600 % 24:02d}{second // 60 % 60:02d}{second % 60:02d}"
            body, content_type = multipart(
                {
                    "sample_id": f"{230101 + second // 86400:06d}_{clock}_010001",
                    "name": "mock sample",
                    "institute": "1",
                    "project": "1",
                    "method": "1",
                    "parent": "",
                    "sample_type": "1",
                    "date_created": "2024-06-16",
                },
                {
                    "sample_info": ("sample_info.json", info, "application/json"),
                    "supplementary_file": ("sample.zip", archive, "application/zip"),
                },
            )
            status, answer = send("POST", "/dmlf/samples/", body, content_type)
            assert status.startswith("201"), answer

        calls = {"get": ("GET institutes/", get_institutes), "post": ("POST samples/", post_sample)}
        if args.only:
            calls = {args.only: calls[args.only]}
        for label, function in calls.values():
            for _ in range(20):
                function()
            with query_log(connection) as captured:
                function()
            cpu, wall = [], []
            if server is not None:
                server.cpu.clear()
            for _ in range(args.calls):
                start_cpu, start_wall = time.process_time(), time.perf_counter()
                function()
                cpu.append((time.process_time() - start_cpu) * 1000)
                wall.append((time.perf_counter() - start_wall) * 1000)
            if server is not None:
                # The request threads' own CPU, not the client's in this process.
                cpu = server.cpu
            print(
                f"{label}: CPU {statistics.median(cpu):.2f} ms median, wall "
                f"{statistics.median(wall):.2f} ms median, {len(captured)} queries"
            )
            for seconds, sql in captured:
                print(f"    {seconds * 1000:.3f} ms  {sql[:150]}")
            profile = cProfile.Profile()
            if server is None:
                profile.enable()
            else:
                server.profile = profile
            for _ in range(args.calls):
                function()
            if server is None:
                profile.disable()
            else:
                server.profile = None
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        os.environ.pop("SQLITE_PATH", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the CPU of one DMLF request goes: the guide's two calls through the WSGI application,
in this process, on SQLite with a new connection per request (as under ``runserver``).

    .venv/bin/python -m bench.profile_dmlf                 # CPU ms per call, then profiles
    .venv/bin/python -m bench.profile_dmlf --calls 500 --top 40 --sort tottime

Each call goes through Django's ``WSGIHandler`` (middleware, URL resolution, DRF, the
``request_started``/``request_finished`` signals that open and close the connection), without
a socket or a thread, so that the figures are the server's own work. It prints the median CPU
milliseconds per call (``time.process_time``), the queries of one call, and a cProfile of the
calls sorted by cumulative time. No PostgreSQL or Redis needed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from bench.bench_dmlf import GUIDE_SAMPLE_INFO, PASSWORD, UNLIMITED, USERNAME, WORLD, small_zip


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls of each kind")
    parser.add_argument("--top", type=int, default=30, help="lines of each profile")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--only", choices=["get", "post"], help="one of the two calls")
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

        def get_institutes():
            status, body = call(application, environ_for("GET", "/dmlf/institutes/", token=token))
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
            status, answer = call(
                application,
                environ_for(
                    "POST", "/dmlf/samples/", token=token, body=body, content_type=content_type
                ),
            )
            assert status.startswith("201"), answer

        calls = {"get": ("GET institutes/", get_institutes), "post": ("POST samples/", post_sample)}
        if args.only:
            calls = {args.only: calls[args.only]}
        for label, function in calls.values():
            for _ in range(20):
                function()
            # Queries of one call (the request's signals reset the connection's own log).
            captured = []

            def record(execute, sql, params, many, context, captured=captured):
                start = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    captured.append((time.perf_counter() - start, sql))

            with connection.execute_wrapper(record):
                function()
            cpu, wall = [], []
            for _ in range(args.calls):
                start_cpu, start_wall = time.process_time(), time.perf_counter()
                function()
                cpu.append((time.process_time() - start_cpu) * 1000)
                wall.append((time.perf_counter() - start_wall) * 1000)
            print(
                f"{label}: CPU {statistics.median(cpu):.2f} ms median, wall "
                f"{statistics.median(wall):.2f} ms median, {len(captured)} queries"
            )
            for seconds, sql in captured:
                print(f"    {seconds * 1000:.3f} ms  {sql[:150]}")
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.calls):
                function()
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        os.environ.pop("SQLITE_PATH", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())

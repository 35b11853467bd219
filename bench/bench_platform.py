"""What the platform's layers and credentials cost per request, under WSGI and ASGI.

    .venv/bin/python -m bench.bench_platform [--duration 10] [--connections 16]

Creates a fresh PostgreSQL database, migrates it, makes a user with an API key, a JWT and a
session, then loads trivial endpoints with wrk under gunicorn (WSGI) and uvicorn (ASGI):

(a) the cost of each credential scheme on one authenticated DRF endpoint, against the same
    DRF endpoint with no authentication (gunicorn);
(b) a plain Django view, a DRF view and the DRF view with authentication (JWT), under
    gunicorn and under uvicorn;
(c) optionally (``--sweep-workers 2,3,5``) gunicorn's throughput and memory by worker count,
    on a real endpoint (``--sweep-path``, default ``/api/v2/users/me/`` with a JWT).

See ``bench/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time

from bench import harness

PLAIN = "/bench/plain/"
DRF = "/bench/drf/"
DRF_DB = "/bench/drf-db/"
DRF_AUTH = "/bench/drf-auth/"
ME = "/api/v2/users/me/"


def make_credentials() -> dict[str, dict[str, str]]:
    """A user, and the headers of each credential scheme authenticating as that user."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import get_random_string
    from rest_framework_simplejwt.tokens import RefreshToken

    from core import services
    from core.models import User

    user = User.objects.create_user(
        username="bench", email="bench@example.com", password=get_random_string(24)
    )
    _, api_key = services.api_key_create(user=user, name="bench")
    access = str(RefreshToken.for_user(user).access_token)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {
        "API key": {"Authorization": f"User {api_key}"},
        "JWT": {"Authorization": f"Bearer {access}"},
        "session": {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"},
    }


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up, discarded")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement, the fastest is kept"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--wsgi-workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--asgi-workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument(
        "--sweep-workers",
        default="",
        help="also measure gunicorn with these worker counts, e.g. 2,3,5",
    )
    parser.add_argument(
        "--sweep-path", default=ME, help="endpoint of the worker sweep (GET with a JWT)"
    )
    parser.add_argument(
        "--sweep-only", action="store_true", help="only the worker sweep, not (a) and (b)"
    )
    parser.add_argument("--database", default="bench_platform", help="database to (re)create")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, env: dict[str, str], credentials: dict) -> tuple[dict, dict]:
    """Every measurement: {(server, case): Measurement} and {workers: Measurement}."""
    load = {
        "duration": args.duration,
        "connections": args.connections,
        "threads": args.threads,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "database": args.database,
    }
    results: dict[tuple[str, str], harness.Measurement] = {}

    def measure(server: harness.Server, kind: str, name: str, path: str, headers=None) -> None:
        m = harness.measure(server, path, label=name, headers=headers, **load)
        results[kind, name] = m
        print(
            f"  {kind} {name}: {m.rps:,.0f} req/s, {m.cpu_ms_per_request:.2f} CPU ms/request, "
            f"other load {pct(m.other_load)}",
            flush=True,
        )

    if not args.sweep_only:
        with harness.gunicorn_server(env, workers=args.wsgi_workers) as server:
            measure(server, "wsgi", "plain", PLAIN)
            measure(server, "wsgi", "none", DRF)
            measure(server, "wsgi", "none+db", DRF_DB)
            for name, headers in credentials.items():
                measure(server, "wsgi", name, DRF_AUTH, headers)
        with harness.uvicorn_server(env, workers=args.asgi_workers) as server:
            measure(server, "asgi", "plain", PLAIN)
            measure(server, "asgi", "none", DRF)
            measure(server, "asgi", "JWT", DRF_AUTH, credentials["JWT"])
    sweep: dict[int, harness.Measurement] = {}
    for workers in [int(w) for w in args.sweep_workers.split(",") if w.strip()]:
        with harness.gunicorn_server(env, workers=workers) as server:
            m = harness.measure(
                server,
                args.sweep_path,
                label=f"{workers} workers",
                headers=credentials["JWT"],
                **load,
            )
            sweep[workers] = m
            print(f"  sweep {workers} workers: {m.rps:,.0f} req/s", flush=True)
    return results, sweep


def report(args: argparse.Namespace, results: dict, sweep: dict, credentials: dict) -> None:
    if results:
        report_main(args, results, credentials)
    if sweep:
        report_sweep(args, sweep)
    print(
        "CPU ms: server (+ database) CPU per request, from /proc. added ms: CPU per request "
        "over 'no auth'; vs SELECT 1: over a no-auth view that also uses the database (the "
        "cost of verifying the credential itself).\nother load: share of the machine used by "
        "unrelated processes during the run (noise). errors: non-2xx/3xx responses + socket "
        "errors (must be 0)."
    )


def report_main(args: argparse.Namespace, results: dict, credentials: dict) -> None:
    base = results["wsgi", "none"]
    base_db = results["wsgi", "none+db"]
    labels = {"none": "no auth", "none+db": "no auth, SELECT 1"}
    rows = []
    for name in ["none", "none+db", *credentials]:
        m = results["wsgi", name]
        added = None if name in labels else m.cpu_ms_per_request - base.cpu_ms_per_request
        added_db = None if name in labels else m.cpu_ms_per_request - base_db.cpu_ms_per_request
        rows.append(
            [
                labels.get(name, name),
                fmt(m.rps, 0),
                fmt(m.wrk.p50),
                fmt(m.wrk.p99),
                fmt(m.app_cpu_ms_per_request, 3),
                fmt(m.db_cpu_ms_per_request, 3),
                "—" if added is None else f"{added:+.3f}",
                "—" if added_db is None else f"{added_db:+.3f}",
                pct(m.other_load),
                m.wrk.errors,
            ]
        )
    harness.print_table(
        [
            "credential",
            "req/s",
            "p50 ms",
            "p99 ms",
            "app CPU ms",
            "db CPU ms",
            "added ms",
            "vs SELECT 1",
            "other load",
            "errors",
        ],
        rows,
        title=f"(a) Credentials on a trivial DRF endpoint (gunicorn, {args.wsgi_workers} sync "
        "workers)",
    )
    print()
    rows = []
    for name, label in [
        ("plain", "plain Django view"),
        ("none", "DRF view, no auth"),
        ("JWT", "DRF view + auth (JWT)"),
    ]:
        w, a = results["wsgi", name], results["asgi", name]
        rows.append(
            [
                label,
                fmt(w.rps, 0),
                fmt(w.wrk.p99),
                fmt(w.cpu_ms_per_request, 3),
                fmt(a.rps, 0),
                fmt(a.wrk.p99),
                fmt(a.cpu_ms_per_request, 3),
                f"{pct(w.other_load)} / {pct(a.other_load)}",
                f"{w.wrk.errors} / {a.wrk.errors}",
            ]
        )
    harness.print_table(
        [
            "endpoint",
            "WSGI req/s",
            "p99 ms",
            "CPU ms",
            "ASGI req/s",
            "p99 ms",
            "CPU ms",
            "other load",
            "errors",
        ],
        rows,
        title=f"(b) WSGI: gunicorn {args.wsgi_workers} sync workers / ASGI: uvicorn "
        f"{args.asgi_workers} workers",
    )
    print()


def report_sweep(args: argparse.Namespace, sweep: dict) -> None:
    harness.print_table(
        [
            "gunicorn workers",
            "req/s",
            "p50 ms",
            "p99 ms",
            "CPU ms",
            "RSS MiB",
            "other load",
            "errors",
        ],
        [
            [
                workers,
                fmt(m.rps, 0),
                fmt(m.wrk.p50),
                fmt(m.wrk.p99),
                fmt(m.cpu_ms_per_request, 3),
                fmt(m.rss_mb, 0),
                pct(m.other_load),
                m.wrk.errors,
            ]
            for workers, m in sweep.items()
        ],
        title=f"(c) gunicorn sync workers, GET {args.sweep_path} with a JWT",
    )
    print()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    print(
        f"bench_platform: {harness.CPU_COUNT} CPUs, wrk {args.threads} thread(s) x "
        f"{args.connections} connections, {args.duration:g}s per measurement "
        f"(+{args.warmup:g}s warm-up, best of {args.repeat}), gunicorn {args.wsgi_workers} "
        f"sync workers, uvicorn {args.asgi_workers} workers",
        flush=True,
    )
    harness.wrk_path()
    with harness.timed("fresh database and migrations"):
        database_url = harness.fresh_database(args.database, args.postgres_url)
        env = harness.bench_env(database_url, args.redis_url)
        harness.migrate(env)
    try:
        harness.setup_django(env)
        credentials = make_credentials()
        harness.close_django_connections()
        results, sweep = run(args, env, credentials)
    finally:
        if not args.keep_db:
            harness.drop_database(args.database, args.postgres_url)
    print()
    report(args, results, sweep, credentials)
    print(f"Total time {time.monotonic() - started:.0f}s.")
    if args.json:
        harness.write_json(
            args.json,
            {
                "when": dt.datetime.now(dt.UTC).isoformat(),
                "args": vars(args),
                "cpus": harness.CPU_COUNT,
                "results": {f"{s}:{n}": m.as_dict() for (s, n), m in results.items()},
                "sweep": {str(w): m.as_dict() for w, m in sweep.items()},
            },
        )
    bad = [m for m in [*results.values(), *sweep.values()] if m.wrk.errors]
    if bad:
        names = ", ".join(f"{m.server}/{m.label}" for m in bad)
        print(f"WARNING: {len(bad)} measurement(s) had errors, their figures are wrong: {names}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

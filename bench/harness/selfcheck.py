"""A small run of the harness's load tools against the real servers, printing their figures:

    .venv/bin/python -m bench.harness.selfcheck                # about half a minute
    .venv/bin/python -m bench.harness.selfcheck --subscribers 1000 --client-processes 2

1. ``drive``: concurrent JSON POSTs (``/api/v2/organizations/``) and multipart uploads
   (``/api/v2/bms/files/``) to gunicorn, with latency percentiles, while ``PeakMemory``
   samples gunicorn's process tree;
2. ``socket_load``: subscribers of the platform stream (``/ws/platform/``) spread over two
   uvicorn processes, broadcasts sent through the Redis channel layer from this process,
   delivery latency from sending to receipt and deliveries per second, with the uvicorn
   trees' peak memory.

Needs PostgreSQL and Redis as the other benchmarks do (``bench/README.md``); the database
(``--database``, default ``live``) is dropped and created, and dropped again unless
``--keep-db``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

from bench import harness
from bench.harness.drive import drive
from bench.harness.memory import PeakMemory
from bench.harness.sockets import socket_load

SOCKET_COLUMNS = [
    "subscribers",
    "opened",
    "messages",
    "delivered",
    "missing",
    "deliv/s",
    "p50",
    "p90",
    "p99",
    "max",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="live")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--requests", type=int, default=400, help="JSON POSTs")
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--upload-kb", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--client-processes", type=int, default=1)
    return parser.parse_args(argv)


def make_account() -> tuple[str, int]:
    """An owner of one organization, with an API key; (key, organization id)."""
    from core import services
    from core.models import User

    user = User.objects.create_user(username="bench-live", email="bench-live@example.org")
    organization = services.organization_create(name="Bench live", owner=user)
    _, key = services.api_key_create(user=user, name="bench")
    return key, organization.pk


def run_writes(env, key: str, organization: int, args) -> list[list[object]]:
    payload = os.urandom(args.upload_kb * 1024)
    rows = []
    with harness.gunicorn_server(env, workers=2) as server:
        headers = {"Authorization": f"User {key}"}
        with PeakMemory(server.process.pid) as memory:
            posts = drive(
                server.url("/api/v2/organizations/"),
                make_request=lambda i: {"json": {"name": f"Lab {i}"}},
                headers=headers,
                concurrency=args.concurrency,
                requests=args.requests,
                warmup=10,
            )
            uploads = drive(
                server.url("/api/v2/bms/files/"),
                make_request=lambda i: {
                    "data": {"organization": str(organization)},
                    "files": {"file": (f"run-{i}.csv", payload, "text/csv")},
                },
                headers=headers,
                concurrency=args.concurrency,
                requests=args.uploads,
                warmup=2,
            )
        for label, result in (("POST JSON", posts), (f"upload {args.upload_kb} KiB", uploads)):
            s = result.summary()
            rows.append(
                [
                    label,
                    s["requests"],
                    s["failures"],
                    f"{s['rps']:.0f}",
                    f"{s['mb_per_s']:.1f}",
                    f"{s['p50_ms']:.1f}",
                    f"{s['p90_ms']:.1f}",
                    f"{s['p99_ms']:.1f}",
                    f"{s['max_ms']:.1f}",
                ]
            )
    harness.print_table(
        ["gunicorn, 2 workers", "requests", "failed", "req/s", "MiB/s", "p50", "p90", "p99", "max"],
        rows,
        title=f"drive: {args.concurrency} concurrent clients (latency ms)",
    )
    print(
        f"gunicorn tree RSS during the writes: {memory.baseline_mb:.0f} MiB -> peak "
        f"{memory.peak_mb:.0f} MiB (+{memory.growth_mb:.0f}, {memory.samples} samples)\n",
        flush=True,
    )
    return rows


def run_sockets(env, key: str, args):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    async def send(i: int) -> None:
        message = {"seq": i, "sent_at": time.time()}
        await layer.group_send("platform", {"type": "stream.message", "message": message})

    def match(frame: dict):
        return (frame["seq"], frame["sent_at"]) if "seq" in frame else None

    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(harness.uvicorn_server(env, workers=1)) for _ in range(2)]
        urls = [
            server.base_url.replace("http://", "ws://") + f"/ws/platform/?key={key}"
            for server in servers
        ]
        memories = [stack.enter_context(PeakMemory(s.process.pid)) for s in servers]
        result = socket_load(
            urls,
            subscribers=args.subscribers,
            send=send,
            match=match,
            messages=args.messages,
            interval=args.interval,
            processes=args.client_processes,
        )
    s = result.summary()
    harness.print_table(
        SOCKET_COLUMNS,
        [
            [
                s["subscribers"],
                s["opened"],
                s["messages"],
                f"{s['delivered']}/{s['expected']}",
                s["missing"],
                s["deliveries_per_s"],
                f"{s['p50_ms']:.1f}",
                f"{s['p90_ms']:.1f}",
                f"{s['p99_ms']:.1f}",
                f"{s['max_ms']:.1f}",
            ]
        ],
        title=(
            "socket_load: /ws/platform/ on 2 uvicorn processes, Redis layer "
            "(latency ms, send to receipt)"
        ),
    )
    for server, memory in zip(servers, memories, strict=True):
        print(
            f"{server.name} :{server.port} RSS {memory.baseline_mb:.0f} MiB -> peak "
            f"{memory.peak_mb:.0f} MiB (+{memory.growth_mb:.0f})",
            flush=True,
        )
    print(f"sockets opened in {s['open_s']} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    redis_url = args.redis_url or harness.DEFAULT_REDIS_URL
    with harness.timed("database"):
        database_url = harness.fresh_database(args.database)
        env = harness.bench_env(database_url, redis_url)
        harness.migrate(env)
        harness.setup_django(env)
        key, organization = make_account()
        harness.close_django_connections()
    try:
        run_writes(env, key, organization, args)
        result = run_sockets(env, key, args)
    finally:
        harness.close_django_connections()
        if not args.keep_db:
            harness.drop_database(args.database)
    return 0 if result.missing == 0 and result.refused == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

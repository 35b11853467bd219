"""Where the time of a passport list page goes: ``GET batteryPass?limit=1000`` through the WSGI
application in this process, on the database ``bench.bench_passport`` left (``--keep``).

    .venv/bin/python -m bench.profile_passport                  # the three readers
    .venv/bin/python -m bench.profile_passport --calls 20 --top 40 --only owner

For each reader (anonymous, the owner over their organization, the owner over everything) it
prints the median wall and CPU milliseconds of a page, the page's queries with their times
(as this process sees them: the database's work and the round trip), and a cProfile of the
calls. It makes an API key for the bench's owner each run (as ``bench_passport --reuse``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from bench import harness
from bench.bench_passport import DATABASE, LIST_LIMIT, existing_world
from bench.profile_dmlf import call, environ_for, query_log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=30, help="pages per reader")
    parser.add_argument("--top", type=int, default=30, help="lines of each profile")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--only", choices=["anonymous", "organization", "owner"])
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)

    parts = urlsplit(args.postgres_url)
    database_url = urlunsplit(parts._replace(path=f"/{DATABASE}"))
    env = harness.bench_env(database_url, redis_url=None, settings_module="core.settings")
    harness.setup_django(env)

    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from core import services
    from core.models import User

    world = existing_world()
    _, key = services.api_key_create(user=User.objects.get(pk=world["owner"]), name="profile")
    application = get_wsgi_application()
    base = f"/passport/batteryPass?limit={LIST_LIMIT}"
    readers = {
        "anonymous": (base, None),
        "organization": (f"{base}&organization={world['organization']}", key),
        "owner": (base, key),
    }
    if args.only:
        readers = {args.only: readers[args.only]}

    for reader, (url, api_key) in readers.items():
        path, _, query = url.partition("?")

        def page(path=path, query=query, api_key=api_key):
            environ = environ_for("GET", path, token="")
            environ["QUERY_STRING"] = query
            if api_key:
                environ["HTTP_AUTHORIZATION"] = f"User {api_key}"
            else:
                del environ["HTTP_AUTHORIZATION"]
            status, body = call(application, environ)
            assert status.startswith("200"), body[:300]
            return body

        for _ in range(3):
            page()
        with query_log(connection) as captured:
            size = len(page())
        cpu, wall = [], []
        for _ in range(args.calls):
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            page()
            cpu.append((time.process_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start_wall) * 1000)
        print(
            f"{reader}: wall {statistics.median(wall):.1f} ms median, CPU "
            f"{statistics.median(cpu):.1f} ms, {size:,} bytes, {len(captured)} queries"
        )
        for seconds, sql in captured:
            print(f"    {seconds * 1000:.2f} ms  {sql[:160]}")
        if args.top:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.calls):
                page()
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    harness.close_django_connections()
    return 0


if __name__ == "__main__":
    sys.exit(main())

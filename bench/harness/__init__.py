"""Reusable pieces for benchmarks: a fresh database, real servers, wrk, CPU accounting, tables.

Everything runs on 127.0.0.1 and every wait has a timeout. A typical run::

    from bench import harness

    database_url = harness.fresh_database("bench_example")
    env = harness.bench_env(database_url)
    harness.migrate(env)
    harness.setup_django(env)          # now the ORM talks to the bench database
    ...                                # create users, keys, data
    with harness.gunicorn_server(env, workers=3) as server:
        result = harness.measure(server, "/bench/plain/", label="plain", duration=10)
    harness.print_table(["label", "req/s"], [[result.label, f"{result.rps:.0f}"]])

Servers are started in their own process group and stopped with SIGTERM (SIGKILL after a
timeout) when the ``with`` block ends, also on errors and Ctrl-C.

Modules: ``common`` (constants, ports, HTTP, tables), ``database`` (the run's database and
environment), ``procfs`` (CPU and memory from /proc), ``servers`` (gunicorn, uvicorn), ``load``
(wrk and measurements), ``drive`` (concurrent POSTs and uploads with a body per request, with
percentiles), ``sockets`` (many WebSocket subscribers, broadcast delivery latency), ``memory``
(peak resident memory of a server's process tree). Everything is re-exported here;
``python -m bench.harness.selfcheck`` is a small run of the last three.
"""

from bench.harness.common import (
    CPU_COUNT,
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    HOST,
    PROJECT_DIR,
    PYTHON,
    BenchError,
    free_port,
    http_get,
    print_table,
    timed,
    write_json,
)
from bench.harness.database import (
    bench_env,
    close_django_connections,
    drop_database,
    fresh_database,
    manage,
    migrate,
    setup_django,
)
from bench.harness.drive import DriveResult, drive, percentile
from bench.harness.load import (
    Measurement,
    WrkResult,
    measure,
    parse_wrk,
    run_wrk,
    wrk_path,
)
from bench.harness.memory import PeakMemory
from bench.harness.procfs import (
    database_backends_cpu,
    machine_busy_seconds,
    process_tree_cpu,
    process_tree_rss_mb,
)
from bench.harness.servers import (
    Server,
    gunicorn_server,
    uvicorn_server,
)
from bench.harness.sockets import SocketLoadResult, socket_load

__all__ = [
    "CPU_COUNT",
    "DEFAULT_POSTGRES_URL",
    "DEFAULT_REDIS_URL",
    "HOST",
    "PROJECT_DIR",
    "PYTHON",
    "BenchError",
    "DriveResult",
    "Measurement",
    "PeakMemory",
    "Server",
    "SocketLoadResult",
    "WrkResult",
    "bench_env",
    "close_django_connections",
    "database_backends_cpu",
    "drive",
    "drop_database",
    "free_port",
    "fresh_database",
    "gunicorn_server",
    "http_get",
    "machine_busy_seconds",
    "manage",
    "measure",
    "migrate",
    "parse_wrk",
    "percentile",
    "print_table",
    "process_tree_cpu",
    "process_tree_rss_mb",
    "run_wrk",
    "setup_django",
    "socket_load",
    "timed",
    "uvicorn_server",
    "write_json",
    "wrk_path",
]

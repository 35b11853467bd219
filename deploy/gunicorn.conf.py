"""gunicorn settings of the WSGI service: ``gunicorn core.wsgi:application -c <this file>``.

Sync workers behind nginx, which buffers requests and responses, so a slow client never holds
a worker. The worker count is ``WEB_CONCURRENCY``, by default ``cores + 1`` (3 on the 2-core
reference machine), from ``python -m bench.bench_platform --sweep-workers 2,3,4,5,8``
(figures in ``bench/README.md``):

- throughput did not grow beyond 2 workers: requests are CPU-bound (Django + DRF cost
  1.5-5 ms of CPU per request, PostgreSQL's side 0.2-0.4 ms), so 2 busy workers already
  saturate 2 cores and the differences between 2, 3, 5 and 8 workers were within the noise;
- every worker costs about 100 MiB of resident memory;
- one worker more than cores covers the time workers wait on PostgreSQL and keeps a core busy
  while one request is slow (a bulk upload, an export).

gunicorn's generic ``2 * cores + 1`` suits I/O-bound apps; raise ``WEB_CONCURRENCY`` if
requests here come to spend much of their time waiting (a remote database, slow queries).
"""

import math
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _cores() -> int:
    """CPUs this container may use: its cgroup quota (docker --cpus) if any, else the CPUs
    it may run on (not the host's count)."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as cpu_max:
            quota, period = cpu_max.read().split()
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", _cores() + 1)
worker_class = "sync"
# Large bulk ingestion and uploads are read from nginx's buffer, but parsing and writing them
# takes a while; exports stream.
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# The heartbeat file on tmpfs: Docker's overlay filesystem can stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Only the proxy reaches this port; Django itself trusts X-Forwarded-Proto when
# DJANGO_BEHIND_PROXY=1.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# nginx logs every request; set GUNICORN_ACCESS_LOG=1 to log them here as well.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "") in {"1", "true", "yes"} else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No control socket (gunicorn >= 25.1): the container is managed by its orchestrator, and the
# default path under $HOME is not writable for the app user. Older gunicorns ignore this.
control_socket_disable = True
# The app is imported in each worker, not before forking: the database pool and the Redis
# clients must not be shared between processes.
preload_app = False

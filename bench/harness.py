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
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"

#: Where to create benchmark databases (a maintenance database of the PostgreSQL server).
DEFAULT_POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
DEFAULT_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

CPU_COUNT = os.cpu_count() or 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A benchmark could not run or produced figures that cannot be trusted."""


# --- Environment and database ----------------------------------------------------------------


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _check_identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise BenchError(f"Unsafe database name {name!r}: use lowercase letters, digits, _.")
    return name


def _admin_connection(admin_url: str):
    import psycopg

    return psycopg.connect(admin_url, autocommit=True, connect_timeout=10)


def fresh_database(name: str, admin_url: str = DEFAULT_POSTGRES_URL) -> str:
    """Drop the PostgreSQL database ``name`` (closing its connections) and create it empty.

    Returns its ``DATABASE_URL``."""
    _check_identifier(name)
    with _admin_connection(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(admin_url, name)


def drop_database(name: str, admin_url: str = DEFAULT_POSTGRES_URL) -> None:
    """Drop the database ``name`` if it exists, closing its connections."""
    _check_identifier(name)
    with _admin_connection(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(
    database_url: str,
    redis_url: str | None = DEFAULT_REDIS_URL,
    *,
    settings_module: str = "bench.settings",
    secret_key: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for servers and management commands of a run.

    Production-like: DEBUG off, PostgreSQL with the pool, Redis when given, a random secret
    shared by every process of the run (so tokens minted here are valid in the servers)."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "DJANGO_SECURE_SSL_REDIRECT", "DJANGO_ALLOWED_HOSTS"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secret_key or secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra or {})
    return env


def manage(env: Mapping[str, str], *args: str, timeout: float = 600) -> str:
    """Run ``manage.py <args>`` in a subprocess with ``env``; returns its stdout."""
    completed = subprocess.run(
        [PYTHON, str(PROJECT_DIR / "manage.py"), *args],
        env=dict(env),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}"
        )
    return completed.stdout


def migrate(env: Mapping[str, str], timeout: float = 600) -> None:
    """Apply every migration to the database of ``env``."""
    manage(env, "migrate", "--noinput", timeout=timeout)


def setup_django(env: Mapping[str, str]) -> None:
    """Point this process at the run's settings and database and call ``django.setup()``.

    Call it once, before importing models; afterwards the ORM works on the bench database."""
    import django

    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in env:
            os.environ.pop(name, None)
    os.environ.update(env)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    django.setup()


def close_django_connections() -> None:
    """Close this process's database connections (and the pool), e.g. before dropping."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()


# --- CPU accounting --------------------------------------------------------------------------


def _read_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children) from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / _CLOCK_TICKS


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def process_tree_cpu(root_pid: int) -> float:
    """CPU seconds used so far by ``root_pid`` and all its descendants."""
    stats = {pid: stat for pid in _all_pids() if (stat := _read_stat(pid)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        if pid in stats:
            total += stats[pid][1]
        stack.extend(children.get(pid, []))
    return total


_BACKEND = re.compile(r"postgres: (?:\S+: )?(\S+) (\S+) ")


def process_tree_rss_mb(root_pid: int) -> float:
    """Resident memory of ``root_pid`` and its descendants, in MiB (shared pages counted in
    each process, so an upper bound)."""
    page = os.sysconf("SC_PAGE_SIZE")
    parents = {pid: stat[0] for pid in _all_pids() if (stat := _read_stat(pid)) is not None}
    tree, changed = {root_pid}, True
    while changed:
        new = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= new
        changed = bool(new)
    total = 0
    for pid in tree:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
    return total / 2**20


def database_backends_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database``.

    Backends show ``postgres: [<cluster>: ]<user> <database> <client> <state>`` as their
    command line."""
    total = 0.0
    for pid in _all_pids():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        match = _BACKEND.match(cmdline)
        if match and match.group(2) == database:
            stat = _read_stat(pid)
            if stat is not None:
                total += stat[1]
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is already counted in user
    return (total - idle) / _CLOCK_TICKS, total / _CLOCK_TICKS


# --- Servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    """A server subprocess on a loopback port; use it as a context manager."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _log_file: object = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(
        self,
        ready_path: str = "/healthz",
        timeout: float = 60,
        ready_headers: Mapping[str, str] | None = None,
    ) -> Server:
        handle, name = tempfile.mkstemp(prefix=f"bench-{self.name}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self._log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_ready(ready_path, timeout, ready_headers)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(
        self,
        path: str = "/healthz",
        timeout: float = 60,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Poll ``path`` until it answers 200; fail if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _ = http_get(self.url(path), headers, timeout=2)
                if status == 200:
                    return
                last_error = f"HTTP {status}"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} not ready after {timeout}s ({last_error}):\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (graceful), then SIGKILL the server's process group after ``timeout``."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 40) -> str:
        if self._log_file is not None:
            self._log_file.flush()
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and all its workers."""
        return process_tree_cpu(self.process.pid)

    def rss_mb(self) -> float:
        """Resident memory of the server and all its workers, in MiB."""
        return process_tree_rss_mb(self.process.pid)

    def __enter__(self) -> Server:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        if self.log_path is not None and exc_info[0] is None:
            self.log_path.unlink(missing_ok=True)


def _gunicorn_has_control_socket() -> bool:
    """gunicorn >= 25.1 opens a control socket at one shared path per user; benchmarks
    running side by side must not fight over it."""
    from gunicorn import config

    return hasattr(config, "ControlSocketDisable")


def gunicorn_server(
    env: Mapping[str, str],
    *,
    workers: int,
    app: str = "core.wsgi:application",
    worker_class: str = "sync",
    threads: int = 1,
    port: int | None = None,
    extra_args: Sequence[str] = (),
) -> Server:
    """gunicorn (WSGI) with ``workers`` processes; started by ``with`` or ``.start()``."""
    port = port or free_port()
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--timeout=60",
        "--graceful-timeout=10",
        "--keep-alive=5",
        "--log-level=warning",
        *(["--no-control-socket"] if _gunicorn_has_control_socket() else []),
        *extra_args,
    ]
    return Server(f"gunicorn-{workers}w", argv, dict(env), port)


def uvicorn_server(
    env: Mapping[str, str],
    *,
    workers: int,
    app: str = "core.asgi:application",
    port: int | None = None,
    extra_args: Sequence[str] = (),
) -> Server:
    """uvicorn (ASGI, uvloop + httptools) with ``workers`` processes."""
    port = port or free_port()
    argv = [
        PYTHON,
        "-m",
        "uvicorn",
        app,
        f"--host={HOST}",
        f"--port={port}",
        f"--workers={workers}",
        "--lifespan=off",
        "--no-access-log",
        "--log-level=warning",
        "--timeout-graceful-shutdown=10",
        *extra_args,
    ]
    env = dict(env)
    env.pop("WEB_CONCURRENCY", None)  # uvicorn would read it as --workers
    return Server(f"uvicorn-{workers}w", argv, env, port)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_get(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    """(status, body) of a GET; 3xx/4xx/5xx are returned, never followed or raised."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- wrk -------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


@dataclass
class WrkResult:
    """What one wrk run reported. Latencies in milliseconds."""

    url: str
    requests: int
    duration_s: float
    rps: float
    latency_ms: dict[int, float]
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    raw: str = ""

    @property
    def p50(self) -> float:
        return self.latency_ms.get(50, float("nan"))

    @property
    def p99(self) -> float:
        return self.latency_ms.get(99, float("nan"))

    @property
    def errors(self) -> int:
        """Responses that were not 2xx/3xx plus socket errors (connect, read, write, timeout)."""
        return self.non_2xx_3xx + sum(self.socket_errors.values())


def parse_wrk(output: str, url: str = "") -> WrkResult:
    """Parse the text of ``wrk --latency``."""
    latency = {
        int(m.group(1)): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not (latency and done and rps):
        raise BenchError(f"Cannot parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {}
    )
    return WrkResult(
        url=url,
        requests=int(done.group(1)),
        duration_s=_ms(done.group(2), done.group(3)) / 1e3,
        rps=float(rps.group(1)),
        latency_ms=latency,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
        raw=output,
    )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed (apt-get install -y wrk).")
    return path


def run_wrk(
    url: str,
    *,
    duration: float = 10,
    connections: int = 16,
    threads: int = 1,
    headers: Mapping[str, str] | None = None,
    script: str | Path | None = None,
    request_timeout: float = 10,
) -> WrkResult:
    """Run ``wrk --latency`` against ``url`` for ``duration`` seconds and parse it.

    ``headers`` are sent with every request; ``script`` is an optional Lua script."""
    argv = [
        wrk_path(),
        "--latency",
        f"--threads={max(1, min(threads, connections))}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        f"--timeout={max(1, round(request_timeout))}s",
    ]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    if script:
        argv += ["--script", str(script)]
    argv.append(url)
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + request_timeout + 30, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return parse_wrk(completed.stdout, url)


# --- Measurements ----------------------------------------------------------------------------


@dataclass
class Measurement:
    """One endpoint under load on one server: wrk's figures plus the CPU it cost.

    CPU figures are seconds over the measured run: ``app_cpu_s`` of the server's processes,
    ``db_cpu_s`` of the run's PostgreSQL backends, ``wrk_cpu_s`` of wrk itself and
    ``other_cpu_s`` of everything else on the machine (other people's work: noise)."""

    label: str
    server: str
    path: str
    wrk: WrkResult
    app_cpu_s: float
    db_cpu_s: float | None
    wrk_cpu_s: float
    other_cpu_s: float
    machine_busy_fraction: float
    rss_mb: float = 0.0

    @property
    def rps(self) -> float:
        return self.wrk.rps

    def _per_request_ms(self, seconds: float) -> float:
        return 1e3 * seconds / max(self.wrk.requests, 1)

    @property
    def app_cpu_ms_per_request(self) -> float:
        """CPU milliseconds the server processes spent per request."""
        return self._per_request_ms(self.app_cpu_s)

    @property
    def db_cpu_ms_per_request(self) -> float | None:
        """CPU milliseconds the PostgreSQL backends of the run spent per request."""
        return None if self.db_cpu_s is None else self._per_request_ms(self.db_cpu_s)

    @property
    def cpu_ms_per_request(self) -> float:
        """Server plus database CPU milliseconds per request."""
        return self.app_cpu_ms_per_request + (self.db_cpu_ms_per_request or 0.0)

    @property
    def other_load(self) -> float:
        """Share of the machine's CPUs used by unrelated processes during the run."""
        return max(0.0, self.other_cpu_s / (self.wrk.duration_s * CPU_COUNT))

    def as_dict(self) -> dict:
        data = asdict(self)
        data["wrk"].pop("raw")
        data.update(
            rps=self.rps,
            app_cpu_ms_per_request=self.app_cpu_ms_per_request,
            db_cpu_ms_per_request=self.db_cpu_ms_per_request,
            other_load=self.other_load,
        )
        return data


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    server: Server,
    path: str,
    *,
    label: str,
    headers: Mapping[str, str] | None = None,
    duration: float = 10,
    connections: int = 16,
    threads: int = 1,
    warmup: float = 2,
    database: str | None = None,
    expect_status: int = 200,
    repeat: int = 1,
) -> Measurement:
    """Check that ``path`` answers ``expect_status``, warm up, then load it with wrk.

    CPU is read from /proc around the measured run: the server's process tree and, when
    ``database`` is given, the PostgreSQL backends connected to that database. With
    ``repeat`` > 1 the run with the highest throughput is kept (the least disturbed by other
    work on the machine)."""
    status, body = http_get(server.url(path), headers)
    if status != expect_status:
        raise BenchError(
            f"{label}: GET {path} answered {status}, expected {expect_status}: {body[:300]!r}"
        )
    if warmup > 0:
        run_wrk(
            server.url(path),
            duration=warmup,
            connections=connections,
            threads=threads,
            headers=headers,
        )
    best: Measurement | None = None
    for _ in range(max(1, repeat)):
        app_before = server.cpu_seconds()
        db_before = database_backends_cpu(database) if database else None
        wrk_before = _children_cpu()
        busy_before, total_before = machine_busy_seconds()
        result = run_wrk(
            server.url(path),
            duration=duration,
            connections=connections,
            threads=threads,
            headers=headers,
        )
        busy_after, total_after = machine_busy_seconds()
        wrk_cpu = _children_cpu() - wrk_before
        app_cpu = server.cpu_seconds() - app_before
        db_cpu = database_backends_cpu(database) - db_before if database else None
        busy = busy_after - busy_before
        other = busy - app_cpu - (db_cpu or 0.0) - wrk_cpu
        fraction = busy / max(total_after - total_before, 1e-9)
        measurement = Measurement(
            label,
            server.name,
            path,
            result,
            app_cpu,
            db_cpu,
            wrk_cpu,
            other,
            fraction,
            server.rss_mb(),
        )
        if best is None or measurement.rps > best.rps:
            best = measurement
    return best


# --- Output ----------------------------------------------------------------------------------


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None
) -> str:
    """Print (and return) a plain-text table, numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(row):
            numeric = i > 0 and re.fullmatch(r"[-+]?[\d.,]+%?|n/a|—", cell or "—") is not None
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    text_lines = []
    if title:
        text_lines += [title, "=" * len(title)]
    text_lines += [line(cells[0]), "  ".join("-" * w for w in widths)]
    text_lines += [line(row) for row in cells[1:]]
    text = "\n".join(text_lines)
    print(text, flush=True)
    return text


def write_json(path: str | Path, data: object) -> None:
    """Write results as JSON (e.g. under ``bench/results/``, which git ignores)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long a block took (setup steps of a run)."""
    start = time.monotonic()
    yield
    print(f"  {label}: {time.monotonic() - start:.1f}s", flush=True)

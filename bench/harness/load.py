"""Load with wrk and account what it cost: ``run_wrk``, ``measure``."""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.harness.common import CPU_COUNT, BenchError, http_get
from bench.harness.procfs import database_backends_cpu, machine_busy_seconds
from bench.harness.servers import Server

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

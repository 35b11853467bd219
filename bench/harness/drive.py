"""Concurrent writes with percentiles: ``drive`` POSTs (JSON bodies, bulk lists, multipart
uploads) from N concurrent clients, each its own thread and keep-alive connection.

wrk sends one fixed request; ingestion and upload benchmarks need a body per request (new
timestamps, new file names) and need to see every status. The request of number ``i`` is
whatever ``make_request(i)`` returns, as keyword arguments of ``httpx.Client.request``::

    result = drive(
        server.url("/api/v2/organizations/"),
        make_request=lambda i: {"json": {"name": f"Lab {i}"}},
        headers={"Authorization": f"User {key}"},
        concurrency=4,
        requests=2000,
    )
    print(result.rps, result.percentile(99))

Uploads: ``{"files": {"file": (name, data, "text/csv")}, "data": {...}}``. Bodies are built
before the clock starts when ``prebuild=True`` (the default), so that the figures measure the
server, not the client's encoding.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from bench.harness.common import BenchError


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class DriveResult:
    """What ``drive`` measured. Latencies in milliseconds, from sending the request to
    having read the whole answer."""

    url: str
    method: str
    concurrency: int
    duration_s: float
    latencies_ms: list[float]
    statuses: Counter
    errors: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    items_per_request: int = 1

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def items_per_s(self) -> float:
        """Requests per second times ``items_per_request`` (rows of a bulk body, values...)."""
        return self.rps * self.items_per_request

    @property
    def mb_per_s(self) -> float:
        return self.bytes_sent / 2**20 / self.duration_s if self.duration_s else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    @property
    def failures(self) -> int:
        """Requests that raised (connection, timeout) or answered an unexpected status."""
        return len(self.errors)

    def summary(self) -> dict:
        return {
            "url": self.url,
            "method": self.method,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "failures": self.failures,
            "statuses": dict(self.statuses),
            "duration_s": round(self.duration_s, 3),
            "rps": round(self.rps, 1),
            "items_per_s": round(self.items_per_s, 1),
            "mb_per_s": round(self.mb_per_s, 2),
            **{f"p{p}_ms": round(self.percentile(p), 2) for p in (50, 90, 99)},
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
        }


def _body_size(kwargs: Mapping) -> int:
    if "content" in kwargs:
        return len(kwargs["content"])
    if "files" in kwargs:
        return sum(len(spec[1]) for spec in kwargs["files"].values())
    return 0


def drive(
    url: str,
    *,
    make_request: Callable[[int], dict],
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    concurrency: int = 2,
    requests: int | None = None,
    duration: float | None = None,
    warmup: int = 0,
    expect: Sequence[int] = (200, 201, 204),
    timeout: float = 60,
    prebuild: bool = True,
    items_per_request: int = 1,
    max_errors: int = 20,
) -> DriveResult:
    """Send ``requests`` requests (or as many as fit in ``duration`` seconds) of ``method`` to
    ``url`` from ``concurrency`` clients at once, request ``i`` being
    ``make_request(i)`` (keyword arguments of ``httpx.Client.request``: ``json``,
    ``content``, ``files``/``data``, ``headers``, ``params``).

    ``warmup`` requests are sent first and not counted. A status outside ``expect`` or an
    exception counts as a failure (its message kept); after ``max_errors`` failures the run
    stops with ``BenchError``, so that a benchmark cannot report the speed of 400s."""
    if (requests is None) == (duration is None):
        raise BenchError("drive() needs requests= or duration=, not both")
    if prebuild and requests is not None:
        built = [make_request(i) for i in range(warmup + requests)]
        make = built.__getitem__
    else:
        make = make_request
    headers = dict(headers or {})
    lock = threading.Lock()
    counter = iter(range(warmup, 10**12))
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    sent = [0]
    deadline: list[float | None] = [None]

    def next_index() -> int | None:
        with lock:
            if len(errors) >= max_errors:
                return None
            index = next(counter)
            if requests is not None and index >= warmup + requests:
                return None
            if deadline[0] is not None and time.perf_counter() >= deadline[0]:
                return None
            return index

    def one(client: httpx.Client, index: int, record: bool) -> None:
        kwargs = make(index)
        start = time.perf_counter()
        try:
            response = client.request(method, url, **kwargs)
            response.read()
        except httpx.HTTPError as exc:
            with lock:
                errors.append(f"#{index}: {type(exc).__name__}: {exc}")
            return
        elapsed_ms = (time.perf_counter() - start) * 1e3
        with lock:
            if response.status_code not in expect:
                errors.append(f"#{index}: HTTP {response.status_code}: {response.text[:200]}")
            if record:
                latencies.append(elapsed_ms)
                statuses[response.status_code] += 1
                sent[0] += _body_size(kwargs)

    def client_loop(client: httpx.Client) -> None:
        while (index := next_index()) is not None:
            one(client, index, record=True)

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.Client(headers=headers, timeout=timeout, limits=limits) for _ in range(concurrency)
    ]
    try:
        for index in range(warmup):
            one(clients[index % concurrency], index, record=False)
        if errors:
            raise BenchError(f"{method} {url} failed during warmup: {errors[:3]}")
        start = time.perf_counter()
        if duration is not None:
            deadline[0] = start + duration
        threads = [
            threading.Thread(target=client_loop, args=(client,), daemon=True) for client in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        for client in clients:
            client.close()
    result = DriveResult(
        url=url,
        method=method,
        concurrency=concurrency,
        duration_s=elapsed,
        latencies_ms=latencies,
        statuses=statuses,
        errors=errors,
        bytes_sent=sent[0],
        items_per_request=items_per_request,
    )
    if len(errors) >= max_errors:
        raise BenchError(f"{method} {url}: {len(errors)} failures, e.g. {errors[:3]}")
    return result

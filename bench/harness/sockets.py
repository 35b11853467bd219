"""WebSocket load: many subscribers, broadcast delivery latency and throughput.

``socket_load`` opens ``subscribers`` sockets (spread over the given URLs, e.g. two uvicorn
processes) from ``processes`` client processes, waits until every socket has its first frame,
then calls ``send(i)`` for ``i`` in ``range(messages)`` (an ingestion POST, a channel-layer
``group_send``...) and times each message from the moment it was sent (a wall-clock timestamp
the message carries, read by ``match``) to its receipt on every socket::

    layer = get_channel_layer()  # Django set up on the run's settings (Redis)

    async def send(i):
        await layer.group_send(
            "platform", {"type": "stream.message", "message": {"seq": i, "sent_at": time.time()}}
        )

    def match(frame):
        return (frame["seq"], frame["sent_at"]) if "seq" in frame else None

    result = socket_load([server.ws_url("/ws/platform/", f"key={key}")], subscribers=100,
                         send=send, match=match, messages=20)
    print(result.delivered, result.expected, result.percentile(99), result.deliveries_per_s)

Every socket must receive every message: ``missing`` counts the deliveries that did not arrive
before ``settle_timeout``. One client process decodes some 10,000-20,000 frames a second;
use ``processes`` > 1 for more subscribers or messages, so that the client is not what is
measured. Client and servers share the machine's clock, so latencies are comparable.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.harness.common import BenchError
from bench.harness.drive import percentile

Match = Callable[[dict], "tuple[int, float] | None"]


@dataclass
class SocketLoadResult:
    """Latencies in milliseconds from sending a message to each socket's receipt of it."""

    subscribers: int
    messages: int
    opened: int
    refused: int
    open_s: float
    latencies_ms: list[float]
    duration_s: float
    per_message: dict[int, int] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        return self.opened * self.messages

    @property
    def delivered(self) -> int:
        return len(self.latencies_ms)

    @property
    def missing(self) -> int:
        return self.expected - self.delivered

    @property
    def deliveries_per_s(self) -> float:
        """Deliveries over the time from the first send to the last receipt."""
        return self.delivered / self.duration_s if self.duration_s > 0 else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def summary(self) -> dict:
        return {
            "subscribers": self.subscribers,
            "opened": self.opened,
            "refused": self.refused,
            "open_s": round(self.open_s, 2),
            "messages": self.messages,
            "expected": self.expected,
            "delivered": self.delivered,
            "missing": self.missing,
            "deliveries_per_s": round(self.deliveries_per_s),
            **{f"p{p}_ms": round(self.percentile(p), 2) for p in (50, 90, 99)},
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
        }


async def _subscribers(
    urls: list[str],
    count: int,
    messages: int,
    match: Match,
    conn,
    origin: str | None,
    first_frame: bool,
    open_timeout: float,
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    semaphore = asyncio.Semaphore(100)  # handshakes in flight
    sockets, refused = [], 0
    loop = asyncio.get_running_loop()

    async def open_one(url: str):
        nonlocal refused
        async with semaphore:
            try:
                sock = await connect(
                    url,
                    origin=origin,
                    open_timeout=open_timeout,
                    max_queue=None,
                    ping_interval=None,
                )
            except (InvalidStatus, OSError, TimeoutError):
                refused += 1
                return
            try:
                if first_frame:
                    await asyncio.wait_for(sock.recv(), open_timeout)
            except Exception:
                refused += 1
                await sock.close()
                return
            sockets.append(sock)

    start = time.perf_counter()
    await asyncio.gather(*(open_one(urls[i % len(urls)]) for i in range(count)))
    open_s = time.perf_counter() - start
    conn.send(("ready", len(sockets), refused, open_s))
    _, deadline = await loop.run_in_executor(None, conn.recv)  # ("go", deadline)

    latencies: list[float] = []
    per_message: dict[int, int] = {}
    last = [0.0]

    async def read(sock) -> None:
        got = 0
        async for raw in sock:
            found = match(json.loads(raw))
            if found is None:
                continue
            seq, sent_at = found
            now = time.time()
            latencies.append((now - sent_at) * 1e3)
            per_message[seq] = per_message.get(seq, 0) + 1
            last[0] = max(last[0], now)
            got += 1
            if got >= messages:
                return

    readers = [asyncio.create_task(read(sock)) for sock in sockets]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*readers), max(0.1, deadline - time.time()))
    for task in readers:
        task.cancel()
    await asyncio.gather(*(sock.close() for sock in sockets), return_exceptions=True)
    conn.send(("done", latencies, per_message, last[0]))


def _child(urls, count, messages, match, conn, origin, first_frame, open_timeout) -> None:
    try:
        asyncio.run(
            _subscribers(urls, count, messages, match, conn, origin, first_frame, open_timeout)
        )
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise


def _expect(conn, kind: str, timeout: float):
    if not conn.poll(timeout):
        raise BenchError(f"a subscriber process did not report {kind!r} within {timeout:.0f}s")
    message = conn.recv()
    if message[0] == "error":
        raise BenchError(f"a subscriber process failed: {message[1]}")
    if message[0] != kind:
        raise BenchError(f"a subscriber process reported {message[0]!r}, expected {kind!r}")
    return message


def socket_load(
    urls: Sequence[str],
    *,
    subscribers: int,
    send: Callable[[int], object],
    match: Match,
    messages: int = 20,
    interval: float = 0.05,
    processes: int = 1,
    origin: str | None = None,
    first_frame: bool = True,
    open_timeout: float = 60,
    settle_timeout: float = 30,
) -> SocketLoadResult:
    """Open ``subscribers`` sockets to ``urls`` (round robin) from ``processes`` client
    processes, then send ``messages`` messages ``interval`` seconds apart with ``send(i)`` (a
    function, or a coroutine function awaited in this process's event loop) and collect every
    socket's receipts; ``match(frame)`` gives ``(i, sent_at)`` of a frame that is one of
    them (``sent_at`` from ``time.time()`` at sending) or None for other frames.

    ``origin=None`` connects as a device does (no ``Origin`` header). With ``first_frame``
    each socket must receive one frame (the stream's greeting) before it counts as open."""
    if not urls:
        raise BenchError("socket_load() needs at least one URL")
    context = multiprocessing.get_context("fork")
    shares = [
        subscribers // processes + (1 if i < subscribers % processes else 0)
        for i in range(processes)
    ]
    children, pipes = [], []
    try:
        for index, share in enumerate(shares):
            parent_end, child_end = context.Pipe()
            # Each process starts its round robin at another URL.
            rotated = list(urls[index % len(urls) :]) + list(urls[: index % len(urls)])
            child = context.Process(
                target=_child,
                args=(
                    rotated,
                    share,
                    messages,
                    match,
                    child_end,
                    origin,
                    first_frame,
                    open_timeout,
                ),
                daemon=True,
            )
            child.start()
            children.append(child)
            pipes.append(parent_end)
        ready = [_expect(pipe, "ready", open_timeout * 2 + 30) for pipe in pipes]
        opened = sum(r[1] for r in ready)
        refused = sum(r[2] for r in ready)
        open_s = max(r[3] for r in ready)
        send_time = messages * interval + settle_timeout
        deadline = time.time() + send_time
        for pipe in pipes:
            pipe.send(("go", deadline))
        first_send = time.time()
        if inspect.iscoroutinefunction(send):

            async def send_all():
                for i in range(messages):
                    await send(i)
                    await asyncio.sleep(interval)

            asyncio.run(send_all())
        else:
            for i in range(messages):
                send(i)
                time.sleep(interval)
        done = [_expect(pipe, "done", send_time + 30) for pipe in pipes]
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
    latencies = [latency for d in done for latency in d[1]]
    per_message: dict[int, int] = {}
    for d in done:
        for seq, count in d[2].items():
            per_message[seq] = per_message.get(seq, 0) + count
    last = max((d[3] for d in done), default=0.0)
    return SocketLoadResult(
        subscribers=subscribers,
        messages=messages,
        opened=opened,
        refused=refused,
        open_s=open_s,
        latencies_ms=latencies,
        duration_s=max(0.0, last - first_send),
        per_message=per_message,
    )

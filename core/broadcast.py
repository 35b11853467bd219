"""Broadcasts to channel-layer groups after commit, and the layers that count what they drop.

``broadcast(group=..., message=...)`` is how a write tells the sockets of a group (every
process's, with Redis) that something changed. It runs once the transaction commits, so that no
subscriber hears of a row that is rolled back, and it can never turn a stored write into an
error: when the layer fails (Redis down, a full channel) the broadcast is logged and counted in
``counters``, which ``/healthz`` reports, and the write's answer is unchanged.

Subscribers that fall behind lose messages rather than grow the server's memory: the channel
layer holds at most ``CHANNEL_LAYER_CAPACITY`` messages per channel. channels drops those
quietly; the two layers below (the settings' backends) count them as ``dropped`` and log them.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import threading
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as BaseInMemoryChannelLayer
from channels.layers import get_channel_layer
from channels_redis.core import BoundedQueue
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from django.db import transaction

logger = logging.getLogger(__name__)

#: The event type of broadcasts; consumers handle it in ``stream_message`` (core.sockets).
STREAM_MESSAGE = "stream.message"

#: Drops are logged at most this often (seconds), with the totals since the last line.
DROP_LOG_INTERVAL = 10.0


class BroadcastCounters:
    """Process-local counts since the process started (or ``reset()``):

    - ``sent``: broadcasts handed to the channel layer;
    - ``failed``: broadcasts the layer refused (Redis unreachable, ``ChannelFull``): nobody
      received them;
    - ``dropped``: messages that a full channel could not take (one slow subscriber, or a
      whole process that stopped reading): those subscribers missed them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero the counts and the drop log's rate limit (a new process, or a test)."""
        with self._lock:
            self.sent = 0
            self.failed = 0
            self.dropped = 0
            self._last_drop_log = 0.0
            self._dropped_since_log = 0

    def add_sent(self) -> None:
        with self._lock:
            self.sent += 1

    def add_failed(self) -> None:
        with self._lock:
            self.failed += 1

    def add_dropped(self, count: int, where: str) -> None:
        """Count ``count`` dropped messages; log a warning at most every
        ``DROP_LOG_INTERVAL`` seconds (a stuck subscriber would otherwise log every message)."""
        now = time.monotonic()
        with self._lock:
            self.dropped += count
            self._dropped_since_log += count
            if now - self._last_drop_log < DROP_LOG_INTERVAL:
                return
            since, self._dropped_since_log = self._dropped_since_log, 0
            self._last_drop_log = now
            total = self.dropped
        logger.warning(
            "Channel layer full: %d message(s) dropped (latest: %s), %d since start; "
            "subscribers are not keeping up (CHANNEL_LAYER_CAPACITY)",
            since,
            where,
            total,
        )

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"sent": self.sent, "failed": self.failed, "dropped": self.dropped}


counters = BroadcastCounters()


def group_send_now(*, group: str, message: Any, event_type: str = STREAM_MESSAGE) -> bool:
    """Send ``{"type": event_type, "message": message}`` to ``group`` right away, from
    synchronous code. Returns whether the layer took it; a failure is logged and counted,
    never raised."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, {"type": event_type, "message": message})
    except Exception as exc:  # any failure of the layer, see the module
        counters.add_failed()
        logger.warning(
            "Broadcast to group %r failed (%s: %s); the write it announces is stored",
            group,
            type(exc).__name__,
            exc,
        )
        return False
    counters.add_sent()
    return True


def broadcast(
    *,
    group: str,
    message: Any,
    event_type: str = STREAM_MESSAGE,
    using: str | None = None,
) -> None:
    """Send ``message`` to every socket in ``group`` once the current transaction on
    ``using`` commits (at once outside a transaction); nothing is sent if it rolls back.

    ``message`` is anything JSON can encode; sockets built on ``core.sockets.StreamConsumer``
    receive it as one JSON frame.
    Failures are logged and counted (``counters``), never raised into the request."""
    transaction.on_commit(
        functools.partial(group_send_now, group=group, message=message, event_type=event_type),
        using=using,
    )


# --- Layers that count the messages they drop -------------------------------------------------


class InMemoryChannelLayer(BaseInMemoryChannelLayer):
    """channels' in-memory layer (one process), counting the subscribers whose channel was
    full when a group message came (channels ignores them silently)."""

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        channels = list(self.groups.get(group, {}))
        results = await asyncio.gather(
            *(self.send(channel, message) for channel in channels), return_exceptions=True
        )
        full = 0
        for result in results:
            if isinstance(result, ChannelFull):
                full += 1
            elif isinstance(result, BaseException):
                raise result
        if full:
            counters.add_dropped(full, f"{full} of {len(channels)} channels of group {group!r}")


class _CountingBoundedQueue(BoundedQueue):
    """channels_redis's per-socket buffer in a process, which drops its oldest message when a
    new one comes and it is full; counted."""

    def put_nowait(self, item):
        if self.full():
            counters.add_dropped(1, "a socket's buffer in this process")
        return super().put_nowait(item)


# channels_redis reports the channels that were over capacity during a group send only in this
# log record (at INFO). The filter counts them and replaces the record with the warning above.
_OVER_CAPACITY = "%s of %s channels over capacity in group %s"


class _OverCapacityFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != _OVER_CAPACITY:
            return True
        over, total, group = record.args
        counters.add_dropped(int(over), f"{over} of {total} process channels of group {group!r}")
        return False


_over_capacity_filter = _OverCapacityFilter()


def _watch_over_capacity() -> None:
    channels_redis_logger = logging.getLogger("channels_redis.core")
    if _over_capacity_filter not in channels_redis_logger.filters:
        channels_redis_logger.addFilter(_over_capacity_filter)
    # The record is made only if the logger passes INFO; the filter swallows it afterwards.
    if not channels_redis_logger.isEnabledFor(logging.INFO):
        channels_redis_logger.setLevel(logging.INFO)


class RedisChannelLayer(BaseRedisChannelLayer):
    """channels_redis's layer, counting the messages it drops when a channel is full.

    With Redis, the sockets of one server process share one Redis list: a group message costs
    one entry per process, however many of its sockets are in the group, and the process then
    copies it into each socket's own buffer. Both hold at most ``capacity`` messages; both
    overflows are counted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.receive_buffer = collections.defaultdict(
            functools.partial(_CountingBoundedQueue, self.capacity)
        )
        _watch_over_capacity()

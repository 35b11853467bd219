"""The live stream of a product: ``/voltstorage/rest/products/{id}/stream?token=`` and
``/voltstorage/rest/data/stream?productId=&token=``.

Server to client only (frames from the client are ignored). On connect the subscriber first
receives the product's current latest data, then one frame per ingestion that changed it,
from any server process when the channel layer is Redis::

    {"type": "latest-data", "time": 1575154800, "data": {"pvPower": 421, "dcVoltage": 26.3}}

Refusals (the socket is accepted, then closed with the code; ``core.sockets``): 4401 no or bad
credential (a VoltStorage token works here, it is this API's), 4400 a missing or malformed
``productId``, 4404 a product that does not exist or that the user may not see, 1011 the
channel layer cannot be joined. Browsers from foreign origins are refused at the handshake;
devices and scripts send no ``Origin``.

Fan-out: one product may have a thousand subscribers. Rather than each socket joining the
product's group (one channel-layer receive, one dispatch and one thread hop to close database
connections per socket and message), a process joins the group once, through a
:class:`ProductRelay` that lives while the process has subscribers of the product; the relay
hands each broadcast's text (encoded once by the writer) to every local socket's outbox, which
the socket's own sender task empties. A slow client delays only itself; its outbox holds at
most ``CHANNEL_LAYER_CAPACITY`` frames, the oldest dropped (and counted, ``core.broadcast``)
beyond that.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import weakref
from types import SimpleNamespace
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from core.broadcast import STREAM_MESSAGE, counters
from core.filters import parse_id
from core.sockets import CLOSE_INTERNAL_ERROR, CLOSE_NOT_FOUND, SocketRefused, StreamConsumer
from voltstorage.models import Product, Series
from voltstorage.services import latest_message, product_group

logger = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
#: Seconds a relay waits before trying the channel layer again after it failed.
RETRY_SECONDS = 1.0


@database_sync_to_async
def _visible(user, product_id: int) -> bool:
    from voltstorage.views import PRODUCT_ACCESS

    visible = PRODUCT_ACCESS.visible(Product.objects.all(), SimpleNamespace(user=user))
    return visible.filter(pk=product_id).exists()


@database_sync_to_async
def _latest(product_id: int) -> dict:
    series = Series.objects.filter(product_id=product_id, component__isnull=True).first()
    return {"type": "latest-data", **latest_message(series.latest if series else {})}


class ProductRelay:
    """This process's member of one product's group: forwards every broadcast to the
    product's local sockets. Made by the first local subscriber, ended with the last."""

    def __init__(self, layer, product_id: int):
        self.layer = layer
        self.product_id = product_id
        self.group = product_group(product_id)
        self.sockets: set[ProductStreamConsumer] = set()
        self.channel: str | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self._run(), name=f"relay of {self.group}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        try:
            await self.layer.group_discard(self.group, self.channel)
        except Exception as exc:  # the membership then lapses by itself
            logger.warning("Cannot leave %r: %s", self.group, exc)

    async def _run(self) -> None:
        expiry = getattr(self.layer, "group_expiry", None) or 86400
        renew = asyncio.get_running_loop().time() + expiry / 2
        while True:
            try:
                message = await asyncio.wait_for(self.layer.receive(self.channel), expiry / 2)
            except TimeoutError:
                message = None
            except Exception as exc:  # Redis gone: keep trying, the sockets stay open
                logger.warning("Relay of %r cannot receive (%s); retrying", self.group, exc)
                await asyncio.sleep(RETRY_SECONDS)
                message = None
            now = asyncio.get_running_loop().time()
            if now >= renew:
                with contextlib.suppress(Exception):
                    await self.layer.group_add(self.group, self.channel)
                renew = now + expiry / 2
            if message is None or message.get("type") != STREAM_MESSAGE:
                continue
            text = message["message"]
            if not isinstance(text, str):
                text = json.dumps(text)
            for socket in self.sockets:
                socket.deliver(text)


class _Relays:
    """The relays of one event loop (a server has one; a test may run several in turn)."""

    def __init__(self) -> None:
        self.by_product: dict[int, ProductRelay] = {}
        self.lock = asyncio.Lock()


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Relays] = weakref.WeakKeyDictionary()


def _relays() -> _Relays:
    loop = asyncio.get_running_loop()
    relays = _loops.get(loop)
    if relays is None:
        relays = _loops[loop] = _Relays()
    return relays


async def relay_join(socket: ProductStreamConsumer, product_id: int) -> ProductRelay:
    relays = _relays()
    async with relays.lock:
        relay = relays.by_product.get(product_id)
        if relay is None:
            relay = ProductRelay(get_channel_layer(), product_id)
            await relay.start()
            relays.by_product[product_id] = relay
        relay.sockets.add(socket)
        return relay


async def relay_leave(socket: ProductStreamConsumer, relay: ProductRelay) -> None:
    relays = _relays()
    async with relays.lock:
        relay.sockets.discard(socket)
        if not relay.sockets and relays.by_product.get(relay.product_id) is relay:
            del relays.by_product[relay.product_id]
            await relay.stop()


class ProductStreamConsumer(StreamConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relay: ProductRelay | None = None
        self.outbox: collections.deque[str] = collections.deque()
        self.capacity = settings.CHANNEL_LAYER_CONFIG.get("capacity", 200)
        self.wakeup = asyncio.Event()
        self.sender: asyncio.Task | None = None

    def product_id(self) -> int:
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        if "product_id" in kwargs:
            return int(kwargs["product_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        product = parse_id((query.get("productId") or [""])[0])
        if product is None:
            raise SocketRefused(CLOSE_BAD_REQUEST, "productId: required, an integer.")
        return product

    async def authorize(self, user):
        self.stream_product = self.product_id()
        if not await _visible(user, self.stream_product):
            raise SocketRefused(CLOSE_NOT_FOUND, f"No product {self.stream_product}.")
        try:
            self.relay = await relay_join(self, self.stream_product)
        except Exception as exc:  # the layer's failure, whatever it is
            logger.warning(
                "Socket refused: cannot follow product %s (%s)", self.stream_product, exc
            )
            raise SocketRefused(
                CLOSE_INTERNAL_ERROR, "The stream is unavailable; try again."
            ) from exc
        return []  # the relay is in the group for this process's sockets

    async def opened(self):
        # Read once the socket follows the relay: no ingestion falls between the two.
        await self.send_json(await _latest(self.stream_product))
        self.sender = asyncio.create_task(self._send_outbox())

    def deliver(self, text: str) -> None:
        """Queue a frame (called by the relay); the oldest goes when the outbox is full."""
        if len(self.outbox) >= self.capacity:
            self.outbox.popleft()
            counters.add_dropped(1, f"a socket of product {self.stream_product}")
        self.outbox.append(text)
        self.wakeup.set()

    async def _send_outbox(self) -> None:
        try:
            while True:
                await self.wakeup.wait()
                self.wakeup.clear()
                while self.outbox:
                    await self.send(text_data=self.outbox.popleft())
        except Exception:  # the client went away; disconnect() cleans up
            return

    async def disconnect(self, code):
        if self.sender is not None:
            self.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sender
        if self.relay is not None:
            await relay_leave(self, self.relay)
            self.relay = None
        await super().disconnect(code)

    async def stream_message(self, event):
        """A broadcast reaching the socket itself (not through a relay): its frame."""
        message = event["message"]
        if isinstance(message, str):
            await self.send(text_data=message)
        else:
            await self.send_json(message)

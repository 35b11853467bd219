"""The base of the platform's WebSocket streams: authenticate and authorize on connect, then
relay what is broadcast to the socket's groups.

A refused socket is first accepted and then closed with an application code, so that a real
client sees the code (a close before the accept is answered by uvicorn and daphne as an HTTP
403 to the handshake, and the client learns nothing):

===== ===========================================================
4401  no credential, or one that is invalid, expired or revoked
4403  authenticated, but not allowed on this stream
4404  no such object, or one the user may not see (as over HTTP)
1011  the channel layer could not be joined (Redis down)
===== ===========================================================

A subclass declares what is its own::

    class ProductStreamConsumer(StreamConsumer):
        async def authorize(self, user):
            product = await database_sync_to_async(find_visible_product)(user, ...)
            if product is None:
                raise SocketRefused(CLOSE_NOT_FOUND, "No such product.")
            self.product = product
            return [f"product-{product.pk}"]

        async def opened(self):
            await self.send_json({"type": "latest-data", ...})

and writes reach it through ``core.broadcast.broadcast(group=..., message=...)``: the message
arrives as one JSON frame. Frames from the client are ignored (the streams are server to
client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from channels.generic.websocket import AsyncJsonWebsocketConsumer

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_INTERNAL_ERROR = 1011

REASON_UNAUTHENTICATED = "Authentication credentials were not provided or are not valid."
REASON_FORBIDDEN = "You do not have permission to open this stream."
REASON_NOT_FOUND = "Not found."


class SocketRefused(Exception):  # a refusal, not an error of the server
    """Raised by ``StreamConsumer.authorize`` to refuse the socket with ``code``."""

    def __init__(self, code: int, reason: str = ""):
        super().__init__(reason or str(code))
        self.code = code
        self.reason = reason


class StreamConsumer(AsyncJsonWebsocketConsumer):
    """A server-to-client stream. On connect: ``authenticate()`` (4401 when it gives no user),
    ``authorize(user)`` (the groups to join, or ``SocketRefused``), join, accept, ``opened()``.

    Membership of a group lapses after the layer's ``group_expiry`` (channels forgets members
    of processes that died without leaving); an open socket re-joins its groups every half of
    it, so that a stream may stay open for as long as the client likes."""

    #: Set once the socket is accepted.
    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream_groups: list[str] = []
        self._refresh_task: asyncio.Task | None = None

    # --- What subclasses declare -------------------------------------------------------------

    async def authenticate(self):
        """The user of the socket, or None. The credential (``?token=``, ``?key=``, an
        ``Authorization`` header or the session) was resolved by the authentication
        middleware of ``core.websocket_auth`` into ``scope["user"]``."""
        user = self.scope.get("user")
        return user if user is not None and user.is_authenticated else None

    async def authorize(self, user) -> Iterable[str]:
        """The groups this user's socket joins; raise ``SocketRefused`` with
        ``CLOSE_FORBIDDEN`` or ``CLOSE_NOT_FOUND`` to refuse it. Database work goes through
        ``channels.db.database_sync_to_async``."""
        raise NotImplementedError

    async def opened(self) -> None:
        """Called once the socket is accepted and in its groups: send the first frames."""

    # --- The protocol ------------------------------------------------------------------------

    async def connect(self):
        user = await self.authenticate()
        if user is None:
            await self.refuse(CLOSE_UNAUTHENTICATED, REASON_UNAUTHENTICATED)
            return
        try:
            groups = list(await self.authorize(user))
        except SocketRefused as refusal:
            await self.refuse(refusal.code, refusal.reason)
            return
        try:
            await self._join(groups)
        except Exception as exc:  # the layer's failure, whatever it is
            logger.warning(
                "Socket refused: cannot join %s (%s: %s)", groups, type(exc).__name__, exc
            )
            await self.refuse(CLOSE_INTERNAL_ERROR, "The stream is unavailable; try again.")
            return
        self.user = user
        await self.accept()
        interval = getattr(self.channel_layer, "group_expiry", None)
        if groups and interval:
            self._refresh_task = asyncio.create_task(self._keep_joined(interval / 2))
        await self.opened()

    async def refuse(self, code: int, reason: str = "") -> None:
        """Accept, then close with ``code``: the client sees the code and the reason."""
        await self.accept()
        await self.close(code=code, reason=reason[:120] or None)

    async def _join(self, groups: list[str]) -> None:
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.stream_groups.append(group)

    async def _keep_joined(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            for group in self.stream_groups:
                try:
                    await self.channel_layer.group_add(group, self.channel_name)
                except Exception as exc:  # retried at the next interval
                    logger.warning("Cannot renew membership of %r: %s", group, exc)

    async def disconnect(self, code):
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh_task
        for group in self.stream_groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:  # membership then lapses by itself
                logger.warning("Cannot leave %r: %s", group, exc)
        self.stream_groups = []

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Frames from the client are ignored, whatever they hold."""

    async def stream_message(self, event):
        """A broadcast (``core.broadcast.broadcast``): its message is the frame."""
        await self.send_json(event["message"])

"""The platform stream: a WebSocket that relays messages sent to the ``platform`` group."""

from core.services import PLATFORM_GROUP
from core.sockets import StreamConsumer


class PlatformStreamConsumer(StreamConsumer):
    """Every authenticated user may listen; a socket without a valid credential is closed with
    4401 (``core.sockets``). On open it receives ``{"type": "hello", "user": <username>}``,
    then ``{"type": "message", "message": ...}`` for each broadcast
    (``core.services.platform_broadcast`` or ``manage.py broadcast``), from any process when the
    channel layer is Redis."""

    async def authorize(self, user):
        return [PLATFORM_GROUP]

    async def opened(self):
        await self.send_json({"type": "hello", "user": self.user.get_username()})

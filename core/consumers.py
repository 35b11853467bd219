"""The platform stream: a WebSocket that relays messages sent to the ``platform`` group."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.services import PLATFORM_GROUP


class PlatformStreamConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated sockets join the ``platform`` group and receive what is broadcast to it
    (``core.services.platform_broadcast`` or ``manage.py broadcast``), from any process when
    the channel layer is Redis. Messages from the client are ignored."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(PLATFORM_GROUP, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(PLATFORM_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        return None

    async def platform_message(self, event):
        await self.send_json({"type": "message", "message": event["message"]})

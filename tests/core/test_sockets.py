"""The WebSocket base (core.sockets): refusals with application codes, groups, broadcasts.

A stream declared the way an app declares one (``authorize`` gives its groups or refuses) is
served behind the platform's own authentication middleware and driven with channels'
``WebsocketCommunicator``; the real-client tests against uvicorn are in
``test_platform_stream.py`` (the mechanism is the same for every code).
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.urls import path

from core import broadcast
from core.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    REASON_FORBIDDEN,
    REASON_NOT_FOUND,
    SocketRefused,
    StreamConsumer,
)
from core.websocket_auth import WebSocketAuthMiddlewareStack
from tests.conftest import jwt_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

MISSING = 999


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    """The base behaves alike on every layer; the in-memory one shows its groups. (Redis
    across processes: the live tests of test_platform_stream.py and test_production.py.)"""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "core.broadcast.InMemoryChannelLayer"}}


class ThingStream(StreamConsumer):
    """Thing ``MISSING`` does not exist (4404 for everyone); staff may follow the others
    (4403 for other users)."""

    async def authorize(self, user):
        thing = self.scope["url_route"]["kwargs"]["thing"]
        if thing == MISSING:
            raise SocketRefused(CLOSE_NOT_FOUND, REASON_NOT_FOUND)
        if not user.is_staff:
            raise SocketRefused(CLOSE_FORBIDDEN, REASON_FORBIDDEN)
        return [f"thing-{thing}"]

    async def opened(self):
        await self.send_json({"type": "opened", "groups": self.stream_groups})


application = WebSocketAuthMiddlewareStack(
    URLRouter([path("ws/things/<int:thing>/", ThingStream.as_asgi())])
)


async def user_and_token(**fields):
    user = await sync_to_async(UserFactory)(**fields)
    return user, await sync_to_async(jwt_for)(user)


async def open_thing(thing: int, token: str | None = None) -> WebsocketCommunicator:
    query = f"?token={token}" if token else ""
    communicator = WebsocketCommunicator(application, f"/ws/things/{thing}/{query}")
    connected, _ = await communicator.connect(timeout=3)
    assert connected, "refusals accept first, so every socket connects"
    return communicator


async def closed_with(communicator) -> tuple[int, str]:
    message = await communicator.receive_output(timeout=3)
    assert message["type"] == "websocket.close", message
    return message["code"], message.get("reason", "")


def broadcast_after_commit(group: str, message: dict) -> None:
    with transaction.atomic():
        broadcast.broadcast(group=group, message=message)


async def test_no_credential_is_closed_with_4401():
    communicator = await open_thing(1)

    code, reason = await closed_with(communicator)

    assert code == CLOSE_UNAUTHENTICATED == 4401
    assert "credentials" in reason


async def test_user_not_allowed_is_closed_with_4403():
    _, token = await user_and_token()
    communicator = await open_thing(1, token)

    assert await closed_with(communicator) == (CLOSE_FORBIDDEN, REASON_FORBIDDEN)
    assert CLOSE_FORBIDDEN == 4403


async def test_missing_object_is_closed_with_4404_even_for_staff():
    _, token = await user_and_token(is_staff=True)
    communicator = await open_thing(MISSING, token)

    assert await closed_with(communicator) == (CLOSE_NOT_FOUND, REASON_NOT_FOUND)
    assert CLOSE_NOT_FOUND == 4404


async def test_refused_socket_joins_no_group():
    _, token = await user_and_token()
    communicator = await open_thing(1, token)
    await closed_with(communicator)

    assert not get_channel_layer().groups.get("thing-1")


async def test_allowed_socket_joins_its_groups_and_receives_broadcasts_after_commit():
    _, token = await user_and_token(is_staff=True)
    communicator = await open_thing(7, token)

    assert await communicator.receive_json_from(timeout=3) == {
        "type": "opened",
        "groups": ["thing-7"],
    }
    await sync_to_async(broadcast_after_commit)("thing-7", {"type": "update", "value": 1})
    assert await communicator.receive_json_from(timeout=3) == {"type": "update", "value": 1}
    await communicator.disconnect()


async def test_frames_from_the_client_are_ignored():
    _, token = await user_and_token(is_staff=True)
    communicator = await open_thing(7, token)
    await communicator.receive_json_from(timeout=3)

    await communicator.send_to(text_data="not json {")
    await communicator.send_to(bytes_data=b"\x00\x01")
    await communicator.send_json_to({"type": "stream.message", "message": "spoofed"})

    assert await communicator.receive_nothing(timeout=0.3)
    await sync_to_async(broadcast_after_commit)("thing-7", {"still": "open"})
    assert await communicator.receive_json_from(timeout=3) == {"still": "open"}
    await communicator.disconnect()


async def test_disconnect_leaves_the_groups():
    _, token = await user_and_token(is_staff=True)
    communicator = await open_thing(8, token)
    await communicator.receive_json_from(timeout=3)
    assert len(get_channel_layer().groups["thing-8"]) == 1

    await communicator.disconnect()

    assert not get_channel_layer().groups.get("thing-8")


async def test_open_socket_renews_its_membership_before_the_group_forgets_it(settings):
    # Memberships lapse after group_expiry (1 s here); the socket renews every half of it.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.broadcast.InMemoryChannelLayer",
            "CONFIG": {"group_expiry": 1},
        }
    }
    _, token = await user_and_token(is_staff=True)
    renewed = await open_thing(9, token)
    await renewed.receive_json_from(timeout=3)
    # A member that joined the same way but never renews: forgotten after the expiry.
    layer = get_channel_layer()
    await layer.group_add("thing-9", "specific.inmemory!forgotten")

    await asyncio.sleep(3)
    await sync_to_async(broadcast_after_commit)("thing-9", {"after": "expiry"})

    assert await renewed.receive_json_from(timeout=3) == {"after": "expiry"}
    assert list(layer.groups["thing-9"]) != ["specific.inmemory!forgotten"]
    assert len(layer.groups["thing-9"]) == 1
    await renewed.disconnect()

"""The platform WebSocket stream: authentication and broadcasts through the channel layer."""

import pytest
from channels.testing import WebsocketCommunicator
from django.core.management import call_command

from core import services
from core.asgi import application
from tests.conftest import jwt_for

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(path: str, headers=None):
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, code = await communicator.connect(timeout=3)
    return communicator, connected, code


@pytest.mark.asyncio
async def test_anonymous_socket_is_refused(db):
    _, connected, code = await connect("/ws/platform/")
    assert not connected
    assert code == 4401


@pytest.mark.asyncio
async def test_bad_token_is_refused(db):
    _, connected, _ = await connect("/ws/platform/?token=garbage")
    assert not connected


async def _make_user_token():
    from asgiref.sync import sync_to_async

    from tests.factories import UserFactory

    user = await sync_to_async(UserFactory)()
    return user, await sync_to_async(jwt_for)(user)


@pytest.mark.asyncio
async def test_jwt_in_query_receives_broadcasts():
    from asgiref.sync import sync_to_async

    user, token = await _make_user_token()
    communicator, connected, _ = await connect(f"/ws/platform/?token={token}")
    assert connected
    assert await communicator.receive_json_from(timeout=3) == {
        "type": "hello",
        "user": user.username,
    }
    await sync_to_async(call_command)("broadcast", '{"note": "hi"}', stdout=None)
    assert await communicator.receive_json_from(timeout=3) == {
        "type": "message",
        "message": {"note": "hi"},
    }
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_api_key_header_authenticates_and_service_broadcasts_after_commit():
    from asgiref.sync import sync_to_async
    from django.db import transaction

    user, _ = await _make_user_token()
    _, key = await sync_to_async(services.api_key_create)(user=user, name="ws")
    communicator, connected, _ = await connect(
        "/ws/platform/", headers=[(b"authorization", f"User {key}".encode())]
    )
    assert connected
    await communicator.receive_json_from(timeout=3)

    def send():
        with transaction.atomic():
            services.platform_broadcast(message="after commit")

    await sync_to_async(send)()
    assert (await communicator.receive_json_from(timeout=3))["message"] == "after commit"
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_foreign_browser_origin_is_refused():
    _, token = await _make_user_token()
    _, connected, _ = await connect(
        f"/ws/platform/?token={token}", headers=[(b"origin", b"https://evil.example")]
    )
    assert not connected


@pytest.mark.asyncio
async def test_own_origin_is_accepted():
    _, token = await _make_user_token()
    communicator, connected, _ = await connect(
        f"/ws/platform/?token={token}", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    assert connected
    await communicator.disconnect()

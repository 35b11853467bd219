"""The platform WebSocket stream: authentication and broadcasts through the channel layer."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.core.management import call_command

from core import services
from core.asgi import application
from tests.conftest import jwt_for
from tests.live import (
    django_run,
    live,
    open_socket,
    receive_json,
    socket_refusal,
    sqlite_env,
    uvicorn,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(path: str, headers=None):
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, code = await communicator.connect(timeout=3)
    return communicator, connected, code


async def refusal(communicator) -> dict:
    """The close of a socket that was accepted and then refused."""
    return await communicator.receive_output(timeout=3)


@pytest.mark.asyncio
async def test_anonymous_socket_is_accepted_then_closed_with_4401(db):
    communicator, connected, _ = await connect("/ws/platform/")

    # Accepted first, so that the client sees the code (a close before the accept would be an
    # HTTP 403 to the handshake).
    assert connected
    closed = await refusal(communicator)
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4401
    assert "credentials" in closed["reason"]


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["token=garbage", "key=garbage.key"])
async def test_bad_credential_is_closed_with_4401(db, query):
    communicator, connected, _ = await connect(f"/ws/platform/?{query}")

    assert connected
    assert (await refusal(communicator))["code"] == 4401


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


# --- A real client against uvicorn (no service needed: its own SQLite database) ---------------

USER_WITH_KEY = """
from core.models import User
from core.services import api_key_create
user = User.objects.create_user(username="live-stream", email="live-stream@example.org")
print(api_key_create(user=user, name="device")[1])
"""


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory):
    """uvicorn on a database of its own holding one user; yields (server, that user's key)."""
    pytest.importorskip("websockets")
    directory = tmp_path_factory.mktemp("platform-stream")
    env = sqlite_env(directory)
    key = django_run(env, USER_WITH_KEY).strip()
    with uvicorn(env, directory / "uvicorn.log") as server:
        yield server, key


async def _first_frame(url: str, **kwargs) -> dict:
    async with open_socket(url, **kwargs) as sock:
        return await receive_json(sock)


@live
@pytest.mark.parametrize("query", ["", "token=not-a-jwt", "key=bad.key"])
def test_real_client_sees_4401_for_a_missing_or_bad_credential(stream_server, query):
    server, _ = stream_server

    refusal = asyncio.run(socket_refusal(server.ws_url("/ws/platform/", query)))

    # Not an HTTP 403 to the handshake, which would tell the client nothing.
    assert refusal.http_status is None
    assert refusal.code == 4401
    assert "credentials" in refusal.reason


@live
def test_real_client_with_a_key_and_no_origin_is_welcome(stream_server):
    server, key = stream_server

    frame = asyncio.run(_first_frame(server.ws_url("/ws/platform/", f"key={key}"), origin=None))

    assert frame == {"type": "hello", "user": "live-stream"}


@live
def test_real_browser_from_a_foreign_origin_is_refused_at_the_handshake(stream_server):
    server, key = stream_server
    url = server.ws_url("/ws/platform/", f"key={key}")

    refusal = asyncio.run(socket_refusal(url, origin="https://evil.example"))

    assert refusal.http_status == 403

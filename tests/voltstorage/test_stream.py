"""The live stream of a product through the platform's ASGI application: the latest data on
connect, one frame per ingestion after its commit, the refusals (4401, 4404, 4400), both URL
forms, ignored client frames, foreign browser origins, and ingestion that still succeeds when
the channel layer fails. Across processes with Redis: ``test_stream_live.py``."""

from __future__ import annotations

import logging

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from core.asgi import application
from tests.conftest import jwt_for
from tests.factories import MembershipFactory, UserFactory
from tests.voltstorage.conftest import T0, data_url
from tests.voltstorage.factories import ProductFactory
from voltstorage.models import Sample

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

PASSWORD = "pass-word-123"


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "core.broadcast.InMemoryChannelLayer"}}


@sync_to_async
def member_product():
    membership = MembershipFactory()
    product = ProductFactory(organization=membership.organization)
    return membership.user, product


@sync_to_async
def voltstorage_token(user) -> str:
    response = APIClient().post(
        "/voltstorage/rest/login/password",
        {"email": user.email, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


@sync_to_async
def ingest(user, product, body):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(user)}")
    return client.post(data_url(product.pk), body, format="json")


async def open_stream(path: str, headers=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def closed_with(communicator) -> int:
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def test_a_subscriber_gets_the_latest_data_then_every_ingestion():
    user, product = await member_product()
    await ingest(user, product, {"time": T0, "data": {"pvPower": 421, "dcVoltage": 26.3}})
    token = await voltstorage_token(user)
    stream = await open_stream(f"/voltstorage/rest/products/{product.pk}/stream?token={token}")

    assert await stream.receive_json_from(timeout=5) == {
        "type": "latest-data",
        "time": T0,
        "data": {"pvPower": 421, "dcVoltage": 26.3},
    }
    response = await ingest(
        user, product, [{"time": T0 + 1, "data": {"pvPower": 430}}, {"time": T0 + 2, "data": {}}]
    )
    assert response.status_code == 201
    assert await stream.receive_json_from(timeout=5) == {
        "type": "latest-data",
        "time": T0 + 1,
        "data": {"pvPower": 430, "dcVoltage": 26.3},
    }
    await stream.disconnect()


async def test_the_query_form_and_a_platform_token_work_too():
    user, product = await member_product()
    token = await sync_to_async(jwt_for)(user)
    stream = await open_stream(
        f"/voltstorage/rest/data/stream?productId={product.pk}&token={token}"
    )
    assert await stream.receive_json_from(timeout=5) == {
        "type": "latest-data",
        "time": None,
        "data": {},
    }
    await stream.disconnect()


async def test_a_backfill_that_changes_nothing_new_is_not_broadcast():
    user, product = await member_product()
    await ingest(user, product, {"time": T0 + 10, "data": {"pvPower": 1}})
    token = await voltstorage_token(user)
    stream = await open_stream(f"/voltstorage/rest/products/{product.pk}/stream?token={token}")
    await stream.receive_json_from(timeout=5)
    await ingest(user, product, {"time": T0, "data": {"pvPower": 9}})  # older than the latest
    assert await stream.receive_nothing(timeout=0.5)
    await stream.disconnect()


async def test_no_or_a_bad_token_is_closed_with_4401():
    _, product = await member_product()
    stream = await open_stream(f"/voltstorage/rest/products/{product.pk}/stream")
    assert await closed_with(stream) == 4401
    stream = await open_stream(f"/voltstorage/rest/products/{product.pk}/stream?token=nope")
    assert await closed_with(stream) == 4401


async def test_a_product_one_may_not_see_is_closed_with_4404():
    _, product = await member_product()
    stranger = await sync_to_async(UserFactory)()
    token = await sync_to_async(jwt_for)(stranger)
    stream = await open_stream(f"/voltstorage/rest/products/{product.pk}/stream?token={token}")
    assert await closed_with(stream) == 4404
    stream = await open_stream(f"/voltstorage/rest/products/999999/stream?token={token}")
    assert await closed_with(stream) == 4404


async def test_a_missing_product_id_is_closed_with_4400():
    user, _ = await member_product()
    token = await sync_to_async(jwt_for)(user)
    stream = await open_stream(f"/voltstorage/rest/data/stream?token={token}")
    assert await closed_with(stream) == 4400


async def test_frames_from_the_client_are_ignored():
    user, product = await member_product()
    token = await voltstorage_token(user)
    stream = await open_stream(f"/voltstorage/rest/products/{product.pk}/stream?token={token}")
    await stream.receive_json_from(timeout=5)
    await stream.send_to(text_data='{"type": "latest-data", "data": {"pvPower": 1}}')
    await stream.send_to(text_data="not even json")
    assert await stream.receive_nothing(timeout=0.3)
    await ingest(user, product, {"time": T0, "data": {"pvPower": 5}})
    assert (await stream.receive_json_from(timeout=5))["data"] == {"pvPower": 5}
    await stream.disconnect()


async def test_browsers_of_foreign_origins_are_refused_devices_without_origin_are_not():
    user, product = await member_product()
    token = await voltstorage_token(user)
    path = f"/voltstorage/rest/products/{product.pk}/stream?token={token}"
    foreign = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await foreign.connect(timeout=5)
    assert not connected
    device = await open_stream(path)
    assert (await device.receive_json_from(timeout=5))["type"] == "latest-data"
    await device.disconnect()


async def test_a_failing_channel_layer_never_fails_the_ingestion(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.broadcast.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 1}]
            },
        }
    }
    user, product = await member_product()
    with caplog.at_level(logging.WARNING, logger="core.broadcast"):
        response = await ingest(user, product, {"time": T0, "data": {"pvPower": 7}})
    assert response.status_code == 201
    assert await sync_to_async(Sample.objects.count)() == 1
    assert any(
        "the write it announces is stored" in record.getMessage() for record in caplog.records
    )


async def test_many_subscribers_share_one_relay_and_each_gets_every_frame():
    from voltstorage import consumers

    user, product = await member_product()
    token = await voltstorage_token(user)
    path = f"/voltstorage/rest/products/{product.pk}/stream?token={token}"
    streams = [await open_stream(path) for _ in range(3)]
    for stream in streams:
        await stream.receive_json_from(timeout=5)
    relays = consumers._relays().by_product
    assert len(relays[product.pk].sockets) == 3  # one member of the group for all three

    await ingest(user, product, {"time": T0, "data": {"pvPower": 1}})
    for stream in streams:
        assert (await stream.receive_json_from(timeout=5))["data"] == {"pvPower": 1}

    await streams[0].disconnect()
    await ingest(user, product, {"time": T0 + 1, "data": {"pvPower": 2}})
    for stream in streams[1:]:
        assert (await stream.receive_json_from(timeout=5))["data"] == {"pvPower": 2}
    for stream in streams[1:]:
        await stream.disconnect()
    assert product.pk not in relays  # the last one out ends the relay

    again = await open_stream(path)
    await again.receive_json_from(timeout=5)
    await ingest(user, product, {"time": T0 + 2, "data": {"pvPower": 3}})
    assert (await again.receive_json_from(timeout=5))["data"] == {"pvPower": 3}
    await again.disconnect()


async def test_a_subscriber_that_falls_behind_loses_its_oldest_frames_counted():
    from core.broadcast import counters
    from voltstorage.consumers import ProductStreamConsumer

    socket = ProductStreamConsumer()
    socket.stream_product = 1
    socket.capacity = 3
    counters.reset()
    for number in range(5):
        socket.deliver(f'{{"n": {number}}}')
    assert list(socket.outbox) == ['{"n": 2}', '{"n": 3}', '{"n": 4}']
    assert counters.snapshot()["dropped"] == 2

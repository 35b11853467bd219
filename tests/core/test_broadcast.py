"""Broadcasts after commit (core.broadcast): delivered once the write commits, never when it
rolls back, and a failing channel layer (Redis down, a full channel) is logged and counted
while the write stays stored."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core import services
from core.broadcast import broadcast, counters
from core.models import Organization
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _fresh_counters():
    counters.reset()
    yield
    counters.reset()


def use_layer(settings, backend: str, **config) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": backend, "CONFIG": config}}


def subscribe(group: str) -> str:
    """A new channel in ``group``; returns its name."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def receive(channel: str) -> dict:
    return async_to_sync(get_channel_layer().receive)(channel)


def test_broadcast_is_delivered_once_the_transaction_commits():
    channel = subscribe("orders")

    with transaction.atomic():
        broadcast(group="orders", message={"order": 1})
        assert counters.snapshot()["sent"] == 0  # not before the commit

    assert receive(channel) == {"type": "stream.message", "message": {"order": 1}}
    assert counters.snapshot() == {"sent": 1, "failed": 0, "dropped": 0}


def test_broadcast_of_a_rolled_back_write_is_never_sent():
    subscribe("orders")

    with pytest.raises(RuntimeError), transaction.atomic():
        broadcast(group="orders", message={"order": 2})
        raise RuntimeError("the write fails")

    assert counters.snapshot() == {"sent": 0, "failed": 0, "dropped": 0}


def test_with_redis_down_the_write_is_stored_and_the_failed_broadcast_logged_and_counted(
    settings, caplog
):
    # The channel layer points at a port where no Redis listens.
    use_layer(settings, "core.broadcast.RedisChannelLayer", hosts=[CLOSED_PORT_REDIS])
    owner = UserFactory()

    with caplog.at_level(logging.WARNING, logger="core.broadcast"), transaction.atomic():
        organization = services.organization_create(name="Stored anyway", owner=owner)
        services.platform_broadcast(message={"organization": organization.pk})

    assert Organization.objects.filter(pk=organization.pk, name="Stored anyway").exists()
    assert counters.snapshot() == {"sent": 0, "failed": 1, "dropped": 0}
    assert "Broadcast to group 'platform' failed (ConnectionError" in caplog.text


def test_a_full_channel_drops_the_message_for_that_subscriber_only_and_counts_it(settings, caplog):
    use_layer(settings, "core.broadcast.InMemoryChannelLayer", capacity=1)
    slow = subscribe("prices")
    fast = subscribe("prices")

    with caplog.at_level(logging.WARNING, logger="core.broadcast"):
        broadcast(group="prices", message={"price": 1})
        assert receive(fast)["message"] == {"price": 1}
        broadcast(group="prices", message={"price": 2})  # the slow channel is still full

    assert receive(fast)["message"] == {"price": 2}
    assert receive(slow)["message"] == {"price": 1}
    assert counters.snapshot() == {"sent": 2, "failed": 0, "dropped": 1}
    assert "Channel layer full: 1 message(s) dropped" in caplog.text


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_redis_layer_counts_what_it_drops_when_a_process_or_a_socket_falls_behind(settings):
    # A layer of its own on the configured Redis: a unique prefix keeps other runs out.
    use_layer(
        settings,
        "core.broadcast.RedisChannelLayer",
        hosts=[os.environ["REDIS_URL"]],
        capacity=1,
        prefix=f"test-{uuid.uuid4().hex}",
    )
    reader = subscribe("meters")
    idle = subscribe("meters")  # a socket of the same process that never reads

    # Two broadcasts while the process reads nothing: its Redis list holds one.
    broadcast(group="meters", message={"reading": 1})
    broadcast(group="meters", message={"reading": 2})
    assert counters.snapshot() == {"sent": 2, "failed": 0, "dropped": 1}
    # The process reads the one it kept, for both sockets; then one more reaches the reader
    # while the idle socket's buffer (capacity 1) is still full: its oldest is dropped.
    assert receive(reader)["message"] == {"reading": 1}
    broadcast(group="meters", message={"reading": 3})
    assert receive(reader)["message"] == {"reading": 3}

    assert counters.snapshot() == {"sent": 3, "failed": 0, "dropped": 2}
    assert receive(idle)["message"] == {"reading": 3}
    async_to_sync(get_channel_layer().flush)()

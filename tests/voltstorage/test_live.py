"""VoltStorage against real servers on loopback.

- With PostgreSQL and Redis: a device's ingestion through gunicorn reaches a WebSocket client
  of uvicorn (another process) through the Redis channel layer; the subscriber connects with
  the token of the VoltStorage login and without an ``Origin`` (as devices and scripts do).
- Without services (SQLite, one uvicorn process): the refusals a real client sees (close codes
  4401, 4404, 4400 after the accept; an HTTP 403 to a foreign browser origin), and the one
  public VoltStorage client's calls (login, products, ``export.csv`` with ``separator=;``,
  split at CRLF) against gunicorn, with nothing changed but the base URL.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from core.tokens import VoltStorageAccessToken
from tests.factories import MembershipFactory, UserFactory
from tests.live import (
    django_run,
    gunicorn,
    live,
    needs_services,
    open_socket,
    postgres_env,
    receive_json,
    receive_until,
    socket_refusal,
    sqlite_env,
    uvicorn,
)
from tests.voltstorage.factories import ProductFactory

pytestmark = live

PASSWORD = "pass-word-123"


# --- Across processes, PostgreSQL and Redis --------------------------------------------------


@pytest.fixture
def live_env(transactional_db):
    return postgres_env()


async def _ingest_and_receive(ws_url: str, post) -> tuple[dict, dict]:
    async with open_socket(ws_url, origin=None) as sock:
        first = await receive_json(sock)
        response = await asyncio.to_thread(post)
        assert response.status_code == 201, response.text
        frame = await receive_until(
            sock, lambda frame: frame.get("data", {}).get("pvPower") == 4242
        )
        return first, frame


@needs_services
def test_ingestion_through_gunicorn_reaches_a_subscriber_of_uvicorn(live_env, tmp_path):
    pytest.importorskip("websockets")
    membership = MembershipFactory(user=UserFactory(email="device-owner@example.org"))
    product = ProductFactory(organization=membership.organization)
    with (
        gunicorn(live_env, tmp_path / "gunicorn.log") as web,
        uvicorn(live_env, tmp_path / "uvicorn.log") as ws,
    ):
        # Minted here (the servers share the secret): the test's users have a test-only
        # password hasher. The login itself: the tests on SQLite below.
        token = str(VoltStorageAccessToken.for_user(membership.user))
        url = ws.ws_url(f"/voltstorage/rest/products/{product.pk}/stream", f"token={token}")
        now = time.time()

        def post():
            return httpx.post(
                f"{web.url}/voltstorage/rest/products/{product.pk}/data",
                json=[{"time": now, "data": {"pvPower": 4242, "gridPower": -12.5}}],
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )

        first, frame = asyncio.run(asyncio.wait_for(_ingest_and_receive(url, post), 60))

    assert first == {"type": "latest-data", "time": None, "data": {}}
    assert frame == {
        "type": "latest-data",
        "time": round(now, 3),
        "data": {"gridPower": -12.5, "pvPower": 4242},
    }


# --- One uvicorn on SQLite ------------------------------------------------------------------

ACCOUNT = """
import datetime as dt
from core import services
from core.models import User
from voltstorage.models import Product, ProductType
user = User.objects.create_user(username="homeowner", email="home@example.org",
                                password="pass-word-123")
organization = services.organization_create(name="Installer", owner=user)
other = services.organization_create(
    name="Elsewhere", owner=User.objects.create_user(username="other", email="o@example.org"))
kind = ProductType.objects.create(name="VoltStorage SMART")
mine = Product.objects.create(organization=organization, type=kind, serial_number="AA0024",
                              timezone="Europe/Berlin")
theirs = Product.objects.create(organization=other, type=kind, serial_number="ZZ0001")
print(mine.pk, theirs.pk, services.api_key_create(user=user, name="device")[1])
"""


@pytest.fixture(scope="module")
def sqlite_servers(tmp_path_factory):
    """gunicorn and uvicorn on one SQLite database of their own; yields them, a VoltStorage
    token, the ids of a product of the user's organization and of another's, and an API key
    of the user (a device's)."""
    pytest.importorskip("websockets")
    directory = tmp_path_factory.mktemp("voltstorage-live")
    env = sqlite_env(directory)
    mine, theirs, key = django_run(env, ACCOUNT).split()
    mine, theirs = int(mine), int(theirs)
    with (
        gunicorn(env, directory / "gunicorn.log") as web,
        uvicorn(env, directory / "uvicorn.log") as ws,
    ):
        token = httpx.post(
            f"{web.url}/voltstorage/rest/login/password",
            json={"email": "home@example.org", "password": PASSWORD},
            timeout=10,
        ).json()["token"]
        yield web, ws, token, mine, theirs, key


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        ("/voltstorage/rest/products/{mine}/stream", "", 4401),
        ("/voltstorage/rest/products/{mine}/stream", "token=not-a-jwt", 4401),
        ("/voltstorage/rest/products/{theirs}/stream", "token={token}", 4404),
        ("/voltstorage/rest/data/stream", "token={token}", 4400),
    ],
)
def test_a_real_client_sees_the_refusal_codes(sqlite_servers, path, query, code):
    _, ws, token, mine, theirs, _ = sqlite_servers
    url = ws.ws_url(path.format(mine=mine, theirs=theirs), query.format(token=token))
    refusal = asyncio.run(socket_refusal(url))
    assert refusal.http_status is None
    assert refusal.code == code


def test_a_real_client_without_origin_gets_the_latest_data_a_foreign_page_nothing(
    sqlite_servers,
):
    _, ws, token, mine, _, _ = sqlite_servers
    url = ws.ws_url("/voltstorage/rest/data/stream", f"productId={mine}&token={token}")

    async def first_frame():
        async with open_socket(url, origin=None) as sock:
            return await receive_json(sock)

    assert asyncio.run(first_frame())["type"] == "latest-data"
    refusal = asyncio.run(socket_refusal(url, origin="https://evil.example"))
    assert refusal.http_status == 403


def test_the_stream_is_not_compressed_though_the_client_offers_it(sqlite_servers):
    """uvicorn runs without per-message-deflate, as the ws service does: the frames are small
    JSON, and compressing each for a thousand subscribers costs CPU for next to nothing."""
    _, ws, token, mine, _, _ = sqlite_servers
    url = ws.ws_url(f"/voltstorage/rest/products/{mine}/stream", f"token={token}")

    async def handshake():
        async with open_socket(url, origin=None) as sock:
            frame = await receive_json(sock)
            return sock.request.headers, sock.response.headers, frame

    request, response, frame = asyncio.run(handshake())
    assert frame["type"] == "latest-data"
    assert "permessage-deflate" in request["Sec-WebSocket-Extensions"]
    assert "Sec-WebSocket-Extensions" not in response


def test_the_public_client_works_with_only_the_base_url_changed(sqlite_servers):
    """The calls of the one public VoltStorage client (a browser app), in its order, with its
    parameters, reading the answers as it does."""
    web, _, _, mine, _, key = sqlite_servers
    base_url = f"{web.url}/voltstorage/rest"  # the only change: https://api.voltstorage.com/rest

    login = httpx.post(
        base_url + "/login/password",
        headers={"Content-Type": "application/json"},
        content=json.dumps(
            {"email": "home@example.org", "password": PASSWORD, "validity": 24 * 3600}
        ),
        timeout=10,
    )
    result = login.json()
    assert not result.get("errors")
    assert login.status_code == 200
    token = result["token"]

    response = httpx.get(base_url + "/products" + f"?token={token}", timeout=10)
    assert response.status_code not in (400, 401)
    batteries = [
        {
            "productId": entry["id"],
            "serialNumber": entry["serialNumber"],
            "online": entry["online"],
            "errors": entry["errors"],
        }
        for entry in response.json()
    ]
    assert batteries == [
        {"productId": mine, "serialNumber": "AA0024", "online": False, "errors": []}
    ]

    # A device sends a few samples with its API key.
    start = time.time() - 600
    samples = [
        {
            "time": start + i,
            "data": {"gridPower": -49.8754 + i, "pvPower": 432.432, "stateOfCharge": 0.611868},
        }
        for i in range(5)
    ]
    device = httpx.post(
        f"{base_url}/products/{mine}/data",
        json=samples,
        headers={"Authorization": f"User {key}"},
        timeout=10,
    )
    assert device.status_code == 201, device.text

    url = (
        base_url
        + "/data/export.csv"
        + f"?token={token}"
        + f"&productId={mine}"
        + f"&from={start - 1}"
        + f"&to={start + 60}"
        + "&tolerance=0"
        + "&precision=3"
        + "&separator=;"
    )
    response = httpx.get(url, timeout=10)
    assert response.status_code not in (400, 401)
    lines = response.text.split("\r\n")
    assert lines[0] == "sep=;"
    assert len(lines[2].split(";")) > 1  # the separator of every line, not only the header's
    lines.pop(0)
    lines.pop(0)
    rows = [line.strip().split(";") for line in lines if line]
    assert len(rows) == 5
    assert [row[1] for row in rows] == ["-49.9", "-48.9", "-47.9", "-46.9", "-45.9"]
    assert {row[4] for row in rows} == {"432"} and {row[6] for row in rows} == {"0.612"}
    assert rows[0][0].endswith("+00:00")

"""Streamed bodies (core.streaming): a synchronous iterator under WSGI, an asynchronous one
under ASGI, each pulled a block at a time; file downloads use it and keep their headers.

Django buffers an asynchronous iterator whole under WSGI and a synchronous one whole under ASGI
(``StreamingHttpResponse.__iter__``/``__aiter__``), so the in-process tests consume the
response exactly as each handler does and count what the source produced. The live test
downloads 200 MB from gunicorn and from uvicorn and samples the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import os
import threading
import warnings

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, AsyncRequestFactory, RequestFactory
from django.urls import reverse

from bench.harness.memory import PeakMemory
from core.streaming import BLOCK_SIZE, file_response, streaming_response
from tests.batterydb import factories as f
from tests.conftest import jwt_for
from tests.live import django_run, gunicorn, live, sqlite_env, uvicorn

# Closing a response sends request_finished, which checks the database connections.
pytestmark = pytest.mark.django_db

CHUNK = b"2024-05-01T00:00:00.000Z,396.5,-12.25\r\n"  # one CSV row
ROWS = 20_000  # about 780 KB: a dozen blocks


class Source:
    """A synchronous generator of CSV rows that records how far it was pulled, in which
    threads, and whether it was closed."""

    def __init__(self, rows: int = ROWS, chunk: bytes | str = CHUNK):
        self.rows, self.chunk = rows, chunk
        self.produced = 0
        self.threads: set[int] = set()
        self.closed = False

    def __iter__(self):
        try:
            for _ in range(self.rows):
                self.threads.add(threading.get_ident())
                self.produced += len(self.chunk)
                yield self.chunk
        finally:
            self.closed = True


def wsgi_request():
    return RequestFactory().get("/export.csv")


def asgi_request():
    return AsyncRequestFactory().get("/export.csv")


def test_under_wsgi_the_body_is_a_synchronous_iterator_pulled_block_by_block():
    source = Source()

    response = streaming_response(wsgi_request(), source, content_type="text/csv")

    assert response.is_async is False
    assert source.produced == 0  # nothing before the server reads
    body = iter(response)  # what the WSGI handler does
    first = next(body)
    assert len(first) >= BLOCK_SIZE
    assert source.produced < BLOCK_SIZE + len(CHUNK)
    assert first + b"".join(body) == CHUNK * ROWS


@pytest.mark.asyncio
async def test_under_asgi_the_body_is_an_asynchronous_iterator_pulled_block_by_block():
    source = Source()

    response = streaming_response(asgi_request(), source, content_type="text/csv")

    assert response.is_async is True
    with warnings.catch_warnings():
        # Django warns when it has to consume a synchronous iterator whole.
        warnings.simplefilter("error")
        body = aiter(response)  # what the ASGI handler does
        first = await anext(body)
        assert len(first) >= BLOCK_SIZE
        assert source.produced < BLOCK_SIZE + len(CHUNK)
        rest = [block async for block in body]
    assert first + b"".join(rest) == CHUNK * ROWS
    # Every row was produced in one thread (the request's: the ORM keeps its connection).
    assert len(source.threads) == 1
    assert threading.get_ident() not in source.threads


def test_small_chunks_are_joined_into_blocks_and_text_is_encoded():
    source = Source(rows=5_000, chunk="Zeit;Leistung ⚡\r\n")

    response = streaming_response(wsgi_request(), source, content_type="text/csv")

    blocks = list(response)
    assert all(len(block) >= BLOCK_SIZE for block in blocks[:-1])
    assert b"".join(blocks) == "Zeit;Leistung ⚡\r\n".encode() * 5_000
    assert response["Content-Type"] == "text/csv"


def test_headers_and_status_are_kept():
    response = streaming_response(
        wsgi_request(),
        [b"a"],
        content_type="application/json",
        status=206,
        headers={"Content-Disposition": 'attachment; filename="x.json"'},
    )

    assert response.status_code == 206
    assert response["Content-Disposition"] == 'attachment; filename="x.json"'


def test_under_wsgi_closing_the_response_closes_the_source():
    source = Source()
    response = streaming_response(wsgi_request(), source, content_type="text/csv")
    next(iter(response))

    response.close()  # the client went away: the server closes the response

    assert source.closed
    assert source.produced < ROWS * len(CHUNK)


@pytest.mark.asyncio
async def test_under_asgi_a_client_that_goes_away_closes_the_source():
    source = Source()
    response = streaming_response(asgi_request(), source, content_type="text/csv")
    first_block_sent = asyncio.Event()

    async def send_response(response):
        # As Django's ASGI handler sends a body, to a client that stops reading.
        async with contextlib.aclosing(aiter(response)) as body:
            async for _ in body:
                first_block_sent.set()
                await asyncio.Event().wait()

    task = asyncio.create_task(send_response(response))
    await first_block_sent.wait()
    # The client goes away: the handler cancels the task and drops the response, without
    # calling response.close().
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    del task, response
    gc.collect()
    for _ in range(200):  # the event loop finalizes the abandoned iterators
        if source.closed:
            break
        await asyncio.sleep(0.01)

    assert source.closed
    assert source.produced < ROWS * len(CHUNK)


# --- File downloads --------------------------------------------------------------------------


def test_file_response_under_wsgi_stays_djangos_file_response(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 200_000)

    response = file_response(
        wsgi_request(), path.open("rb"), filename="data.bin", content_type="application/x-demo"
    )

    # The WSGI handler hands the file to the server's file wrapper (gunicorn: sendfile).
    assert response.file_to_stream is not None
    assert response.is_async is False
    assert response["Content-Length"] == "200000"
    assert response["Content-Disposition"] == 'attachment; filename="data.bin"'
    assert b"".join(response) == b"x" * 200_000
    response.close()


@pytest.mark.asyncio
async def test_file_response_under_asgi_reads_a_block_at_a_time_and_closes_the_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(5 * BLOCK_SIZE + 123))
    handle = path.open("rb")

    response = file_response(
        asgi_request(), handle, filename="data.bin", content_type="application/octet-stream"
    )

    assert response.is_async is True
    assert response["Content-Length"] == str(5 * BLOCK_SIZE + 123)
    body = aiter(response)
    first = await anext(body)
    assert len(first) == BLOCK_SIZE
    assert handle.tell() == BLOCK_SIZE  # read no further than sent
    rest = [block async for block in body]
    assert first + b"".join(rest) == path.read_bytes()
    await sync_to_async(response.close)()
    assert handle.closed


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_download_under_asgi_streams_asynchronously_with_its_headers(member, organization):
    content = os.urandom(3 * BLOCK_SIZE)
    bms_file = await sync_to_async(f.BMSFileFactory)(
        organization=organization,
        file=await sync_to_async(f.StoredFileFactory)(
            organization=organization, content=content, name="run.bin", content_type="text/html"
        ),
    )
    token = await sync_to_async(jwt_for)(member)
    url = reverse("batterydb:bms-file-download", args=[bms_file.pk])

    response = await AsyncClient().get(url, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.content
    assert response.is_async is True
    assert response["Content-Disposition"] == 'attachment; filename="run.bin"'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    assert response["Content-Length"] == str(len(content))
    assert b"".join([block async for block in response.streaming_content]) == content


# --- Live: 200 MB through gunicorn and uvicorn -------------------------------------------------

BIG_SIZE = 200 * 2**20
SMALL_SIZE = 2**20
# Far below the 200 MB that a buffered body adds; room for allocator noise and a few blocks.
MAX_GROWTH_MB = 40

FILE_ROWS = """
import json
from batterydb.models import BMSFile, StoredFile
from core.models import Membership, Organization, User
from core.services import api_key_create

files = json.loads({files!r})
user = User.objects.create_user(username="downloader", email="downloader@example.org")
organization = Organization.objects.create(name="Large files")
Membership.objects.create(user=user, organization=organization, role=Membership.Role.VIEWER)
ids = {{}}
for name, (path, size, sha256) in files.items():
    stored = StoredFile.objects.create(
        organization=organization, file=path, name=name, size=size, sha256=sha256
    )
    ids[name] = BMSFile.objects.create(organization=organization, file=stored).pk
print(json.dumps({{"key": api_key_create(user=user, name="live")[1], "ids": ids}}))
"""


def write_file(path, size: int) -> str:
    """Write ``size`` bytes (1 MiB of random bytes repeated) to ``path``; their SHA-256."""
    block = os.urandom(2**20)
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for _ in range(size // len(block)):
            out.write(block)
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def download_env(tmp_path_factory):
    """Servers' environment on a SQLite database of their own holding a 1 MiB and a 200 MiB
    BMS file of one organization; (env, API key of a viewer, {name: (id, sha256)})."""
    directory = tmp_path_factory.mktemp("downloads")
    env = sqlite_env(directory, WEB_CONCURRENCY="1")
    media = directory / "media"
    files = {}
    for name, size in (("small.bin", SMALL_SIZE), ("big.bin", BIG_SIZE)):
        relative = f"batterydb/live/{name}"
        files[name] = (relative, size, write_file(media / relative, size))
    created = json.loads(django_run(env, FILE_ROWS.format(files=json.dumps(files))))
    ids = {name: (created["ids"][name], files[name][2]) for name in files}
    yield env, created["key"], ids


def download(url: str, key: str) -> tuple[httpx.Headers, int, str]:
    """GET ``url`` as a slow-enough client would: a block at a time; (headers, bytes, sha256)."""
    digest, size = hashlib.sha256(), 0
    with httpx.stream("GET", url, headers={"Authorization": f"User {key}"}, timeout=60) as answer:
        assert answer.status_code == 200, answer.read()[:300]
        for block in answer.iter_bytes(BLOCK_SIZE):
            digest.update(block)
            size += len(block)
        return answer.headers, size, digest.hexdigest()


@live
@pytest.mark.parametrize("server", [gunicorn, uvicorn], ids=["gunicorn", "uvicorn"])
def test_a_200_mb_download_keeps_the_servers_memory_flat(download_env, server, tmp_path):
    env, key, ids = download_env
    with server(env, tmp_path / "server.log") as live_server:
        url = live_server.url + "/api/v2/bms/files/{}/download/"
        small_id, small_sha = ids["small.bin"]
        big_id, big_sha = ids["big.bin"]
        # The same route once, so that what it imports and caches is in the baseline.
        assert download(url.format(small_id), key)[1:] == (SMALL_SIZE, small_sha)

        with PeakMemory(live_server.pid) as memory:
            headers, size, sha256 = download(url.format(big_id), key)

    print(
        f"{live_server.name}: {BIG_SIZE >> 20} MiB served, server tree "
        f"{memory.baseline_mb:.0f} -> peak {memory.peak_mb:.0f} MiB "
        f"(+{memory.growth_mb:.1f}, {memory.samples} samples)"
    )
    assert (size, sha256) == (BIG_SIZE, big_sha)
    assert headers["content-length"] == str(BIG_SIZE)
    assert headers["content-disposition"] == 'attachment; filename="big.bin"'
    assert headers["etag"] == f'"{big_sha}"'
    assert memory.samples > 5
    assert memory.growth_mb < MAX_GROWTH_MB, (
        f"{live_server.name} grew {memory.growth_mb:.0f} MiB "
        f"({memory.baseline_mb:.0f} -> {memory.peak_mb:.0f}) serving {BIG_SIZE >> 20} MiB"
    )

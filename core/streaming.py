"""Response bodies streamed with constant memory under WSGI and ASGI alike.

Django streams a ``StreamingHttpResponse`` lazily only when its iterator suits the handler that
serves it: under WSGI (gunicorn, the test ``Client``) an *asynchronous* iterator is first
consumed whole into a list, and under ASGI (uvicorn, daphne/runserver, the ``AsyncClient``) a
*synchronous* iterator is. A 200 MB export would then sit in the server's memory. The helpers
here look at the request and hand Django the kind it streams:

- WSGI: a synchronous iterator of blocks (files: Django's ``FileResponse``, which gunicorn sends
  with ``sendfile``);
- ASGI: an asynchronous iterator that pulls one block at a time from the same synchronous source
  in the request's own worker thread (``sync_to_async(thread_sensitive=True)``), so that a
  source reading through the ORM keeps its database connection, and closes the source when the
  response ends or the client goes away.

Sources are plain synchronous iterables of ``bytes`` (or ``str``, encoded as UTF-8): a generator
over a server-side cursor, a file read in blocks. Small chunks (a CSV row each) are joined into
blocks of about ``block_size`` bytes, which keeps both the syscalls per byte under WSGI and the
thread hops per byte under ASGI low.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse

#: Bytes per block handed to the server.
BLOCK_SIZE = 64 * 1024


def is_asgi(request) -> bool:
    """Whether ``request`` (Django's or DRF's) is served by an ASGI handler."""
    return isinstance(getattr(request, "_request", request), ASGIRequest)


def join_blocks(chunks: Iterable[bytes | str], block_size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """``chunks`` as blocks of at least ``block_size`` bytes (the last one may be shorter);
    a chunk that is already that large passes as it is. Closing the blocks closes ``chunks``."""
    iterator = iter(chunks)
    pending: list[bytes] = []
    size = 0
    try:
        for chunk in iterator:
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if not chunk:
                continue
            pending.append(chunk)
            size += len(chunk)
            if size >= block_size:
                yield pending[0] if len(pending) == 1 else b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class AsyncBlocks:
    """An asynchronous iterator over a synchronous source, for ASGI.

    Each block is produced by ``next()`` on the source in the request's worker thread; only
    one block is in memory at a time. ``close()`` (called by Django when the response ends, and
    by the iterator itself when the client goes away) closes the source in that thread.

    It deliberately has no ``__iter__``: Django tells synchronous from asynchronous content by
    trying ``iter()`` first."""

    def __init__(self, source: Iterator[bytes]):
        self._source = source
        self._closed = False

    def _next_block(self) -> bytes | None:
        if self._closed:
            return None
        return next(self._source, None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._blocks()

    async def _blocks(self) -> AsyncIterator[bytes]:
        next_block = sync_to_async(self._next_block, thread_sensitive=True)
        try:
            while (block := await next_block()) is not None:
                yield block
        finally:
            # Django closes the response's resources when the body is complete, but not when
            # the client disconnects (the task is cancelled): close the source here as well.
            await sync_to_async(self.close, thread_sensitive=True)()


def _for_handler(request, blocks: Iterator[bytes]) -> Iterator[bytes] | AsyncBlocks:
    return AsyncBlocks(blocks) if is_asgi(request) else blocks


def streaming_response(
    request,
    chunks: Iterable[bytes | str],
    *,
    content_type: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    block_size: int = BLOCK_SIZE,
) -> StreamingHttpResponse:
    """A ``StreamingHttpResponse`` of ``chunks`` that the server of ``request`` streams with
    constant memory (see the module's docstring).

    ``chunks`` is consumed only while the body is sent, in the thread the view ran in; a
    generator's ``finally`` runs when the body ends or the client goes away."""
    content = _for_handler(request, join_blocks(chunks, block_size))
    return StreamingHttpResponse(
        content, content_type=content_type, status=status, headers=dict(headers or {})
    )


def file_response(
    request,
    handle,
    *,
    filename: str,
    content_type: str,
    as_attachment: bool = True,
    block_size: int = BLOCK_SIZE,
) -> FileResponse:
    """Django's ``FileResponse`` of the open binary file ``handle`` (its ``Content-Length``,
    ``Content-Disposition`` with ``filename``, ``Content-Type``), streamed with constant memory
    by either server. Under WSGI it stays Django's (gunicorn sends it with ``sendfile``); under
    ASGI its body becomes an asynchronous iterator reading ``block_size`` bytes at a time. The
    file is closed when the response is."""
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    response.block_size = block_size
    if is_asgi(request):
        reads: Callable[[], bytes] = lambda: handle.read(block_size)  # noqa: E731
        response.streaming_content = AsyncBlocks(iter(reads, b""))
    return response

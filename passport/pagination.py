"""Pages of the passport API: ``limit`` (default 100, at most 1000: a larger value gives a page
of 1000, never an error) and ``offset``; the total in ``X-Total-Count`` and the neighbouring
pages in a ``Link`` header (RFC 8288: ``rel="next"``, ``rel="prev"``), with absolute URLs in
the named (slashed) form of the route. The body keeps each endpoint's own envelope."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

from rest_framework.exceptions import ValidationError

from core.pagination import page_headers

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1


def _integer(request, name: str, default: int, *, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["Must be an integer."]}) from None
    if value < minimum:
        raise ValidationError({name: [f"Must be at least {minimum}."]})
    if value > MAX_OFFSET:
        raise ValidationError({name: [f"Must be at most {MAX_OFFSET}."]})
    return value


class Page:
    """One page of a queryset, read from the request's ``limit`` and ``offset``."""

    def __init__(self, request, queryset):
        self.request = request
        limit = _integer(request, "limit", DEFAULT_LIMIT, minimum=1)
        self.limit = min(limit, MAX_LIMIT)
        self.offset = _integer(request, "offset", 0, minimum=0)
        self.total = queryset.count()
        if self.offset < self.total:
            self.items = list(queryset[self.offset : self.offset + self.limit])
        else:
            self.items = []

    def headers(self) -> dict[str, str]:
        more = self.offset + self.limit < self.total
        return page_headers(
            self.request,
            total=self.total,
            next_params={"limit": self.limit, "offset": self.offset + self.limit} if more else None,
            previous_params=(
                {"limit": self.limit, "offset": max(self.offset - self.limit, 0)}
                if self.offset > 0
                else None
            ),
        )


_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_was_enabled = True


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a page of passports is read, trimmed and
    encoded. A page at the cap holds about 200,000 dicts and lists, all freed by reference
    counting as soon as the answer is sent; on the way the collector would run some 300 times
    and traverse every object of the process, more than half of the request's time. Nested
    and concurrent pauses (threads) count: the collector resumes when the last one ends, and
    only if it was running before the first."""
    global _collector_pauses, _collector_was_enabled
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()

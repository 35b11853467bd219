"""Throttles and brute-force lockouts, counted in the shared cache and failing open.

Every password check of the platform goes through ``django.contrib.auth.authenticate()`` and
so through ``core.backends``, which asks a ``LoginGuard`` before checking the password and
tells it the outcome after. Failures are counted in fixed windows of
``LOGIN_FAILURE_WINDOW_SECONDS`` for three keys:

- the account together with the client address: ``LOGIN_MAX_FAILURES`` failures lock that
  pair, so one address cannot guess at speed;
- the account from any address: the looser ``LOGIN_MAX_ACCOUNT_FAILURES`` locks the account,
  so many addresses cannot either, while one attacker cannot lock out the real user;
- the client address over all accounts: ``LOGIN_MAX_ADDRESS_FAILURES`` locks the address, so
  it cannot try one password on many accounts (nor spend the server's CPU on hashing).

A lock lasts ``LOGIN_LOCKOUT_SECONDS``; while it holds, the password is not even checked and
the answer is ``CredentialLockout`` (a 429 with ``Retry-After``: DRF's exception handler maps
it under the APIs, ``core.middleware.ThrottledPageMiddleware`` on the web pages). A successful
login resets its pair's count. ``AddressRateThrottle`` is a DRF throttle by client address
for the other credential endpoints (token refresh), with rates in ``THROTTLE_RATES``.

Counts live in the default cache (Redis when ``REDIS_URL`` is set, so limits hold across
workers). When the cache fails, the counts fall back to this process's memory for
``THROTTLE_CACHE_RETRY_SECONDS``, with a logged warning, never an error.

The client address is ``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT`` proxies in front the
address the outermost trusted proxy put into ``X-Forwarded-For``; IPv6 addresses count per
/64 network, which one client typically holds whole.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

# The clock of every window and lock, in seconds since the epoch. Tests move it forward.
clock: Callable[[], float] = time.time


class CredentialLockout(Throttled):
    """Too many failed logins: refused without checking the password, 429 with Retry-After."""

    default_detail = "Too many failed login attempts."
    default_code = "login_locked"
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."


# --- Counters: the shared cache, or this process's memory when the cache fails ---------------


class LocalCounters:
    """A per-process store of expiring values with the cache's few operations, bounded in size.

    Expiry follows ``clock``. It is the fallback of ``SharedCounters`` and never fails.
    """

    def __init__(self, max_keys: int = 100_000):
        self.max_keys = max_keys
        self._values: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> Any:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= now:
            del self._values[key]
            return None
        return item[0]

    def _store(self, key: str, value: Any, expires: float) -> None:
        self._values[key] = (value, expires)
        self._values.move_to_end(key)
        while len(self._values) > self.max_keys:
            self._values.popitem(last=False)

    def incr(self, key: str, timeout: int) -> int:
        with self._lock:
            now = clock()
            value = (self._live(key, now) or 0) + 1
            expires = self._values[key][1] if value > 1 else now + timeout
            self._store(key, value, expires)
            return value

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        with self._lock:
            now = clock()
            found = {key: self._live(key, now) for key in keys}
        return {key: value for key, value in found.items() if value is not None}

    def set(self, key: str, value: Any, timeout: int) -> None:
        with self._lock:
            self._store(key, value, clock() + timeout)

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class SharedCounters:
    """Counters in the Django cache ``THROTTLE_CACHE``, shared by every worker.

    When an operation fails (Redis stopped or unreachable), it is answered from ``local``
    instead and the cache is left alone for ``THROTTLE_CACHE_RETRY_SECONDS``, so that a
    dead cache costs one failed connection per period, not one per request; the switch is
    logged once per period.
    """

    def __init__(self, local: LocalCounters):
        self.local = local
        self._down_until = 0.0

    def _cache(self):
        return caches[settings.THROTTLE_CACHE]

    def _run(self, operation: str, *args):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(self, f"_cache_{operation}")(*args)
            except Exception as exc:  # any failure of the cache backend: fail open
                self._down_until = time.monotonic() + settings.THROTTLE_CACHE_RETRY_SECONDS
                logger.warning(
                    "Throttle cache %r failed (%s: %s); counting in this process's memory "
                    "for the next %s s.",
                    settings.THROTTLE_CACHE,
                    type(exc).__name__,
                    exc,
                    settings.THROTTLE_CACHE_RETRY_SECONDS,
                )
        return getattr(self.local, operation)(*args)

    def _cache_incr(self, key: str, timeout: int) -> int:
        cache = self._cache()
        for _ in range(3):
            cache.add(key, 0, timeout)
            try:
                return cache.incr(key)
            except ValueError:  # expired between add and incr: start again
                continue
        raise RuntimeError(f"Counter {key} keeps expiring.")

    def _cache_get_many(self, keys: list[str]) -> dict[str, Any]:
        return self._cache().get_many(keys)

    def _cache_set(self, key: str, value: Any, timeout: int) -> None:
        self._cache().set(key, value, timeout)

    def _cache_delete(self, key: str) -> None:
        self._cache().delete(key)

    def incr(self, key: str, timeout: int) -> int:
        """Add one to ``key`` (created with ``timeout`` seconds to live); the new count."""
        return self._run("incr", key, timeout)

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self._run("get_many", keys)

    def set(self, key: str, value: Any, timeout: int) -> None:
        self._run("set", key, value, timeout)

    def delete(self, key: str) -> None:
        self._run("delete", key)

    def reset(self) -> None:
        """Forget the fallback counts and try the cache again at once (tests)."""
        self.local.clear()
        self._down_until = 0.0


counters = SharedCounters(LocalCounters())


# --- Client address ---------------------------------------------------------------------------


def client_address(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies the
    entry of ``X-Forwarded-For`` that the outermost trusted proxy appended.

    Each proxy appends the address it received the request from, so with n trusted proxies
    the client is the n-th entry from the right; entries further left were written by the
    client and are ignored. A header with fewer entries than trusted proxies (a request that
    did not come through them) or an entry that is not an IP address leaves ``REMOTE_ADDR``.
    IPv6 addresses are reduced to their /64 network.
    """
    if request is None:
        return "unknown"
    meta = request.META
    address = meta.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= trusted and _parse_ip(hops[-trusted]) is not None:
            address = hops[-trusted]
    parsed = _parse_ip(address)
    if parsed is None:
        return address[:100] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _key(*parts: str) -> str:
    # Digests keep keys short and free of characters some cache backends refuse.
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"throttle:{parts[0]}:{digest}"


def _window(seconds: int) -> tuple[str, float]:
    """The current fixed window of ``seconds``: its number and the seconds left in it."""
    now = clock()
    index = math.floor(now / seconds)
    return str(index), (index + 1) * seconds - now


# --- Login lockouts -----------------------------------------------------------------------------


class LoginGuard:
    """The lockout state of one login attempt: an account from a client address.

    ``account`` identifies what the login names (the user's id when it names a user,
    else the normalized login), so that attempts by username and by email count together.
    """

    SCOPES = ("pair", "account", "address")

    def __init__(self, request, account: str):
        self.address = client_address(request)
        self.account = account
        self.idents = {
            "pair": (account, self.address),
            "account": (account,),
            "address": (self.address,),
        }

    @staticmethod
    def limits() -> dict[str, int]:
        return {
            "pair": settings.LOGIN_MAX_FAILURES,
            "account": settings.LOGIN_MAX_ACCOUNT_FAILURES,
            "address": settings.LOGIN_MAX_ADDRESS_FAILURES,
        }

    def _lock_key(self, scope: str) -> str:
        return _key(f"login-lock-{scope}", *self.idents[scope])

    def _count_key(self, scope: str, window: str) -> str:
        return _key(f"login-failures-{scope}", *self.idents[scope], window)

    def check(self) -> None:
        """Raise ``CredentialLockout`` if the pair, the account or the address is locked."""
        keys = {scope: self._lock_key(scope) for scope in self.SCOPES}
        found = counters.get_many(list(keys.values()))
        now = clock()
        waits = {
            scope: found[key] - now
            for scope, key in keys.items()
            if isinstance(found.get(key), int | float) and found[key] > now
        }
        if not waits:
            return
        scope = max(waits, key=waits.get)
        detail = {
            "pair": "Too many failed login attempts for this account from your address.",
            "account": "Too many failed login attempts for this account.",
            "address": "Too many failed login attempts from your address.",
        }[scope]
        raise CredentialLockout(wait=max(1, math.ceil(waits[scope])), detail=detail)

    def failed(self) -> None:
        """Count a failure; lock each key whose count reached its limit."""
        window_seconds = settings.LOGIN_FAILURE_WINDOW_SECONDS
        window, _ = _window(window_seconds)
        for scope, limit in self.limits().items():
            count_key = self._count_key(scope, window)
            if counters.incr(count_key, window_seconds) >= limit:
                lock_seconds = settings.LOGIN_LOCKOUT_SECONDS
                counters.set(self._lock_key(scope), clock() + lock_seconds, lock_seconds)
                counters.delete(count_key)
                logger.warning(
                    "Login locked for %s s after %s failures (%s, address %s).",
                    lock_seconds,
                    limit,
                    scope,
                    self.address,
                )

    def succeeded(self) -> None:
        """A right password from this address: the pair starts counting afresh."""
        window, _ = _window(settings.LOGIN_FAILURE_WINDOW_SECONDS)
        counters.delete(self._count_key("pair", window))


# --- Request rate throttles ---------------------------------------------------------------------


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/min"`` → ``(30, 60)``: requests per period in seconds (s, min, hour, day)."""
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[:1]]
    return int(count), seconds


class AddressRateThrottle(BaseThrottle):
    """At most ``THROTTLE_RATES[scope]`` requests per client address, in fixed windows
    counted in the shared cache (failing open like the lockouts). 429 with Retry-After."""

    scope: str = ""

    def allow_request(self, request, view) -> bool:
        limit, period = parse_rate(settings.THROTTLE_RATES[self.scope])
        window, self._wait = _window(period)
        key = _key(f"rate-{self.scope}", client_address(request), window)
        return counters.incr(key, period) <= limit

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))


class TokenRefreshRateThrottle(AddressRateThrottle):
    """Refreshing a JWT is a credential check: limited per client address."""

    scope = "token_refresh"

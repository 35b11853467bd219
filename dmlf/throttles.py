"""The original's request limits per user and method, counted in the shared cache.

GET (and HEAD) requests count against ``THROTTLE_RATES["dmlf_get"]`` (10,000 a day), POST
against ``dmlf_post`` (500 a day), PUT, PATCH and DELETE together against ``dmlf_write`` (500
a day; the original leaves PATCH out, which would make it a way around the limit). Counts are
per user in fixed windows of the rate's period, in the cache ``core.throttling`` uses (Redis
when configured, so that they hold across workers; failing open). Over the limit: 429 with
DRF's message ("Request was throttled. Expected available in N seconds.") and
``Retry-After``. The token endpoints are not counted here: the login throttle of
``core.backends`` protects them.
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from core import throttling

SCOPES = {
    "GET": "dmlf_get",
    "HEAD": "dmlf_get",
    "POST": "dmlf_post",
    "PUT": "dmlf_write",
    "PATCH": "dmlf_write",
    "DELETE": "dmlf_write",
}


class DMLFMethodRateThrottle(BaseThrottle):
    """The request's method group, per authenticated user (see the module's docstring)."""

    def allow_request(self, request, view) -> bool:
        scope = SCOPES.get(request.method)
        user = getattr(request, "user", None)
        if scope is None or user is None or not user.is_authenticated:
            return True
        limit, period = throttling.parse_rate(settings.THROTTLE_RATES[scope])
        now = throttling.clock()
        window = math.floor(now / period)
        self._wait = (window + 1) * period - now
        key = f"throttle:{scope}:{user.pk}:{window}"
        return throttling.counters.incr(key, period) <= limit

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))

"""URL patterns that answer with and without the trailing slash, for every method.

Clients write detail URLs without the slash (BatteryDB's guide does). Redirecting them
(Django's ``APPEND_SLASH``) loses the body of every write: a client follows a 301 as a GET. So
each API route is routed twice instead: the slashed pattern, which keeps the name (``reverse()``
and every generated link keep the contract's slash), directly followed by an unnamed copy
without the slash. A ``/?`` pattern would not do: it reverses without the slash, and DRF 3.18's
``SimpleRouter(trailing_slash="/?")`` silently becomes ``/``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import Resolver404, URLPattern, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.routers import SimpleRouter


def optional_slash(patterns: Iterable) -> list:
    """``patterns``, each one ending in a slash followed by an unnamed copy without it.

    Includes are left alone: apply this in the included module. The copies come right after
    their originals, so the order in which routes win is unchanged."""
    result = []
    for pattern in patterns:
        result.append(pattern)
        copy = _without_trailing_slash(pattern)
        if copy is not None:
            result.append(copy)
    return result


def _without_trailing_slash(pattern) -> URLPattern | None:
    if not isinstance(pattern, URLPattern):
        return None
    matcher = pattern.pattern
    if isinstance(matcher, RoutePattern):
        route = str(matcher._route)
        if not route.endswith("/"):
            return None
        copy = RoutePattern(route[:-1], is_endpoint=True)
    elif isinstance(matcher, RegexPattern):
        regex = str(matcher._regex)
        if not regex.endswith("/$"):
            return None
        copy = RegexPattern(regex[:-2] + "$", is_endpoint=True)
    else:
        return None
    return URLPattern(copy, pattern.callback, pattern.default_args, None)


class OptionalSlashRouter(SimpleRouter):
    """DRF's ``SimpleRouter`` whose routes also answer without the trailing slash."""

    def get_urls(self) -> list:
        return optional_slash(super().get_urls())


def canonical_uri(request) -> str:
    """The request's absolute URI in the named form: with the trailing slash when the request
    came through a route's slash-less copy. Links built from it keep the contract's slash."""
    path = request.path
    if not path.endswith("/"):
        match = getattr(request, "resolver_match", None)
        try:
            slashed = resolve(request.path_info + "/")
        except Resolver404:
            slashed = None
        if match is not None and slashed is not None and slashed.func == match.func:
            path += "/"
    query = request.META.get("QUERY_STRING", "")
    return request.build_absolute_uri(path + (f"?{query}" if query else ""))

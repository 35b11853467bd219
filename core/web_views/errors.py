"""The site's error pages (404, 403 with its reason, 405, CSRF failure, 500) with the
navigation, and ``require_methods``, which answers the site's 405 page."""

from __future__ import annotations

import functools
import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

# --- Error pages -----------------------------------------------------------------------------
# Site pages with the navigation. Under the API prefixes core.middleware.JSONErrorMiddleware
# turns them into JSON.

ERROR_TEMPLATE = "core/error.html"

logger = logging.getLogger(__name__)


def _error_page(
    request: HttpRequest, status: int, title: str, message: str, detail: str = ""
) -> HttpResponse:
    context = {"status": status, "title": title, "message": message, "detail": detail}
    return render(request, ERROR_TEMPLATE, context, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 (``handler404``): the path asked for, not the internal reason."""
    return _error_page(
        request,
        404,
        "Page not found",
        f"There is no page at {request.path}, or it is not yours to see.",
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 (``handler403``) with the reason the view gave, if any."""
    reason = str(exception) if exception is not None else ""
    return _error_page(
        request,
        403,
        "Not allowed",
        reason or "You do not have permission to do this.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form post that failed the CSRF check (``CSRF_FAILURE_VIEW``)."""
    return _error_page(
        request,
        403,
        "Form expired or not sent from this site",
        "The form could not be accepted. Go back, reload the page and send it again; "
        "cookies must be enabled for this site.",
        detail=reason,
    )


def method_not_allowed(request: HttpRequest, permitted_methods) -> HttpResponse:
    """405 with an ``Allow`` header, as a page instead of Django's empty body."""
    allowed = sorted({method.upper() for method in permitted_methods})
    response = _error_page(
        request,
        405,
        "Method not allowed",
        f"This address does not accept {request.method} requests.",
        detail=f"Allowed: {', '.join(allowed)}.",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """500 (``handler500``). Rendered without the request's context (no user, no database
    query), since whatever failed may fail again; a plain page if even that fails."""
    context = {
        "status": 500,
        "title": "Server error",
        "message": "Something went wrong on our side. The error has been logged; "
        "please try again later.",
    }
    try:
        content = render_to_string(ERROR_TEMPLATE, context)
    except Exception:
        logger.exception("The server error page could not be rendered")
        content = "<!doctype html><title>Server error</title><h1>Server error (500)</h1>"
    return HttpResponse(content, status=500)


def require_methods(*methods: str):
    """Like Django's ``require_http_methods``, answering the site's 405 page."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return method_not_allowed(request, methods)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


require_POST = require_methods("POST")


class SitePageMixin:
    """For class-based views: an unsupported method gets the site's 405 page."""

    def http_method_not_allowed(self, request, *args, **kwargs) -> HttpResponse:
        return method_not_allowed(request, self._allowed_methods())

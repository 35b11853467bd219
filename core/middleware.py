"""Request-level guards for the APIs: body size limits, JSON error pages, throttled answers."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.shortcuts import render
from rest_framework.exceptions import Throttled

from core.exceptions import (
    is_api_path,
    json_error,
    request_too_large_message,
    wants_html_errors,
)


class BodySizeLimitMiddleware:
    """Answers 413 in JSON, before reading, for a body over the limit of the view.

    A view declares ``max_body_size`` (bytes); otherwise ``API_MAX_BODY_SIZE`` applies under
    the API prefixes. Bodies without a Content-Length are still bounded by Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which the exception handler maps to the same 413.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = getattr(getattr(view_func, "cls", None), "max_body_size", None)
        if limit is None:
            if not is_api_path(request.path):
                return None
            limit = settings.API_MAX_BODY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "Invalid Content-Length header.", request.path)
        if length > limit:
            return json_error(413, request_too_large_message(limit), request.path)
        return None


class JSONErrorMiddleware:
    """Under the API prefixes, turns Django's HTML/plain-text error responses (unknown URLs,
    405, 500) into JSON in the API's shape; pages marked ``html_errors`` keep theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_path(request.path)
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
            and getattr(response, "data", None) is None
            and not wants_html_errors(request)
        ):
            error = json_error(
                response.status_code, _detail_for(response.status_code), request.path
            )
            if response.has_header("Allow"):
                error["Allow"] = response["Allow"]
            return error
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig) and is_api_path(request.path):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return json_error(413, request_too_large_message(limit), request.path)
        return None


class ThrottledPageMiddleware:
    """Answers a ``Throttled`` raised outside DRF's views (a login lockout raised by the
    authentication backend under the site's and the admin's login forms) with a 429 and
    ``Retry-After``: JSON ``{"detail"}`` under the API prefixes, the site's page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Throttled):
            return None
        if is_api_path(request.path) and not wants_html_errors(request):
            response = json_error(429, str(exception.detail), request.path)
        else:
            response = render(
                request,
                "core/too_many_attempts.html",
                {"detail": str(exception.detail), "wait": exception.wait},
                status=429,
            )
        if exception.wait is not None:
            response["Retry-After"] = str(int(exception.wait))
        return response


_DETAILS = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body too large.",
    500: "Internal server error.",
}


def _detail_for(status_code: int) -> str:
    return _DETAILS.get(status_code, "Request failed.")

"""JSON errors for the APIs: DRF's error shape, plus the cases DRF leaves to Django.

Each API may declare its own error shape (VoltStorage answers ``{"errors": ["..."]}``): its app
registers a formatter for its URL prefix (:func:`register_error_format`, in ``AppConfig.ready``).
The formatter applies to every error under that prefix, whoever answers it: DRF's views
(validation, 401, 403, 404, 409, 429), unknown URLs, 405, the 413 of the body limit and 500
(``core.middleware``). Pages that live under an API's prefix but are meant for people (a
passport's public page) opt out with :func:`html_errors` and keep the site's HTML error pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PayloadTooLarge(APIException):
    """A part of the request over its own limit (an uploaded file of a kind with a lower limit
    than the body's): 413 with the reason."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


# An error formatter takes the status and DRF's error data ({"detail": ...}, field errors, or
# errors by item index) and returns the body the API answers.
ErrorFormat = Callable[[int, Any], Any]
_ERROR_FORMATS: dict[str, ErrorFormat] = {}


def register_error_format(prefix: str, formatter: ErrorFormat) -> None:
    """Answer every error under the URL ``prefix`` (``"/voltstorage/"``) in the shape
    ``formatter`` makes of DRF's error data."""
    _ERROR_FORMATS[prefix] = formatter


def unregister_error_format(prefix: str) -> None:
    _ERROR_FORMATS.pop(prefix, None)


def error_format_for(path: str) -> ErrorFormat | None:
    """The formatter of the longest registered prefix of ``path``, if any."""
    matches = [prefix for prefix in _ERROR_FORMATS if path.startswith(prefix)]
    return _ERROR_FORMATS[max(matches, key=len)] if matches else None


def error_body(path: str, status_code: int, data: Any) -> Any:
    """DRF's error ``data`` in the shape of the API ``path`` belongs to."""
    formatter = error_format_for(path)
    return formatter(status_code, data) if formatter is not None else data


def html_errors(view):
    """Marks a view (a page for people) whose errors stay HTML under an API's prefix."""
    view.html_errors = True
    return view


def wants_html_errors(request) -> bool:
    match = getattr(request, "resolver_match", None)
    func = getattr(match, "func", None)
    return bool(
        getattr(func, "html_errors", False)
        or getattr(getattr(func, "view_class", None), "html_errors", False)
    )


def _is_unique_violation(exc: IntegrityError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == "23505"
    return "UNIQUE constraint failed" in str(exc)


def request_too_large_message(limit: int) -> str:
    return f"Request body too large: the limit for this endpoint is {limit} bytes."


def exception_handler(exc, context):
    """DRF's handler, with oversized bodies as a JSON 413 instead of Django's plain-text 400,
    deletes blocked by references as 409, and a write the database refuses because another
    request got there first (a unique value taken, a referenced row deleted meanwhile) as 409
    instead of a 500; then in the shape of the API the request belongs to."""
    if isinstance(exc, RequestDataTooBig):
        response = Response(
            {"detail": request_too_large_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, TooManyFieldsSent):
        response = Response(
            {"detail": "Too many form fields in the request."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, ProtectedError | RestrictedError):
        blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", [])
        names = sorted({str(type(obj)._meta.verbose_name_plural) for obj in blocking})
        response = Response(
            {"detail": f"Cannot delete: other objects still refer to it ({', '.join(names)})."},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        detail = (
            "Another request stored an object with these values first: they must be unique."
            if _is_unique_violation(exc)
            else "The data changed while this request was written (a referenced object was "
            "deleted?). Retry."
        )
        response = Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
    else:
        response = drf_exception_handler(exc, context)
    request = context.get("request")
    if response is not None and request is not None:
        response.data = error_body(request.path, response.status_code, response.data)
    return response


def is_api_path(path: str) -> bool:
    return path.startswith(settings.API_PREFIXES)


def json_error(status_code: int, detail: str, path: str = "") -> JsonResponse:
    """A JSON error answered outside DRF's views, in the shape of the API ``path`` belongs to."""
    body = error_body(path, status_code, {"detail": detail})
    return JsonResponse(body, status=status_code, safe=False)

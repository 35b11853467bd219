"""JSON errors for the APIs: DRF's error shape, plus the cases DRF leaves to Django."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
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


def request_too_large_message(limit: int) -> str:
    return f"Request body too large: the limit for this endpoint is {limit} bytes."


def exception_handler(exc, context):
    """DRF's handler, with oversized bodies as a JSON 413 instead of Django's plain-text 400.

    A view may define ``format_error_response(response)`` to reshape errors for its API's
    contract (VoltStorage's ``{"errors": [...]}``).
    """
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
    else:
        response = drf_exception_handler(exc, context)
    view = context.get("view")
    if response is not None and hasattr(view, "format_error_response"):
        response = view.format_error_response(response)
    return response


def is_api_path(path: str) -> bool:
    return path.startswith(settings.API_PREFIXES)


def json_error(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)

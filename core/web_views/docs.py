"""The API docs' assets served by the site: Redoc's bundle without third-party requests."""

from __future__ import annotations

import functools
import gzip
import hashlib
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import condition

from core.web_views.errors import require_methods

# --- API docs ---------------------------------------------------------------------------------

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# Redoc's side menu shows Redocly's logo from their CDN. The docs make no request to a third
# party (and the Content-Security-Policy would refuse it): the image source is emptied, which
# Redoc handles by leaving the logo out. The link "API docs by Redocly" stays.
REDOC_THIRD_PARTY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> tuple[bytes, bytes, str]:
    """The Redoc bundle of drf-spectacular-sidecar without the logo, plain and gzipped, and its
    ETag; read once per process."""
    source = Path(finders.find(REDOC_BUNDLE)).read_bytes()
    body = source.replace(REDOC_THIRD_PARTY_LOGO, b"")
    return body, gzip.compress(body, mtime=0), f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@require_methods("GET", "HEAD")
@condition(etag_func=lambda request: _redoc_bundle()[2])
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    """Redoc's standalone script for ``/api/redoc/`` (see ``REDOC_THIRD_PARTY_LOGO``)."""
    body, compressed, _ = _redoc_bundle()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(
        compressed if gzipped else body, content_type="text/javascript; charset=utf-8"
    )
    if gzipped:
        response["Content-Encoding"] = "gzip"
    response["Cache-Control"] = "public, max-age=86400"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response

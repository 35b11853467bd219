"""Renderers of the passport API beyond JSON: the Catena-X export (``?format=catenax``) and
the QR code of the data carrier (SVG and PNG). Errors are JSON whatever was asked (the views
switch back to JSON in ``handle_exception``)."""

from __future__ import annotations

from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer

from passport import catenax


class CatenaXRenderer(ORJSONRenderer):
    """The Catena-X battery pass 3.0.1 as JSON, under its own media type."""

    media_type = catenax.MEDIA_TYPE
    format = catenax.FORMAT


class BytesRenderer(BaseRenderer):
    """Bytes made by the view, answered as they are."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class SVGRenderer(BytesRenderer):
    media_type = "image/svg+xml"
    format = "svg"


class PNGRenderer(BytesRenderer):
    media_type = "image/png"
    format = "png"


class FirstRenderer(BaseContentNegotiation):
    """The view's first renderer, whatever the client accepts: an image is an image (a
    browser's ``<img>`` sends its own list of types)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

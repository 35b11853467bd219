"""The data carrier: the QR code of a passport, leading to its public page."""

from __future__ import annotations

from drf_orjson_renderer.renderers import ORJSONRenderer
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from passport import carrier
from passport.renderers import FirstRenderer, PNGRenderer, SVGRenderer
from passport.views.base import PassportViewSetBase

CARRIER_NOTE = (
    "The QR code to print on the battery (Art. 13(6)): it encodes the absolute URL of the "
    "passport's public web page, built from the configured public base URL "
    "(`PASSPORT_PUBLIC_BASE_URL`; the request's host when unset). Anyone may fetch it for an "
    "existing passport, like the public part of the passport."
)
#: Browsers and printers may keep the code for a day: it changes only with the base URL.
CACHE_CONTROL = "public, max-age=86400"


class PassportCarrierViewSet(PassportViewSetBase):
    """The QR code of a passport, in the image format of its one renderer, whatever the
    client accepts; errors are JSON (``handle_exception``)."""

    content_negotiation_class = FirstRenderer

    def get_queryset(self):
        return super().get_queryset().only("id", "battery_id", "organization_id")

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = ORJSONRenderer()
        self.request.accepted_media_type = ORJSONRenderer.media_type
        return response

    def image(self, url: str) -> bytes:
        raise NotImplementedError

    def retrieve(self, request, *args, **kwargs):
        passport = self.get_object()
        url = carrier.page_url(request, passport.battery_id)
        return Response(self.image(url), headers={"Cache-Control": CACHE_CONTROL})


class PassportCarrierSVGViewSet(PassportCarrierViewSet):
    renderer_classes = [SVGRenderer]

    def image(self, url: str) -> bytes:
        return carrier.qr_svg(url, title=f"QR code: {url}")

    @extend_schema(
        summary="Get the QR code of a batteryPass as SVG",
        operation_id="passport_batteryPass_carrier_svg_retrieve",
        description=CARRIER_NOTE,
        responses={(200, SVGRenderer.media_type): {"type": "string"}},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class PassportCarrierPNGViewSet(PassportCarrierViewSet):
    renderer_classes = [PNGRenderer]

    def image(self, url: str) -> bytes:
        return carrier.qr_png(url)

    @extend_schema(
        summary="Get the QR code of a batteryPass as PNG",
        operation_id="passport_batteryPass_carrier_png_retrieve",
        description=CARRIER_NOTE,
        responses={(200, PNGRenderer.media_type): {"type": "string", "format": "binary"}},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

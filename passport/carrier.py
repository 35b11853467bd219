"""The data carrier of a passport (Regulation (EU) 2023/1542, Art. 13(6)): a QR code, printed
on the battery, that leads to the passport's public web page.

The code encodes the page's absolute URL. Since it is printed on a physical battery, the URL
is built from ``PASSPORT_PUBLIC_BASE_URL`` (the address the platform is reached at from
outside) when it is set, and from the scheme and host of the request otherwise. The page's
path (``/passport/p/<batteryIDDMCCode>/``) is kept stable for the same reason. segno draws
the code with error correction level M (15 % of the code may be damaged) and the quiet zone
of four modules the standard asks for.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.urls import reverse

#: Error correction: L, M, Q or H (7, 15, 25 or 30 % of the code may be lost).
ERROR_CORRECTION = "m"
QUIET_ZONE = 4
#: Size of one module: SVG units (CSS pixels) and PNG pixels.
SVG_SCALE = 4
PNG_SCALE = 8


def page_path(battery_id: str) -> str:
    """The path of the passport's public page."""
    return reverse("passport:page", args=[battery_id])


def page_url(request, battery_id: str) -> str:
    """The absolute URL of the passport's public page, as its QR code encodes it."""
    path = page_path(battery_id)
    base = settings.PASSPORT_PUBLIC_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_CORRECTION, micro=False)


def qr_svg(url: str, *, title: str = "") -> bytes:
    """The QR code of ``url`` as an SVG document (black on white)."""
    out = io.BytesIO()
    _code(url).save(
        out,
        kind="svg",
        scale=SVG_SCALE,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        title=title or None,
        xmldecl=True,
    )
    return out.getvalue()


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG image (black on white)."""
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=PNG_SCALE, border=QUIET_ZONE, dark="#000", light="#fff")
    return out.getvalue()

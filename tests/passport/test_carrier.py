"""The data carrier: the QR code of a passport, as SVG and PNG, decodes (zxing-cpp) to the
absolute URL of the passport's public page, built from ``PASSPORT_PUBLIC_BASE_URL`` or the
request's host; public like point 1."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from tests.live import PROJECT_DIR
from tests.passport.conftest import document_of
from tests.passport.factories import PassportFactory

pytestmark = pytest.mark.django_db

ID = "NMC-2024.07:A~001_x"


@pytest.fixture
def passport(organization):
    return PassportFactory(organization=organization, battery_id=ID, document=document_of(ID))


def decode_png(content: bytes) -> str:
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode.text


_SIZE = re.compile(rb'<svg[^>]* width="(\d+)" height="(\d+)"')
_SCALE = re.compile(rb'transform="scale\((\d+)\)"')
_PATH = re.compile(rb'<path[^>]*class="qrline"[^>]*d="([^"]+)"')
_STEP = re.compile(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def decode_svg(content: bytes) -> str:
    """Draws the SVG's modules (one path of horizontal strokes one module high, as segno
    writes it) on a white image and decodes that."""
    width, height = (int(value) for value in _SIZE.search(content).groups())
    scale = int(_SCALE.search(content).group(1))
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, first, second in _STEP.findall(_PATH.search(content).group(1).decode()):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:  # h: a stroke along the row, centred on y
            end = x + float(first)
            top = int((y - 0.5) * scale)
            draw.rectangle([int(x * scale), top, int(end * scale) - 1, top + scale - 1], fill=0)
            x = end
    (barcode,) = zxingcpp.read_barcodes(image)
    return barcode.text


def test_the_png_decodes_to_the_public_page_on_the_requests_host(passport, client_for):
    response = client_for(None).get(f"/passport/batteryPass/{ID}/carrier.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert decode_png(response.content) == f"http://testserver/passport/p/{ID}/"


def test_the_svg_decodes_to_the_same_url(passport, client_for):
    response = client_for(None).get(f"/passport/batteryPass/{ID}/carrier.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert decode_svg(response.content) == f"http://testserver/passport/p/{ID}/"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://passports.example.org", f"https://passports.example.org/passport/p/{ID}/"),
        ("https://example.org/platform", f"https://example.org/platform/passport/p/{ID}/"),
    ],
)
def test_the_configured_public_base_url_wins_over_the_host(
    passport, client_for, settings, base, expected
):
    settings.PASSPORT_PUBLIC_BASE_URL = base
    client = client_for(None)
    for kind, decode in (("png", decode_png), ("svg", decode_svg)):
        response = client.get(f"/passport/batteryPass/{ID}/carrier.{kind}", HTTP_HOST="localhost")
        assert decode(response.content) == expected


def test_the_encoded_url_opens_the_passports_page(passport, client_for, client):
    url = decode_png(client_for(None).get(f"/passport/batteryPass/{ID}/carrier.png").content)

    page = client.get(urlsplit(url).path)

    assert page.status_code == 200
    assert ID in page.content.decode()


def test_any_reader_gets_the_image_whatever_they_accept(passport, client_for, outsider):
    for client in (client_for(None), client_for(outsider)):
        for accept in ("text/html", "application/json", "image/*", "*/*"):
            response = client.get(f"/passport/batteryPass/{ID}/carrier.svg", HTTP_ACCEPT=accept)
            assert response.status_code == 200
            assert response["Content-Type"] == "image/svg+xml"


def test_errors_are_json(passport, client_for, api_client):
    missing = client_for(None).get("/passport/batteryPass/NOPE/carrier.png")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"

    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    refused = api_client.get(f"/passport/batteryPass/{ID}/carrier.svg")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/json"

    written = client_for(None).post(f"/passport/batteryPass/{ID}/carrier.svg")
    assert written.status_code == 401
    assert written["Content-Type"] == "application/json"


def test_the_code_is_one_query_and_reads_no_document(
    passport, client_for, django_assert_num_queries
):
    with django_assert_num_queries(1) as captured:
        client_for(None).get(f"/passport/batteryPass/{ID}/carrier.svg")
    assert "document" not in captured.captured_queries[0]["sql"]


def test_a_base_url_that_is_no_http_url_stops_the_settings():
    result = subprocess.run(
        [sys.executable, "-c", "import core.settings"],
        cwd=PROJECT_DIR,
        env={"PATH": "/usr/bin:/bin", "PASSPORT_PUBLIC_BASE_URL": "passports.example.org"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PASSPORT_PUBLIC_BASE_URL must start with http:// or https://" in result.stderr

"""A passport's public page in a real browser (headless Chromium): it renders for a visitor
without an account, its QR code loads and decodes to the page's own address, nothing breaks
the Content-Security-Policy; its owner sees the restricted sections and reaches the list of
passports from the navigation; the page fits a phone.

Run alone with ``.venv/bin/python -m pytest -m browser tests/browser/test_passport_page.py``.
"""

from __future__ import annotations

import re

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests.browser.conftest import CHROMIUM, clean, new_watched_page
from tests.browser.test_flow import PHONE_WIDTH, create_organization, sign_up
from tests.passport.factories import full_passport

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]

ID = "NMC-2024.07:A~001_x"


def api_key(page, base: str) -> str:
    page.goto(f"{base}/accounts/api-keys/")
    page.fill("#id_name", "passports")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"{base}/accounts/api-keys/[^/]+/created/$"))
    return page.inner_text("code.secret").strip()


def qr_code_text(page, tmp_path) -> str:
    """What the QR code shown on the page decodes to, read from the browser's pixels."""
    image = page.locator(".passport-qr img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    shot = tmp_path / "qr.png"
    image.screenshot(path=str(shot))
    (barcode,) = zxingcpp.read_barcodes(Image.open(shot))
    return barcode.text


def test_the_public_page_of_a_passport(browser_page, live_server, tmp_path):
    page, base = browser_page, live_server.url
    sign_up(page, base, "maker")
    create_organization(page, base, "Cell Works")
    key = api_key(page, base)
    created = httpx.post(
        f"{base}/passport/batteryPass",
        json=full_passport(ID),
        headers={"Authorization": f"User {key}"},
    )
    assert created.status_code == 201, created.text
    page_url = f"{base}/passport/p/{ID}/"

    # A visitor without an account: the public part, the QR code, no CSP violation.
    visitor = new_watched_page(page.context.browser, width=1280, height=900)
    visitor.goto(page_url)
    assert visitor.inner_text("h1") == f"Battery passport {ID}"
    sections = visitor.locator("section.passport-section h2").all_inner_texts()
    assert sections[0] == "General battery and manufacturer information"
    assert "Performance and durability" in sections
    assert "Test reports" not in sections
    assert "150 Ah" in visitor.inner_text("#section-1gp")
    assert qr_code_text(visitor, tmp_path) == page_url
    visitor.wait_for_load_state("networkidle")
    clean(visitor, "public page")

    # The owner: every section, and the list of passports from the navigation.
    page.goto(page_url)
    sections = page.locator("section.passport-section h2").all_inner_texts()
    assert {"Test reports", "This battery: state of health, use and events"} <= set(sections)
    clean(page, "owner's page")
    page.click("header a:has-text('Battery passports')")
    page.wait_for_url(f"{base}/passport/p/")
    page.click(f"main a:has-text('{ID}')")
    page.wait_for_url(page_url)
    clean(page, "list of passports")

    # At a phone's width, the page does not scroll sideways.
    phone = new_watched_page(page.context.browser, width=PHONE_WIDTH, height=844)
    phone.goto(page_url)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page is {width} px wide"
    clean(phone, "public page on a phone")

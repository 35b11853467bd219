"""A new user's way through the site in a real browser (headless Chromium), with no console
error and no Content-Security-Policy violation on any page: sign up, create an organization and
an API key, call the API with the key from the shown curl command, revoke it, change the
password, then the API docs (Swagger UI, Redoc), the admin's login and the browsable API.
And the pages at a phone's width.

Run alone with ``.venv/bin/python -m pytest -m browser``.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, clean

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]

PASSWORD = "first-Secret-for-the-browser-1"
NEW_PASSWORD = "second-Secret-for-the-browser-2"
CURL = re.compile(r"curl --header 'Authorization: (User \S+)' (\S+)")
TIMEOUT = 30_000  # ms for the docs' scripts to render


def sign_up(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/accounts/profile/")
    assert f"Welcome, {username}!" in page.inner_text(".messages")
    clean(page, "sign up")


def create_organization(page, base: str, name: str) -> None:
    page.goto(f"{base}/accounts/organizations/")
    page.fill("#id_name", name)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"{base}/accounts/organizations/\d+/$"))
    assert page.inner_text("h1") == name
    clean(page, "create an organization")


def test_a_new_user_signs_up_uses_an_api_key_and_reads_the_docs(browser_page, live_server):
    page, base = browser_page, live_server.url

    sign_up(page, base, "ada")
    create_organization(page, base, "Cell Lab")

    # A new API key: shown once, after a redirect, with a ready curl command.
    page.goto(f"{base}/accounts/api-keys/")
    page.fill("#id_name", "browser")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"{base}/accounts/api-keys/[^/]+/created/$"))
    key = page.inner_text("code.secret").strip()
    authorization, url = CURL.search(page.inner_text("pre.command")).groups()
    assert authorization == f"User {key}"
    clean(page, "the new key")

    # Reloading shows it no more and creates no second key.
    page.reload()
    page.wait_for_url(f"{base}/accounts/api-keys/")
    assert key not in page.content()
    assert page.locator("main table tbody tr").count() == 1
    clean(page, "reload of the new key")

    # The key works against the API, as the curl command sends it.
    answer = httpx.get(url, headers={"Authorization": authorization})
    assert answer.status_code == 200
    assert [org["name"] for org in answer.json()["results"]] == ["Cell Lab"]

    # Revoking asks first; then the key is refused.
    page.click("main a:has-text('Revoke')")
    assert page.inner_text("h1") == "Revoke the API key “browser”?"
    clean(page, "revoke confirmation")
    page.click("main button:has-text('Revoke the key')")
    page.wait_for_url(f"{base}/accounts/api-keys/")
    assert "has been revoked" in page.inner_text(".messages")
    assert page.locator(".badge.revoked").count() == 1
    clean(page, "revoked")
    refused = httpx.get(url, headers={"Authorization": authorization})
    assert refused.status_code == 401

    # Change the password on the site's own page, log out, log in with the new one.
    page.goto(f"{base}/accounts/password/")
    assert page.inner_text("h1") == "Change password"
    assert "Django administration" not in page.content()
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/accounts/password/done/")
    clean(page, "password changed")
    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{base}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/accounts/profile/")
    clean(page, "log in with the new password")

    # Swagger UI lists the operations.
    page.goto(f"{base}/api/docs/")
    # Swagger UI renders only the operations in view of a large document: check that it
    # loaded every operation, and that it shows the first ones.
    page.locator(".opblock").first.wait_for(timeout=TIMEOUT)
    assert page.evaluate("() => ui.specSelectors.operations().size") > 100
    page.wait_for_load_state("networkidle")
    clean(page, "Swagger UI")

    # Redoc lists them too.
    page.goto(f"{base}/api/redoc/")
    page.locator("[data-section-id*='operation/']").nth(50).wait_for(timeout=TIMEOUT)
    page.wait_for_load_state("networkidle")
    clean(page, "Redoc")

    # The admin's login page.
    page.goto(f"{base}/admin/login/")
    assert page.locator("#login-form").count() == 1
    clean(page, "admin login")

    # The browsable API, with the session.
    page.goto(f"{base}/api/v2/organizations/")
    assert page.inner_text("h1") == "Organization List"
    assert "Cell Lab" in page.inner_text(".response-info")
    clean(page, "browsable API")


@pytest.fixture
def superuser(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py)."""
    from tests.factories import UserFactory

    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_the_admin_works_under_the_policy(superuser, browser_page, live_server):
    page, base = browser_page, live_server.url
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pass-word-123")  # the factories' password
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{base}/admin/")
    clean(page, "admin index")
    for path, selector in [
        ("/admin/core/user/", "#result_list"),
        (f"/admin/core/user/{superuser.pk}/change/", "#user_form"),
        ("/admin/core/organization/add/", "form"),
        ("/admin/batterydb/eistest/add/", "form"),  # date and time widgets
        ("/admin/batterydb/eistest/?q=x", "#changelist"),
    ]:
        page.goto(f"{base}{path}")
        assert page.locator(selector).count() >= 1, path
        page.wait_for_load_state("networkidle")
        clean(page, path)
    # The calendar widget opens (the admin's scripts run).
    page.goto(f"{base}/admin/batterydb/eistest/add/")
    page.locator(".datetimeshortcuts a[id^='calendarlink']").first.click()
    assert page.locator(".calendarbox").first.is_visible()
    clean(page, "admin calendar")


PHONE_WIDTH = 390


def assert_fits_the_phone(page, where: str) -> None:
    """No horizontal scroll of the page; the navigation wrapped onto several lines."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{where}: the page is {width} px wide"
    rows = page.evaluate(
        "new Set([...document.querySelectorAll('.topbar li, .topbar .brand')]"
        ".map(e => Math.round(e.getBoundingClientRect().top))).size"
    )
    assert rows > 1, f"{where}: the navigation did not wrap"
    clean(page, where)


def test_pages_fit_a_phone(phone_page, live_server):
    page, base = phone_page, live_server.url
    long_name = "Electrochemical-Impedance-Spectroscopy-Laboratory-of-Lithium-Cells"

    page.goto(f"{base}/accounts/login/")
    assert_fits_the_phone(page, "login")

    sign_up(page, base, "grace")
    create_organization(page, base, long_name)
    assert_fits_the_phone(page, "organization")
    # The members table scrolls inside its card, not the page.
    card = page.locator("main .card", has=page.locator("table")).first
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    heading = page.locator("h1").bounding_box()
    assert heading["x"] + heading["width"] <= PHONE_WIDTH  # the long name breaks

    page.goto(f"{base}/accounts/api-keys/")
    page.fill("#id_name", "phone")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/created/$"))
    assert_fits_the_phone(page, "new key")

    for path in ("/accounts/profile/", "/accounts/api-keys/", "/accounts/organizations/"):
        page.goto(f"{base}{path}")
        assert_fits_the_phone(page, path)
    page.goto(f"{base}/batterydb/eis-tests/")
    assert_fits_the_phone(page, "EIS tests")

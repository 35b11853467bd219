"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright against pytest-django's
live server. Nothing is downloaded: ``playwright install`` is never needed.

Every page a test opens is watched: a console error, an uncaught exception or a
Content-Security-Policy violation fails the test at the next ``clean(page)``. When a test
fails, a screenshot of its page is written to ``BROWSER_SCREENSHOT_DIR`` (default: a folder in
the system's temporary directory) and its path is printed in the test's report.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(
    os.environ.get("BROWSER_SCREENSHOT_DIR")
    or Path(tempfile.gettempdir()) / "platform-browser-screenshots"
)

# Reports a violation of the page's Content-Security-Policy as a console error, so that the
# console listener sees it too (the browser's own message does not always say which page).
# Added through the DevTools protocol, this script is not subject to the page's policy.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    "CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


class PageProblems:
    """What went wrong in the browser since the last check: console errors, uncaught
    exceptions, CSP violations, requests that left 127.0.0.1 / localhost."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def attach(self, page) -> None:
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and self.items.append(f"console error on {page.url}: {message.text}")
            ),
        )
        page.on("pageerror", lambda error: self.items.append(f"exception on {page.url}: {error}"))

    def take(self) -> list[str]:
        items, self.items = self.items, []
        return items


@contextlib.contextmanager
def chromium_page(*, width: int, height: int) -> Iterator:
    """A page of a freshly launched headless Chromium, watched for problems (see ``clean``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield new_watched_page(browser, width=width, height=height)
        finally:
            browser.close()


# The page fixtures are function-scoped, so that Playwright's event loop has stopped before
# pytest-django flushes the database (the ORM refuses to run while an event loop runs in its
# thread). For the same reason the tests reach the server only over HTTP, never the ORM.


@pytest.fixture
def browser_page(live_server) -> Iterator:
    """A desktop-sized page (1280 x 900)."""
    with chromium_page(width=1280, height=900) as page:
        yield page


@pytest.fixture
def phone_page(live_server) -> Iterator:
    """A phone-sized page (390 x 844)."""
    with chromium_page(width=390, height=844) as page:
        yield page


OFFSITE = re.compile(r"^(?!https?://(localhost|127\.0\.0\.1)[:/]).*")


def new_watched_page(browser, *, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.problems = problems = PageProblems()
    problems.attach(page)

    def refuse_offsite(route) -> None:
        # Only the live server: any other request (a CDN, a font host) is refused, reported.
        problems.items.append(f"off-site request: {route.request.url}")
        route.abort()

    page.route(OFFSITE, refuse_offsite)
    return page


def clean(page, where: str) -> None:
    """Fails if anything went wrong in the browser since the last check."""
    problems = page.problems.take()
    assert not problems, f"{where}: " + "\n".join(problems)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On a failure, a screenshot of the test's page; its path goes into the report."""
    report = yield
    if report.when == "call" and report.failed:
        for name in ("browser_page", "phone_page"):
            page = item.funcargs.get(name)
            if page is None:
                continue
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOT_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                note = f"screenshot of {page.url}: {path}"
            except Exception as exc:  # the page may be gone with the failure
                note = f"no screenshot ({exc})"
            print(f"\n[browser] {item.nodeid}: {note}")
            report.sections.append(("browser screenshot", note))
    return report

"""The BMS pages in a real browser (headless Chromium): a member opens a BMS test from the
list, decodes a CAN log from its file's row with the test's default DBC, the page's progress
bar follows the job (on the embedded worker of a real gunicorn server, marker ``live``) and
reloads the page when it ends, which then shows the decoding's summary; with no console
error, no Content-Security-Policy violation, and no sideways scrolling at a phone's width.

Run alone with ``.venv/bin/python -m pytest -m browser tests/browser/test_bms_pages.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, chromium_page, clean
from tests.browser.test_flow import PHONE_WIDTH
from tests.live import django_run, gunicorn, live, site_env

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]

PASSWORD = "pass-word-123"
#: Pack frames in the log: enough for the decoding to take a few seconds on the server, so
#: that the page shows the job queued or running before it ends. They are written in runs of
#: ``RUN`` (the test DBC's signed current would overflow past some 3,200), a minute apart.
RUN = 3000
FRAMES = 7 * RUN

# A member's organization with a DBC file, a BMS test that defaults to it and a candump log of
# the test, made with the decoding tests' own DBC and frames.
SETUP = f"""
import tempfile
from pathlib import Path
from core import services
from core.models import User
from tests.batterydb.factories import BMSFileFactory, BMSTestFactory, DBCFileFactory
from tests.batterydb.test_decode import T0, database, frames, write_log
user = User.objects.create_user(username="decoder", email="decoder@example.org",
                                password="{PASSWORD}")
organization = services.organization_create(name="Pack Lab", owner=user)
dbc = DBCFileFactory(organization=organization, name="pack.dbc",
                     file__content=database().as_dbc_string().encode())
test = BMSTestFactory(organization=organization, default_dbc=dbc)
with tempfile.TemporaryDirectory() as folder:
    messages = [m for run in range({FRAMES // RUN})
                for m in frames(database(), {RUN}, start=T0 + 60 * run)]
    content = write_log(messages, Path(folder) / "drive.log")
bms_file = BMSFileFactory(organization=organization, bms_test=test, file__content=content,
                          file__name="drive.log")
print(test.pk, bms_file.pk)
"""


@pytest.fixture(scope="module")
def bms_server(tmp_path_factory):
    """gunicorn with its embedded jobs worker, on a SQLite file of its own (see
    ``test_eis_pages``), and the ids of the BMS test and its file."""
    directory = tmp_path_factory.mktemp("bms-decode-browser")
    env = site_env(directory)
    test_id, file_id = (int(value) for value in django_run(env, SETUP).split()[-2:])
    with gunicorn(env, directory / "gunicorn.log") as running:
        yield running.url, test_id, file_id


def assert_no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@live
def test_decoding_from_the_page_follows_the_job_and_shows_the_summary(bms_server):
    base, test_id, file_id = bms_server
    with chromium_page(width=1280, height=900) as page:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "decoder")
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/accounts/profile/")

        page.click("nav >> text=BMS tests")
        page.wait_for_url(f"{base}/batterydb/bms-tests/")
        page.click(f"table.bms-tests >> text={test_id}")
        page.wait_for_url(f"{base}/batterydb/bms-tests/{test_id}/")
        row = page.locator(f"#file-{file_id}")
        expect(row.locator(".bms-undecoded")).to_have_text("Not decoded yet.")
        expect(row.locator("select[name=dbc] option[selected]")).to_contain_text("pack.dbc")
        clean(page, "BMS test page")

        row.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/batterydb/bms-tests/{test_id}/#file-{file_id}")
        expect(page.locator(".messages")).to_contain_text("Decoding of drive.log with pack.dbc")
        # The bar of the queued or running job; core/jobs.js polls it, then reloads the page.
        bar = page.locator(f"#file-{file_id} .job-progress")
        assert bar.get_attribute("data-job-status") in ("queued", "running")
        expect(bar.locator("progress")).to_be_visible()
        page.wait_for_selector(f"#file-{file_id} .job-progress.job-succeeded", timeout=90_000)
        # The reload that showed the outcome was the script's: the message was shown once.
        expect(page.locator(".messages")).to_have_count(0)
        summary = page.locator(f"#file-{file_id} dl.bms-summary").inner_text()
        frames = FRAMES + FRAMES // 5 + FRAMES // 10
        assert f"{frames} read, {FRAMES + FRAMES // 5} decoded" in summary
        assert "0x7E8" in summary and "pack.dbc" in summary
        expect(page.locator(f"#file-{file_id} button[type=submit]")).to_have_text("Decode again")
        page.wait_for_load_state("networkidle")
        clean(page, "decoded BMS test page")

        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        page.reload()
        assert_no_sideways_scroll(page, PHONE_WIDTH)
        clean(page, "decoded BMS test page on a phone")

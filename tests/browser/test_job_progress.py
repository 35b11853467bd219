"""A job's progress bar in a real browser: the page shows the job queued, then running at
the fraction the job reported (polled from the API by core/jobs.js, no inline script), then
reloads itself with the outcome once the job has finished. The job runs on the live server's
embedded worker thread.

Run alone with ``.venv/bin/python -m pytest -m browser``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import jobs
from core.jobs import worker as jobs_worker
from core.models import Membership
from tests.browser.conftest import CHROMIUM, clean
from tests.core import jobs_kinds  # noqa: F401  (registers the test kinds)
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]

PASSWORD = "pass-word-123"


@pytest.fixture
def slow_job(transactional_db, live_server, settings, tmp_path):
    settings.ROOT_URLCONF = "tests.browser.urls_job_progress"
    settings.JOBS_WORKER = "embedded"
    organization = OrganizationFactory()
    user = UserFactory(username="watcher")
    MembershipFactory(organization=organization, user=user, role=Membership.Role.VIEWER)
    job = jobs.start(
        "tests.slow_progress",
        organization=organization,
        params={"started": str(tmp_path / "started"), "release": str(tmp_path / "release")},
    )
    yield job, tmp_path
    (tmp_path / "release").touch()
    settings.JOBS_WORKER = "external"  # before the stop: a late request starts no new one
    jobs_worker.stop_embedded()


def test_the_progress_bar_follows_the_job_and_the_page_reloads_when_it_is_done(
    slow_job, browser_page, live_server
):
    job, folder = slow_job
    page, base = browser_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "watcher")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/accounts/profile/")

    page.goto(f"{base}/test-job/{job.pk}/")
    # The worker thread took the job up with the first request; it reports 0.5 and waits.
    # (A locator, not wait_for_function: that evaluates a string, which the page's CSP forbids.)
    expect(page.locator(".job-status")).to_have_text("running, 50 %", timeout=20_000)
    assert (folder / "started").exists()

    (folder / "release").touch()
    page.wait_for_selector(".job-progress.job-succeeded", timeout=20_000)
    assert page.inner_text(".job-status") == "succeeded"
    assert page.get_attribute(".job-progress progress", "value") == "1.0"
    assert page.query_selector("script[src$='core/jobs.js']") is None
    clean(page, "job page")

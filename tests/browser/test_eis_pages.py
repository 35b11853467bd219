"""The EIS pages in a real browser (headless Chromium): a test's page draws its Nyquist and
Bode plots (uPlot canvases, as many points as the sweep has), the comparison page overlays one
sweep per test, with no console error, no Content-Security-Policy violation and no request
leaving the server, on a desktop and at a phone's width without sideways scrolling; a member
runs the analysis from the page (a bad λ is named next to its field, then a threshold of their
own is used), which follows the job (on the embedded worker of a real gunicorn server, marker
``live``) and shows the results, with the threshold they used, when it is done.

The data are made with the ORM before the browser starts (the page fixtures come after the
data fixture in each test's arguments); the browser reaches them over HTTP only.

Run alone with ``.venv/bin/python -m pytest -m browser tests/browser/test_eis_pages.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from batterydb.demo import SWEEP_POINTS, create_demo_data, eis_rows
from batterydb.models import EISData, EISTest
from batterydb.pages.units import DOUBLE_PRIME, MINUS, PRIME, format_number
from core.models import Membership
from tests.browser.conftest import CHROMIUM, chromium_page, clean
from tests.browser.test_flow import PHONE_WIDTH
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.live import django_run, gunicorn, live, site_env

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]

PASSWORD = "pass-word-123"  # UserFactory's, and the analysis server's user
TIMEOUT = 20_000  # ms for the scripts to draw


@dataclass
class World:
    username: str
    test_ids: list[int]  # one battery's tests, oldest first
    battery_id: int


@pytest.fixture
def eis_world(transactional_db, live_server) -> World:
    """A member of an organization with the demo data and two more tests of its first
    battery (older, less aged), so that the battery has three sweeps to compare."""
    organization = OrganizationFactory(name="Cell Lab")
    user = UserFactory(username="analyst")
    MembershipFactory(organization=organization, user=user, role=Membership.Role.MEMBER)
    create_demo_data(organization=organization)
    first = EISTest.objects.filter(organization=organization).order_by("id").first()
    tests = [first]
    for days, ageing in ((60, 0.8), (30, 0.9)):
        test = EISTest.objects.create(
            organization=organization,
            battery=first.battery,
            device=first.device,
            status="completed",
            completed_at=first.completed_at - dt.timedelta(days=days),
        )
        EISData.objects.bulk_create(eis_rows(test, ageing=ageing, ocv=3.66))
        tests.insert(0 if days == 60 else 1, test)
    return World(user.username, [t.pk for t in tests], first.battery_id)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/accounts/profile/")


def drawn_points(page, selector: str) -> tuple[int, int]:
    """(points, series) a figure says it drew, once its script has drawn it on a canvas."""
    page.wait_for_selector(f"{selector}.drawn canvas", timeout=TIMEOUT)
    figure = page.locator(selector)
    return int(figure.get_attribute("data-points")), int(figure.get_attribute("data-series"))


def assert_no_sideways_scroll(page, width: int) -> None:
    used = page.evaluate("document.documentElement.scrollWidth")
    assert used <= width, f"the page is {used} px wide at {width} px"


def test_the_test_page_draws_nyquist_and_bode_plots(eis_world, browser_page, live_server):
    page, base = browser_page, live_server.url
    log_in(page, base, eis_world.username)
    test_id = eis_world.test_ids[-1]
    page.goto(f"{base}/batterydb/eis-tests/{test_id}/")
    for figure in ("#eis-nyquist", "#eis-bode-magnitude", "#eis-bode-phase"):
        assert drawn_points(page, figure) == (SWEEP_POINTS, 1), figure
    # The Nyquist plot's axes are in the page's unit, -Z'' upwards.
    name = page.get_attribute("#eis-nyquist .eis-canvas", "aria-label")
    assert name.endswith(f": {MINUS}Z{DOUBLE_PRIME} (mΩ) against Z{PRIME} (mΩ)"), name
    name = page.get_attribute("#eis-bode-phase .eis-canvas", "aria-label")
    assert name.endswith(": Phase (°) against Frequency (Hz)"), name
    headers = page.locator("table.eis-data th").all_inner_texts()
    assert headers[:4] == [
        "Frequency (Hz)",
        f"Z{PRIME} (mΩ)",
        f"Z{DOUBLE_PRIME} (mΩ)",
        "|Z| (mΩ)",
    ]
    # The plots' legends format numbers as the server's tables do.
    values = [0, 10000, 0.1, -3.14159, 9.99996, 123456.7, 1.2345e-5, 2.5e7, -0.000123]
    shown = page.evaluate("(values) => values.map(window.batterydbEIS.formatNumber)", values)
    assert shown == [format_number(value) for value in values]
    page.wait_for_load_state("networkidle")
    clean(page, "test page")

    # From the test to its battery's tests, and to their comparison.
    page.click("a.eis-battery-link")
    page.wait_for_url(f"{base}/batterydb/eis-tests/?battery={eis_world.battery_id}")
    assert page.locator("main table tbody tr").count() == 3
    clean(page, "the battery's tests")


def test_the_comparison_overlays_one_sweep_per_test(eis_world, browser_page, live_server):
    page, base = browser_page, live_server.url
    log_in(page, base, eis_world.username)
    page.goto(f"{base}/batterydb/eis-tests/?battery={eis_world.battery_id}")
    for test_id in eis_world.test_ids:
        page.check(f"#compare-{test_id}")
    page.click("text=Compare ticked tests")
    page.wait_for_url(f"{base}/batterydb/eis-tests/compare/**")
    points, series = drawn_points(page, "#eis-compare-nyquist")
    assert series == 3 and points == 3 * SWEEP_POINTS
    legend = page.locator("#eis-compare-nyquist .u-legend .u-series").all_inner_texts()
    assert [label.split(" · ")[0].strip() for label in legend] == [
        f"Test {test_id}" for test_id in eis_world.test_ids
    ]
    page.wait_for_load_state("networkidle")
    clean(page, "comparison")


def test_the_pages_fit_a_phone(eis_world, phone_page, live_server):
    page, base = phone_page, live_server.url
    log_in(page, base, eis_world.username)
    page.goto(f"{base}/batterydb/eis-tests/{eis_world.test_ids[0]}/")
    drawn_points(page, "#eis-bode-phase")
    assert_no_sideways_scroll(page, PHONE_WIDTH)
    canvas_width = page.evaluate(
        "document.querySelector('#eis-nyquist canvas').getBoundingClientRect().width"
    )
    assert 200 <= canvas_width <= PHONE_WIDTH
    clean(page, "test page on a phone")
    page.goto(f"{base}/batterydb/eis-tests/compare/?battery={eis_world.battery_id}")
    assert drawn_points(page, "#eis-compare-nyquist")[1] == 3
    assert_no_sideways_scroll(page, PHONE_WIDTH)
    clean(page, "comparison on a phone")


# The analysis runs as a job on the embedded worker of a real server (gunicorn, production
# settings) on a SQLite file of its own: pytest-django's in-memory test database is shared
# between threads with table locks that fail a job's progress writes while the page polls.
SETUP = f"""
from core import services
from core.models import User
from tests.batterydb.analysis_support import store_sweep, synthetic_sweep
from tests.batterydb.factories import EISTestFactory
user = User.objects.create_user(username="fitter", email="fitter@example.org",
                                password="{PASSWORD}")
organization = services.organization_create(name="Fit Lab", owner=user)
test = EISTestFactory(organization=organization)
store_sweep(test, synthetic_sweep())
print(test.pk)
"""


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory):
    """gunicorn with its embedded jobs worker, and a test of the owner "fitter" holding a
    sweep of the default circuit."""
    directory = tmp_path_factory.mktemp("eis-analysis-browser")
    env = site_env(directory)
    test_id = int(django_run(env, SETUP).split()[-1])
    with gunicorn(env, directory / "gunicorn.log") as running:
        yield running.url, test_id


@live
def test_running_the_analysis_from_the_page_shows_its_results(jobs_server):
    base, test_id = jobs_server
    with chromium_page(width=1280, height=900) as page:
        log_in(page, base, "fitter")
        page.goto(f"{base}/batterydb/eis-tests/{test_id}/")
        assert "This test has not been analysed yet." in page.inner_text("#analysis")
        assert page.input_value("#id_kk_threshold") == "1"  # the default, in %
        # A λ out of range is named next to its field, and nothing starts.
        page.fill("#id_drt_lambda", "20")
        page.click("#analysis button[type=submit]")
        page.wait_for_url(f"{base}/batterydb/eis-tests/{test_id}/#analysis")
        error = page.locator("#drt-lambda-error")
        expect(error).to_contain_text("DRT regularisation λ: “20” is not a number from")
        expect(page.locator("#id_drt_lambda")).to_have_attribute("aria-invalid", "true")
        assert "This test has not been analysed yet." in page.inner_text("#analysis")
        page.fill("#id_drt_lambda", "")
        page.fill("#id_kk_threshold", "2.5")
        page.click("#analysis button[type=submit]")
        page.wait_for_url(f"{base}/batterydb/eis-tests/{test_id}/#analysis")
        # core/jobs.js follows the job and reloads the page once it is done.
        page.wait_for_selector(".job-progress.job-succeeded", timeout=60_000)
        assert "passed" in page.inner_text(".eis-kk")
        assert "threshold 2.5 %" in page.inner_text(".eis-kk")
        used = page.locator("dl.eis-used").inner_text()
        assert "2.5 % of |Z|" in used and "0.001" in used  # λ left empty: the default
        assert page.input_value("#id_kk_threshold") == "2.5"
        assert drawn_points(page, "#eis-nyquist") == (42, 2)  # the sweep and the fitted curve
        assert drawn_points(page, "#eis-bode-magnitude")[1] == 2
        assert drawn_points(page, "#eis-kk") == (42, 2)
        assert drawn_points(page, "#eis-drt")[1] == 1
        names = page.locator("table.eis-params tbody td:first-child").all_inner_texts()
        assert {"R0", "R1", "CPE1_0", "CPE1_1", "W1"} <= set(names)
        legend = page.locator("#eis-nyquist .u-legend .u-series").all_inner_texts()
        assert [label.strip() for label in legend] == ["Measured", "Fitted"]
        page.wait_for_load_state("networkidle")
        clean(page, "analysed test page")

        # At a phone's width the plots follow, and the page does not scroll sideways.
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        page.reload()
        drawn_points(page, "#eis-drt")
        assert_no_sideways_scroll(page, PHONE_WIDTH)
        clean(page, "analysed test page on a phone")

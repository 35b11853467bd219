"""The product page in a real browser (headless Chromium, marker ``browser``) against uvicorn,
which serves the page, the export and the WebSocket: the day's chart is drawn from the export,
the latest data turn live and change when a device sends a sample, with no console error and
no Content-Security-Policy violation, on a desktop and at a phone's width.

Run alone with ``.venv/bin/python -m pytest -m browser tests/voltstorage``.
"""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, chromium_page, clean
from tests.live import django_run, live, site_env, uvicorn

pytestmark = [
    pytest.mark.browser,
    live,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]

PASSWORD = "a-Password-for-the-browser-1"
TIMEOUT = 20_000  # ms

SETUP = f"""
import time
from core import services
from core.models import User
from voltstorage.models import Product, ProductType
from voltstorage.management.commands.voltstorage_simulate import simulate_product
user = User.objects.create_user(username="installer", email="installer@example.org",
                                password="{PASSWORD}")
organization = services.organization_create(name="Installer", owner=user)
kind = ProductType.objects.create(name="VoltStorage SMART")
product = Product.objects.create(organization=organization, type=kind, serial_number="WEB-1",
                                 timezone="UTC")
now = int(time.time() * 1000) // 60000 * 60000
# Two days, so that yesterday (UTC, the product's zone) is whole whatever the time of day.
simulate_product(product, start_ms=now - 2 * 86_400_000, end_ms=now, interval_ms=60_000, seed=1)
print(product.pk, services.api_key_create(user=user, name="device")[1])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("voltstorage-browser")
    env = site_env(directory)
    product, key = django_run(env, SETUP).split()
    with uvicorn(env, directory / "uvicorn.log") as running:
        yield running.url, int(product), key


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "installer")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/accounts/profile/")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_product_page_draws_the_day_and_follows_the_stream(server, width, height):
    base, product, key = server
    with chromium_page(width=width, height=height) as page:
        log_in(page, base)
        page.goto(f"{base}/voltstorage/products/")
        page.click("text=WEB-1")
        page.wait_for_url(f"{base}/voltstorage/products/{product}/")
        # Yesterday's page: a whole day of samples (today's may be minutes old).
        yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()
        page.goto(f"{base}/voltstorage/products/{product}/?day={yesterday}")

        page.wait_for_selector("#voltstorage-chart svg polyline", timeout=TIMEOUT)
        assert int(page.get_attribute("#voltstorage-chart", "data-points")) > 100
        assert page.locator("#voltstorage-legend li").count() == 5
        page.wait_for_selector("#voltstorage-live.ok", timeout=TIMEOUT)
        assert page.inner_text("#voltstorage-live") == "live"

        response = httpx.post(
            f"{base}/voltstorage/rest/products/{product}/data",
            json={"time": time.time(), "data": {"pvPower": 1234.5, "gridPower": -7}},
            headers={"Authorization": f"User {key}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        page.wait_for_function(
            "document.querySelector('td[data-field=\"pvPower\"]').textContent === '1234.5'",
            timeout=TIMEOUT,
        )
        assert page.inner_text('td[data-field="gridPower"]') == "-7"
        width_used = page.evaluate("document.documentElement.scrollWidth")
        assert width_used <= width, f"the page is {width_used}px wide at {width}px"
        clean(page, "product page")

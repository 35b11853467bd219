"""What people see: the product pages (latest data, the chart's data URL, no inline script,
404 beyond visibility, HTML errors under the API's prefix), the navigation link, the admin,
the demo data, the simulator and the OpenAPI document."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from core.management.commands.setupdemo import DEMO_ORGANIZATION
from core.models import Organization
from tests.factories import UserFactory
from tests.voltstorage.conftest import T0
from tests.voltstorage.factories import ComponentFactory, GroupFactory, ProductFactory
from voltstorage import catalogue, simulation
from voltstorage.demo import create_demo_data
from voltstorage.models import Product, Sample, Series

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_the_product_list_shows_the_user_s_products(browser, organization, outsider):
    mine = ProductFactory(organization=organization, serial_number="MINE-1")
    ProductFactory(organization=outsider.organizations.first(), serial_number="THEIRS-1")
    page = browser.get("/voltstorage/products/").content.decode()
    assert "MINE-1" in page and "THEIRS-1" not in page
    assert f'href="/voltstorage/products/{mine.pk}/"' in page
    assert 'href="/voltstorage/products/"' in page  # the navigation link


def test_the_product_page_shows_latest_data_and_hands_its_urls_to_its_script(
    browser, product, ingest
):
    ingest(product, {"time": T0, "data": {"pvPower": 421, "dcVoltage": 26.3}})
    response = browser.get(f"/voltstorage/products/{product.pk}/?day=2024-03-25")
    page = response.content.decode()

    assert response.status_code == 200
    assert re.search(r'data-field="pvPower">421<', page)
    assert re.search(r'data-field="dcVoltage">26.3<', page)
    assert f'data-stream-path="/voltstorage/rest/products/{product.pk}/stream"' in page
    export = re.search(r'data-export-url="([^"]+)"', page).group(1).replace("&amp;", "&")
    # The day in the product's time zone (Europe/Berlin, UTC+1 that day).
    assert f"productId={product.pk}&from=1711321200&to=1711407599" in export
    assert "maxPoints=2000" in export and "tz=60" in export
    # Scripts come from files only (the Content-Security-Policy allows no inline script).
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "/static/voltstorage/product.js" in page
    # The URL the script fetches answers.
    data = browser.get(export)
    assert data.status_code == 200
    assert b'"pvPower":421' in b"".join(data.streaming_content)


def test_the_product_page_of_another_organization_is_an_html_404(browser, outsider):
    theirs = ProductFactory(organization=outsider.organizations.first())
    response = browser.get(f"/voltstorage/products/{theirs.pk}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_pages_need_a_login(product):
    response = Client().get(f"/voltstorage/products/{product.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_admin_pages_open(organization, ingest, product):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    ingest(product, {"time": T0, "data": {"pvPower": 5}})
    GroupFactory(organization=organization)
    ComponentFactory(product=product)
    for url in (
        "/admin/voltstorage/product/",
        f"/admin/voltstorage/product/{product.pk}/change/",
        "/admin/voltstorage/group/",
        "/admin/voltstorage/producttype/",
        "/admin/voltstorage/component/",
        "/admin/voltstorage/series/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    change = client.get(f"/admin/voltstorage/product/{product.pk}/change/").content.decode()
    assert "pvPower: 5" in change


def test_demo_data_is_created_once_with_days_of_samples(organization):
    assert create_demo_data(organization=organization) is True
    products = list(Product.objects.filter(organization=organization))
    assert len(products) == 2
    for product in products:
        series = Series.objects.get(product=product, component__isnull=True)
        assert Sample.objects.filter(series=series).count() == 3 * 1440
        assert series.latest["pvPower"][1] >= 0
    assert create_demo_data(organization=organization) is False


def test_setupdemo_adds_voltstorage_s_demo_data():
    call_command("setupdemo", stdout=io.StringIO())
    organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    assert Product.objects.filter(organization=organization).count() == 2


def test_the_simulated_home_is_plausible():
    start = T0 - 12 * 3600
    times, values = simulation.simulate(
        start_ms=start * 1000, end_ms=(start + 2 * 86400) * 1000, interval_ms=10_000, seed=3
    )
    column = {spec.name: values[:, index] for index, spec in enumerate(catalogue.FIELDS)}
    assert len(times) == 2 * 8640 and not np.isnan(values).any()
    assert (column["pvPower"] >= 0).all() and column["pvPower"].max() > 1000
    assert (column["pvPower"][((times // 1000 + 3600) % 86400) < 3 * 3600] == 0).all()  # night
    assert ((column["stateOfCharge"] >= 0) & (column["stateOfCharge"] <= 1)).all()
    assert column["stateOfCharge"].max() - column["stateOfCharge"].min() > 0.2
    # The original's signs: grid import positive, storage discharging positive; the grid
    # takes what PV and storage leave (household = PV + inverter + grid, as in its CSV sample).
    balance = column["householdPower"] - column["pvPower"] - column["inverterPower"]
    assert np.abs(column["gridPower"] - balance).mean() < 100
    discharging = column["inverterPower"] > 1
    charging = column["inverterPower"] < -1
    assert discharging.any() and charging.any()
    assert (column["status"][discharging] == simulation.DISCHARGING).all()
    assert (column["status"][charging] == simulation.CHARGING).all()
    soc_change = np.diff(column["stateOfCharge"])
    # The charge falls while discharging and rises while charging (but where the minute's
    # flows are interpolated across a change of direction).
    assert (soc_change[discharging[1:] & discharging[:-1]] <= 0).mean() > 0.99
    assert (soc_change[charging[1:] & charging[:-1]] >= 0).mean() > 0.99
    same_sign = np.sign(column["storagePower"]) == np.sign(column["inverterPower"])
    assert same_sign[discharging | charging].mean() > 0.99
    # Discharging, the DC side passes more than the AC side delivers.
    electronics = column["powerElectronicsPower"]
    assert (electronics[discharging] >= column["inverterPower"][discharging]).mean() > 0.99
    assert (column["pumpTemperature"] > column["electrolyteTemperature"]).mean() > 0.95


@pytest.mark.parametrize("count", [0, 1, 2, 599, 601])
def test_a_window_of_any_length_is_simulated(count):
    # (Appending to a product simulates only the little time since its last sample.)
    start_ms = T0 * 1000
    times, values = simulation.simulate(
        start_ms=start_ms, end_ms=start_ms + count * 30_000, interval_ms=30_000, seed=5
    )
    assert times.shape == (count,) and values.shape == (count, len(catalogue.FIELDS))
    assert not np.isnan(values).any()


def test_the_simulator_command_writes_and_appends(organization):
    out = io.StringIO()
    call_command(
        "voltstorage_simulate",
        "--products",
        "1",
        "--days",
        "0.5",
        "--interval",
        "30",
        "--organization",
        str(organization.pk),
        stdout=out,
    )
    product = Product.objects.get(organization=organization)
    assert f"Product {product.pk}" in out.getvalue()
    assert Sample.objects.count() == 1440
    call_command(
        "voltstorage_simulate",
        "--product",
        str(product.pk),
        "--days",
        "0.5",
        "--interval",
        "30",
        stdout=io.StringIO(),
    )
    assert Sample.objects.count() >= 1440  # appended after the newest, never duplicated
    series = Series.objects.get(product=product)
    assert Sample.objects.filter(series=series).values("time").distinct().count() == (
        Sample.objects.count()
    )


def test_the_openapi_document_describes_the_api_and_its_error_shape(client):
    response = client.get("/api/schema/?format=json")
    document = response.json()
    paths = document["paths"]
    for path in (
        "/voltstorage/rest/login/password/",
        "/voltstorage/rest/products/",
        "/voltstorage/rest/products/{product_id}/",
        "/voltstorage/rest/products/{product_id}/statistics/",
        "/voltstorage/rest/data/export.csv/",
        "/voltstorage/rest/products/{product_id}/data/",
    ):
        assert path in paths, path
    products = paths["/voltstorage/rest/products/"]["get"]
    error = products["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/VoltStorageErrors"}
    assert (
        "SOC_State of Charge" in paths["/voltstorage/rest/data/export.csv/"]["get"]["description"]
    )
    assert {p["name"] for p in products["parameters"]} >= {"count", "page", "sort", "ids", "token"}

"""The EIS test web pages: login required, scoped to the user's organizations, the data
pivoted into one row per frequency."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from batterydb.demo import create_demo_data
from batterydb.models import EISTest
from tests.batterydb import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pages_mounted(settings):
    """Mount the pages as the root URLs will, and serve ``{% static %}`` without a manifest."""
    settings.ROOT_URLCONF = "tests.batterydb.urls"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def web_client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page_url(test) -> str:
    return reverse("batterydb-pages:eis-test-page", args=[test.pk])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def test_pages_are_mounted_under_batterydb(organization):
    assert reverse("batterydb-pages:eis-test-list") == "/batterydb/eis-tests/"
    assert reverse("batterydb-pages:eis-test-page", args=[7]) == "/batterydb/eis-tests/7/"


@pytest.mark.parametrize("name", ["list", "page"])
def test_anonymous_is_sent_to_log_in(organization, name):
    test = f.EISTestFactory(organization=organization)
    url = reverse("batterydb-pages:eis-test-list") if name == "list" else page_url(test)
    response = web_client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_shows_only_your_organizations_tests(organization, other_organization, viewer):
    mine = f.EISTestFactory(organization=organization)
    theirs = f.EISTestFactory(organization=other_organization)
    response = web_client(viewer).get(reverse("batterydb-pages:eis-test-list"))
    assert response.status_code == 200
    assert [t.pk for t in response.context["page"].object_list] == [mine.pk]
    assert page_url(mine) in text_of(response)
    assert page_url(theirs) not in text_of(response)
    assert mine.battery.battery_id in text_of(response)


def test_list_query_count_is_constant(organization, viewer, django_assert_max_num_queries):
    f.EISTestFactory.create_batch(20, organization=organization)
    client = web_client(viewer)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("batterydb-pages:eis-test-list")).status_code == 200


def test_another_organizations_test_is_404(organization, other_organization, viewer):
    theirs = f.EISTestFactory(organization=other_organization)
    client = web_client(viewer)
    assert client.get(page_url(theirs)).status_code == 404
    assert client.get(reverse("batterydb-pages:eis-test-page", args=[999999])).status_code == 404


def test_staff_see_any_test(other_organization, staff):
    theirs = f.EISTestFactory(organization=other_organization)
    assert web_client(staff).get(page_url(theirs)).status_code == 200


def test_page_pivots_the_sweep_by_frequency(organization, viewer):
    create_demo_data(organization=organization)
    test = EISTest.objects.filter(organization=organization).order_by("id").first()
    response = web_client(viewer).get(page_url(test))
    assert response.status_code == 200
    assert response.context["columns"] == ["z_real", "z_imag", "z_mod", "z_phase"]
    rows = response.context["rows"]
    assert len(rows) == 42
    assert [float(freq) for freq, _ in rows] == sorted((float(q) for q, _ in rows), reverse=True)
    assert rows[0][0] == "10000" and rows[-1][0] == "0.1"
    assert all(len(values) == 4 and all(values) for _, values in rows)
    assert response.context["scalars"] == [("ocv", "3.652")]
    page = text_of(response)
    assert "Impedance by frequency" in page and "ocv" in page and test.battery.battery_id in page
    assert reverse("batterydb:eis-test-detail", args=[test.pk]) in page


def test_a_test_without_data_says_so(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    response = web_client(viewer).get(page_url(test))
    assert response.status_code == 200
    assert "No data for this test yet." in text_of(response)


def test_a_missing_cell_stays_empty(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    f.EISDataFactory(test=test, frequency=100.0, parameter="z_real", value=0.5)
    f.EISDataFactory(test=test, frequency=10.0, parameter="z_imag", value=-0.25)
    f.EISDataFactory(test=test, frequency=10.0, parameter="temperature", value=25.0)
    response = web_client(viewer).get(page_url(test))
    assert response.context["columns"] == ["z_real", "z_imag", "temperature"]
    assert response.context["rows"] == [("100", ["0.5", "", ""]), ("10", ["", "-0.25", "25"])]

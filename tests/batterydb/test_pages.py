"""The EIS web pages: login required, scoped to the user's organizations; a test's page with
its data pivoted into one row per frequency (units in the headers, one number format, paged),
the plots' data, the CSV download and the links; the comparison page."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from batterydb.demo import create_demo_data, eis_rows
from batterydb.models import EISData, EISTest
from batterydb.pages.compare import MAX_COMPARE_TESTS
from batterydb.pages.eis import ROWS_PER_PAGE
from batterydb.pages.sweeps import thin
from batterydb.pages.units import DOUBLE_PRIME, PRIME, format_number
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
    assert rows[0][0] == "10000" and rows[-1][0] == "0.1000"
    assert all(len(values) == 4 and all(values) for _, values in rows)
    assert response.context["scalars"] == [("OCV (V)", "3.652")]
    page = text_of(response)
    assert "Impedance by frequency" in page and "OCV (V)" in page
    assert test.battery.battery_id in page
    assert reverse("batterydb:eis-test-detail", args=[test.pk]) in page


def test_headers_carry_units_and_impedances_are_in_milliohms_below_one_ohm(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    f.EISDataFactory(test=test, frequency=1000.0, parameter="z_real", value=0.0012345)
    f.EISDataFactory(test=test, frequency=1000.0, parameter="z_imag", value=-0.00045)
    f.EISDataFactory(test=test, frequency=1000.0, parameter="z_phase", value=-20.03)
    f.EISDataFactory(test=test, frequency=1000.0, parameter="temperature", value=25.0)
    response = web_client(viewer).get(page_url(test))
    assert response.context["headers"] == [
        f"Z{PRIME} (mΩ)",
        f"Z{DOUBLE_PRIME} (mΩ)",
        "Phase (°)",
        "Temperature (°C)",
    ]
    assert response.context["rows"] == [("1000", ["1.234", "-0.4500", "-20.03", "25.00"])]
    page = text_of(response)
    assert (
        '<th class="num">Frequency (Hz)</th>' in page
        and f'<th class="num">Z{PRIME} (mΩ)</th>' in page
    )


def test_impedances_of_an_ohm_or_more_stay_in_ohms(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    f.EISDataFactory(test=test, frequency=10.0, parameter="z_real", value=12.5)
    f.EISDataFactory(test=test, frequency=10.0, parameter="z_imag", value=-0.5)
    response = web_client(viewer).get(page_url(test))
    assert response.context["headers"] == [f"Z{PRIME} (Ω)", f"Z{DOUBLE_PRIME} (Ω)"]
    assert response.context["rows"] == [("10.00", ["12.50", "-0.5000"])]
    assert response.context["plot"]["unit"] == "Ω"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (10000, "10000"),
        (0.1, "0.1000"),
        (-3.14159, "-3.142"),
        (9.99996, "10.00"),
        (0.099996, "0.1000"),
        (123456.7, "123457"),
        (1.2345e-5, "1.234e-05"),
        (2.5e7, "2.500e+07"),
        (None, ""),
    ],
)
def test_one_number_format(value, text):
    assert format_number(value) == text


def test_the_plots_get_the_whole_sweep_by_rising_frequency(organization, viewer):
    create_demo_data(organization=organization)
    test = EISTest.objects.filter(organization=organization).order_by("id").first()
    response = web_client(viewer).get(page_url(test))
    plot = response.context["plot"]
    assert plot["unit"] == "mΩ"
    sweep = plot["sweep"]
    assert sweep["points"] == sweep["total"] == 42
    assert sweep["frequency"] == sorted(sweep["frequency"])
    assert sweep["frequency"][0] == 0.1 and sweep["frequency"][-1] == 10000
    assert all(len(sweep[name]) == 42 for name in ("z_real", "z_imag", "z_mod", "z_phase"))
    # Stored in ohms, drawn in milliohms; |Z| derived from Z' and Z'' agrees with the stored.
    stored = dict(
        test.data.filter(frequency=10000, parameter="z_mod").values_list("parameter", "value")
    )
    assert sweep["z_mod"][-1] == pytest.approx(stored["z_mod"] * 1000, rel=1e-5)
    page = text_of(response)
    assert 'id="eis-plot-data" type="application/json"' in page
    assert "batterydb/vendor/uPlot.iife.min.js" in page and "batterydb/eis.js" in page
    assert "<script>" not in page  # no inline script


def test_a_sweep_of_magnitude_and_phase_is_plotted_too(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    f.EISDataFactory(test=test, frequency=1.0, parameter="z_mod", value=2.0)
    f.EISDataFactory(test=test, frequency=1.0, parameter="z_phase", value=-90.0)
    sweep = web_client(viewer).get(page_url(test)).context["plot"]["sweep"]
    assert sweep["z_real"] == [pytest.approx(0.0, abs=1e-9)]
    assert sweep["z_imag"] == [-2.0] and sweep["z_mod"] == [2.0]
    assert sweep["points"] == 1


def test_long_sweeps_are_paged_and_thinned_for_the_plots(organization, viewer, settings):
    test = f.EISTestFactory(organization=organization)
    rows = [
        EISData(
            organization=organization,
            test=test,
            frequency=10 ** (k / 100),
            parameter=parameter,
            value=value,
        )
        for k in range(120)
        for parameter, value in (("z_real", 0.001 * (k + 1)), ("z_imag", -0.0005))
    ]
    EISData.objects.bulk_create(rows)
    client = web_client(viewer)
    first = client.get(page_url(test))
    assert first.context["frequency_count"] == 120
    assert len(first.context["rows"]) == ROWS_PER_PAGE
    assert first.context["rows_page"].paginator.num_pages == 3
    assert 'href="?page=2"' in text_of(first)
    last = client.get(page_url(test) + "?page=3")
    assert len(last.context["rows"]) == 120 - 2 * ROWS_PER_PAGE
    assert last.context["rows"][-1][0] == "1.000"
    assert last.context["plot"]["sweep"]["points"] == 120


def test_thinning_keeps_the_limit_and_both_ends():
    kept = thin(12_345, 5000)
    assert len(kept) == 5000 and kept[0] == 0 and kept[-1] == 12_344
    assert kept == sorted(set(kept))
    assert thin(42) == list(range(42))


def test_the_page_links_the_csv_report_battery_and_device(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    page = text_of(web_client(viewer).get(page_url(test)))
    list_url = reverse("batterydb-pages:eis-test-list")
    assert f"/api/v2/eis/tests/report/?test={test.pk}&format=csv" in page
    assert f"{list_url}?battery={test.battery_id}" in page
    assert f"{list_url}?device={test.device_id}" in page
    assert f"{reverse('batterydb-pages:eis-compare')}?battery={test.battery_id}" in page


def test_the_csv_link_downloads_the_tests_report(organization, viewer):
    create_demo_data(organization=organization)
    test = EISTest.objects.filter(organization=organization).order_by("id").first()
    client = web_client(viewer)
    csv_url = client.get(page_url(test)).context["csv_url"]
    response = client.get(csv_url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, row = response.content.decode().splitlines()[:2]
    assert header.startswith("battery_id,z_real_0,")
    assert row.startswith(f"{test.battery.battery_id},")


def test_the_list_narrows_to_a_battery_or_a_device(organization, other_organization, viewer):
    battery = f.BatteryFactory(organization=organization)
    mine = f.EISTestFactory(organization=organization, battery=battery)
    other = f.EISTestFactory(organization=organization)
    client = web_client(viewer)
    listed = client.get(reverse("batterydb-pages:eis-test-list") + f"?battery={battery.pk}")
    assert [t.pk for t in listed.context["page"].object_list] == [mine.pk]
    assert f"of battery {battery.battery_id}" in text_of(listed)
    by_device = client.get(reverse("batterydb-pages:eis-test-list") + f"?device={other.device_id}")
    assert [t.pk for t in by_device.context["page"].object_list] == [other.pk]
    theirs = f.BatteryFactory(organization=other_organization)
    assert (
        client.get(f"{reverse('batterydb-pages:eis-test-list')}?battery={theirs.pk}").status_code
        == 404
    )
    for raw in ["abc", "\u00b9", "\u0661", "99999999999999999999"]:  # ¹ and Arabic-Indic 1
        bad = client.get(reverse("batterydb-pages:eis-test-list"), {"battery": raw})
        assert bad.status_code == 400 and "battery:" in text_of(bad)


# --- the comparison page ---------------------------------------------------------------------


def compare_url(query: str = "") -> str:
    return reverse("batterydb-pages:eis-compare") + query


def aged_test(organization, battery, *, days: int, ageing: float) -> EISTest:
    test = f.EISTestFactory(
        organization=organization,
        battery=battery,
        completed_at=timezone.now() - dt.timedelta(days=days),
    )
    EISData.objects.bulk_create(eis_rows(test, ageing=ageing, ocv=3.65))
    return test


def test_the_comparison_overlays_a_batterys_tests_by_date(
    organization, viewer, django_assert_max_num_queries
):
    battery = f.BatteryFactory(organization=organization)
    tests = [aged_test(organization, battery, days=d, ageing=a) for d, a in ((10, 1.2), (30, 1.0))]
    f.EISTestFactory(organization=organization)  # another battery's
    client = web_client(viewer)
    with django_assert_max_num_queries(7):
        response = client.get(compare_url(f"?battery={battery.pk}"))
    assert response.status_code == 200
    plotted = response.context["plot"]["tests"]
    assert [t["id"] for t in plotted] == [tests[1].pk, tests[0].pk]  # oldest first
    assert [t["colour"] for t in plotted] == [0, 1]
    assert all(len(t["z_real"]) == 42 for t in plotted)
    page = text_of(response)
    assert f"of battery {battery.battery_id}" in page
    assert 'id="eis-compare-data" type="application/json"' in page
    assert page.count('class="swatch swatch-') == 2


def test_the_comparison_query_count_does_not_grow_with_tests(
    organization, viewer, django_assert_max_num_queries
):
    battery = f.BatteryFactory(organization=organization)
    ids = [aged_test(organization, battery, days=d, ageing=1.0).pk for d in range(12)]
    client = web_client(viewer)
    with django_assert_max_num_queries(6):
        response = client.get(compare_url("?tests=" + ",".join(map(str, ids))))
    assert len(response.context["plot"]["tests"]) == 12


def test_the_comparison_takes_ids_repeated_or_comma_separated(organization, viewer):
    a, b, c = (f.EISTestFactory(organization=organization) for _ in range(3))
    client = web_client(viewer)
    one = client.get(compare_url(f"?tests={a.pk},{b.pk}&tests={c.pk}"))
    assert {t["id"] for t in one.context["plot"]["tests"]} == {a.pk, b.pk, c.pk}


def test_the_comparison_refuses_bad_ids_and_too_many_tests(organization, viewer):
    client = web_client(viewer)
    bad = client.get(compare_url("?tests=1,x"))
    assert bad.status_code == 400 and "tests: test ids are positive integers; got x." in text_of(
        bad
    )
    too_many = ",".join(str(i) for i in range(1, MAX_COMPARE_TESTS + 2))
    response = client.get(compare_url(f"?tests={too_many}"))
    assert response.status_code == 400
    assert f"at most {MAX_COMPARE_TESTS} tests" in text_of(response)
    assert client.get(compare_url("?battery=-1")).status_code == 400
    # Digits that str.isdigit accepts and int refuses are bad ids too, not a server error.
    assert client.get(compare_url("?battery=\u00b9")).status_code == 400
    assert client.get(compare_url("?tests=1,\u00b9")).status_code == 400


def test_a_batterys_comparison_takes_its_latest_tests_up_to_the_limit(organization, viewer):
    battery = f.BatteryFactory(organization=organization)
    tests = [
        f.EISTestFactory(
            organization=organization,
            battery=battery,
            completed_at=timezone.now() - dt.timedelta(days=d),
        )
        for d in range(MAX_COMPARE_TESTS + 3)
    ]
    response = web_client(viewer).get(compare_url(f"?battery={battery.pk}"))
    shown = [t["id"] for t in response.context["plot"]["tests"]]
    assert len(shown) == MAX_COMPARE_TESTS
    assert set(shown) == {t.pk for t in tests[:MAX_COMPARE_TESTS]}
    assert f"The battery's latest {MAX_COMPARE_TESTS} tests." in text_of(response)


def test_other_organizations_tests_and_batteries_are_404(organization, other_organization, viewer):
    mine = f.EISTestFactory(organization=organization)
    theirs = f.EISTestFactory(organization=other_organization)
    client = web_client(viewer)
    assert client.get(compare_url(f"?tests={mine.pk},{theirs.pk}")).status_code == 404
    assert client.get(compare_url(f"?battery={theirs.battery_id}")).status_code == 404


def test_the_comparison_without_tests_asks_for_them(organization, viewer):
    response = web_client(viewer).get(compare_url())
    assert response.status_code == 200
    assert "Tick tests in the" in text_of(response)


def test_anonymous_is_sent_to_log_in_from_the_comparison(organization):
    response = web_client().get(compare_url("?tests=1"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_test_without_data_says_so(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    response = web_client(viewer).get(page_url(test))
    assert response.status_code == 200
    page = text_of(response)
    assert "No data for this test yet." in page
    assert "eis-plot-data" not in page and "Impedance plots" not in page


def test_a_missing_cell_stays_empty(organization, viewer):
    test = f.EISTestFactory(organization=organization)
    f.EISDataFactory(test=test, frequency=100.0, parameter="z_real", value=0.5)
    f.EISDataFactory(test=test, frequency=10.0, parameter="z_imag", value=-0.25)
    f.EISDataFactory(test=test, frequency=10.0, parameter="temperature", value=25.0)
    response = web_client(viewer).get(page_url(test))
    assert response.context["columns"] == ["z_real", "z_imag", "temperature"]
    assert response.context["rows"] == [
        ("100.0", ["500.0", "", ""]),
        ("10.00", ["", "-250.0", "25.00"]),
    ]
    # Neither frequency has both Z' and Z'': nothing to plot.
    assert response.context["plot"]["sweep"]["points"] == 0


def test_a_page_reads_at_most_its_row_limit_and_says_so(organization, viewer, monkeypatch):
    from batterydb.pages import sweeps

    monkeypatch.setattr(sweeps, "MAX_PAGE_ROWS", 10)
    test = f.EISTestFactory(organization=organization)
    small = f.EISTestFactory(organization=organization)
    for frequency in range(1, 9):  # 16 rows: more than the page reads
        for parameter, v in (("z_real", 0.02), ("z_imag", -0.01)):
            f.EISDataFactory(test=test, frequency=float(frequency), parameter=parameter, value=v)
    f.EISDataFactory(test=small, frequency=1.0, parameter="z_real", value=0.02)
    client = web_client(viewer)

    page = client.get(reverse("batterydb-pages:eis-test-page", args=[test.pk]))
    assert page.context["frequency_count"] == 5  # the 10 rows of the 5 highest frequencies
    assert "data rows a page reads: the plots and the table show its highest" in text_of(page)
    whole = client.get(reverse("batterydb-pages:eis-test-page", args=[small.pk]))
    assert "data rows a page reads" not in text_of(whole)

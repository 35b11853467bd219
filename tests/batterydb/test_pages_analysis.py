"""The analysis on an EIS test's page: the form that starts it (members, CSRF), the job's
progress, the results once the job ran (KK pass or fail, fitted parameters with their
uncertainties in the page's unit, the fitted curve, KK residuals and DRT for the plots), the
stale flag; and the fitted resistances on the comparison page."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from batterydb.models import EISAnalysis
from core.jobs import Job
from tests.batterydb import factories as f
from tests.batterydb.analysis_support import R0, R1, drifted, store_sweep, synthetic_sweep

pytestmark = pytest.mark.django_db


def web_client(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def page_url(test) -> str:
    return reverse("batterydb-pages:eis-test-page", args=[test.pk])


def analyse_url(test) -> str:
    return reverse("batterydb-pages:eis-test-analyse", args=[test.pk])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def swept_test(organization):
    test = f.EISTestFactory(organization=organization)
    store_sweep(test, synthetic_sweep())
    return test


def test_a_member_starts_the_analysis_from_the_page_and_sees_its_results(
    swept_test, member, run_jobs
):
    client = web_client(member)
    page = text_of(client.get(page_url(swept_test)))
    assert "This test has not been analysed yet." in page
    assert f'action="{analyse_url(swept_test)}"' in page and "Run the analysis" in page

    response = client.post(analyse_url(swept_test), {"circuit": ""})
    assert response.status_code == 302
    assert response["Location"] == page_url(swept_test) + "#analysis"
    analysis = EISAnalysis.objects.get(test=swept_test)
    assert analysis.job.status == Job.Status.QUEUED
    queued = text_of(client.get(page_url(swept_test)))
    assert "The analysis has started." in queued
    assert 'class="job-progress job-queued"' in queued and "core/jobs.js" in queued

    run_jobs()
    response = client.get(page_url(swept_test))
    done = text_of(response)
    assert 'class="job-progress job-succeeded"' in done and "core/jobs.js" not in done
    assert "Kramers-Kronig test" in done and ">passed</span>" in done
    fit = response.context["fit"]
    # The sweep's true R0 and R1 (ohms), fitted back and shown in milliohms.
    assert float(fit["ohmic"]) == pytest.approx(R0 * 1000, rel=0.05)
    assert float(fit["charge_transfer"]) == pytest.approx(R1 * 1000, rel=0.1)
    parameters = {row["name"]: row for row in fit["parameters"]}
    assert {"R0", "R1", "CPE1_0", "CPE1_1", "W1"} <= set(parameters)
    assert parameters["R0"]["unit"] == "mΩ" and parameters["R0"]["stderr"]
    assert "Standard error" in done and "Run the analysis again" in done
    plot = response.context["plot"]
    assert len(plot["fit"]["frequency"]) == 42
    assert plot["fit"]["frequency"] == sorted(plot["fit"]["frequency"])
    assert plot["fit"]["z_real"][0] == pytest.approx(plot["sweep"]["z_real"][0], rel=0.05)
    assert len(plot["kk"]["real"]) == 42 and plot["kk"]["threshold"] == pytest.approx(1.0)
    assert plot["drt"]["tau"] == sorted(plot["drt"]["tau"]) and plot["drt"]["gamma"]
    assert 'id="eis-kk"' in done and 'id="eis-drt"' in done


def test_a_drifting_sweep_fails_the_kk_test_on_the_page(organization, member, run_jobs):
    test = f.EISTestFactory(organization=organization)
    store_sweep(test, drifted(synthetic_sweep()))
    client = web_client(member)
    client.post(analyse_url(test))
    run_jobs()
    response = client.get(page_url(test))
    assert response.context["kk"]["passed"] is False
    assert ">failed</span>" in text_of(response)


def test_the_circuit_of_the_form_is_used_and_a_bad_one_is_refused(swept_test, member, run_jobs):
    client = web_client(member)
    response = client.post(analyse_url(swept_test), {"circuit": "R0-p(R1,Q9"}, follow=True)
    assert "circuit: " in text_of(response)
    assert not EISAnalysis.objects.filter(test=swept_test).exists()
    client.post(analyse_url(swept_test), {"circuit": "R0-p(R1,C1)"})
    run_jobs()
    response = client.get(page_url(swept_test))
    assert response.context["fit"]["circuit"] == "R0-p(R1,C1)"
    assert {row["name"] for row in response.context["fit"]["parameters"]} == {"R0", "R1", "C1"}


def test_new_data_mark_the_analysis_stale_on_the_page(swept_test, member, run_jobs, client_for):
    web = web_client(member)
    web.post(analyse_url(swept_test))
    run_jobs()
    assert "stale</span>" not in text_of(web.get(page_url(swept_test)))
    api = client_for(member)
    response = api.post(
        reverse("batterydb:eis-data-list") + "?on_conflict=replace",
        [{"test": swept_test.pk, "frequency": None, "parameter": "ocv", "value": 3.7}],
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "stale</span>" in text_of(web.get(page_url(swept_test)))


def test_a_viewer_sees_no_form_and_may_not_post(swept_test, viewer):
    client = web_client(viewer)
    assert "Run the analysis" not in text_of(client.get(page_url(swept_test)))
    assert client.post(analyse_url(swept_test)).status_code == 403
    assert not EISAnalysis.objects.filter(test=swept_test).exists()


def test_another_organizations_test_cannot_be_analysed(other_organization, member):
    theirs = f.EISTestFactory(organization=other_organization)
    assert web_client(member).post(analyse_url(theirs)).status_code == 404


def test_anonymous_is_sent_to_log_in_and_get_is_not_allowed(swept_test, member):
    response = web_client().post(analyse_url(swept_test))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert web_client(member).get(analyse_url(swept_test)).status_code == 405


def test_the_form_needs_the_csrf_token(swept_test, member):
    client = web_client(member, enforce_csrf_checks=True)
    assert client.post(analyse_url(swept_test)).status_code == 403
    assert not EISAnalysis.objects.filter(test=swept_test).exists()


def test_the_comparison_charts_fitted_resistances_by_date(organization, member, run_jobs):
    battery = f.BatteryFactory(organization=organization)
    tests = []
    for scale in (1.0, 1.3):
        test = f.EISTestFactory(organization=organization, battery=battery)
        store_sweep(test, synthetic_sweep(scale=scale))
        tests.append(test)
    unanalysed = f.EISTestFactory(organization=organization, battery=battery)
    store_sweep(unanalysed, synthetic_sweep())
    client = web_client(member)
    for test in tests:
        client.post(analyse_url(test))
    run_jobs()
    response = client.get(reverse("batterydb-pages:eis-compare") + f"?battery={battery.pk}")
    fits = response.context["plot"]["fits"]
    assert [point["id"] for point in fits] == [t.pk for t in tests]
    assert fits[0]["ohmic"] == pytest.approx(R0 * 1000, rel=0.05)
    assert fits[1]["ohmic"] == pytest.approx(R0 * 1300, rel=0.05)
    assert fits[1]["charge_transfer"] > fits[0]["charge_transfer"]
    page = text_of(response)
    assert 'id="eis-compare-fits"' in page and "R0 (mΩ)" in page


def test_the_analysed_page_costs_a_fixed_number_of_queries(
    swept_test, member, run_jobs, django_assert_max_num_queries
):
    client = web_client(member)
    client.post(analyse_url(swept_test))
    run_jobs()
    client.get(page_url(swept_test))  # the session's first read
    with django_assert_max_num_queries(6):
        assert client.get(page_url(swept_test)).status_code == 200


def test_a_failed_analysis_shows_why(organization, member, run_jobs):
    test = f.EISTestFactory(organization=organization)
    for frequency in (1000.0, 100.0):
        f.EISDataFactory(test=test, frequency=frequency, parameter="z_real", value=0.02)
        f.EISDataFactory(test=test, frequency=frequency, parameter="z_imag", value=-0.001)
    client = web_client(member)
    client.post(analyse_url(test))
    run_jobs()
    job = EISAnalysis.objects.get(test=test).job
    assert job.status == Job.Status.FAILED and job.error
    page = text_of(client.get(page_url(test)))
    assert 'class="job-progress job-failed"' in page and job.error in page
    assert "No results yet." not in page and "Run the analysis again" in page

"""The analysis on an EIS test's page: the form that starts it (members, CSRF; the circuit,
the Kramers-Kronig threshold in % and the DRT's λ, prefilled, validated as the API validates
them, a bad value named on the page), the job's progress, the results once the job ran (KK
pass or fail, the threshold and λ they used, fitted parameters with their uncertainties in the
page's unit, the fitted curve, KK residuals and DRT for the plots), the stale flag; and the
fitted resistances on the comparison page."""

from __future__ import annotations

import html
import re

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


def field_html(page: str, name: str) -> str:
    """The ``<input>`` tag of the form's field ``name``."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def attribute(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return match and match.group(1)


def test_the_form_offers_the_threshold_and_lambda_with_their_defaults(swept_test, member):
    page = text_of(web_client(member).get(page_url(swept_test)))
    expected = {
        "circuit": ("Equivalent circuit", "R0-p(R1,CPE1)-W1", "R0-p(R1,CPE1)-W1"),
        "kk_threshold": ("Kramers-Kronig threshold (% of |Z|)", "1", "default 1 %"),
        "drt_lambda": ("DRT regularisation λ (dimensionless)", "0.001", "default 0.001"),
    }
    for name, (label, value, help_says) in expected.items():
        tag = field_html(page, name)
        assert f'<label for="id_{name}">{label}</label>' in page
        assert attribute(tag, "id") == f"id_{name}" and attribute(tag, "value") == value
        assert attribute(tag, "aria-invalid") is None
        (described,) = attribute(tag, "aria-describedby").split()
        help_text = re.search(rf'<p class="helptext" id="{described}">(.*?)</p>', page, re.S)
        assert help_text and help_says in re.sub(r"<[^>]+>", "", help_text.group(1))
    words = re.sub(r"<[^>]+>", "", page)
    assert "From 0.0001 to 100; default 1 %." in words
    assert "From 1e-08 to 10, e.g. 1e-4; default 0.001." in words


def test_a_good_post_starts_the_job_with_the_forms_parameters(
    swept_test, member, run_jobs, client_for
):
    client = web_client(member)
    response = client.post(
        analyse_url(swept_test),
        {"circuit": " R0-p(R1,C1) ", "kk_threshold": "0.7", "drt_lambda": "1e-4"},
    )
    assert response.status_code == 302
    asked = {"circuit": "R0-p(R1,C1)", "kk_threshold": 0.007, "drt_lambda": 0.0001}
    job = EISAnalysis.objects.get(test=swept_test).job
    assert job.status == Job.Status.QUEUED
    assert {name: job.params[name] for name in asked} == asked
    api = client_for(member).get(reverse("batterydb:eis-test-analysis", args=[swept_test.pk]))
    assert api.status_code == 200 and api.json()["params"] == asked

    run_jobs()
    response = client.get(page_url(swept_test))
    assert response.context["used"] == {"kk_threshold": "0.7", "drt_lambda": "0.0001"}
    page = text_of(response)
    assert "<dt>Kramers-Kronig threshold</dt><dd>0.7 % of |Z|</dd>" in page
    assert "<dt>DRT regularisation λ</dt><dd>0.0001</dd>" in page
    assert "threshold 0.7 %." in page
    assert response.context["plot"]["kk"]["threshold"] == pytest.approx(0.7)
    # The form asks again what the analysis asked.
    assert attribute(field_html(page, "circuit"), "value") == "R0-p(R1,C1)"
    assert attribute(field_html(page, "kk_threshold"), "value") == "0.7"
    assert attribute(field_html(page, "drt_lambda"), "value") == "0.0001"
    api = client_for(member).get(reverse("batterydb:eis-test-analysis", args=[swept_test.pk]))
    body = api.json()
    assert body["kk"]["threshold"] == 0.007 and body["drt"]["lambda"] == 0.0001

    # Sent back unchanged, the form starts the same analysis again.
    fields = {name: attribute(field_html(page, name), "value") for name in asked}
    client.post(analyse_url(swept_test), fields)
    again = EISAnalysis.objects.get(test=swept_test).job
    assert again.pk != job.pk and {name: again.params[name] for name in asked} == asked


def test_empty_fields_start_the_analysis_with_the_defaults(swept_test, member):
    web_client(member).post(
        analyse_url(swept_test), {"circuit": "", "kk_threshold": " ", "drt_lambda": ""}
    )
    assert EISAnalysis.objects.get(test=swept_test).params == {
        "circuit": "R0-p(R1,CPE1)-W1",
        "kk_threshold": 0.01,
        "drt_lambda": 0.001,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kk_threshold", "150", "Kramers-Kronig threshold: “150” is not a percentage from"),
        ("kk_threshold", "0", "Kramers-Kronig threshold: “0” is not a percentage from"),
        ("kk_threshold", "-1", "Kramers-Kronig threshold: “-1” is not a percentage from"),
        ("kk_threshold", "one", "Kramers-Kronig threshold: “one” is not a percentage from"),
        ("kk_threshold", "nan", "Kramers-Kronig threshold: “nan” is not a percentage from"),
        ("kk_threshold", "1e999", "Kramers-Kronig threshold: “1e999” is not a percentage"),
        ("drt_lambda", "100", "DRT regularisation λ: “100” is not a number from 1e-08 to 10."),
        ("drt_lambda", "1e-9", "DRT regularisation λ: “1e-9” is not a number from 1e-08 to 10."),
        ("drt_lambda", "inf", "DRT regularisation λ: “inf” is not a number from 1e-08 to 10."),
        ("drt_lambda", "0,001", "DRT regularisation λ: “0,001” is not a number from"),
        ("circuit", "R0-p(R1,Q9", "Equivalent circuit: "),
    ],
)
def test_a_bad_value_is_named_on_the_page_and_starts_nothing(
    swept_test, member, field, value, message
):
    client = web_client(member)
    fields = {"circuit": "", "kk_threshold": "2", "drt_lambda": "0.01", field: value}
    response = client.post(analyse_url(swept_test), fields)
    assert response.status_code == 302
    assert response["Location"] == page_url(swept_test) + "#analysis"
    assert not EISAnalysis.objects.filter(test=swept_test).exists()
    page = text_of(client.get(page_url(swept_test)))
    assert message in page and "The analysis has started." not in page
    # The field says it is wrong, next to it and to assistive technology; the values typed stay.
    tag = field_html(page, field)
    assert attribute(tag, "aria-invalid") == "true"
    error_id = attribute(tag, "aria-describedby").split()[0]
    assert re.search(rf'id="{error_id}">{re.escape(message)}', page)
    for name, typed in fields.items():
        assert attribute(field_html(page, name), "value") == typed
    # Once: the next visit shows the form as it was.
    again = text_of(client.get(page_url(swept_test)))
    assert message not in again and 'aria-invalid="true"' not in again
    assert attribute(field_html(again, "kk_threshold"), "value") == "1"


def test_a_bad_value_leaves_the_current_analysis_alone(swept_test, member, run_jobs):
    client = web_client(member)
    client.post(analyse_url(swept_test), {"kk_threshold": "2"})
    run_jobs()
    analysis = EISAnalysis.objects.get(test=swept_test)
    response = client.post(analyse_url(swept_test), {"kk_threshold": "2", "drt_lambda": "-1"})
    assert response.status_code == 302
    assert EISAnalysis.objects.get(test=swept_test).job_id == analysis.job_id
    assert Job.objects.filter(params__test=swept_test.pk).count() == 1
    page = text_of(client.get(page_url(swept_test)))
    assert "DRT regularisation λ: “-1” is not a number" in page
    assert "<dt>Kramers-Kronig threshold</dt><dd>2 % of |Z|</dd>" in page


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

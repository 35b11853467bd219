"""``eis/tests/{id}/analysis/`` and ``eis/analyses/`` through the API: the permission matrix,
404 before an analysis, 202 then 200 with results after the job, stale after new data,
restarts, bad input naming the field, the list's filters and its query count, and the
report's fit columns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from batterydb.analysis import DEFAULT_CIRCUIT, DEFAULT_DRT_LAMBDA, DEFAULT_KK_THRESHOLD
from batterydb.models import EISAnalysis
from batterydb.services.analysis import eis_analyses_mark_stale, eis_analysis_run
from core.jobs import Job
from core.models import Membership
from tests.batterydb.analysis_support import (
    R0,
    R1,
    EISAnalysisFactory,
    drifted,
    store_sweep,
    sweep_rows,
    synthetic_sweep,
)
from tests.batterydb.factories import BatteryFactory, EISTestFactory
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

LIST = reverse("batterydb:eis-analysis-list")


def url(test) -> str:
    return reverse("batterydb:eis-test-analysis", args=[test.pk])


@pytest.fixture
def test(organization):
    test = EISTestFactory(organization=organization)
    store_sweep(test, synthetic_sweep())
    return test


def analysed(client, test, run_jobs, **body):
    response = client.post(url(test), body, format="json")
    assert response.status_code == 202, response.content
    run_jobs()
    response = client.get(url(test))
    assert response.status_code == 200
    return response.json()


# --- the whole path ----------------------------------------------------------------------------
def test_get_before_any_analysis_is_404(client_for, viewer, test):
    response = client_for(viewer).get(url(test))
    assert response.status_code == 404
    assert "not been analysed" in response.json()["detail"]


def test_post_answers_202_queued_then_get_answers_the_results(client_for, member, test, run_jobs):
    client = client_for(member)
    response = client.post(url(test), {}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["progress"] == 0
    assert body["kk"] is None and body["fit"] is None and body["drt"] is None
    assert body["params"] == {
        "circuit": DEFAULT_CIRCUIT,
        "kk_threshold": DEFAULT_KK_THRESHOLD,
        "drt_lambda": DEFAULT_DRT_LAMBDA,
    }
    assert client.get(url(test)).json()["status"] == "queued"
    (job,) = run_jobs()
    assert job.status == Job.Status.SUCCEEDED, job.error
    body = client.get(url(test)).json()
    assert body["status"] == "succeeded"
    assert body["progress"] == 1
    assert body["stale"] is False
    assert body["error"] == ""
    assert body["kk"]["passed"] is True
    assert body["kk"]["threshold"] == DEFAULT_KK_THRESHOLD
    assert len(body["kk"]["residuals"]["real"]) == 42
    fit = body["fit"]
    assert fit["circuit"] == DEFAULT_CIRCUIT
    assert fit["ohmic_resistance"] == pytest.approx(R0, rel=0.02)
    assert fit["charge_transfer_resistance"] == pytest.approx(R1, rel=0.03)
    assert set(fit["parameters"]) == {"R0", "R1", "CPE1_0", "CPE1_1", "W1"}
    assert set(fit["parameters"]["R1"]) >= {"value", "stderr"}
    assert len(fit["curve"]["z_real"]) == 42
    assert len(body["drt"]["tau"]) == len(body["drt"]["gamma"])
    assert body["ohmic_resistance"] == fit["ohmic_resistance"]
    assert body["test"] == test.pk and body["battery"] == test.battery_id


def test_user_parameters_are_used(client_for, member, test, run_jobs):
    body = analysed(
        client_for(member),
        test,
        run_jobs,
        circuit="R0-p(R1,C1)",
        kk_threshold=1e-6,
        drt_lambda=0.1,
    )
    assert body["fit"]["circuit"] == "R0-p(R1,C1)"
    assert set(body["fit"]["parameters"]) == {"R0", "R1", "C1"}
    assert body["kk"]["passed"] is False  # nothing passes a 1e-6 threshold with noise
    assert body["drt"]["lambda"] == 0.1


def test_kk_fails_on_a_drifting_sweep(client_for, member, organization, run_jobs):
    test = EISTestFactory(organization=organization)
    store_sweep(test, drifted(synthetic_sweep()))
    body = analysed(client_for(member), test, run_jobs)
    assert body["kk"]["passed"] is False
    assert body["kk_passed"] is False


def test_new_data_make_the_analysis_stale_and_a_restart_fresh(client_for, member, test, run_jobs):
    client = client_for(member)
    first = analysed(client, test, run_jobs)
    rows = sweep_rows(test.pk, synthetic_sweep(seed=99) * 1.1)
    response = client.post(
        reverse("batterydb:eis-data-list") + "?on_conflict=replace", rows, format="json"
    )
    assert response.status_code == 201
    body = client.get(url(test)).json()
    assert body["stale"] is True
    assert body["fit"] == first["fit"]  # the old results stay until new ones are written
    again = analysed(client, test, run_jobs)
    assert again["stale"] is False
    assert again["job"] != first["job"]
    assert again["ohmic_resistance"] == pytest.approx(R0 * 1.1, rel=0.03)


def test_data_changed_while_the_job_ran_leave_it_stale(client_for, member, test):
    client_for(member).post(url(test), {}, format="json")
    job = EISAnalysis.objects.get(test=test).job

    def data_arrive_meanwhile(fraction: float) -> None:
        eis_analyses_mark_stale(test_ids=[test.pk])

    result = eis_analysis_run(job, data_arrive_meanwhile)
    assert result["kk_passed"] is True
    analysis = EISAnalysis.objects.get(test=test)
    assert analysis.fit is not None
    assert analysis.stale is True
    assert analysis.analysed_version < analysis.data_version
    # Run again with quiet data: fresh (the job is idempotent).
    assert eis_analysis_run(job, lambda fraction: None)["test"] == test.pk
    analysis.refresh_from_db()
    assert analysis.stale is False
    assert analysis.analysed_version == analysis.data_version


def test_a_restart_supersedes_the_running_job(client_for, member, test, run_jobs):
    client = client_for(member)
    client.post(url(test), {"circuit": "R0-p(R1,C1)"}, format="json")
    client.post(url(test), {}, format="json")
    jobs = run_jobs()
    assert len(jobs) == 2
    assert jobs[0].result == {"superseded": True}
    body = client.get(url(test)).json()
    assert body["fit"]["circuit"] == DEFAULT_CIRCUIT
    assert body["job"] == jobs[1].pk


def test_too_few_points_fail_the_job_saying_why(client_for, member, organization, run_jobs):
    test = EISTestFactory(organization=organization)
    store_sweep(test, synthetic_sweep()[:5], frequencies=[1.0, 2.0, 3.0, 4.0, 5.0])
    client = client_for(member)
    client.post(url(test), {}, format="json")
    (job,) = run_jobs()
    assert job.status == Job.Status.FAILED
    body = client.get(url(test)).json()
    assert body["status"] == "failed"
    assert "5 frequencies" in body["error"] and "at least 8" in body["error"]
    assert body["kk"] is None


@pytest.mark.parametrize(
    ("frequencies", "message"),
    [
        (np.logspace(-300, 300, 8), "Frequencies from 1e-06 to 1e+10 Hz are analysed"),
        (np.logspace(-1, 5, 2001), "2001 frequencies"),
    ],
)
def test_a_sweep_beyond_what_is_analysed_fails_the_job_saying_why(
    client_for, member, organization, run_jobs, frequencies, message
):
    # The DRT's grid grows with the decades spanned and its matrices with the points: both
    # are bounded, so that no stored sweep makes an analysis take the worker's memory.
    test = EISTestFactory(organization=organization)
    z = (1 + 1j) * np.ones(len(frequencies))
    store_sweep(test, z, frequencies=list(frequencies))
    client = client_for(member)
    client.post(url(test), {}, format="json")
    (job,) = run_jobs()
    assert job.status == Job.Status.FAILED
    assert message in client.get(url(test)).json()["error"]


def test_a_deleted_job_leaves_a_readable_analysis(client_for, member, test, run_jobs):
    client = client_for(member)
    analysed(client, test, run_jobs)
    Job.objects.all().delete()
    body = client.get(url(test)).json()
    assert body["status"] == "succeeded" and body["job"] is None
    assert body["fit"] is not None


# --- permissions -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "who, post_status, get_status",
    [
        ("owner", 202, 200),
        ("member", 202, 200),
        ("viewer", 403, 200),
        ("outsider", 404, 404),
        ("anonymous", 401, 401),
        ("staff", 202, 200),
    ],
)
def test_permission_matrix(request, client_for, who, post_status, get_status, test, organization):
    EISAnalysisFactory(test=test)
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    assert client.get(url(test)).status_code == get_status
    assert client.post(url(test), {}, format="json").status_code == post_status
    listed = client.get(LIST)
    if who == "anonymous":
        assert listed.status_code == 401
    else:
        expected = [] if who == "outsider" else [test.pk]
        assert [item["test"] for item in listed.json()["results"]] == expected


def test_unknown_test_is_404(client_for, member):
    response = client_for(member).post(
        reverse("batterydb:eis-test-analysis", args=[999_999]), {}, format="json"
    )
    assert response.status_code == 404


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"circuit": "R0-X1"}, "circuit", "Unknown element type"),
        ({"circuit": "R0-p(R1"}, "circuit", "not closed"),
        ({"circuit": ""}, "circuit", "blank"),
        ({"circuit": "R0-" * 70 + "R1"}, "circuit", "200"),
        ({"kk_threshold": 0}, "kk_threshold", "greater than or equal"),
        ({"kk_threshold": 2}, "kk_threshold", "less than or equal"),
        ({"kk_threshold": "x"}, "kk_threshold", "valid number"),
        ({"kk_threshold": True}, "kk_threshold", "valid number"),
        ({"drt_lambda": -1}, "drt_lambda", "greater than or equal"),
        ({"drt_lambda": 1e9}, "drt_lambda", "less than or equal"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client_for, member, test, body, field, message):
    response = client_for(member).post(url(test), body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not EISAnalysis.objects.exists()
    assert not Job.objects.exists()


def test_a_non_object_body_is_400(client_for, member, test):
    response = client_for(member).post(url(test), [1, 2], format="json")
    assert response.status_code == 400
    assert not EISAnalysis.objects.exists()


def test_nan_is_refused(client_for, member, test):
    response = client_for(member).post(
        url(test), data=b'{"drt_lambda": NaN}', content_type="application/json"
    )
    assert response.status_code == 400
    assert not EISAnalysis.objects.exists()


# --- the list ----------------------------------------------------------------------------------
def _analysis(organization, battery, *, days: int, ohmic: float, stale: bool = False):
    test = EISTestFactory(
        organization=organization,
        battery=battery,
        completed_at=timezone.now() - dt.timedelta(days=days),
    )
    return EISAnalysisFactory(
        test=test,
        ohmic_resistance=ohmic,
        charge_transfer_resistance=ohmic / 2,
        stale=stale,
        analysed_at=timezone.now(),
        kk={"passed": True},
        kk_passed=True,
        fit={"circuit": DEFAULT_CIRCUIT},
        drt={"tau": [1.0], "gamma": [0.0]},
    )


def test_list_filters(client_for, viewer, organization, other_organization):
    battery, other_battery = (
        BatteryFactory(organization=organization),
        BatteryFactory(organization=organization),
    )
    old = _analysis(organization, battery, days=300, ohmic=0.02)
    new = _analysis(organization, battery, days=10, ohmic=0.03, stale=True)
    elsewhere = _analysis(organization, other_battery, days=5, ohmic=0.05)
    _analysis(other_organization, BatteryFactory(organization=other_organization), days=1, ohmic=1)
    client = client_for(viewer)

    def tests(query: str) -> list[int]:
        response = client.get(LIST + query)
        assert response.status_code == 200, response.content
        return [item["test"] for item in response.json()["results"]]

    assert tests("") == [old.test_id, new.test_id, elsewhere.test_id]
    assert tests(f"?battery={battery.pk}") == [old.test_id, new.test_id]
    assert tests(f"?test={new.test_id},{elsewhere.test_id}") == [new.test_id, elsewhere.test_id]
    assert tests("?stale=true") == [new.test_id]
    after = (timezone.now() - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert tests(f"?battery={battery.pk}&completed_after={after}") == [new.test_id]
    assert tests(f"?completed_before={after}") == [old.test_id]
    assert tests("?ordering=-ohmic_resistance") == [elsewhere.test_id, new.test_id, old.test_id]
    item = client.get(LIST + f"?test={old.test_id}").json()["results"][0]
    assert item["battery"] == battery.pk
    assert item["ohmic_resistance"] == 0.02 and item["charge_transfer_resistance"] == 0.01
    assert item["completed_at"] is not None and item["status"] == "succeeded"
    assert item["kk"] == {"passed": True} and item["drt"]["tau"] == [1.0]
    assert client.get(LIST + "?created_after=2020-01-01T00:00:00Z").status_code == 200


@pytest.mark.parametrize("query", ["?battery=x", "?test=a", "?completed_after=no"])
def test_bad_list_filters_are_400(client_for, viewer, query):
    assert client_for(viewer).get(LIST + query).status_code == 400


def test_list_query_count_does_not_grow_with_the_page(
    client_for, viewer, organization, django_assert_max_num_queries
):
    battery = BatteryFactory(organization=organization)
    for day in range(30):
        _analysis(organization, battery, days=day, ohmic=0.02)
    client = client_for(viewer)
    with django_assert_max_num_queries(4):
        response = client.get(LIST + "?limit=30")
    assert len(response.json()["results"]) == 30
    next_page = client.get(LIST + "?limit=10").json()["next"]
    with django_assert_max_num_queries(4):
        assert len(client.get(next_page).json()["results"]) == 10


# --- the report's fit columns ------------------------------------------------------------------
def test_report_with_fit_adds_the_resistances(client_for, member, test, organization, run_jobs):
    client = client_for(member)
    analysed(client, test, run_jobs)
    unanalysed = EISTestFactory(organization=organization)
    report = reverse("batterydb:eis-test-report")
    rows = client.get(f"{report}?test={test.pk},{unanalysed.pk}&fit=true").json()
    assert rows[0]["ohmic_resistance"] == pytest.approx(R0, rel=0.02)
    assert rows[0]["charge_transfer_resistance"] == pytest.approx(R1, rel=0.03)
    assert rows[1]["ohmic_resistance"] is None
    assert list(rows[0])[-2:] == ["ohmic_resistance", "charge_transfer_resistance"]
    plain = client.get(f"{report}?test={test.pk}").json()
    assert "ohmic_resistance" not in plain[0]
    csv = client.get(f"{report}?test={test.pk}&fit=true&format=csv").content.decode()
    assert csv.splitlines()[0].endswith("ohmic_resistance,charge_transfer_resistance")
    assert client.get(f"{report}?test={test.pk}&fit=maybe").status_code == 400


def test_membership_role_change_applies(client_for, organization, test):
    user = MembershipFactory(organization=organization, role=Membership.Role.VIEWER).user
    assert client_for(user).post(url(test), {}, format="json").status_code == 403


def test_the_browsable_api_shows_the_list(client_for, viewer, organization):
    _analysis(organization, BatteryFactory(organization=organization), days=1, ohmic=0.02)
    response = client_for(viewer).get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"ohmic_resistance" in response.content


@pytest.mark.parametrize("value", ["¹", "٣", "x", "0"])
def test_report_refuses_test_ids_that_are_not_ascii_integers(client_for, member, value):
    response = client_for(member).get(reverse("batterydb:eis-test-report"), {"test": value})
    assert response.status_code == 400
    assert "test" in response.json()


def test_a_failed_analysis_retried_after_new_data_succeeds(
    client_for, member, organization, run_jobs
):
    from core import jobs

    test = EISTestFactory(organization=organization)
    store_sweep(test, synthetic_sweep()[:5], frequencies=[1.0, 2.0, 3.0, 4.0, 5.0])
    client = client_for(member)
    client.post(url(test), {}, format="json")
    (job,) = run_jobs()
    assert job.status == Job.Status.FAILED
    test.data.all().delete()
    store_sweep(test, synthetic_sweep())
    jobs.retry(job)
    (again,) = run_jobs()
    assert again.pk == job.pk and again.status == Job.Status.SUCCEEDED
    body = client.get(url(test)).json()
    assert body["status"] == "succeeded"
    assert body["ohmic_resistance"] == pytest.approx(R0, rel=0.02)

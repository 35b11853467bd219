"""Automatic re-analysis of stale tests (opt-in per organization, after quiet minutes), and
the admin's EIS analysis pages and restart action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from batterydb.models import EISAnalysis, EISAnalysisPolicy
from batterydb.services.analysis import (
    PERIODIC,
    analysis_params,
    eis_analyses_reanalyse_stale,
    eis_analysis_start,
)
from core.jobs import Job
from core.jobs.registry import periodic_functions
from tests.batterydb.analysis_support import store_sweep, synthetic_sweep
from tests.batterydb.factories import EISTestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def analysed_test(organization, run_jobs):
    test = EISTestFactory(organization=organization)
    store_sweep(test, synthetic_sweep())
    eis_analysis_start(test=test, params=analysis_params())
    run_jobs()
    return EISAnalysis.objects.get(test=test)


def data_changed(analysis: EISAnalysis, *, minutes_ago: float) -> None:
    EISAnalysis.objects.filter(pk=analysis.pk).update(
        stale=True,
        data_version=analysis.data_version + 1,
        data_changed_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_the_periodic_function_is_registered():
    assert PERIODIC in {periodic.name for periodic in periodic_functions()}


def test_nothing_is_reanalysed_without_opting_in(organization, run_jobs):
    analysis = analysed_test(organization, run_jobs)
    data_changed(analysis, minutes_ago=60)
    assert eis_analyses_reanalyse_stale() == 0
    EISAnalysisPolicy.objects.create(organization=organization, auto_reanalyse=False)
    assert eis_analyses_reanalyse_stale() == 0


def test_stale_tests_are_reanalysed_once_quiet(organization, other_organization, run_jobs):
    EISAnalysisPolicy.objects.create(organization=organization, auto_reanalyse=True)
    quiet = analysed_test(organization, run_jobs)
    busy = analysed_test(organization, run_jobs)
    fresh = analysed_test(organization, run_jobs)
    elsewhere = analysed_test(other_organization, run_jobs)
    data_changed(quiet, minutes_ago=11)
    data_changed(busy, minutes_ago=2)
    data_changed(elsewhere, minutes_ago=60)
    assert eis_analyses_reanalyse_stale() == 1
    assert eis_analyses_reanalyse_stale() == 0  # its job is queued: not started twice
    (job,) = run_jobs()
    assert job.status == Job.Status.SUCCEEDED
    assert job.user is None
    states = {a.pk: a.stale for a in EISAnalysis.objects.all()}
    assert states == {quiet.pk: False, busy.pk: True, fresh.pk: False, elsewhere.pk: True}


def test_quiet_minutes_are_the_organizations(organization, run_jobs):
    EISAnalysisPolicy.objects.create(
        organization=organization, auto_reanalyse=True, quiet_minutes=1
    )
    analysis = analysed_test(organization, run_jobs)
    data_changed(analysis, minutes_ago=2)
    assert eis_analyses_reanalyse_stale() == 1


def test_a_failing_sweep_is_not_retried_every_minute(organization, run_jobs):
    EISAnalysisPolicy.objects.create(organization=organization, auto_reanalyse=True)
    analysis = analysed_test(organization, run_jobs)
    data_changed(analysis, minutes_ago=30)
    # The new data leave too few frequencies: the job fails.
    analysis.test.data.filter(frequency__lt=5000).delete()
    assert eis_analyses_reanalyse_stale() == 1
    (job,) = run_jobs()
    assert job.status == Job.Status.FAILED
    assert eis_analyses_reanalyse_stale() == 0
    data_changed(EISAnalysis.objects.get(pk=analysis.pk), minutes_ago=30)
    assert eis_analyses_reanalyse_stale() == 1


def test_reanalysis_starts_at_most_the_limit(organization, run_jobs):
    EISAnalysisPolicy.objects.create(organization=organization, auto_reanalyse=True)
    for _ in range(3):
        data_changed(analysed_test(organization, run_jobs), minutes_ago=30)
    assert eis_analyses_reanalyse_stale(limit=2) == 2
    assert eis_analyses_reanalyse_stale(limit=2) == 1


def test_admin_pages_and_restart_action(organization, run_jobs):
    analysis = analysed_test(organization, run_jobs)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:batterydb_eisanalysis_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert reverse("admin:core_job_change", args=[analysis.job_id]) in page.content.decode()
    change = client.get(reverse("admin:batterydb_eisanalysis_change", args=[analysis.pk]))
    assert change.status_code == 200
    assert b"R0" in change.content  # the fit's parameters, read-only
    response = client.post(
        changelist, {"action": "restart_analyses", "_selected_action": [analysis.pk]}
    )
    assert response.status_code == 302
    analysis.refresh_from_db()
    assert analysis.job.status == Job.Status.QUEUED
    assert client.get(reverse("admin:batterydb_eisanalysispolicy_changelist")).status_code == 200
    other = EISTestFactory(organization=organization)
    response = client.post(reverse("admin:batterydb_eisanalysis_add"), {"test": other.pk})
    assert response.status_code == 302, response.content
    added = EISAnalysis.objects.get(test=other)
    assert added.organization_id == organization.pk
    assert added.job.status == Job.Status.QUEUED


# --- the policy through the API ------------------------------------------------------------------
POLICIES = reverse("batterydb:eis-analysis-policy-list")


@pytest.mark.parametrize(
    "who, status", [("owner", 201), ("member", 403), ("viewer", 403), ("outsider", 400)]
)
def test_only_owners_set_the_policy(request, client_for, organization, who, status):
    client = client_for(request.getfixturevalue(who))
    body = {"organization": organization.pk, "auto_reanalyse": True, "quiet_minutes": 30}
    response = client.post(POLICIES, body, format="json")
    assert response.status_code == status, response.content
    assert EISAnalysisPolicy.objects.exists() is (status == 201)


def test_policy_round_trip_and_bad_input(client_for, owner, member, outsider, organization):
    client = client_for(owner)
    response = client.post(POLICIES, {"organization": organization.pk}, format="json")
    assert response.status_code == 201
    policy = response.json()
    assert policy["auto_reanalyse"] is False and policy["quiet_minutes"] == 10
    again = client.post(POLICIES, {"organization": organization.pk}, format="json")
    assert again.status_code == 400 and "organization" in again.json()
    detail = reverse("batterydb:eis-analysis-policy-detail", args=[policy["id"]])
    for bad in (0, -1, 10**9, "soon"):
        response = client.patch(detail, {"quiet_minutes": bad}, format="json")
        assert response.status_code == 400 and "quiet_minutes" in response.json()
    assert client.patch(detail, {"auto_reanalyse": True}, format="json").status_code == 200
    assert EISAnalysisPolicy.objects.get().auto_reanalyse is True
    assert client_for(member).patch(detail, {"quiet_minutes": 5}).status_code == 403
    assert client_for(member).get(detail).json()["quiet_minutes"] == 10
    assert client_for(outsider).get(detail).status_code == 404
    assert client_for(outsider).get(POLICIES).json()["results"] == []

"""``/api/v2/jobs/``: scoped to the reader's organizations, filters, retry by members."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core import jobs
from core.jobs.models import Job
from tests.core import jobs_kinds  # noqa: F401  (registers the test kinds)
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_job(organization, member, run_jobs):
    job = jobs.start("tests.flaky", organization=organization, user=member)
    run_jobs()
    job.refresh_from_db()
    assert job.status == "failed"
    return job


def test_detail_shows_the_jobs_state(client_for, viewer, organization, run_jobs):
    job = jobs.start("tests.rows", organization=organization, params={"count": 2})
    url = reverse("job-detail", args=[job.pk])
    body = client_for(viewer).get(url).json()
    assert (body["status"], body["progress"], body["result"]) == ("queued", 0.0, None)

    run_jobs()
    body = client_for(viewer).get(url).json()
    assert body["status"] == "succeeded"
    assert body["progress"] == 1.0
    assert body["result"] == {"rows": 2, "attempt": 1}
    assert body["attempts"] == 1
    assert body["organization"] == organization.pk
    assert body["kind"] == "tests.rows"
    assert body["error"] == ""
    assert body["started_at"] and body["finished_at"]


def test_a_failed_jobs_error_is_shown_as_is(client_for, viewer, failed_job):
    body = client_for(viewer).get(reverse("job-detail", args=[failed_job.pk])).json()
    assert (body["status"], body["error"]) == ("failed", "first attempt fails")


def test_list_shows_only_your_organizations_jobs_with_filters(
    client_for, member, organization, other_organization, run_jobs
):
    mine = jobs.start("tests.rows", organization=organization, params={"count": 1})
    failing = jobs.start("tests.fails", organization=organization, params={"message": "no"})
    jobs.start("tests.rows", organization=other_organization, params={"count": 1})
    run_jobs()
    client = client_for(member)
    listed = client.get(reverse("job-list")).json()
    assert sorted(job["id"] for job in listed["results"]) == sorted([mine.pk, failing.pk])
    failed = client.get(reverse("job-list"), {"status": "failed"}).json()["results"]
    assert [job["id"] for job in failed] == [failing.pk]
    rows = client.get(reverse("job-list"), {"kind": "tests.rows"}).json()["results"]
    assert [job["id"] for job in rows] == [mine.pk]


def test_other_organizations_jobs_answer_404(client_for, outsider, failed_job):
    client = client_for(outsider)
    assert client.get(reverse("job-detail", args=[failed_job.pk])).status_code == 404
    assert client.post(reverse("job-retry", args=[failed_job.pk])).status_code == 404
    assert Job.objects.get(pk=failed_job.pk).status == "failed"


@pytest.mark.parametrize(
    "query",
    [
        {"created_at__gte": "0001-01-01T00:00:00+01:00"},
        {"created_at__lte": "2024-01-01T00:00:00+20:00"},
        {"created_at__gte": "yesterday"},
        {"organization": "x"},
        {"status": "sleeping"},
    ],
)
def test_bad_filter_values_are_a_400_naming_the_filter(client_for, member, query):
    response = client_for(member).get(reverse("job-list"), query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_organization_filter_does_not_tell_existing_ids_from_others(
    client_for, member, organization, other_organization
):
    jobs.start("tests.rows", organization=organization, params={"count": 1})
    client = client_for(member)
    theirs = client.get(reverse("job-list"), {"organization": other_organization.pk})
    nobody = client.get(reverse("job-list"), {"organization": 10**12})
    assert (theirs.status_code, theirs.json()["results"]) == (200, [])
    assert (nobody.status_code, nobody.json()["results"]) == (200, [])
    mine = client.get(reverse("job-list"), {"organization": organization.pk}).json()["results"]
    assert len(mine) == 1
    window = client.get(reverse("job-list"), {"created_at__gte": "2000-01-01T00:00:00Z"})
    assert len(window.json()["results"]) == 1


@pytest.mark.parametrize("bad_id", ["null,null", "abc", "1.5"])
def test_a_job_id_that_is_not_a_number_is_a_404(client_for, member, bad_id):
    client = client_for(member)
    assert client.get(f"/api/v2/jobs/{bad_id}/").status_code == 404
    assert client.post(f"/api/v2/jobs/{bad_id}/retry/").status_code == 404


def test_anonymous_is_refused(api_client, failed_job):
    assert api_client.get(reverse("job-list")).status_code == 401
    assert api_client.post(reverse("job-retry", args=[failed_job.pk])).status_code == 401


def test_staff_see_every_job(client_for, staff, failed_job):
    assert client_for(staff).get(reverse("job-detail", args=[failed_job.pk])).status_code == 200


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("member", 202), ("owner", 202)])
def test_retry_needs_the_member_role(request, client_for, failed_job, role, expected, run_jobs):
    user = request.getfixturevalue(role)
    response = client_for(user).post(reverse("job-retry", args=[failed_job.pk]))
    assert response.status_code == expected
    failed_job.refresh_from_db()
    if expected == 202:
        assert response.json()["status"] == "queued"
        assert failed_job.status == "queued"
        run_jobs()
        failed_job.refresh_from_db()
        assert (failed_job.status, failed_job.attempts) == ("succeeded", 2)
    else:
        assert failed_job.status == "failed"


def test_retry_of_a_job_that_has_not_failed_is_a_409(client_for, member, organization):
    job = jobs.start("tests.rows", organization=organization, params={"count": 1})
    response = client_for(member).post(reverse("job-retry", args=[job.pk]))
    assert response.status_code == 409
    assert "this one is queued" in response.json()["detail"]


def test_the_list_costs_a_fixed_number_of_queries(
    client_for, member, organization, django_assert_max_num_queries
):
    for _ in range(3):
        jobs.start("tests.rows", organization=organization, params={"count": 1})
    client = client_for(member)
    client.get(reverse("job-list"))  # warm caches
    for _ in range(20):
        jobs.start("tests.rows", organization=OrganizationFactory(), params={"count": 1})
        jobs.start("tests.rows", organization=organization, params={"count": 1})
    with django_assert_max_num_queries(4):
        body = client.get(reverse("job-list")).json()
    assert body["count"] == 23


def test_the_jobs_appear_in_the_batterydb_root(client_for, member):
    body = client_for(member).get("/api/v2/").json()
    assert any(str(link).rstrip("/").endswith("/api/v2/jobs") for link in body.values())


def test_the_admin_lists_jobs_read_only_and_retries_failed_ones(
    client, admin_user, failed_job, organization, run_jobs
):
    client.force_login(admin_user)
    done = jobs.start("tests.rows", organization=organization, params={"count": 1})
    run_jobs(kind="tests.rows")
    listing = client.get(reverse("admin:core_job_changelist"))
    assert listing.status_code == 200
    assert "tests.flaky" in listing.content.decode()
    detail = client.get(reverse("admin:core_job_change", args=[failed_job.pk]))
    assert "first attempt fails" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()

    response = client.post(
        reverse("admin:core_job_changelist"),
        {"action": "retry_jobs", "_selected_action": [failed_job.pk, done.pk]},
        follow=True,
    )
    assert "1 job(s) queued again; 1 had not failed." in response.content.decode()
    failed_job.refresh_from_db()
    done.refresh_from_db()
    assert (failed_job.status, done.status) == ("queued", "succeeded")


def render_progress(job) -> str:
    from django.template.loader import render_to_string

    return render_to_string("core/job_progress.html", {"job": job})


def test_the_progress_fragment_shows_the_jobs_state(organization, failed_job):
    job = jobs.start("tests.rows", organization=organization, params={"count": 1})
    queued = render_progress(job)
    assert f'data-job-url="/api/v2/jobs/{job.pk}/"' in queued
    assert '<progress max="1" aria-label' in queued  # no value: an indeterminate bar
    assert "core/jobs.js" in queued

    Job.objects.filter(pk=job.pk).update(status="running", progress=0.375)
    job.refresh_from_db()
    running = render_progress(job)
    assert 'value="0.375"' in running
    assert "running, 38 %" in running

    failed = render_progress(failed_job)
    assert '<p class="job-error">first attempt fails</p>' in failed
    assert "core/jobs.js" not in failed
    assert "style=" not in queued + running + failed

"""Who sees and changes what in the DMLF API: the permission matrix of samples, experiments and
projects (404 beyond visibility, 403 for a visible record one may not change), catalogues for
every authenticated user, and every platform credential."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core import services
from core.models import Membership, UserAPIKey
from tests.dmlf import factories as f
from tests.dmlf.conftest import SAMPLES
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "nobody", "outsider", "viewer", "member", "creator", "owner", "staff"]


@pytest.fixture
def creator(organization):
    return MembershipFactory(organization=organization, role=Membership.Role.MEMBER).user


@pytest.fixture
def nobody(db):
    """A user without any membership."""
    return UserFactory()


@pytest.fixture
def records(project, institute, method, creator, sample_types):
    sample = f.SampleFactory(project=project, institute=institute, user=creator)
    experiment = f.ExperimentFactory(sample=sample, method=method, project=project, user=creator)
    return {"sample": sample, "experiment": experiment}


def client_as(request, client_for, role: str) -> APIClient:
    return APIClient() if role == "anonymous" else client_for(request.getfixturevalue(role))


def expected(role: str, allowed: int, *, write: bool) -> int:
    if role == "anonymous":
        return 401
    if role in ("nobody", "outsider"):
        return 404
    if write and role in ("viewer", "member"):
        return 403
    return allowed


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["sample", "experiment"])
def test_reading_a_record_and_its_file(request, client_for, records, role, kind):
    record = records[kind]
    client = client_as(request, client_for, role)
    detail = reverse(f"dmlf:{kind}-detail", args=[record.pk])
    file_field = "sample_info" if kind == "sample" else "experiment_file"
    assert client.get(detail).status_code == expected(role, 200, write=False)
    download = client.get(f"{detail}{file_field}/")
    assert download.status_code == expected(role, 200, write=False)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["sample", "experiment"])
def test_changing_a_record(request, client_for, records, role, kind):
    record = records[kind]
    client = client_as(request, client_for, role)
    detail = reverse(f"dmlf:{kind}-detail", args=[record.pk])
    response = client.patch(detail, {"name": "changed"}, format="multipart")
    assert response.status_code == expected(role, 200, write=True)
    record.refresh_from_db()
    assert (record.name == "changed") == (response.status_code == 200)


@pytest.mark.parametrize("role", ROLES)
def test_deleting_an_experiment(request, client_for, records, role):
    client = client_as(request, client_for, role)
    detail = reverse("dmlf:experiment-detail", args=[records["experiment"].pk])
    assert client.delete(detail).status_code == expected(role, 204, write=True)


@pytest.mark.parametrize("role", ROLES)
def test_listing_shows_only_visible_records(request, client_for, records, role):
    client = client_as(request, client_for, role)
    response = client.get(SAMPLES)
    if role == "anonymous":
        assert response.status_code == 401
        return
    rows = response.json() if not response.streaming else _streamed(response)
    visible = role not in ("nobody", "outsider")
    assert [row["sample_id"] for row in rows] == ([records["sample"].pk] if visible else [])


def _streamed(response):
    import json

    return json.loads(b"".join(response.streaming_content))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("nobody", 403),
        ("viewer", 403),
        ("outsider", 400),
        ("member", 201),
        ("owner", 201),
        ("staff", 201),
    ],
)
def test_creating_a_sample(request, client_for, sample_body, role, status):
    response = client_as(request, client_for, role).post(SAMPLES, sample_body(), format="multipart")
    assert response.status_code == status
    if status == 400:
        assert "does not exist" in response.json()["project"][0]


def test_a_record_cannot_move_to_another_organizations_project(
    client_for, owner, records, other_organization
):
    other = f.ProjectFactory(organization=other_organization)
    detail = reverse("dmlf:sample-detail", args=[records["sample"].pk])
    response = client_for(owner).patch(detail, {"project": other.pk}, format="multipart")
    assert response.status_code == 400


def test_a_creator_who_left_the_organization_no_longer_sees_the_record(
    client_for, records, creator, organization
):
    Membership.objects.filter(user=creator, organization=organization).delete()
    detail = reverse("dmlf:sample-detail", args=[records["sample"].pk])
    assert client_for(creator).patch(detail, {"name": "x"}, format="multipart").status_code == 404


# --- Projects ----------------------------------------------------------------------------------


def project_body(organization, **overrides):
    funding_body = f.FundingBodyFactory()
    return {
        "name": "Battery recycling",
        "abbreviation": "BR",
        "funding_number": "03XP0001",
        "funding_period_start": "2024-01-01",
        "funding_period_end": "2026-12-31",
        "funding_body": funding_body.pk,
        "organization": organization.pk,
        **overrides,
    }


@pytest.mark.parametrize(
    ("role", "status"),
    [("nobody", 403), ("viewer", 403), ("outsider", 400), ("member", 201), ("staff", 201)],
)
def test_creating_a_project(request, client_for, organization, role, status):
    client = client_as(request, client_for, role)
    response = client.post("/dmlf/projects/", project_body(organization), format="json")
    assert response.status_code == status, response.json()
    if status == 201:
        data = response.json()
        assert data["organization"] == organization.pk and data["project_file"] is None
        assert client.get(f"/dmlf/projects/{data['id']}").json() == data


def test_a_project_ending_before_it_starts_is_400(client_for, member, organization):
    body = project_body(organization, funding_period_end="2023-01-01")
    response = client_for(member).post("/dmlf/projects/", body, format="json")
    assert response.status_code == 400
    assert "funding_period_end" in response.json()


def test_projects_are_read_only_but_for_create(client_for, owner, project):
    client = client_for(owner)
    url = f"/dmlf/projects/{project.pk}/"
    assert client.patch(url, {"name": "x"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405


@pytest.mark.parametrize(("role", "status"), [("outsider", 404), ("viewer", 200)])
def test_projects_are_read_by_their_organizations_members(
    request, client_for, project, role, status
):
    client = client_as(request, client_for, role)
    assert client.get(f"/dmlf/projects/{project.pk}/").status_code == status


# --- Catalogues --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/dmlf/institutes/", "/dmlf/methods/", "/dmlf/fundingbodies/", "/dmlf/sampletypes/"]
)
def test_catalogues_are_read_by_every_authenticated_user_and_written_by_none(
    client_for, nobody, staff, url, method
):
    assert APIClient().get(url).status_code == 401
    assert client_for(nobody).get(url).status_code == 200
    assert client_for(staff).post(url, {"name": "x"}, format="json").status_code == 405


# --- Credentials -------------------------------------------------------------------------------


def test_an_api_key_works_and_a_revoked_or_expired_one_is_401(member, records):
    detail = reverse("dmlf:sample-detail", args=[records["sample"].pk])
    api_key, key = services.api_key_create(user=member, name="lab pc")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"User {key}")
    assert client.get(detail).status_code == 200
    services.api_key_revoke(api_key=api_key)
    assert client.get(detail).status_code == 401
    expired, key = services.api_key_create(user=member, name="old")
    UserAPIKey.objects.filter(pk=expired.pk).update(
        expiry_date=timezone.now() - dt.timedelta(days=1)
    )
    client.credentials(HTTP_AUTHORIZATION=f"User {key}")
    assert client.get(detail).json()["detail"] == "This API key has expired."


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a server runs it
@pytest.mark.parametrize("kind", ["sample", "experiment"])
def test_options_describes_a_record_the_user_may_change(client_for, creator, records, kind):
    detail = reverse(f"dmlf:{kind}-detail", args=[records[kind].pk])
    response = client_for(creator).options(detail)
    assert response.status_code == 200
    assert "PUT" in response.json()["actions"]

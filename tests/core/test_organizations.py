"""Organizations and members: the role matrix, cross-organization 404s, the last-owner rule."""

import pytest
from django.urls import reverse

from core.models import Membership, Organization
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


def org_url(organization):
    return reverse("organization-detail", args=[organization.pk])


def members_url(organization):
    return reverse("organization-member-list", args=[organization.pk])


def member_url(organization, user):
    return reverse("organization-member-detail", args=[organization.pk, user.pk])


def test_creator_becomes_owner(client_for, member):
    response = client_for(member).post(reverse("organization-list"), {"name": "Cell Lab"})
    assert response.status_code == 201
    assert response.json()["role"] == "owner"
    created = Organization.objects.get(pk=response.json()["id"])
    assert created.memberships.get().role == Role.OWNER
    assert created.memberships.get().user == member


def test_list_shows_only_your_organizations_with_your_role(client_for, viewer, other_organization):
    response = client_for(viewer).get(reverse("organization-list"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["role"] == "viewer"
    assert other_organization.pk not in [o["id"] for o in body["results"]]


def test_staff_see_every_organization(client_for, staff, organization, other_organization):
    response = client_for(staff).get(reverse("organization-list"))
    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    ("role", "method", "expected"),
    [
        ("viewer", "get", 200),
        ("member", "get", 200),
        ("owner", "get", 200),
        ("outsider", "get", 404),
        ("anonymous", "get", 401),
        ("viewer", "patch", 403),
        ("member", "patch", 403),
        ("owner", "patch", 200),
        ("outsider", "patch", 404),
        ("staff", "patch", 200),
        ("viewer", "delete", 403),
        ("member", "delete", 403),
        ("outsider", "delete", 404),
        ("owner", "delete", 204),
        ("staff", "delete", 204),
    ],
)
def test_organization_role_matrix(request, client_for, organization, role, method, expected):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    MembershipFactory(organization=organization, role=Role.OWNER)  # someone stays owner
    client = client_for(user)
    kwargs = {"data": {"name": "Renamed"}, "format": "json"} if method == "patch" else {}
    response = getattr(client, method)(org_url(organization), **kwargs)
    assert response.status_code == expected, response.content


def test_missing_and_foreign_organizations_answer_alike(client_for, member, other_organization):
    client = client_for(member)
    foreign = client.get(org_url(other_organization))
    missing = client.get(reverse("organization-detail", args=[999_999]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_deleting_an_organization_removes_its_memberships(
    client_for, organization, owner, member, viewer
):
    response = client_for(owner).delete(org_url(organization))
    assert response.status_code == 204
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert not Membership.objects.filter(organization_id=organization.pk).exists()
    assert client_for(member).get(org_url(organization)).status_code == 404
    assert member.memberships.count() == 0 and owner.memberships.count() == 0


def test_organization_name_is_required(client_for, member):
    response = client_for(member).post(reverse("organization-list"), {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


# --- members ---------------------------------------------------------------------------------


def test_members_are_listed_to_any_member(client_for, organization, owner, viewer):
    response = client_for(viewer).get(members_url(organization))
    assert response.status_code == 200
    assert {m["username"]: m["role"] for m in response.json()} == {
        owner.username: "owner",
        viewer.username: "viewer",
    }


def test_owner_adds_a_member_by_email_in_any_case(client_for, organization, owner):
    newcomer = UserFactory(email="New.Person@example.com")
    response = client_for(owner).post(
        members_url(organization), {"email": "new.person@EXAMPLE.com", "role": "viewer"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == newcomer.pk
    assert Membership.objects.get(user=newcomer, organization=organization).role == Role.VIEWER


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_owners_add_members(request, client_for, organization, role):
    user = request.getfixturevalue(role)
    UserFactory(email="x@example.com")
    response = client_for(user).post(members_url(organization), {"email": "x@example.com"})
    assert response.status_code == 403
    assert not Membership.objects.filter(user__email="x@example.com").exists()


def test_adding_unknown_email_or_existing_member_is_400(client_for, organization, owner, member):
    client = client_for(owner)
    unknown = client.post(members_url(organization), {"email": "nobody@example.com"})
    assert unknown.status_code == 400 and "email" in unknown.json()
    again = client.post(members_url(organization), {"email": member.email})
    assert again.status_code == 400 and "email" in again.json()


def test_bad_role_is_400(client_for, organization, owner):
    UserFactory(email="x@example.com")
    response = client_for(owner).post(
        members_url(organization), {"email": "x@example.com", "role": "king"}
    )
    assert response.status_code == 400 and "role" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"email": "taken@example.com"},
        {"email": "nobody@example.com"},
        {"email": "not an email", "role": "king"},
    ],
    ids=["existing-email", "unknown-email", "bad-body"],
)
def test_adding_to_a_foreign_or_missing_organization_is_404_whatever_the_body(
    client_for, member, other_organization, body
):
    """The answer must not tell whether an email has an account."""
    UserFactory(email="taken@example.com")
    client = client_for(member)
    foreign = client.post(members_url(other_organization), body, format="json")
    missing = client.post(reverse("organization-member-list", args=[999_999]), body, format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert not Membership.objects.filter(organization=other_organization).exists()


@pytest.mark.parametrize("role", ["member", "viewer"])
@pytest.mark.parametrize("email", ["taken@example.com", "nobody@example.com", "not an email"])
def test_a_non_owner_adding_a_member_is_403_whatever_the_email(
    request, client_for, organization, role, email
):
    UserFactory(email="taken@example.com")
    response = client_for(request.getfixturevalue(role)).post(
        members_url(organization), {"email": email}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Only owners can manage members."}


def test_members_of_foreign_organization_are_404(client_for, member, other_organization, outsider):
    client = client_for(member)
    assert client.get(members_url(other_organization)).status_code == 404
    assert client.delete(member_url(other_organization, outsider)).status_code == 404


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("member", 403), ("owner", 200)])
def test_changing_a_role_needs_owner(request, client_for, organization, role, expected):
    actor = request.getfixturevalue(role)
    target = MembershipFactory(organization=organization, role=Role.VIEWER).user
    MembershipFactory(organization=organization, role=Role.OWNER)
    response = client_for(actor).patch(
        member_url(organization, target), {"role": "member"}, format="json"
    )
    assert response.status_code == expected
    expected_role = Role.MEMBER if expected == 200 else Role.VIEWER
    assert Membership.objects.get(user=target, organization=organization).role == expected_role


def test_demoting_the_last_owner_is_400(client_for, organization, owner):
    response = client_for(owner).patch(
        member_url(organization, owner), {"role": "member"}, format="json"
    )
    assert response.status_code == 400
    assert Membership.objects.get(user=owner, organization=organization).role == Role.OWNER


def test_demoting_one_of_two_owners_works(client_for, organization, owner):
    MembershipFactory(organization=organization, role=Role.OWNER)
    response = client_for(owner).patch(
        member_url(organization, owner), {"role": "member"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "member"


def test_removing_the_last_owner_is_400(client_for, organization, owner, staff):
    for user in (owner, staff):
        response = client_for(user).delete(member_url(organization, owner))
        assert response.status_code == 400
    assert Membership.objects.filter(user=owner, organization=organization).exists()


def test_owner_removes_a_member_and_member_cannot(client_for, organization, owner, member, viewer):
    assert client_for(member).delete(member_url(organization, viewer)).status_code == 403
    assert client_for(owner).delete(member_url(organization, viewer)).status_code == 204
    assert not Membership.objects.filter(user=viewer, organization=organization).exists()


def test_a_member_may_leave(client_for, organization, owner, member):
    assert client_for(member).delete(member_url(organization, member)).status_code == 204
    assert client_for(member).get(org_url(organization)).status_code == 404


def test_organization_list_query_count_is_constant(
    client_for, member, django_assert_max_num_queries
):
    for _ in range(30):
        MembershipFactory(user=member, organization=OrganizationFactory(), role=Role.VIEWER)
    with django_assert_max_num_queries(6):
        response = client_for(member).get(reverse("organization-list"))
    assert response.json()["count"] == 31


def test_member_list_query_count_is_constant(
    client_for, organization, owner, django_assert_max_num_queries
):
    for _ in range(30):
        MembershipFactory(organization=organization)
    with django_assert_max_num_queries(5):
        response = client_for(owner).get(members_url(organization))
    assert len(response.json()) == 31

"""Users: those who share an organization with you, and yourself."""

import pytest
from django.urls import reverse

from core.models import User
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_users_lists_colleagues_and_not_strangers(
    client_for, organization, member, viewer, outsider
):
    response = client_for(member).get(reverse("user-list"))
    usernames = {u["username"] for u in response.json()["results"]}
    assert usernames == {member.username, viewer.username}


def test_a_user_without_organizations_sees_only_themselves(client_for, db):
    loner = UserFactory()
    UserFactory()
    response = client_for(loner).get(reverse("user-list"))
    assert [u["id"] for u in response.json()["results"]] == [loner.pk]


def test_stranger_detail_is_404(client_for, member, outsider):
    assert client_for(member).get(reverse("user-detail", args=[outsider.pk])).status_code == 404


def test_colleague_detail_shows_organizations(client_for, organization, member, viewer):
    response = client_for(member).get(reverse("user-detail", args=[viewer.pk]))
    assert response.status_code == 200
    assert response.json()["organizations"] == [organization.pk]


def test_a_colleague_shows_only_the_organizations_you_share(
    client_for, organization, member, viewer, other_organization
):
    MembershipFactory(user=viewer, organization=other_organization)
    client = client_for(member)
    detail = client.get(reverse("user-detail", args=[viewer.pk]))
    assert detail.json()["organizations"] == [organization.pk]
    listed = {
        u["id"]: u["organizations"] for u in client.get(reverse("user-list")).json()["results"]
    }
    assert listed[viewer.pk] == [organization.pk]


def test_shared_organizations_are_those_of_the_reader(
    client_for, organization, member, viewer, other_organization
):
    third = OrganizationFactory()
    for org in (other_organization, third):
        MembershipFactory(user=member, organization=org)
    MembershipFactory(user=viewer, organization=third)
    listed = {
        u["id"]: u["organizations"]
        for u in client_for(viewer).get(reverse("user-list")).json()["results"]
    }
    # The viewer shares the organization and the third one with the member, not the other.
    assert listed[member.pk] == sorted([organization.pk, third.pk])
    assert listed[viewer.pk] == sorted([organization.pk, third.pk])


def test_me_and_staff_see_every_organization(
    client_for, organization, member, staff, other_organization
):
    MembershipFactory(user=member, organization=other_organization)
    everything = sorted([organization.pk, other_organization.pk])
    assert client_for(member).get(reverse("user-me")).json()["organizations"] == everything
    as_staff = client_for(staff).get(reverse("user-detail", args=[member.pk]))
    assert as_staff.json()["organizations"] == everything


def test_me_reads_and_updates_yourself(client_for, member):
    client = client_for(member)
    assert client.get(reverse("user-me")).json()["id"] == member.pk
    response = client.patch(reverse("user-me"), {"first_name": "Ada"}, format="json")
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.first_name == "Ada"


def test_me_cannot_take_an_email_in_another_case(client_for, member, viewer):
    response = client_for(member).patch(
        reverse("user-me"), {"email": viewer.email.upper()}, format="json"
    )
    assert response.status_code == 400 and "email" in response.json()


def test_me_cannot_change_username(client_for, member):
    username = member.username
    response = client_for(member).patch(
        reverse("user-me"), {"username": "root", "first_name": "Ada"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["username"] == username
    assert response.json()["first_name"] == "Ada"
    member.refresh_from_db()
    assert (member.username, member.first_name) == (username, "Ada")


def test_users_list_is_read_only(client_for, member):
    response = client_for(member).post(reverse("user-list"), {"username": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["detail"]


def test_user_list_query_count_is_constant(
    client_for, organization, member, django_assert_max_num_queries
):
    for _ in range(30):
        colleague = MembershipFactory(organization=organization).user
        MembershipFactory(user=colleague)  # an organization the reader does not share
    with django_assert_max_num_queries(5):
        response = client_for(member).get(reverse("user-list"))
    assert response.json()["count"] == 31


def test_email_is_unique_ignoring_case(db):
    from django.db import IntegrityError, transaction

    UserFactory(email="Same@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email="same@example.com")

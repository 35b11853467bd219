"""Users: those who share an organization with you, and yourself."""

import pytest
from django.urls import reverse

from core.models import User
from tests.factories import MembershipFactory, UserFactory

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
    client_for(member).patch(reverse("user-me"), {"username": "root"}, format="json")
    member.refresh_from_db()
    assert member.username != "root"


def test_users_list_is_read_only(client_for, member):
    response = client_for(member).post(reverse("user-list"), {"username": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["detail"]


def test_user_list_query_count_is_constant(
    client_for, organization, member, django_assert_max_num_queries
):
    for _ in range(30):
        MembershipFactory(organization=organization)
    with django_assert_max_num_queries(5):
        response = client_for(member).get(reverse("user-list"))
    assert response.json()["count"] == 31


def test_email_is_unique_ignoring_case(db):
    from django.db import IntegrityError, transaction

    UserFactory(email="Same@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email="same@example.com")

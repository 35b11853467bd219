"""Queries compiled once (core.prepared): the same rows and instances as the ORM's, converted
as it converts them, and a clear error for parameters that are not the query's own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.authentication import USER_BY_PK
from core.models import User
from core.prepared import PreparedQuery
from tests.conftest import jwt_for

pytestmark = pytest.mark.django_db


def test_instances_are_the_orms_with_every_field_and_aware_datetimes(member):
    member.last_login = timezone.now() - dt.timedelta(hours=2)
    member.save()
    (found,) = USER_BY_PK.instances(member.pk)
    expected = User.objects.get(pk=member.pk)
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert timezone.is_aware(found.last_login) and timezone.is_aware(found.date_joined)
    assert found._state.adding is False and found._state.db == "default"
    # The second run reads what the database holds now, with the same compiled SQL.
    User.objects.filter(pk=member.pk).update(first_name="Changed")
    assert USER_BY_PK.instances(member.pk)[0].first_name == "Changed"
    assert USER_BY_PK.instances(member.pk + 1000) == []


def test_rows_are_the_values_list_tuples():
    User.objects.create_user("b-user", "b@example.org", "pass-word-123")
    User.objects.create_user("a-user", "a@example.org", "pass-word-123")

    def after(name):
        users = User.objects.filter(username__gt=name).order_by("username")
        return users.values_list("username", "date_joined")

    query = PreparedQuery(after)
    rows = query.rows("a")
    assert rows == list(after("a"))
    assert [username for username, _ in rows] == ["a-user", "b-user"]
    assert all(timezone.is_aware(joined) for _, joined in rows)
    assert query.rows("a-user") == [("b-user", rows[1][1])]
    assert query.rows("c") == []


def test_parameters_that_are_not_the_querys_own_are_refused():
    # The lookup makes an int of "1": the compiled SQL's parameter is not the one given.
    with pytest.raises(ImproperlyConfigured, match="not the query's own"):
        PreparedQuery(lambda pk: User.objects.filter(pk=pk)).rows("1")


def test_instances_need_whole_rows(member):
    partial = PreparedQuery(lambda pk: User.objects.filter(pk=pk).only("username"))
    with pytest.raises(ImproperlyConfigured, match="whole"):
        partial.instances(member.pk)
    annotated = PreparedQuery(lambda pk: User.objects.filter(pk=pk).annotate(name=F("username")))
    with pytest.raises(ImproperlyConfigured, match="whole"):
        annotated.instances(member.pk)


def test_a_jwt_authenticates_its_user_read_by_the_prepared_query(member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(member)}")
    response = client.get(reverse("user-me"))
    assert response.status_code == 200
    assert response.json()["username"] == member.username

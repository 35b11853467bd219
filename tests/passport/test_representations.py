"""The answers each passport keeps ready (public and whole): written with every write, answered
as they are to the readers they fit, never used when made with other rules (their stamp), and
stored again by ``manage.py passport_render``."""

from __future__ import annotations

import copy
import io

import orjson
import pytest
from django.core.management import call_command

from passport.classes import ALL_POINTS, PUBLIC, TREE, AccessClass
from passport.models import Passport
from passport.representations import STAMP, passport_view, rules_stamp
from tests.factories import UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory

pytestmark = pytest.mark.django_db

POISON = '{"poison":true}'


def view_of(passport: Passport, points) -> dict:
    return passport_view(
        battery_id=passport.battery_id,
        document=passport.document,
        organization_id=passport.organization_id,
        points=points,
    )


def detail(client, passport) -> dict:
    return client.get(f"/passport/batteryPass/{passport.battery_id}").json()["data"][0]


def listed(client, passport) -> dict:
    page = client.get("/passport/batteryPass/").json()[0]["data"]
    return next(item for item in page if item["batteryIDDMCCode"] == passport.battery_id)


def test_every_write_stores_both_answers(passport, member, client_for):
    stored = Passport.objects.get(pk=passport.pk)
    assert stored.rendered_with == STAMP
    assert orjson.loads(stored.public_json) == view_of(stored, PUBLIC)
    assert orjson.loads(stored.full_json) == view_of(stored, ALL_POINTS)

    client_for(member).patch(
        f"/passport/batteryPass/{passport.battery_id}/stateOfBatteryProperties",
        {"stateOfHealth": 91.5},
        format="json",
    )

    stored.refresh_from_db()
    whole = orjson.loads(stored.full_json)
    assert whole["hasStateOfBatteryProperties"]["stateOfHealth"] == 91.5
    assert "hasStateOfBatteryProperties" not in orjson.loads(stored.public_json)


@pytest.mark.parametrize(
    "reader", ["anonymous", "outsider", "viewer", "staff", "legitimate", "authority", "both"]
)
def test_each_reader_gets_the_answer_of_their_points(
    passport, client_for, outsider, viewer, staff, reader
):
    user = {"outsider": outsider, "viewer": viewer, "staff": staff}.get(reader)
    points = {"anonymous": PUBLIC, "outsider": PUBLIC}.get(reader, ALL_POINTS)
    if reader in {"legitimate", "authority", "both"}:
        user = UserFactory()
        classes = {
            "legitimate": [AccessClass.LEGITIMATE_INTEREST],
            "authority": [AccessClass.AUTHORITIES],
            "both": [AccessClass.LEGITIMATE_INTEREST, AccessClass.AUTHORITIES],
        }[reader]
        for access in classes:
            PassportGrantFactory(passport=passport, user=user, access=access)
        points = {"legitimate": {1, 2, 4}, "authority": {1, 2, 3}, "both": ALL_POINTS}[reader]
    client = client_for(user)
    expected = view_of(passport, frozenset(points))

    assert detail(client, passport) == expected
    assert listed(client, passport) == expected


def test_the_stored_answer_is_answered_as_it_is(passport, client_for):
    """The public answer is not made again: what is stored is what anyone reads."""
    Passport.objects.filter(pk=passport.pk).update(public_json=POISON)
    response = client_for(None).get(f"/passport/batteryPass/{passport.battery_id}")
    assert response.json() == {"data": [{"poison": True}]}


def test_answers_made_with_other_rules_are_never_used(passport, client_for, member, monkeypatch):
    Passport.objects.filter(pk=passport.pk).update(public_json=POISON, full_json=POISON)
    monkeypatch.setattr("passport.views.base.STAMP", "other rules")

    assert detail(client_for(None), passport) == view_of(passport, PUBLIC)
    assert listed(client_for(None), passport) == view_of(passport, PUBLIC)
    assert detail(client_for(member), passport) == view_of(passport, ALL_POINTS)


def test_passport_render_stores_stale_answers_again(passport, organization, client_for):
    other = PassportFactory(organization=organization, battery_id="EV-0002")
    Passport.objects.filter(pk=passport.pk).update(public_json=POISON, rendered_with="old rules")

    out = io.StringIO()
    call_command("passport_render", stdout=out)

    assert out.getvalue().startswith("1 passports rendered")
    stored = Passport.objects.get(pk=passport.pk)
    assert stored.rendered_with == STAMP
    assert orjson.loads(stored.public_json) == view_of(stored, PUBLIC)
    assert Passport.objects.get(pk=other.pk).rendered_with == STAMP


def test_the_stamp_follows_the_rules():
    moved = copy.deepcopy(TREE)
    moved["batteryCategory"] = 2  # a field moved to another point
    assert rules_stamp(moved) != STAMP
    assert rules_stamp(copy.deepcopy(TREE)) == STAMP


def test_the_history_keeps_no_stored_answers():
    fields = {field.name for field in Passport.history.model._meta.get_fields()}
    assert not {"public_json", "full_json", "rendered_with"} & fields

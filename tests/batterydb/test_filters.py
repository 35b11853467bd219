"""Every documented filter of every BatteryDB resource, plus ordering and the date ranges.

Each case builds two objects that differ in the filtered field and checks the filter keeps
exactly the first one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import reduce

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Membership
from tests.batterydb import factories as f
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

FACTORIES = {
    "batterydb:project": f.ProjectFactory,
    "batterydb:battery-type": f.BatteryTypeFactory,
    "batterydb:battery": f.BatteryFactory,
    "batterydb:eis-device": f.EISDeviceFactory,
    "batterydb:eis-test": f.EISTestFactory,
    "batterydb:bms-test": f.BMSTestFactory,
    "batterydb:bms-file": f.BMSFileFactory,
    "batterydb:dbc-file": f.DBCFileFactory,
    "batterydb:model": f.BatteryModelFactory,
    "batterydb:model-version": f.ModelVersionFactory,
    "batterydb:model-prediction": f.ModelPredictionFactory,
}


def attr(path: str) -> Callable:
    """The query value is the first object's attribute at ``path`` (``a.b.c``); the factory
    already gives the two objects different related objects."""
    return lambda obj: reduce(getattr, path.split("."), obj)


# (basename, query parameter, field values for the first and the second object (or None),
#  query value: a constant or a function of the first object)
CASES: list[tuple[str, str, tuple | None, object]] = [
    ("batterydb:project", "name", ("name", "alpha", "beta"), "alpha"),
    ("batterydb:battery-type", "model", ("model", "Model 3", "Leaf"), "Model 3"),
    ("batterydb:battery-type", "chemistry", ("chemistry", "LFP", "NMC"), "LFP"),
    ("batterydb:battery-type", "default_vehicle_model", ("default_vehicle_model", "Y", "3"), "Y"),
    ("batterydb:battery-type", "default_vehicle_make", ("default_vehicle_make", "VW", "BYD"), "VW"),
    ("batterydb:battery-type", "default_vehicle_year", ("default_vehicle_year", 2021, 2019), 2021),
    (
        "batterydb:battery-type",
        "vehicle_charging_protocol",
        ("vehicle_charging_protocol", "CCS", "CHAdeMO"),
        "CCS",
    ),
    ("batterydb:battery-type", "classification", ("classification", "pack", "cell"), "pack"),
    ("batterydb:battery", "battery_id", ("battery_id", "SN-1", "SN-2"), "SN-1"),
    ("batterydb:battery", "battery_type", None, attr("battery_type_id")),
    ("batterydb:eis-device", "device_id", ("device_id", "1020304", "555"), "1020304"),
    ("batterydb:eis-device", "status", ("status", "active", "retired"), "active"),
    ("batterydb:eis-device", "is_cycler", ("is_cycler", True, False), "true"),
    ("batterydb:eis-device", "is_cycler", ("is_cycler", False, True), "false"),
    ("batterydb:eis-test", "battery", None, attr("battery_id")),
    ("batterydb:eis-test", "device", None, attr("device_id")),
    ("batterydb:eis-test", "status", ("status", "completed", "failed"), "completed"),
    (
        "batterydb:eis-test",
        "completed",
        ("completed_at", dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.UTC), None),
        "2024-05-01",
    ),
    (
        "batterydb:eis-test",
        "completed_after",
        ("completed_at", dt.datetime(2024, 5, 2, tzinfo=dt.UTC), LONG_AGO),
        "2024-05-01T00:00:00Z",
    ),
    ("batterydb:bms-test", "battery", None, attr("battery_id")),
    ("batterydb:bms-test", "device", None, attr("device_id")),
    ("batterydb:bms-test", "status", ("status", "running", "done"), "running"),
    ("batterydb:bms-test", "linked_cycling_test", ("linked_cycling_test", 7, 8), 7),
    ("batterydb:bms-test", "cycling_step_number", ("cycling_step_number", 3, 4), 3),
    ("batterydb:bms-file", "bms_test", None, attr("bms_test_id")),
    ("batterydb:dbc-file", "name", ("name", "pack.dbc", "cell.dbc"), "pack.dbc"),
    ("batterydb:model", "name", ("name", "soh", "rul"), "soh"),
    ("batterydb:model-version", "battery_model", None, attr("battery_model_id")),
    ("batterydb:model-version", "version", ("version", "1.0", "2.0"), "1.0"),
    (
        "batterydb:model-prediction",
        "battery_model",
        None,
        attr("battery_model_version.battery_model_id"),
    ),
    ("batterydb:model-prediction", "test", None, attr("test_id")),
]
# ``id``, ``organization``, ``project``, ``created`` and ``updated`` exist on every resource.
COMMON_PARAMS = ["id", "organization", "project", "created", "updated", "created_after"]
COMMON_CASES = [
    (basename, param)
    for basename in FACTORIES
    for param in COMMON_PARAMS
    if not (basename == "batterydb:project" and param == "project")
]


def results(client, basename: str, params: dict) -> list[int]:
    response = client.get(reverse(f"{basename}-list"), params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("basename", "param", "values", "query"),
    CASES,
    ids=[f"{b.removeprefix('batterydb:')}-{p}" for b, p, *_ in CASES],
)
def test_documented_filter(client_for, organization, member, basename, param, values, query):
    factory = FACTORIES[basename]
    if values is None:
        first, second = factory(organization=organization), factory(organization=organization)
    else:
        name, first_value, second_value = values
        first = factory(organization=organization, **{name: first_value})
        second = factory(organization=organization, **{name: second_value})
    value = query(first) if callable(query) else query
    client = client_for(member)
    # Both are listed without the filter; the filter keeps only the first.
    assert {first.pk, second.pk} <= set(results(client, basename, {}))
    assert results(client, basename, {param: value}) == [first.pk]


@pytest.mark.parametrize(
    ("basename", "param"),
    COMMON_CASES,
    ids=[f"{b.removeprefix('batterydb:')}-{p}" for b, p in COMMON_CASES],
)
def test_common_filter(client_for, organization, other_organization, member, basename, param):
    MembershipFactory(user=member, organization=other_organization, role=Membership.Role.VIEWER)
    factory = FACTORIES[basename]
    first = factory(organization=organization)
    second = factory(organization=other_organization if param == "organization" else organization)
    model = type(first)
    if param in ("created", "created_after"):
        model.objects.filter(pk=second.pk).update(created_at=LONG_AGO)
    if param == "updated":
        model.objects.filter(pk=second.pk).update(updated_at=LONG_AGO)
    value = {
        "id": first.pk,
        "organization": organization.pk,
        "created": timezone.localdate().isoformat(),
        "updated": timezone.localdate().isoformat(),
        "created_after": "2021-01-01T00:00:00Z",
    }.get(param)
    if param == "project":
        project = f.ProjectFactory(organization=organization)
        first.projects.add(project)
        value = project.pk
    assert results(client_for(member), basename, {param: value}) == [first.pk]


@pytest.mark.parametrize("basename", FACTORIES, ids=lambda b: b.removeprefix("batterydb:"))
def test_ordering_and_created_before(client_for, organization, member, basename):
    objects = [FACTORIES[basename](organization=organization) for _ in range(3)]
    client = client_for(member)
    assert results(client, basename, {"ordering": "-id"}) == [o.pk for o in reversed(objects)]
    type(objects[1]).objects.filter(pk=objects[1].pk).update(created_at=LONG_AGO)
    assert results(client, basename, {"created_before": "2021-01-01T00:00:00Z"}) == [objects[1].pk]
    assert results(client, basename, {"ordering": "created_at"})[0] == objects[1].pk


def test_model_filter_by_battery_type(client_for, organization, member):
    battery_type = f.BatteryTypeFactory(organization=organization)
    first = f.BatteryModelFactory(organization=organization, battery_type=[battery_type])
    f.BatteryModelFactory(organization=organization)
    assert results(client_for(member), "batterydb:model", {"battery_type": battery_type.pk}) == [
        first.pk
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"battery": "abc"}, "battery"),
        ({"completed": "yesterday"}, "completed"),
        ({"created_after": "not-a-date"}, "created_after"),
    ],
)
def test_malformed_filter_values_are_400(client_for, member, params, field):
    response = client_for(member).get(reverse("batterydb:eis-test-list"), params)
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_ordering_field_is_ignored(client_for, organization, member):
    objects = [f.ProjectFactory(organization=organization) for _ in range(2)]
    ids = results(client_for(member), "batterydb:project", {"ordering": "secret_field"})
    assert ids == [o.pk for o in objects]

"""The BatteryDB resource endpoints: shape, the three request encodings, CRUD, the permission
matrix, foreign keys across organizations, bulk create, protected deletes and list query counts.

Every test runs over a table of resources (``RESOURCES``), so a new resource gets the same
coverage by adding one row. Files have their own module (``test_files.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from batterydb import models
from core import services
from core.models import Membership
from tests.batterydb import factories as f
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

COMMON = {"id", "organization", "notes", "created_at", "updated_at"}
TAGGED = COMMON | {"projects"}


def upload(name: str = "log.csv", content: bytes = b"t,v\n0,3.7\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@dataclass(frozen=True)
class Resource:
    """One endpoint: how to build objects and a valid create body, and what it answers."""

    basename: str
    model: type
    factory: Callable
    payload: Callable  # (organization) -> body of a valid create; related objects made in it
    patch: dict  # a valid partial update
    fields: set[str]
    fks: tuple[str, ...] = ()  # foreign keys (or many-to-many) set by ``payload``
    upload: Callable | None = None  # () -> the file part, for resources created with a file
    needs_file: bool = False

    def __str__(self) -> str:
        return self.basename.removeprefix("batterydb:")

    @property
    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, pk: int) -> str:
        return reverse(f"{self.basename}-detail", args=[pk])

    def create_body(self, organization, *, with_file: bool = True) -> dict:
        body = self.payload(organization)
        if with_file and self.upload is not None:
            body["file"] = self.upload()
        return body

    @property
    def write_format(self) -> str:
        return "multipart" if self.needs_file else "json"


def battery_type_payload(org):
    return {
        "organization": org.pk,
        "model": "hello-world",
        "classification": "cell",
        "chemistry": "LFP",
        "default_vehicle_year": 2021,
        "nominal_voltage": 3.2,
        "default_battery_model": f.BatteryModelFactory(organization=org).pk,
        "projects": [f.ProjectFactory(organization=org).pk],
    }


BATTERY_TYPE_FIELDS = TAGGED | {
    "model",
    "classification",
    "chemistry",
    "default_vehicle_model",
    "default_vehicle_make",
    "default_vehicle_year",
    "vehicle_charging_protocol",
    "nominal_voltage",
    "maximum_voltage",
    "minimum_voltage",
    "nominal_capacity",
    "nominal_energy",
    "default_battery_model",
    "default_battery_model_version",
}

RESOURCES = [
    Resource(
        "batterydb:project",
        models.Project,
        f.ProjectFactory,
        lambda org: {"organization": org.pk, "name": "project1", "notes": "first"},
        {"name": "renamed"},
        COMMON | {"name"},
    ),
    Resource(
        "batterydb:battery-type",
        models.BatteryType,
        f.BatteryTypeFactory,
        battery_type_payload,
        {"chemistry": "NMC"},
        BATTERY_TYPE_FIELDS,
        fks=("default_battery_model", "projects"),
    ),
    Resource(
        "batterydb:battery-type-alias",
        models.BatteryType,
        f.BatteryTypeFactory,
        battery_type_payload,
        {"chemistry": "NMC"},
        BATTERY_TYPE_FIELDS,
        fks=("default_battery_model",),
    ),
    Resource(
        "batterydb:battery",
        models.Battery,
        f.BatteryFactory,
        lambda org: {
            "organization": org.pk,
            "battery_id": "SN-0001",
            "battery_type": f.BatteryTypeFactory(organization=org).pk,
            "projects": [f.ProjectFactory(organization=org).pk],
        },
        {"battery_id": "SN-0002"},
        TAGGED | {"battery_id", "battery_type", "parent"},
        fks=("battery_type", "projects"),
    ),
    Resource(
        "batterydb:eis-device",
        models.EISDevice,
        f.EISDeviceFactory,
        lambda org: {
            "organization": org.pk,
            "device_id": "1020304",
            "is_cycler": True,
            "build_date": "2024-05-01",
            "software_version": "2.1.0",
            "status": "active",
        },
        {"status": "retired"},
        TAGGED | {"device_id", "is_cycler", "software_version", "build_date", "status"},
        fks=(),
    ),
    Resource(
        "batterydb:eis-test",
        models.EISTest,
        f.EISTestFactory,
        lambda org: {
            "organization": org.pk,
            "battery": f.BatteryFactory(organization=org).pk,
            "device": f.EISDeviceFactory(organization=org).pk,
            "status": "completed",
            "bms_data": {"soc": 80},
            "points_per_decade": 7,
            "start_frequency": 10000.0,
            "end_frequency": 0.1,
            "completed_at": "2024-05-01T12:00:00Z",
        },
        {"status": "failed"},
        TAGGED
        | {
            "battery",
            "device",
            "status",
            "bms_keys",
            "bms_data",
            "start_frequency",
            "end_frequency",
            "points_per_decade",
            "target_periods",
            "ocv_duration",
            "ocv_periods",
            "battery_model",
            "battery_model_version",
            "device_software_version",
            "created_by",
            "completed_at",
        },
        fks=("battery", "device"),
    ),
    Resource(
        "batterydb:bms-test",
        models.BMSTest,
        f.BMSTestFactory,
        lambda org: {
            "organization": org.pk,
            "battery": f.BatteryFactory(organization=org).pk,
            "device": f.EISDeviceFactory(organization=org).pk,
            "linked_eis_test": f.EISTestFactory(organization=org).pk,
            "default_dbc": f.DBCFileFactory(organization=org).pk,
            "cycling_step_number": 3,
        },
        {"status": "done"},
        TAGGED
        | {
            "battery",
            "device",
            "default_dbc",
            "linked_eis_test",
            "linked_cycling_test",
            "cycling_step_number",
            "status",
            "device_software_version",
        },
        fks=("battery", "device", "linked_eis_test", "default_dbc"),
    ),
    Resource(
        "batterydb:bms-file",
        models.BMSFile,
        f.BMSFileFactory,
        lambda org: {
            "organization": org.pk,
            "bms_test": f.BMSTestFactory(organization=org).pk,
        },
        {"latest_batch": "batch-7"},
        TAGGED | {"bms_test", "file", "download", "latest_batch"},
        fks=("bms_test",),
        upload=upload,
        needs_file=True,
    ),
    Resource(
        "batterydb:dbc-file",
        models.DBCFile,
        f.DBCFileFactory,
        lambda org: {"organization": org.pk, "name": "pack.dbc"},
        {"name": "renamed.dbc"},
        TAGGED | {"name", "file", "download", "summary"},
        upload=lambda: SimpleUploadedFile("pack.dbc", f.SAMPLE_DBC.encode()),
        needs_file=True,
    ),
    Resource(
        "batterydb:model",
        models.BatteryModel,
        f.BatteryModelFactory,
        lambda org: {
            "organization": org.pk,
            "name": "hello-world",
            "battery_type": [f.BatteryTypeFactory(organization=org).pk],
        },
        {"name": "renamed"},
        TAGGED | {"battery_type", "name", "created_by"},
        fks=("battery_type",),
    ),
    Resource(
        "batterydb:model-version",
        models.ModelVersion,
        f.ModelVersionFactory,
        lambda org: {
            "organization": org.pk,
            "battery_model": f.BatteryModelFactory(organization=org).pk,
            "version": "hello-world",
            "output_indices": {"soh": 0, "capacity": 1},
            "soh_prediction_index": 0,
        },
        {"version": "2.0"},
        TAGGED
        | {
            "battery_model",
            "version",
            "file",
            "download",
            "capacity_prediction_index",
            "soh_prediction_index",
            "grading_prediction_index",
            "confidence_score_index",
            "output_indices",
            "created_by",
        },
        fks=("battery_model",),
    ),
    Resource(
        "batterydb:model-prediction",
        models.ModelPrediction,
        f.ModelPredictionFactory,
        lambda org: {
            "organization": org.pk,
            "battery_model_version": f.ModelVersionFactory(organization=org).pk,
            "test": f.EISTestFactory(organization=org).pk,
            "soh_prediction": 0.91,
            "grading_prediction": "A",
        },
        {"grading_prediction": "B"},
        TAGGED
        | {
            "battery_model_version",
            "test",
            "capacity_prediction",
            "soh_prediction",
            "grading_prediction",
            "confidence_score",
            "capacity_std",
            "soh_std",
            "created_by",
        },
        fks=("battery_model_version", "test"),
    ),
]
BY_NAME = {str(r): r for r in RESOURCES}
JSON_RESOURCES = [r for r in RESOURCES if not r.needs_file]


def as_form(body: dict) -> dict:
    """A JSON body as form fields: nested JSON as a string, booleans as true/false."""
    form = {}
    for name, value in body.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        form[name] = value
    return form


def send(client: APIClient, method: str, url: str, body: dict, encoding: str):
    """``encoding``: json, form (application/x-www-form-urlencoded) or multipart."""
    call = getattr(client, method)
    if encoding == "json":
        return call(url, body, format="json")
    if encoding == "form":
        return call(
            url,
            urlencode(as_form(body), doseq=True),
            content_type="application/x-www-form-urlencoded",
        )
    return call(url, as_form(body), format="multipart")


def assert_matches(data: dict, body: dict) -> None:
    for name, value in body.items():
        if name == "file":
            continue
        got = data[name]
        if name == "completed_at":
            assert got.replace("+00:00", "Z") == value
        elif isinstance(value, list):
            assert sorted(got) == sorted(value), name
        else:
            assert got == value, name


# --- Shape and the happy path ------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_fields_are_exactly_the_contract(client_for, organization, member, resource):
    obj = resource.factory(organization=organization)
    data = client_for(member).get(resource.detail_url(obj.pk)).json()
    assert set(data) == resource.fields
    assert data["id"] == obj.pk and data["organization"] == organization.pk


def encodings_of(resource: Resource) -> list[str]:
    return ["multipart"] if resource.needs_file else ["json", "form", "multipart"]


@pytest.mark.parametrize(
    ("resource", "encoding"),
    [(r, e) for r in RESOURCES for e in encodings_of(r)],
    ids=lambda v: v if isinstance(v, str) else str(v),
)
def test_create_in_each_encoding(client_for, organization, member, resource, encoding):
    body = resource.create_body(organization)
    response = send(client_for(member), "post", resource.list_url, body, encoding)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert_matches(data, {k: v for k, v in body.items() if k != "file"})
    obj = resource.model.objects.get(pk=data["id"])
    assert obj.organization_id == organization.pk
    if "created_by" in resource.fields:
        assert data["created_by"] == member.username
        assert obj.created_by_id == member.pk


def test_the_guides_curl_form_post_creates_a_device(client_for, organization, member):
    """``curl --data organization=1 --data device_id=1020304``."""
    response = client_for(member).post(
        reverse("batterydb:eis-device-list"),
        f"organization={organization.pk}&device_id=1020304",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["device_id"] == "1020304"
    assert response.json()["is_cycler"] is False


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_retrieve_put_patch_delete(client_for, organization, owner, resource):
    client = client_for(owner)
    obj = resource.factory(organization=organization)
    url = resource.detail_url(obj.pk)

    assert client.get(url).json()["id"] == obj.pk

    body = resource.create_body(organization, with_file=False)
    response = send(client, "put", url, body, resource.write_format)
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), body)

    response = client.patch(url, resource.patch, format=resource.write_format)
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), resource.patch)
    assert_matches(client.get(url).json(), resource.patch)

    assert client.delete(url).status_code == 204
    assert not resource.model.objects.filter(pk=obj.pk).exists()
    assert client.get(url).status_code == 404


def test_battery_types_answer_at_both_paths(client_for, organization, member):
    battery_type = f.BatteryTypeFactory(organization=organization)
    client = client_for(member)
    assert reverse("batterydb:battery-type-list") == "/api/v2/types/batteries/"
    assert reverse("batterydb:battery-type-alias-list") == "/api/v2/batteries/types/"
    for path in ("/api/v2/types/batteries/", "/api/v2/batteries/types/"):
        assert client.get(path).json()["results"][0]["id"] == battery_type.pk
        assert client.get(f"{path}{battery_type.pk}/").json()["model"] == battery_type.model


def test_nested_collections_are_not_taken_for_detail_routes(client_for, organization, member):
    f.ModelVersionFactory(organization=organization)
    f.ModelPredictionFactory(organization=organization)
    client = client_for(member)
    assert reverse("batterydb:model-version-list") == "/api/v2/models/versions/"
    assert reverse("batterydb:model-prediction-list") == "/api/v2/models/predictions/"
    assert "version" in client.get("/api/v2/models/versions/").json()["results"][0]
    assert "test" in client.get("/api/v2/models/predictions/").json()["results"][0]
    assert client.get("/api/v2/batteries/notanid/").status_code == 404


def test_a_missing_required_field_is_400_on_it(client_for, organization, member):
    response = client_for(member).post(
        reverse("batterydb:battery-list"), {"organization": organization.pk}, format="json"
    )
    assert response.status_code == 400
    assert "battery_id" in response.json()
    assert not models.Battery.objects.exists()


# --- Permission matrix -------------------------------------------------------------------------

ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")
ROLE_EXPECTATIONS = {
    "anonymous": (401, 401, 401, 401, 401, 401),
    # Another organization's object is invisible: 404; creating in an organization one is not
    # in is a 400 on ``organization``.
    "outsider": ("hidden", 404, 400, 404, 404, 404),
    "viewer": (200, 200, 403, 403, 403, 403),
    "member": (200, 200, 201, 200, 200, 403),
    "owner": (200, 200, 201, 200, 200, 204),
    "staff": (200, 200, 201, 200, 200, 204),
    "member_api_key": (200, 200, 201, 200, 200, 403),
    "revoked_api_key": (401, 401, 401, 401, 401, 401),
}


def client_as(request, client_for, role: str) -> APIClient:
    if role == "anonymous":
        return APIClient()
    if role in ("member_api_key", "revoked_api_key"):
        api_key, key = services.api_key_create(user=request.getfixturevalue("member"), name="k")
        if role == "revoked_api_key":
            services.api_key_revoke(api_key=api_key)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"User {key}")
        return client
    return client_for(request.getfixturevalue(role))


@pytest.mark.parametrize("role", ROLE_EXPECTATIONS)
@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_permission_matrix(request, client_for, organization, resource, role):
    client = client_as(request, client_for, role)
    obj = resource.factory(organization=organization)
    url = resource.detail_url(obj.pk)
    outcome = {}

    response = client.get(resource.list_url)
    outcome["list"] = response.status_code
    if response.status_code == 200:
        ids = [row["id"] for row in response.json()["results"]]
        outcome["list"] = 200 if obj.pk in ids else "hidden"
    outcome["retrieve"] = client.get(url).status_code
    before = resource.model.objects.count()
    outcome["create"] = send(
        client, "post", resource.list_url, resource.create_body(organization), "multipart"
    ).status_code
    if outcome["create"] != 201:
        assert resource.model.objects.count() == before
    body = resource.create_body(organization, with_file=False)
    outcome["update"] = send(client, "put", url, body, resource.write_format).status_code
    outcome["partial_update"] = client.patch(
        url, resource.patch, format=resource.write_format
    ).status_code
    outcome["destroy"] = client.delete(url).status_code
    assert resource.model.objects.filter(pk=obj.pk).exists() == (outcome["destroy"] != 204)

    assert outcome == dict(zip(ACTIONS, ROLE_EXPECTATIONS[role], strict=True))


def test_a_viewer_cannot_write_even_with_a_member_role_elsewhere(
    client_for, organization, other_organization, viewer
):
    """Creating needs the member role in the organization named in the body."""
    MembershipFactory(user=viewer, organization=other_organization, role=Membership.Role.MEMBER)
    response = client_for(viewer).post(
        reverse("batterydb:project-list"),
        {"organization": organization.pk, "name": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not models.Project.objects.exists()


# --- Organizations and foreign keys ------------------------------------------------------------

FK_CASES = [(r, name) for r in RESOURCES for name in r.fks]


def foreign_value(resource: Resource, name: str, organization):
    """A valid value for field ``name`` of ``resource``, but made in ``organization``."""
    return resource.payload(organization)[name]


@pytest.mark.parametrize(
    ("resource", "name"), FK_CASES, ids=lambda v: v if isinstance(v, str) else str(v)
)
@pytest.mark.parametrize("membership", ["not_a_member", "member_there_too"])
def test_foreign_key_outside_the_objects_organization_is_400(
    client_for, organization, other_organization, member, resource, name, membership
):
    """A foreign key into an organization you are not in, or into another organization you
    are in, is a 400 on that field, and nothing is written."""
    if membership == "member_there_too":
        MembershipFactory(user=member, organization=other_organization, role=Membership.Role.MEMBER)
    body = resource.create_body(organization)
    body[name] = foreign_value(resource, name, other_organization)
    before = resource.model.objects.count()
    response = send(client_for(member), "post", resource.list_url, body, "multipart")
    assert response.status_code == 400, response.json()
    assert name in response.json()
    assert resource.model.objects.count() == before


@pytest.mark.parametrize("resource", [BY_NAME["battery"], BY_NAME["eis-test"]], ids=str)
def test_foreign_key_on_update_must_stay_in_the_organization(
    client_for, organization, other_organization, member, resource
):
    MembershipFactory(user=member, organization=other_organization, role=Membership.Role.MEMBER)
    obj = resource.factory(organization=organization)
    name = resource.fks[0]
    response = client_for(member).patch(
        resource.detail_url(obj.pk),
        {name: foreign_value(resource, name, other_organization)},
        format="json",
    )
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_organization_outside_your_memberships_is_400(
    client_for, organization, other_organization, member, resource
):
    body = resource.create_body(organization)
    body["organization"] = other_organization.pk
    response = send(client_for(member), "post", resource.list_url, body, "multipart")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert not resource.model.objects.filter(organization=other_organization).exists()


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_organization_cannot_change(client_for, organization, other_organization, owner, resource):
    MembershipFactory(user=owner, organization=other_organization, role=Membership.Role.OWNER)
    obj = resource.factory(organization=organization)
    response = client_for(owner).patch(
        resource.detail_url(obj.pk),
        {"organization": other_organization.pk},
        format=resource.write_format,
    )
    assert response.status_code == 400
    assert "organization" in response.json()
    obj.refresh_from_db()
    assert obj.organization_id == organization.pk


def test_battery_cannot_be_its_own_ancestor(client_for, organization, member):
    pack = f.BatteryFactory(organization=organization)
    module = f.BatteryFactory(organization=organization, parent=pack)
    client = client_for(member)
    url = reverse("batterydb:battery-detail", args=[pack.pk])
    for parent in (pack, module):
        response = client.patch(url, {"parent": parent.pk}, format="json")
        assert response.status_code == 400
        assert "parent" in response.json()


def test_model_version_must_belong_to_the_model(client_for, organization, member):
    version = f.ModelVersionFactory(organization=organization)
    other_model = f.BatteryModelFactory(organization=organization)
    response = client_for(member).post(
        reverse("batterydb:eis-test-list"),
        {
            "organization": organization.pk,
            "battery_model": other_model.pk,
            "battery_model_version": version.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "battery_model_version" in response.json()


# --- Bulk create -------------------------------------------------------------------------------

PROJECTS_URL = "/api/v2/projects/"


def guide_projects(organization_id: int) -> list[dict]:
    """The guide's bulk upload body, verbatim but for the organization id."""
    return [{"organization": organization_id, "name": f"project{n}"} for n in range(1, 5)]


def test_bulk_create_projects_with_the_guides_payload(organization, member):
    """As the guide sends it: an API key, a JSON dump of the list, a JSON content type."""
    _, key = services.api_key_create(user=member, name="bulk")
    response = APIClient().post(
        PROJECTS_URL,
        data=json.dumps(guide_projects(organization.pk)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"User {key}",
    )
    assert response.status_code == 201, response.json()
    assert [row["name"] for row in response.json()] == [f"project{n}" for n in range(1, 5)]
    assert models.Project.objects.filter(organization=organization).count() == 4


def test_bulk_create_with_prefer_minimal_answers_a_count(client_for, organization, member):
    response = client_for(member).post(
        PROJECTS_URL,
        data=json.dumps(guide_projects(organization.pk)),
        content_type="application/json",
        HTTP_PREFER="return=minimal",
    )
    assert response.status_code == 201
    assert response.json() == {"created": 4}
    assert response["Preference-Applied"] == "return=minimal"
    assert models.Project.objects.count() == 4


@pytest.mark.parametrize(
    ("bad_item", "field"),
    [
        (lambda org: {"organization": org.pk, "name": ""}, "name"),
        (lambda org: {"name": "no organization"}, "organization"),
    ],
)
def test_bulk_post_with_one_bad_item_writes_nothing(
    client_for, organization, member, bad_item, field
):
    items = guide_projects(organization.pk)
    items[2] = bad_item(organization)
    response = client_for(member).post(PROJECTS_URL, items, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["2"]
    assert field in response.json()["2"]
    assert not models.Project.objects.exists()


def test_bulk_post_with_an_item_in_a_foreign_organization_writes_nothing(
    client_for, organization, other_organization, member
):
    items = guide_projects(organization.pk)
    items[3]["organization"] = other_organization.pk
    response = client_for(member).post(PROJECTS_URL, items, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()["3"]
    assert not models.Project.objects.exists()


@pytest.mark.parametrize("resource", JSON_RESOURCES, ids=str)
def test_bulk_create_works_for_every_resource(client_for, organization, member, resource):
    items = [resource.create_body(organization), resource.create_body(organization)]
    response = client_for(member).post(resource.list_url, items, format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()) == 2
    assert resource.model.objects.filter(pk__in=[r["id"] for r in response.json()]).count() == 2


# --- Protected deletes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basename", "blocker"),
    [
        ("batterydb:battery", lambda org: f.EISTestFactory(organization=org).battery),
        ("batterydb:battery-type", lambda org: f.BatteryFactory(organization=org).battery_type),
        ("batterydb:eis-device", lambda org: f.EISTestFactory(organization=org).device),
    ],
)
def test_deleting_a_protected_object_is_409(client_for, organization, owner, basename, blocker):
    obj = blocker(organization)
    response = client_for(owner).delete(reverse(f"{basename}-detail", args=[obj.pk]))
    assert response.status_code == 409
    assert "Cannot delete" in response.json()["detail"]
    assert type(obj).objects.filter(pk=obj.pk).exists()


# --- List query counts -------------------------------------------------------------------------

LIST_QUERY_BOUND = 6  # auth user, roles, count, page, projects, one more many-to-many


def make_rich(resource: Resource, organization, user, n: int) -> None:
    """``n`` objects with projects, a creator and every many-to-many filled."""
    tagged = resource.model is not models.Project
    project = f.ProjectFactory(organization=organization) if tagged else None
    for _ in range(n):
        kwargs = {"organization": organization}
        if "created_by" in resource.fields:
            kwargs["created_by"] = user
        obj = resource.factory(**kwargs)
        if tagged:
            obj.projects.add(project)
        if isinstance(obj, models.BatteryModel):
            obj.battery_type.add(f.BatteryTypeFactory(organization=organization))


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_list_query_count_does_not_grow_with_the_page(
    client_for, organization, member, resource, django_assert_max_num_queries
):
    client = client_for(member)
    make_rich(resource, organization, member, 1)
    with django_assert_max_num_queries(LIST_QUERY_BOUND):
        assert client.get(resource.list_url).json()["count"] == 1
    make_rich(resource, organization, member, 29)
    with django_assert_max_num_queries(LIST_QUERY_BOUND):
        assert len(client.get(resource.list_url).json()["results"]) == 30

"""The OpenAPI document declares the error answers of every operation, with their JSON shapes,
and real error answers have those shapes (``core.openapi.PlatformAutoSchema``)."""

from __future__ import annotations

import jsonschema_rs
import pytest
from django.urls import reverse

from tests.batterydb.factories import (
    BatteryFactory,
    BatteryTypeFactory,
    EISTestFactory,
    ModelPredictionFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

METHODS = {"get", "put", "post", "patch", "delete"}
TOKEN_PATHS = {"/api/token/", "/api/token/refresh/"}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def error_ref(operation: dict, status: str) -> str:
    content = operation["responses"][status]["content"]
    assert list(content) == ["application/json"], f"{status}: {list(content)}"
    return content["application/json"]["schema"]["$ref"]


def validator(schema: dict, component: str):
    return jsonschema_rs.validator_for(schema["components"]["schemas"][component])


def test_every_operation_declares_401_and_a_json_body_for_each_error(schema):
    """The platform's shapes, or those an API's contract gives (DMLF's ``{"error"}``,
    VoltStorage's ``{"errors"}``)."""
    platform_shapes = {"#/components/schemas/Error", "#/components/schemas/ValidationErrors"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "401" in responses, f"{method} {path}"
        for status, response in responses.items():
            if int(status) < 400:
                continue
            assert list(response["content"]) == ["application/json"], f"{method} {path}"
            body = response["content"]["application/json"]["schema"]
            assert "$ref" in body or body.get("properties"), f"{method} {path} {status}: no shape"
            if status == "400" and body.get("$ref") in platform_shapes:
                assert body["$ref"].endswith("/ValidationErrors"), f"{method} {path}"
            if status in {"401", "404", "413"} and body.get("$ref") in platform_shapes:
                assert body["$ref"].endswith("/Error"), f"{method} {path} {status}"


def test_operations_with_a_body_declare_400_413_and_415(schema):
    for path, method, operation in operations(schema):
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), f"{method} {path}"


def test_operations_with_path_parameters_declare_404_and_deletes_409(schema):
    for path, method, operation in operations(schema):
        if "{" in path:
            assert "404" in operation["responses"], f"{method} {path}"
        if method == "delete":
            assert "409" in operation["responses"], f"{method} {path}"


def test_writes_behind_a_permission_declare_403_and_token_endpoints_do_not(schema):
    for path, method, operation in operations(schema):
        if method == "get":
            continue
        if path in TOKEN_PATHS:
            assert "403" not in operation["responses"], f"{method} {path}"
        elif path.startswith("/api/v2/"):
            assert "403" in operation["responses"], f"{method} {path}"


@pytest.mark.parametrize("path", sorted(TOKEN_PATHS))
def test_credential_endpoints_declare_429_with_retry_after(schema, path):
    response = schema["paths"][path]["post"]["responses"]["429"]

    assert response["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_lists_without_throttles_do_not_declare_429(schema):
    assert "429" not in schema["paths"]["/api/v2/batteries/"]["get"]["responses"]


def test_downloads_declare_octet_stream_and_json_errors(schema):
    downloads = [
        f"/api/v2/{collection}/{{id}}/download/"
        for collection in ("bms/files", "bms/dbc/files", "models/versions")
    ]
    for path in downloads:
        responses = schema["paths"][path]["get"]["responses"]
        assert list(responses["200"]["content"]) == ["application/octet-stream"]
        assert error_ref(schema["paths"][path]["get"], "404").endswith("/Error")


# --- Real answers have the declared shapes ----------------------------------------------------


def test_anonymous_answer_is_a_declared_401(schema, api_client):
    response = api_client.get(reverse("batterydb:battery-list"))

    assert response.status_code == 401
    assert validator(schema, "Error").is_valid(response.json())


def test_an_invalid_jwt_answer_with_its_code_and_messages_is_a_declared_401(schema, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(reverse("batterydb:battery-list"))

    assert response.status_code == 401
    assert "code" in response.json()
    assert validator(schema, "Error").is_valid(response.json())


def test_bulk_errors_by_item_index_are_a_declared_400(schema, client_for, organization, owner):
    items = [{"organization": organization.pk, "model": "ok"}, {"organization": organization.pk}]

    response = client_for(owner).post(reverse("batterydb:battery-type-list"), items, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["1"]
    assert validator(schema, "ValidationErrors").is_valid(response.json())


def test_field_errors_and_unreadable_bodies_are_declared_400s(
    schema, client_for, organization, owner
):
    client = client_for(owner)
    url = reverse("batterydb:battery-type-list")

    fields = client.post(url, {"organization": organization.pk, "model": ""}, format="json")
    unreadable = client.generic("POST", url, b"{not json", content_type="application/json")

    assert fields.status_code == unreadable.status_code == 400
    assert "model" in fields.json() and "detail" in unreadable.json()
    for response in (fields, unreadable):
        assert validator(schema, "ValidationErrors").is_valid(response.json())


def test_missing_object_unsupported_type_and_protected_delete_are_declared_errors(
    schema, client_for, organization, owner
):
    battery_type = BatteryTypeFactory(organization=organization)
    BatteryFactory(organization=organization, battery_type=battery_type)
    client = client_for(owner)
    detail = reverse("batterydb:battery-type-detail", kwargs={"pk": battery_type.pk})

    missing = client.get(reverse("batterydb:battery-type-detail", kwargs={"pk": 10**9}))
    unsupported = client.generic("PATCH", detail, b"model=x", content_type="text/plain")
    protected = client.delete(detail)

    assert (missing.status_code, unsupported.status_code, protected.status_code) == (
        404,
        415,
        409,
    )
    for response in (missing, unsupported, protected):
        assert validator(schema, "Error").is_valid(response.json())


def test_body_over_the_limit_is_a_declared_413(schema, settings, client_for, owner):
    settings.API_MAX_BODY_SIZE = 10

    response = client_for(owner).post(
        reverse("batterydb:battery-type-list"), {"model": "x" * 100}, format="json"
    )

    assert response.status_code == 413
    assert validator(schema, "Error").is_valid(response.json())


@pytest.mark.parametrize(
    ("component", "url_name"),
    [
        ("EISTest", "batterydb:eis-test-detail"),
        ("ModelPrediction", "batterydb:model-prediction-detail"),
    ],
)
def test_created_by_of_a_deleted_creator_is_null_as_the_schema_says(
    schema, client_for, organization, owner, component, url_name
):
    creator = UserFactory()
    made = {
        "EISTest": lambda: EISTestFactory(organization=organization, created_by=creator),
        "ModelPrediction": lambda: ModelPredictionFactory(
            organization=organization, created_by=creator
        ),
    }[component]()
    creator.delete()

    response = client_for(owner).get(reverse(url_name, kwargs={"pk": made.pk}))

    assert response.status_code == 200
    assert response.json()["created_by"] is None
    assert schema["components"]["schemas"][component]["properties"]["created_by"]["nullable"]


def test_last_owner_leaving_is_a_declared_400(schema, client_for, organization, owner):
    path = "/api/v2/organizations/{organization_pk}/members/{user_id}/"
    url = reverse(
        "organization-member-detail",
        kwargs={"organization_pk": organization.pk, "user_id": owner.pk},
    )

    response = client_for(owner).delete(url)

    assert response.status_code == 400
    assert "400" in schema["paths"][path]["delete"]["responses"]
    assert validator(schema, "ValidationErrors").is_valid(response.json())


@pytest.mark.parametrize("path", ["/api/v2/eis/data/", "/api/v2/bms/results/"])
def test_measurement_writes_declare_the_409_of_a_test_deleted_meanwhile(schema, path):
    operation = schema["paths"][path]["post"]

    assert error_ref(operation, "409").endswith("/Error")

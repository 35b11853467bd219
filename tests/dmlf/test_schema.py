"""The DMLF API's own OpenAPI document: its paths alone, the original's component names and
fields, 429 declared where requests are counted; its Swagger UI and Redoc; and the platform's
document, where DMLF's components carry their prefix."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# The original's components and paths (dmlf-openapi.yaml, DataMiningLab API 0.2.0).
ORIGINAL_COMPONENTS = {
    "Experiment": [
        "id",
        "name",
        "date_created",
        "experiment_file",
        "date_registered",
        "sample",
        "method",
        "staff",
        "project",
        "user",
    ],
    "FundingBody": ["id", "name"],
    "Institute": [
        "id",
        "name",
        "affiliation",
        "street",
        "postcode",
        "city",
        "telephone",
        "email",
        "date_registered",
    ],
    "Method": ["id", "name", "method_file", "date_registered", "institute"],
    "PatchedExperiment": None,
    "PatchedSample": None,
    "Project": [
        "id",
        "name",
        "abbreviation",
        "funding_number",
        "funding_period_start",
        "funding_period_end",
        "project_file",
        "date_registered",
        "funding_body",
    ],
    "Sample": [
        "sample_id",
        "name",
        "date_created",
        "sample_info",
        "supplementary_file",
        "date_registered",
        "institute",
        "method",
        "project",
        "sample_type",
        "user",
        "parent",
    ],
    "SampleType": ["id", "name"],
    "TokenObtainPair": ["username", "password", "access", "refresh"],
    "TokenRefresh": ["access", "refresh"],
}
ORIGINAL_PATHS = [
    "api/sample-type-info/",
    "api/token/",
    "api/token/refresh/",
    "experiments/",
    "experiments/{id}/",
    "fundingbodies/",
    "fundingbodies/{id}/",
    "institutes/",
    "institutes/{id}/",
    "methods/",
    "methods/{id}/",
    "projects/",
    "projects/{id}/",
    "samples/",
    "samples/{sample_id}/",
    "sampletypes/",
    "sampletypes/{id}/",
]


@pytest.fixture(scope="module")
def document(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get(reverse("dmlf:schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_document_holds_the_dmlf_api_alone(document):
    assert document["info"]["title"] == "DataMiningLab API"
    assert all(path.startswith("/dmlf/") for path in document["paths"])
    for path in ORIGINAL_PATHS:
        assert f"/dmlf/{path}" in document["paths"], path


def test_components_carry_the_originals_names_and_fields(document):
    schemas = document["components"]["schemas"]
    for name, fields in ORIGINAL_COMPONENTS.items():
        assert name in schemas, name
        if fields is not None:
            assert list(schemas[name]["properties"])[: len(fields)] == fields, name
    assert not any(name.startswith("DMLF") or "DMLF" in name for name in schemas)
    sample_ref = document["paths"]["/dmlf/samples/"]["post"]["requestBody"]["content"]
    assert set(sample_ref) == {"multipart/form-data", "application/x-www-form-urlencoded"}


def test_counted_operations_declare_429(document):
    for path, operations in document["paths"].items():
        if "/api/token" in path:
            continue
        for method, operation in operations.items():
            assert "429" in operation["responses"], (method, path)


def test_the_document_is_yaml_by_default():
    response = Client().get(reverse("dmlf:schema"))
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["version"] == "0.2.0"


@pytest.mark.parametrize("name", ["dmlf:swagger-ui", "dmlf:redoc"])
def test_the_docs_pages_load_the_dmlf_document(name):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    assert reverse("dmlf:schema") in response.content.decode()


def test_the_platform_document_prefixes_dmlf_components():
    schemas = APIClient().get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert {"DMLFSample", "DMLFProject", "Project"} <= set(schemas)

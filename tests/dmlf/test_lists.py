"""Lists and details: complete bare arrays with optional ``limit``/``offset``, exact-match
filters, detail URLs without the slash, lists and details in the same shape, a constant number
of queries whatever the length; and sample-type-info in the original's exact format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dmlf.models import Sample, SampleType
from dmlf.sample_types import schema_text
from tests.dmlf import factories as f
from tests.dmlf.conftest import SAMPLES

pytestmark = pytest.mark.django_db

# The original API's answers for its four sample types.
REFERENCE_INFO = Path(__file__).resolve().parent / "data" / "sample-type-info.json"


def listed(response) -> list:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(body)


@pytest.fixture
def client(client_for, member):
    return client_for(member)


def test_the_guides_institute_calls(client, institute):
    f.InstituteFactory(city="Chemnitz")
    everything = listed(client.get("/dmlf/institutes/"))
    assert [row["city"] for row in everything] == ["Freiberg", "Chemnitz"]
    assert listed(client.get("/dmlf/institutes/", {"city": "Freiberg"})) == [everything[0]]
    detail = client.get(f"/dmlf/institutes/{institute.pk}")  # the guide's URL, no slash
    assert detail.status_code == 200
    assert detail.json() == everything[0]
    assert set(detail.json()) == {
        "id",
        "name",
        "affiliation",
        "street",
        "postcode",
        "city",
        "telephone",
        "email",
        "date_registered",
    }


def test_limit_and_offset_are_optional(client, sample_types):
    names = [row["name"] for row in listed(client.get("/dmlf/sampletypes/"))]
    assert names == ["Battery", "Solids", "Liquid", "Suspension"]
    assert [r["name"] for r in listed(client.get("/dmlf/sampletypes/", {"limit": 2}))] == [
        "Battery",
        "Solids",
    ]
    window = listed(client.get("/dmlf/sampletypes/", {"limit": 2, "offset": 1}))
    assert [r["name"] for r in window] == ["Solids", "Liquid"]
    assert [r["name"] for r in listed(client.get("/dmlf/sampletypes/", {"offset": 3}))] == [
        "Suspension"
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"limit": "ten"}, "limit"), ({"offset": "-1"}, "offset"), ({"id": "abc"}, "id")],
)
def test_bad_list_parameters_are_400_naming_them(client, sample_types, query, field):
    response = client.get("/dmlf/sampletypes/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_samples_filter_on_their_fields(client, project, institute, sample_types):
    first = f.SampleFactory(project=project, institute=institute)
    second = f.SampleFactory(project=project, institute=institute, parent=first)
    f.SampleFactory(project=project, institute=institute, sample_type=sample_types["Liquid"])
    assert [r["sample_id"] for r in listed(client.get(SAMPLES, {"parent": first.pk}))] == [
        second.pk
    ]
    liquid = listed(client.get(SAMPLES, {"sample_type": sample_types["Liquid"].pk}))
    assert len(liquid) == 1
    assert listed(client.get(SAMPLES, {"project": 999_999})) == []


def test_a_list_row_is_the_detail(client, project, institute, method, sample_types):
    method.method_file.save("m.zip", ContentFile(f.zip_bytes()))
    sample = f.SampleFactory(project=project, institute=institute)
    experiment = f.ExperimentFactory(sample=sample, method=method, project=project)
    for list_url, pk in [
        ("/dmlf/samples/", sample.pk),
        ("/dmlf/experiments/", experiment.pk),
        ("/dmlf/projects/", project.pk),
        ("/dmlf/methods/", method.pk),
    ]:
        (row,) = [r for r in listed(client.get(list_url)) if r.get("id", r.get("sample_id")) == pk]
        assert client.get(f"{list_url}{pk}/").json() == row
    method_row = client.get(f"/dmlf/methods/{method.pk}/").json()
    assert method_row["method_file"] == f"http://testserver/dmlf/methods/{method.pk}/method_file/"
    assert client.get(method_row["method_file"]).status_code == 200


def test_the_list_is_complete_beyond_any_page_size(client, project, institute, sample_types):
    battery = sample_types["Battery"]
    Sample.objects.bulk_create(
        Sample(
            sample_id=f"2401{i // 1440 + 1:02d}_{i // 60 % 24:02d}{i % 60:02d}00_010001",
            institute=institute,
            project=project,
            sample_type=battery,
            name=f"s{i}",
            date_created="2024-01-01",
            sample_info=f"sample_info/{i}.json",
        )
        for i in range(2500)
    )
    response = client.get(SAMPLES)
    assert response.streaming
    rows = listed(response)
    assert len(rows) == 2500
    assert rows == sorted(rows, key=lambda row: row["sample_id"])


def test_a_catalogue_list_is_complete_and_current_whatever_its_length(client, institute):
    from dmlf.models import Institute
    from dmlf.viewsets import LIST_BATCH

    first = listed(client.get("/dmlf/institutes/"))
    assert [row["id"] for row in first] == [institute.pk]
    institute.city = "Chemnitz"
    institute.save()
    assert listed(client.get("/dmlf/institutes/"))[0]["city"] == "Chemnitz"
    Institute.objects.bulk_create(
        Institute(name=f"i{i}", street="s", postcode="1", city="c", telephone="1", email="e@x.org")
        for i in range(LIST_BATCH)
    )
    response = client.get("/dmlf/institutes/")
    assert response.streaming
    rows = listed(response)
    assert len(rows) == LIST_BATCH + 1
    assert [row["id"] for row in rows] == sorted(Institute.objects.values_list("pk", flat=True))
    assert rows[0] == client.get(f"/dmlf/institutes/{institute.pk}/").json()


def test_the_list_costs_the_same_queries_whatever_its_length(
    client, project, institute, sample_types
):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            listed(client.get(SAMPLES))
            listed(client.get("/dmlf/experiments/"))
        return len(captured)

    f.ExperimentFactory(sample=f.SampleFactory(project=project, institute=institute))
    few = queries_for_list()
    for _ in range(20):
        sample = f.SampleFactory(project=project, institute=institute)
        f.ExperimentFactory(sample=sample, project=project)
    assert queries_for_list() == few


# --- sample-type-info --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Battery", "Solids", "Liquid", "Suspension"])
def test_sample_type_info_is_the_originals_exactly(client, sample_types, name):
    expected = json.loads(REFERENCE_INFO.read_text())[name]
    by_query = client.get("/dmlf/api/sample-type-info/", {"sample_type_name": name})
    assert by_query.status_code == 200
    assert by_query.json() == expected
    assert list(by_query.json()) == list(expected)  # in the original's field order
    assert client.get(f"/dmlf/api/sample-type-info/{name.lower()}/").json() == expected
    assert client.get(f"/dmlf/api/sample-type-info/?sample_type_name={name.upper()}").json() == (
        expected
    )


def test_sample_type_info_of_a_missing_or_unknown_name(client, sample_types):
    missing = client.get("/dmlf/api/sample-type-info/")
    assert missing.status_code == 400
    assert missing.json() == {"sample_type_name": ["This query parameter is required."]}
    unknown = client.get("/dmlf/api/sample-type-info/", {"sample_type_name": "Plasma"})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Sample type not found"}


def test_a_new_sample_type_is_data(client, sample_body, sample_types):
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "what it is"},
            "cells": {"type": "integer", "minimum": 1},
            "sealed_on": {"type": ["string", "null"], "format": "date"},
        },
        "required": ["name", "cells"],
    }
    module = SampleType.objects.create(name="Module", schema=schema_text(schema))
    info = client.get("/dmlf/api/sample-type-info/", {"sample_type_name": "module"}).json()
    assert info == {
        "name": {
            "type": "CharField",
            "help_text": "what it is",
            "required": True,
            "allow_null": False,
        },
        "cells": {"type": "IntegerField", "help_text": "", "required": True, "allow_null": False},
        "sealed_on": {"type": "DateField", "help_text": "", "required": False, "allow_null": True},
    }
    good = f.json_upload({"name": "pack module", "cells": "12", "sealed_on": ""})
    response = client.post(
        SAMPLES, sample_body(sample_type=module.pk, sample_info=good), format="multipart"
    )
    assert response.status_code == 201, response.json()
    bad = f.json_upload({"name": "pack module", "cells": 0})
    response = client.post(
        SAMPLES,
        sample_body(sample_id="240616_125139_010001", sample_type=module.pk, sample_info=bad),
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["sample_info"] == [
        "Invalid JSON structure for the selected sample type: cells: 0 is less than the "
        "minimum of 1"
    ]

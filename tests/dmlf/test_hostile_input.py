"""Input no client should send is a clean 4xx naming the problem, never a 500: NUL characters
(which PostgreSQL refuses with an error), out-of-range numbers and impossible UTC offsets in
paths, filters and bodies."""

from __future__ import annotations

import pytest

from tests.dmlf.conftest import EXPERIMENTS, SAMPLES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/dmlf/samples/%00/", 404, None),
        ("/dmlf/samples/%00/sample_info/", 404, None),
        ("/dmlf/institutes/99999999999999999999999/", 404, None),
        ("/dmlf/samples/?name=%00", 400, "name"),
        ("/dmlf/samples/?sample_id=a%00b", 400, "sample_id"),
        ("/dmlf/samples/?parent=%00", 400, "parent"),
        ("/dmlf/experiments/?sample=%00", 400, "sample"),
        ("/dmlf/institutes/?city=%00", 400, "city"),
        ("/dmlf/samples/?date_created=99999-01-01", 400, "date_created"),
        ("/dmlf/samples/?date_registered=2024-01-01T00:00:00%2B23:00", 400, "date_registered"),
        ("/dmlf/samples/?limit=99999999999999999999999999", 400, "limit"),
        ("/dmlf/api/sample-type-info/?sample_type_name=%00", 404, None),
        ("/dmlf/api/sample-type-info/%00/", 404, None),
    ],
)
def test_hostile_urls_are_4xx(client_for, member, sample_types, url, status, field):
    response = client_for(member).get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    if field is not None:
        assert field in response.json()


@pytest.mark.parametrize("value", ["99999999999999999999999", "1e400", "-1"])
def test_out_of_range_ids_in_filters_match_nothing(client_for, member, sample_types, value):
    response = client_for(member).get(SAMPLES, {"project": value})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == []


def test_a_nul_in_a_sample_reference_is_400(client_for, member, sample_body, project, method):
    client = client_for(member)
    response = client.post(
        SAMPLES, sample_body(parent="240616_125138\x00010001"), format="multipart"
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["parent"][0]
    body = {"sample": "\x00", "name": "x", "method": method.pk, "project": project.pk}
    response = client.post(EXPERIMENTS, {**body, "date_created": "2024-01-01"}, format="multipart")
    assert response.status_code == 400
    assert "does not exist" in response.json()["sample"][0]


def test_a_nul_in_a_name_is_400(client_for, member, sample_body):
    response = client_for(member).post(SAMPLES, sample_body(name="a\x00b"), format="multipart")
    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("999", 'Invalid pk "999" - object does not exist.'),
        ("99999999999999999999999", 'Invalid pk "99999999999999999999999" - object does not'),
        ("9223372036854775807", 'Invalid pk "9223372036854775807" - object does not exist.'),
        ("0", 'Invalid pk "0" - object does not exist.'),
        ("-1", 'Invalid pk "-1" - object does not exist.'),
        ("abc", "Incorrect type. Expected pk value, received str."),
        ("\x00", "Incorrect type. Expected pk value, received str."),
    ],
)
def test_a_catalogue_reference_that_names_nothing_is_400_naming_it(
    client_for, member, sample_body, institute, value, message
):
    response = client_for(member).post(
        SAMPLES, sample_body(institute=value, method=value), format="multipart"
    )
    assert response.status_code == 400, response.content
    for field in ("institute", "method"):
        assert response.json()[field][0].startswith(message), response.json()


def test_a_catalogue_reference_reads_the_current_row(client_for, member, sample_body, institute):
    from tests.dmlf import factories as f

    client = client_for(member)
    response = client.post(SAMPLES, sample_body(), format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["institute"] == institute.pk
    gone = f.InstituteFactory()
    gone_pk = gone.pk
    gone.delete()
    body = sample_body(sample_id="240616_125139_010001", institute=gone_pk)
    response = client.post(SAMPLES, body, format="multipart")
    assert response.status_code == 400
    assert "does not exist" in response.json()["institute"][0]

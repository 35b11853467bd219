"""Experiments: created with a ZIP ``experiment_file`` stored as ``experiment_files/<pk>.zip``,
``staff`` defaulting to the user's staff record, within one organization."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dmlf.models import Experiment
from tests.dmlf import factories as f
from tests.dmlf.conftest import EXPERIMENTS, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(project, institute, sample_types):
    return f.SampleFactory(project=project, institute=institute)


def post(client, body):
    return client.post(EXPERIMENTS, body, format="multipart")


def test_the_guides_experiment_is_created_with_its_file(
    client_for, member, experiment_body, sample, method, project, settings
):
    archive = f.zip_bytes({"eis.csv": b"frequency,z_real\n1000,0.0012\n"})
    staff = f.StaffFactory()
    body = experiment_body(
        sample, staff=staff.pk, experiment_file=f.zip_upload("experiment.zip", archive)
    )
    response = post(client_for(member), body)
    assert response.status_code == 201, response.json()
    data = response.json()
    pk = data["id"]
    assert data == {
        "id": pk,
        "name": "mock experiment",
        "date_created": "2023-04-01",
        "experiment_file": f"http://testserver/dmlf/experiments/{pk}/experiment_file/",
        "date_registered": data["date_registered"],
        "sample": sample.pk,
        "method": method.pk,
        "staff": staff.pk,
        "project": project.pk,
        "user": member.pk,
    }
    assert f"experiment_files/{pk}.zip" in stored_files(settings)
    download = client_for(member).get(data["experiment_file"])
    assert download["Content-Disposition"] == f'attachment; filename="{pk}.zip"'
    assert b"".join(download.streaming_content) == archive


def test_staff_defaults_to_the_users_staff_record(client_for, member, experiment_body, sample):
    record = f.StaffFactory(user=member)
    response = post(client_for(member), experiment_body(sample))
    assert response.status_code == 201, response.json()
    assert response.json()["staff"] == record.pk


def test_staff_is_optional(client_for, member, experiment_body, sample):
    response = post(client_for(member), experiment_body(sample))
    assert response.status_code == 201
    assert response.json()["staff"] is None


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        (None, 400, "No file was submitted."),
        (SimpleUploadedFile("experiment.zip", b"not a zip"), 400, "Only zip files are allowed."),
        (
            SimpleUploadedFile(
                "experiment.zip", f.zip_bytes({f"{i}.csv": b"1" for i in range(12)})
            ),
            400,
            "The archive has 12 entries; at most 10 are accepted.",
        ),
    ],
    ids=["missing", "not-a-zip", "too-many-entries"],
)
def test_a_bad_experiment_file_is_refused_and_nothing_is_stored(
    client_for, member, experiment_body, sample, settings, upload, status, message
):
    settings.DMLF_ZIP_MAX_ENTRIES = 10
    before = stored_files(settings)
    response = post(client_for(member), experiment_body(sample, experiment_file=upload))
    assert response.status_code == status
    assert response.json()["experiment_file"] == [message]
    assert not Experiment.objects.exists() and stored_files(settings) == before


def test_an_experiment_file_over_the_limit_is_413(
    client_for, member, experiment_body, sample, settings
):
    settings.DMLF_ZIP_MAX_SIZE = 100
    response = post(client_for(member), experiment_body(sample))
    assert response.status_code == 413
    assert not Experiment.objects.exists()


def test_the_sample_must_be_of_the_projects_organization(
    client_for, member, experiment_body, other_organization, institute
):
    foreign = f.SampleFactory(
        project=f.ProjectFactory(organization=other_organization), institute=institute
    )
    response = post(client_for(member), experiment_body(foreign))
    assert response.status_code == 400
    assert "does not exist" in response.json()["sample"][0]


def test_a_failure_after_the_file_was_written_leaves_nothing(
    client_for, member, experiment_body, sample, settings, monkeypatch
):
    before = stored_files(settings)
    original = Experiment.save

    def fail_on_the_second_save(self, *args, **kwargs):
        if kwargs.get("update_fields"):
            raise RuntimeError("the database went away")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Experiment, "save", fail_on_the_second_save)
    client = client_for(member)
    client.raise_request_exception = False
    response = post(client, experiment_body(sample))
    assert response.status_code == 500
    assert not Experiment.objects.exists() and stored_files(settings) == before


def test_patch_replaces_the_file_and_delete_removes_it(
    client_for, member, experiment_body, sample, settings, django_capture_on_commit_callbacks
):
    client = client_for(member)
    before = stored_files(settings)
    pk = post(client, experiment_body(sample)).json()["id"]
    url = reverse("dmlf:experiment-detail", args=[pk])
    new = f.zip_bytes({"v2.csv": b"2\n"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            url, {"name": "v2", "experiment_file": f.zip_upload(content=new)}, format="multipart"
        )
    assert response.status_code == 200, response.json()
    assert b"".join(client.get(response.json()["experiment_file"]).streaming_content) == new
    assert len(stored_files(settings)) == len(before) + 1
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(url).status_code == 204
    assert stored_files(settings) == before


def test_the_user_of_an_experiment_is_read_only(client_for, member, owner, experiment_body, sample):
    client = client_for(member)
    pk = post(client, experiment_body(sample)).json()["id"]
    url = reverse("dmlf:experiment-detail", args=[pk])
    response = client.patch(url, {"user": owner.pk}, format="multipart")
    assert response.status_code == 200
    assert response.json()["user"] == member.pk

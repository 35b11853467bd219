"""Samples: create with ``sample_info`` and ``supplementary_file``, the original's validation,
files at their documented names behind the access check, updates, deletes, and bad input that
leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from dmlf.models import Institute, Method, Sample
from dmlf.serializers import SAMPLE_ID_TAKEN
from tests.dmlf import factories as f
from tests.dmlf.conftest import SAMPLE_ID, SAMPLES, sample_url, stored_files

pytestmark = pytest.mark.django_db


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


def post(client, body):
    return client.post(SAMPLES, body, format="multipart")


# --- Create ------------------------------------------------------------------------------------


def test_the_guides_sample_is_created_with_its_files_at_the_documented_names(
    client_for, member, sample_body, settings, institute, method, project, sample_types
):
    archive = f.zip_bytes({"datasheet.pdf": b"%PDF-1.7 ..."})
    body = sample_body(supplementary_file=f.zip_upload("sample.zip", archive))
    response = post(client_for(member), body)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "sample_id": SAMPLE_ID,
        "name": "mock sample",
        "date_created": "2024-06-16",
        "sample_info": f"http://testserver/dmlf/samples/{SAMPLE_ID}/sample_info/",
        "supplementary_file": f"http://testserver/dmlf/samples/{SAMPLE_ID}/supplementary_file/",
        "date_registered": response.json()["date_registered"],
        "institute": institute.pk,
        "method": method.pk,
        "project": project.pk,
        "sample_type": sample_types["Battery"].pk,
        "user": member.pk,
        "parent": None,
    }
    assert stored_files(settings) == [
        f"sample_info/{SAMPLE_ID}.json",
        f"supplementary_files/{SAMPLE_ID}.zip",
    ]
    sample = Sample.objects.get()
    assert json.loads(sample.sample_info.read()) == f.GUIDE_SAMPLE_INFO  # stored as sent
    assert sample.supplementary_file.read() == archive
    registered = dt.datetime.fromisoformat(response.json()["date_registered"])
    assert abs(registered - timezone.now()) < dt.timedelta(minutes=5)


def test_the_user_is_the_authenticated_one_whatever_the_body_says(
    client_for, member, owner, sample_body
):
    response = post(client_for(member), sample_body(user=owner.pk))
    assert response.status_code == 201
    assert response.json()["user"] == member.pk


def test_files_download_only_through_the_access_check(
    client_for, member, viewer, outsider, sample_body
):
    archive = f.zip_bytes({"a.csv": b"1\n"})
    body = sample_body(supplementary_file=f.zip_upload("anything.zip", archive))
    data = post(client_for(member), body).json()
    response = client_for(viewer).get(data["supplementary_file"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{SAMPLE_ID}.zip"'
    assert downloaded(response) == archive
    info = client_for(viewer).get(data["sample_info"], HTTP_ACCEPT="application/json")
    assert json.loads(downloaded(info)) == f.GUIDE_SAMPLE_INFO
    assert client_for(outsider).get(data["sample_info"]).status_code == 404
    assert APIClient().get(data["sample_info"]).status_code == 401
    # Never public media.
    assert APIClient().get(f"/media/sample_info/{SAMPLE_ID}.json").status_code == 404


def test_a_sample_without_a_supplementary_file_has_none_to_download(
    client_for, member, sample_body
):
    data = post(client_for(member), sample_body()).json()
    assert data["supplementary_file"] is None
    response = client_for(member).get(sample_url(SAMPLE_ID, "supplementary_file/"))
    assert response.status_code == 404
    assert response.json() == {"detail": "This object has no file."}


def test_parent_names_a_sample_of_the_same_organization(client_for, member, sample_body):
    client = client_for(member)
    parent = post(client, sample_body()).json()
    child = post(client, sample_body(sample_id="240616_125139_010001", parent=parent["sample_id"]))
    assert child.status_code == 201, child.json()
    assert child.json()["parent"] == SAMPLE_ID


def test_a_json_body_is_415_as_the_original(client_for, member, sample_body):
    body = sample_body()
    del body["sample_info"]
    response = client_for(member).post(SAMPLES, body, format="json")
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


# --- The sample_id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample_id", "message"),
    [
        ("240616125138010001xx", "format 'yymmdd_hhmmss_iiaaaa'"),
        ("240616_125138_01000", "at least 20 characters"),
        ("24o616_125138_010001", "format 'yymmdd_hhmmss_iiaaaa'"),
        ("٢٤٠٦١٦_125138_010001", "format 'yymmdd_hhmmss_iiaaaa'"),
        ("241332_125138_010001", "date part of the Sample ID is not valid"),
        ("240230_125138_010001", "date part of the Sample ID is not valid"),
        ("240616_246000_010001", "time part of the Sample ID is not valid"),
    ],
)
def test_a_bad_sample_id_is_400_saying_which_part(
    client_for, member, sample_body, settings, sample_id, message
):
    response = post(client_for(member), sample_body(sample_id=sample_id))
    assert response.status_code == 400
    assert message in response.json()["sample_id"][0]
    assert not Sample.objects.exists() and stored_files(settings) == []


def test_institute_and_method_codes_stay_within_the_highest_ids(
    client_for, member, project, sample_types
):
    institute = f.InstituteFactory(id=5)
    method = f.MethodFactory(id=7, institute=institute)
    assert Institute.objects.count() == 1 and Method.objects.count() == 1
    body = {
        "name": "coded",
        "institute": institute.pk,
        "method": method.pk,
        "project": project.pk,
        "sample_type": sample_types["Battery"].pk,
        "date_created": "2024-06-16",
    }
    client = client_for(member)
    for sample_id, message in [
        ("240616_125138_060001", "The institution code 6 exceeds the highest institute id 5."),
        ("240616_125138_050008", "The method code 8 exceeds the highest method id 7."),
    ]:
        response = post(client, {**body, "sample_id": sample_id, "sample_info": f.json_upload()})
        assert response.status_code == 400
        assert response.json()["sample_id"] == [message]
    ok = post(client, {**body, "sample_id": "240616_125138_050007", "sample_info": f.json_upload()})
    assert ok.status_code == 201, ok.json()


@pytest.mark.parametrize("days", [0, 1, 365])
def test_today_and_later_are_not_in_the_past(client_for, member, sample_body, days):
    day = (timezone.now() + dt.timedelta(days=days)).strftime("%y%m%d")
    response = post(client_for(member), sample_body(sample_id=f"{day}_000000_010001"))
    assert response.status_code == 400
    assert "must be in the past" in response.json()["sample_id"][0]


def test_a_duplicate_sample_id_is_400_with_the_originals_message(
    client_for, member, sample_body, settings
):
    client = client_for(member)
    assert post(client, sample_body()).status_code == 201
    response = post(client, sample_body(name="again"))
    assert response.status_code == 400
    assert response.json() == {"sample_id": [SAMPLE_ID_TAKEN]}
    assert stored_files(settings) == [f"sample_info/{SAMPLE_ID}.json"]
    assert Sample.objects.get().name == "mock sample"


def test_a_sample_id_taken_between_validation_and_insert_is_the_same_400(
    client_for, member, sample_body, settings, monkeypatch, project, sample_types, institute
):
    """The unique key settles a race: the loser's insert fails and becomes the 400."""
    from dmlf import serializers as dmlf_serializers

    original = dmlf_serializers.SampleSerializer.validate_sample_id

    def validate_then_lose_the_race(self, value):
        value = original(self, value)
        f.SampleFactory(sample_id=value, project=project, institute=institute)
        return value

    monkeypatch.setattr(
        dmlf_serializers.SampleSerializer, "validate_sample_id", validate_then_lose_the_race
    )
    response = post(client_for(member), sample_body())
    assert response.status_code == 400
    assert response.json() == {"sample_id": [SAMPLE_ID_TAKEN]}
    # Only the winner's file: the loser's bytes were removed.
    assert stored_files(settings) == [f"sample_info/{SAMPLE_ID}.json"]
    assert Sample.objects.get().name.startswith("Sample ")


# --- sample_info -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Invalid JSON file. Please upload a valid JSON file."),
        (b"", "The submitted file is empty."),
        (b'{"name": NaN}', "Invalid JSON file."),
        (b"[" * 100 + b"]" * 100, "Invalid JSON file. Please upload a valid JSON file."),
        (b"[1, 2]", "must hold a JSON object"),
        (b'{"name": "x"}', "manufacturer: This field is required."),
        (b'{"name": "x", "manufacturer": "y", "produced": "16.06.2024"}', "produced:"),
        (b'{"name": "", "manufacturer": "y"}', "name: '' should be non-empty"),
    ],
    ids=["garbage", "empty", "nan", "deep", "array", "missing", "bad-date", "blank-name"],
)
def test_a_sample_info_that_does_not_fit_is_400_naming_the_field(
    client_for, member, sample_body, settings, content, message
):
    upload = SimpleUploadedFile("sample_info.json", content, content_type="application/json")
    response = post(client_for(member), sample_body(sample_info=upload))
    assert response.status_code == 400
    errors = response.json()["sample_info"]
    assert any(message in error for error in errors), errors
    assert not Sample.objects.exists() and stored_files(settings) == []


def test_sample_info_is_checked_against_the_chosen_type(client_for, member, sample_body):
    solids = {"name": "quartz sand", "weight_in_g": "12.5", "comment": ""}
    client = client_for(member)
    as_battery = post(client, sample_body(sample_info=f.json_upload(solids)))
    assert as_battery.status_code == 400
    assert any("manufacturer" in error for error in as_battery.json()["sample_info"])
    solids_type = f.builtin_sample_types()["Solids"].pk
    body = sample_body(sample_info=f.json_upload(solids), sample_type=solids_type)
    as_solids = post(client, body)
    assert as_solids.status_code == 201, as_solids.json()


def test_sample_info_is_required(client_for, member, sample_body):
    response = post(client_for(member), sample_body(sample_info=None))
    assert response.status_code == 400
    assert response.json()["sample_info"] == ["No file was submitted."]


def test_a_sample_info_over_its_limit_is_413(client_for, member, sample_body, settings):
    settings.DMLF_SAMPLE_INFO_MAX_SIZE = 100
    document = {**f.GUIDE_SAMPLE_INFO, "comment": "x" * 200}
    response = post(client_for(member), sample_body(sample_info=f.json_upload(document)))
    assert response.status_code == 413
    assert "the limit is 100 bytes" in response.json()["detail"]
    assert stored_files(settings) == []


# --- supplementary_file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"time,voltage\n0,3.7\n", "Only zip files are allowed."),
        (f.zip_bytes({"../../etc/cron.d/x": b"* * * * * evil"}), "leads outside the archive"),
        (f.zip_bytes({"bomb.bin": bytes(20 * 2**20)}), "more than 100 times"),
    ],
    ids=["csv-named-zip", "zip-slip", "bomb"],
)
def test_a_bad_supplementary_file_is_400_and_nothing_is_stored(
    client_for, member, sample_body, settings, content, message
):
    upload = SimpleUploadedFile("sample.zip", content, content_type="application/zip")
    response = post(client_for(member), sample_body(supplementary_file=upload))
    assert response.status_code == 400
    assert message in response.json()["supplementary_file"][0]
    assert not Sample.objects.exists() and stored_files(settings) == []


def test_a_supplementary_file_over_the_zip_limit_is_413(client_for, member, sample_body, settings):
    settings.DMLF_ZIP_MAX_SIZE = 1000
    archive = f.zip_bytes({"noise.bin": bytes(range(256)) * 20}, compression=0)
    body = sample_body(supplementary_file=f.zip_upload(content=archive))
    response = post(client_for(member), body)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The supplementary_file is")
    assert "the limit is 1000 bytes" in response.json()["detail"]
    assert stored_files(settings) == []


def test_a_body_over_the_upload_limit_is_413_before_it_is_read(client_for, member):
    from dmlf.views import SampleViewSet

    response = client_for(member).generic(
        "POST",
        SAMPLES,
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(SampleViewSet.max_body_size + 1),
    )
    assert response.status_code == 413
    assert "limit for this endpoint" in response.json()["detail"]


def test_a_request_that_fails_after_its_files_were_stored_leaves_none(
    client_for, member, sample_body, settings, monkeypatch
):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Sample, "save", fail)
    client = client_for(member)
    client.raise_request_exception = False
    response = post(client, sample_body(supplementary_file=f.zip_upload()))
    assert response.status_code == 500
    assert stored_files(settings) == []


# --- Update ------------------------------------------------------------------------------------


def test_patch_changes_fields_and_replaces_a_file(
    client_for, member, sample_body, settings, django_capture_on_commit_callbacks
):
    client = client_for(member)
    post(client, sample_body(supplementary_file=f.zip_upload()))
    new_archive = f.zip_bytes({"v2.csv": b"2\n"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            sample_url(SAMPLE_ID),
            {"name": "renamed", "supplementary_file": f.zip_upload("v2.zip", new_archive)},
            format="multipart",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "renamed"
    assert downloaded(client.get(response.json()["supplementary_file"])) == new_archive
    files = stored_files(settings)
    assert len(files) == 2 and f"sample_info/{SAMPLE_ID}.json" in files  # the old ZIP is gone
    assert Sample.objects.get().supplementary_file.name in files


def test_patch_with_an_empty_supplementary_file_removes_it(
    client_for, member, sample_body, settings, django_capture_on_commit_callbacks
):
    client = client_for(member)
    post(client, sample_body(supplementary_file=f.zip_upload()))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            sample_url(SAMPLE_ID), {"supplementary_file": ""}, format="multipart"
        )
    assert response.status_code == 200, response.json()
    assert response.json()["supplementary_file"] is None
    assert stored_files(settings) == [f"sample_info/{SAMPLE_ID}.json"]


def test_a_new_sample_type_must_fit_the_stored_sample_info(client_for, member, sample_body):
    client = client_for(member)
    post(client, sample_body())
    liquid = f.builtin_sample_types()["Liquid"].pk
    response = client.patch(sample_url(SAMPLE_ID), {"sample_type": liquid}, format="multipart")
    assert response.status_code == 400
    assert any("volume_in_ccm" in error for error in response.json()["sample_info"])


def test_put_replaces_the_sample_info_and_keeps_the_id(client_for, member, sample_body):
    client = client_for(member)
    post(client, sample_body())
    document = {**f.GUIDE_SAMPLE_INFO, "comment": "second thoughts"}
    body = sample_body(name="replaced", sample_info=f.json_upload(document))
    response = client.put(sample_url(SAMPLE_ID), body, format="multipart")
    assert response.status_code == 200, response.json()
    assert json.loads(downloaded(client.get(response.json()["sample_info"]))) == document


def test_the_sample_id_cannot_change(client_for, member, sample_body):
    client = client_for(member)
    post(client, sample_body())
    response = client.patch(
        sample_url(SAMPLE_ID), {"sample_id": "240616_125139_010001"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["sample_id"] == ["The sample ID cannot be changed."]


def test_a_sample_cannot_descend_from_itself(client_for, member, sample_body):
    client = client_for(member)
    post(client, sample_body())
    post(client, sample_body(sample_id="240616_125139_010001", parent=SAMPLE_ID))
    for parent in (SAMPLE_ID, "240616_125139_010001"):
        response = client.patch(sample_url(SAMPLE_ID), {"parent": parent}, format="multipart")
        assert response.status_code == 400
        assert "own parent" in response.json()["parent"][0]


def test_a_failed_update_keeps_the_old_file(client_for, member, sample_body, settings, monkeypatch):
    client = client_for(member)
    post(client, sample_body(supplementary_file=f.zip_upload()))
    before = stored_files(settings)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Sample, "save", fail)
    client.raise_request_exception = False
    response = client.patch(
        sample_url(SAMPLE_ID), {"supplementary_file": f.zip_upload()}, format="multipart"
    )
    assert response.status_code == 500
    assert stored_files(settings) == before


# --- Delete ------------------------------------------------------------------------------------


def test_delete_removes_the_sample_and_its_files(
    client_for, member, sample_body, settings, django_capture_on_commit_callbacks
):
    client = client_for(member)
    post(client, sample_body(supplementary_file=f.zip_upload()))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(sample_url(SAMPLE_ID))
    assert response.status_code == 204
    assert not Sample.objects.exists() and stored_files(settings) == []


def test_deleting_a_sample_with_experiments_or_children_is_409_saying_why(
    client_for, member, sample_body, method
):
    client = client_for(member)
    post(client, sample_body())
    sample = Sample.objects.get()
    f.ExperimentFactory(sample=sample, method=method)
    f.SampleFactory(parent=sample, project=sample.project, institute=sample.institute)
    response = client.delete(sample_url(SAMPLE_ID))
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"The sample {SAMPLE_ID} cannot be deleted: 1 experiment and 1 child "
        "sample refer to it. Delete those first."
    }
    assert Sample.objects.filter(pk=SAMPLE_ID).exists()


# --- Without the trailing slash ----------------------------------------------------------------


def test_every_method_works_without_the_trailing_slash(client_for, member, sample_body):
    client = client_for(member)
    assert client.post(SAMPLES.rstrip("/"), sample_body(), format="multipart").status_code == 201
    url = sample_url(SAMPLE_ID).rstrip("/")
    assert client.get(url).json()["sample_id"] == SAMPLE_ID
    assert client.patch(url, {"name": "x"}, format="multipart").status_code == 200
    assert client.get(url + "/sample_info").status_code == 200
    assert client.delete(url).status_code == 204

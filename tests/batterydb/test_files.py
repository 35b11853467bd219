"""File uploads and downloads: BMS files, DBC files and model versions.

An upload is stored as a ``StoredFile`` (name, size, content type, SHA-256); the resource
answers its id as ``file`` and a ``download`` link that streams the bytes back as an
attachment. Bodies above ``API_MAX_UPLOAD_SIZE`` are a 413; a DBC file must parse.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from batterydb.models import BMSFile, DBCFile, ModelVersion, StoredFile
from batterydb.views.files import BMSFileViewSet
from core import services
from tests.batterydb import factories as f

pytestmark = pytest.mark.django_db

BMS_FILES = reverse("batterydb:bms-file-list")
DBC_FILES = reverse("batterydb:dbc-file-list")
CONTENT = b"timestamp,pack_voltage\n2024-05-01T00:00:00Z,396.5\n" * 50

BAD_DBC = f.SAMPLE_DBC + "\nBO_ not-a-message\n"


def bms_upload(name: str = "run-1.csv", content: bytes = CONTENT) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def dbc_upload(text: str = f.SAMPLE_DBC, name: str = "pack.dbc") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def bms_test(organization):
    return f.BMSTestFactory(organization=organization)


def post_bms_file(client, organization, bms_test, **extra):
    body = {"organization": organization.pk, "bms_test": bms_test.pk, "file": bms_upload()}
    return client.post(BMS_FILES, {**body, **extra}, format="multipart")


# --- Upload and download -----------------------------------------------------------------------


def test_bms_file_upload_is_stored_with_its_checksum(client_for, organization, member, bms_test):
    response = post_bms_file(client_for(member), organization, bms_test)
    assert response.status_code == 201, response.json()
    data = response.json()
    stored = StoredFile.objects.get()
    assert data["file"] == stored.pk
    assert data["bms_test"] == bms_test.pk
    assert data["download"] == f"http://testserver/api/v2/bms/files/{data['id']}/download/"
    assert (stored.name, stored.size, stored.content_type) == (
        "run-1.csv",
        len(CONTENT),
        "text/csv",
    )
    assert stored.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert stored.organization_id == organization.pk and stored.created_by_id == member.pk
    assert stored.file.read() == CONTENT


def test_download_round_trips_the_bytes_as_an_attachment(
    client_for, organization, member, viewer, bms_test
):
    data = post_bms_file(client_for(member), organization, bms_test).json()
    response = client_for(viewer).get(data["download"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="run-1.csv"'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == len(CONTENT)
    assert response["ETag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert downloaded(response) == CONTENT


def test_download_with_an_api_key_and_any_accept_header(client_for, organization, member):
    bms_file = f.BMSFileFactory(organization=organization)
    _, key = services.api_key_create(user=member, name="k")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"User {key}")
    url = reverse("batterydb:bms-file-download", args=[bms_file.pk])
    for accept in ("application/octet-stream", "text/csv", "*/*"):
        response = client.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert downloaded(response) == b"time,voltage\n0,3.7\n"


def test_a_non_ascii_file_name_survives_the_download(client_for, organization, member, bms_test):
    name = "Messung März ⚡.csv"
    client = client_for(member)
    data = post_bms_file(client, organization, bms_test, file=bms_upload(name)).json()
    response = client.get(data["download"])
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html"),
        ("drawing.svg", "image/svg+xml"),
        ("script.js", "application/javascript"),
    ],
)
def test_a_file_uploaded_as_active_content_downloads_as_an_inert_attachment(
    client_for, organization, member, viewer, bms_test, name, content_type
):
    content = b"<html><script>alert(document.cookie)</script></html>"
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    data = post_bms_file(client_for(member), organization, bms_test, file=upload).json()
    assert StoredFile.objects.get().content_type == content_type  # kept, but not served
    response = client_for(viewer).get(data["download"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert downloaded(response) == content


def test_every_file_resource_downloads_as_octet_stream(client_for, organization, member):
    dbc = f.DBCFileFactory(organization=organization)
    version = f.ModelVersionFactory(
        organization=organization,
        file=f.StoredFileFactory(organization=organization, content_type="text/html"),
    )
    client = client_for(member)
    for url in (
        reverse("batterydb:dbc-file-download", args=[dbc.pk]),
        reverse("batterydb:model-version-download", args=[version.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")


def test_control_characters_never_reach_the_download_header(client_for, organization, member):
    stored = f.StoredFileFactory(organization=organization, name="run\r\nSet-Cookie: x=1.csv")
    bms_file = f.BMSFileFactory(organization=organization, file=stored)
    response = client_for(member).get(reverse("batterydb:bms-file-download", args=[bms_file.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="runSet-Cookie: x=1.csv"'
    assert "Set-Cookie" not in response.headers


def test_a_client_path_in_the_file_name_is_dropped(client_for, organization, member, bms_test):
    upload = bms_upload("C:\\Users\\lab\\run-2.csv")
    post_bms_file(client_for(member), organization, bms_test, file=upload)
    assert StoredFile.objects.get().name == "run-2.csv"


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("outsider", 404), ("viewer", 200), ("staff", 200)]
)
def test_download_is_scoped_like_the_rest(request, client_for, organization, role, expected):
    bms_file = f.BMSFileFactory(organization=organization)
    client = APIClient() if role == "anonymous" else client_for(request.getfixturevalue(role))
    response = client.get(reverse("batterydb:bms-file-download", args=[bms_file.pk]))
    assert response.status_code == expected
    if expected != 200:
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()


def test_missing_bytes_are_a_json_404(client_for, organization, member):
    bms_file = f.BMSFileFactory(organization=organization)
    bms_file.file.file.delete(save=False)
    response = client_for(member).get(reverse("batterydb:bms-file-download", args=[bms_file.pk]))
    assert response.status_code == 404
    assert "missing" in response.json()["detail"]


# --- Bad uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_part", "message"),
    [(None, "No file was submitted"), (bms_upload(content=b""), "empty")],
    ids=["missing", "empty"],
)
def test_a_missing_or_empty_file_is_400_on_file(
    client_for, organization, member, bms_test, file_part, message
):
    body = {"organization": organization.pk, "bms_test": bms_test.pk}
    if file_part is not None:
        file_part.seek(0)
        body["file"] = file_part
    response = client_for(member).post(BMS_FILES, body, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not StoredFile.objects.exists() and not BMSFile.objects.exists()


def test_json_cannot_carry_a_file(client_for, organization, member, bms_test):
    response = client_for(member).post(
        BMS_FILES, [{"organization": organization.pk, "bms_test": bms_test.pk}], format="json"
    )
    assert response.status_code == 400
    assert "file" in response.json()["0"]


def test_upload_over_the_size_limit_is_413_and_stores_nothing(
    client_for, organization, member, bms_test, settings, monkeypatch
):
    settings.API_MAX_UPLOAD_SIZE = 1024
    monkeypatch.setattr(BMSFileViewSet, "max_body_size", settings.API_MAX_UPLOAD_SIZE)
    client = client_for(member)
    response = post_bms_file(client, organization, bms_test, file=bms_upload(content=b"x" * 2048))
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]
    assert not StoredFile.objects.exists() and not BMSFile.objects.exists()
    small = post_bms_file(client, organization, bms_test, file=bms_upload(content=b"x" * 100))
    assert small.status_code == 201


def test_the_upload_limit_is_the_configured_one(client_for, member, settings):
    assert BMSFileViewSet.max_body_size == settings.API_MAX_UPLOAD_SIZE
    response = client_for(member).generic(
        "POST",
        BMS_FILES,
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(settings.API_MAX_UPLOAD_SIZE + 1),
    )
    assert response.status_code == 413


def test_viewer_upload_is_403_before_any_bytes_are_stored(
    client_for, organization, viewer, bms_test
):
    response = post_bms_file(client_for(viewer), organization, bms_test)
    assert response.status_code == 403
    assert not StoredFile.objects.exists()


def test_a_failed_save_leaves_no_bytes_behind(
    client_for, organization, member, bms_test, monkeypatch, settings
):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(BMSFile, "save", fail)
    client = client_for(member)
    client.raise_request_exception = False
    response = post_bms_file(client, organization, bms_test)
    assert response.status_code == 500
    assert not StoredFile.objects.exists()
    assert not any(path.is_file() for path in settings.MEDIA_ROOT.rglob("*"))


# --- Replacing and deleting --------------------------------------------------------------------


def test_replacing_the_file_stores_a_new_one_and_releases_the_old(
    client_for, organization, member, bms_test, django_capture_on_commit_callbacks
):
    client = client_for(member)
    data = post_bms_file(client, organization, bms_test).json()
    old = StoredFile.objects.get(pk=data["file"])
    old_path = old.file.path
    url = reverse("batterydb:bms-file-detail", args=[data["id"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(url, {"file": bms_upload("run-2.csv", b"new")}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["file"] != old.pk
    assert StoredFile.objects.get().name == "run-2.csv"
    assert not StoredFile.objects.filter(pk=old.pk).exists()
    assert not os.path.exists(old_path)
    assert downloaded(client.get(response.json()["download"])) == b"new"


def test_an_update_without_a_file_keeps_it(client_for, organization, member):
    bms_file = f.BMSFileFactory(organization=organization)
    url = reverse("batterydb:bms-file-detail", args=[bms_file.pk])
    response = client_for(member).patch(url, {"notes": "checked"}, format="json")
    assert response.status_code == 200
    assert response.json()["file"] == bms_file.file_id
    assert response.json()["notes"] == "checked"


def test_deleting_a_file_resource_deletes_its_stored_file(
    client_for, organization, owner, django_capture_on_commit_callbacks
):
    bms_file = f.BMSFileFactory(organization=organization)
    path = bms_file.file.file.path
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(
            reverse("batterydb:bms-file-detail", args=[bms_file.pk])
        )
    assert response.status_code == 204
    assert not StoredFile.objects.exists()
    assert not os.path.exists(path)


# --- DBC files ---------------------------------------------------------------------------------


def test_a_valid_dbc_file_is_parsed_into_a_summary(client_for, organization, member):
    client = client_for(member)
    response = client.post(
        DBC_FILES, {"organization": organization.pk, "file": dbc_upload()}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "pack.dbc"
    assert data["summary"] == {
        "message_count": 2,
        "signal_count": 3,
        "nodes": ["BMS"],
        "message_names": ["PackStatus", "CellTemps"],
        "message_names_truncated": False,
    }
    assert DBCFile.objects.get().summary == data["summary"]
    download = client.get(data["download"])
    assert download["Content-Disposition"] == 'attachment; filename="pack.dbc"'
    assert downloaded(download) == f.SAMPLE_DBC.encode()


def test_summary_is_read_only(client_for, organization, member):
    dbc = f.DBCFileFactory(organization=organization)
    url = reverse("batterydb:dbc-file-detail", args=[dbc.pk])
    response = client_for(member).patch(url, {"summary": {"message_count": 99}}, format="json")
    assert response.status_code == 200
    assert response.json()["summary"]["message_count"] == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BAD_DBC, "line 16"),
        ("this is not a dbc file", "line 1"),
        ("   \n", "empty"),
    ],
    ids=["bad-message-line", "garbage", "blank"],
)
def test_a_dbc_file_that_does_not_parse_is_400_saying_where(
    client_for, organization, member, text, expected
):
    response = client_for(member).post(
        DBC_FILES,
        {"organization": organization.pk, "file": dbc_upload(text)},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert expected in response.json()["file"][0]
    assert not DBCFile.objects.exists() and not StoredFile.objects.exists()


def test_replacing_a_dbc_file_reparses_it(client_for, organization, member):
    dbc = f.DBCFileFactory(organization=organization, name="keep-me.dbc")
    text = 'VERSION ""\n\nBU_: BMS\n\nBO_ 300 Only: 8 BMS\n SG_ A : 0|8@1+ (1,0) [0|255] "" BMS\n'
    response = client_for(member).patch(
        reverse("batterydb:dbc-file-detail", args=[dbc.pk]),
        {"file": dbc_upload(text, "v2.dbc")},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "keep-me.dbc"
    assert response.json()["summary"]["message_names"] == ["Only"]


def test_a_cp1252_dbc_file_parses(client_for, organization, member):
    text = f.SAMPLE_DBC.replace('"degC"', '"°C"')
    upload = SimpleUploadedFile("legacy.dbc", text.encode("cp1252"))
    response = client_for(member).post(
        DBC_FILES, {"organization": organization.pk, "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()


# --- Model versions: a file attached later -------------------------------------------------------


def test_a_model_version_gets_its_file_after_create(client_for, organization, member):
    client = client_for(member)
    battery_model = f.BatteryModelFactory(organization=organization)
    response = client.post(
        reverse("batterydb:model-version-list"),
        {"organization": organization.pk, "battery_model": battery_model.pk, "version": "1.0"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["file"] is None and data["download"] is None
    url = reverse("batterydb:model-version-detail", args=[data["id"]])
    download_url = reverse("batterydb:model-version-download", args=[data["id"]])
    assert client.get(download_url).status_code == 404

    onnx = SimpleUploadedFile("model.onnx", b"\x08\x07ONNX", content_type="application/onnx")
    data = client.patch(url, {"file": onnx}, format="multipart").json()
    assert data["file"] == ModelVersion.objects.get().file_id
    assert data["download"].endswith(download_url)
    assert downloaded(client.get(download_url)) == b"\x08\x07ONNX"

    data = client.patch(url, {"file": None}, format="json").json()
    assert data["file"] is None
    assert not StoredFile.objects.exists()

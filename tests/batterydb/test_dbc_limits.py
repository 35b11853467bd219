"""DBC uploads within limits: their own size limit (413), a message limit (400), and parsing
in a child process whose memory, CPU and time are limited (400), so that a pathological file
costs the server nothing and the next upload works."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from batterydb.models import DBCFile, StoredFile
from tests.batterydb import factories as f

pytestmark = pytest.mark.django_db

DBC_FILES = reverse("batterydb:dbc-file-list")
HEAD = 'VERSION ""\n\nNS_ :\n\nBS_:\n\nBU_: BMS\n\n'


def frame_id(n: int) -> int:
    # Beyond the 2,048 standard identifiers, DBC marks extended ones with bit 31.
    return n if n < 2048 else 0x80000000 + n


def dbc_with_messages(count: int, signals: int = 1) -> str:
    parts = [HEAD]
    for n in range(count):
        parts.append(f"BO_ {frame_id(n)} Message{n}: 8 BMS\n")
        for s in range(signals):
            parts.append(f' SG_ Signal{n}_{s} : {s}|1@1+ (1,0) [0|1] "" BMS\n')
        parts.append("\n")
    return "".join(parts)


def dbc_with_comment(length: int) -> str:
    """A valid DBC whose one comment is ``length`` characters long."""
    return dbc_with_messages(1) + f'CM_ BO_ 0 "{"x" * length}";\n'


def post(client, organization, text: str, name: str = "pack.dbc"):
    upload = SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")
    return client.post(DBC_FILES, {"organization": organization.pk, "file": upload}, "multipart")


def assert_nothing_stored():
    assert not DBCFile.objects.exists() and not StoredFile.objects.exists()


def assert_server_still_parses(client, organization):
    response = post(client, organization, f.SAMPLE_DBC)
    assert response.status_code == 201, response.json()
    assert response.json()["summary"]["message_names"] == ["PackStatus", "CellTemps"]


def test_the_default_limits_are_far_below_the_upload_limit(settings):
    assert settings.DBC_MAX_SIZE * 10 <= settings.API_MAX_UPLOAD_SIZE
    assert settings.DBC_MAX_MESSAGES == 10_000


def test_a_dbc_file_over_its_size_limit_is_413_and_stores_nothing(
    client_for, organization, member, settings
):
    text = dbc_with_comment(2000)
    settings.DBC_MAX_SIZE = len(text) - 1
    client = client_for(member)

    response = post(client, organization, text)

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"DBC files are limited to {len(text) - 1} bytes; this one has {len(text)}."
    }
    assert_nothing_stored()
    settings.DBC_MAX_SIZE = len(text)
    assert post(client, organization, text).status_code == 201


def test_a_dbc_file_with_too_many_messages_is_400(client_for, organization, member, settings):
    settings.DBC_MAX_MESSAGES = 5
    client = client_for(member)

    response = post(client, organization, dbc_with_messages(6))

    assert response.status_code == 400
    assert response.json() == {"file": ["The file defines 6 messages; at most 5 are accepted."]}
    assert_nothing_stored()
    accepted = post(client, organization, dbc_with_messages(5))
    assert accepted.status_code == 201
    assert accepted.json()["summary"]["message_count"] == 5


def test_the_message_limit_holds_at_its_default(client_for, organization, member):
    response = post(client_for(member), organization, dbc_with_messages(10_001, signals=0))
    assert response.status_code == 400
    assert "10001 messages; at most 10000" in response.json()["file"][0]


def test_many_messages_within_the_limit_are_summarized(client_for, organization, member):
    response = post(client_for(member), organization, dbc_with_messages(3000))
    assert response.status_code == 201, response.json()
    summary = response.json()["summary"]
    assert (summary["message_count"], summary["signal_count"]) == (3000, 3000)
    assert len(summary["message_names"]) == 100 and summary["message_names_truncated"]


def test_a_dbc_file_that_needs_too_much_memory_is_400_and_the_server_survives(
    client_for, organization, member, settings
):
    # cantools needs about 200 bytes of memory per character of one long string.
    settings.DBC_PARSE_MEMORY_MB = 200
    client = client_for(member)

    response = post(client, organization, dbc_with_comment(1_500_000))

    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "could not be parsed within the server's limits" in message
    assert "more memory than the limit of 200 MB" in message
    assert_nothing_stored()
    assert_server_still_parses(client, organization)


def test_a_dbc_file_that_needs_too_much_cpu_is_400_and_the_server_survives(
    client_for, organization, member, settings
):
    # About 100,000 signals: several seconds of cantools' CPU time.
    settings.DBC_PARSE_CPU_SECONDS = 1
    client = client_for(member)

    response = post(client, organization, dbc_with_messages(1600, signals=64))

    assert response.status_code == 400
    assert "more CPU time than the limit of 1 seconds" in response.json()["file"][0]
    assert_nothing_stored()
    assert_server_still_parses(client, organization)


def test_a_dbc_parse_that_outlasts_the_timeout_is_400(client_for, organization, member, settings):
    settings.DBC_PARSE_TIMEOUT_SECONDS = 0
    response = post(client_for(member), organization, f.SAMPLE_DBC)
    assert response.status_code == 400
    assert "took longer than the limit of 0 seconds" in response.json()["file"][0]
    assert_nothing_stored()


def test_replacing_the_file_is_held_to_the_same_limits(client_for, organization, member, settings):
    dbc = f.DBCFileFactory(organization=organization)
    settings.DBC_MAX_MESSAGES = 2
    upload = SimpleUploadedFile("v2.dbc", dbc_with_messages(3).encode())
    response = client_for(member).patch(
        reverse("batterydb:dbc-file-detail", args=[dbc.pk]), {"file": upload}, "multipart"
    )
    assert response.status_code == 400
    assert "3 messages" in response.json()["file"][0]
    dbc.refresh_from_db()
    assert dbc.summary["message_count"] == 2

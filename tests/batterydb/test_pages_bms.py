"""The BMS pages: the user's BMS tests, one test's page with its files and each one's latest
decoding (progress, error or summary), and the decode form (members, CSRF) that starts the
same job as the API; viewers see no form and may not post, other organizations' tests and
files are 404; each page costs a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from batterydb.models import BMSResult
from core.jobs import Job
from tests.batterydb import factories as f
from tests.batterydb.test_decode import UNKNOWN_ID, database, frames, write_log
from tests.batterydb.test_pages import _pages_mounted, text_of, web_client  # noqa: F401

pytestmark = pytest.mark.django_db


def list_url() -> str:
    return reverse("batterydb-pages:bms-test-list")


def page_url(test) -> str:
    return reverse("batterydb-pages:bms-test-page", args=[test.pk])


def decode_url(bms_file) -> str:
    return reverse("batterydb-pages:bms-file-decode", args=[bms_file.pk])


@pytest.fixture
def dbc(organization):
    return f.DBCFileFactory(
        organization=organization,
        name="pack.dbc",
        file__content=database().as_dbc_string().encode(),
    )


@pytest.fixture
def bms_test(organization, dbc):
    return f.BMSTestFactory(organization=organization, default_dbc=dbc)


def log_file(organization, bms_test, tmp_path, name: str = "drive.log", **frame_options):
    content = write_log(frames(database(), **frame_options), tmp_path / name)
    return f.BMSFileFactory(
        organization=organization, bms_test=bms_test, file__content=content, file__name=name
    )


@pytest.fixture
def bms_file(organization, bms_test, tmp_path):
    return log_file(organization, bms_test, tmp_path)


def decode_jobs() -> list[Job]:
    return list(Job.objects.filter(kind="batterydb.bms_decode").order_by("id"))


# --- the list -------------------------------------------------------------------------------------
def test_the_list_shows_the_users_tests_only_newest_first(
    organization, other_organization, viewer, bms_test
):
    newer = f.BMSTestFactory(organization=organization, status="finished")
    f.BMSFileFactory(organization=organization, bms_test=newer)
    f.BMSFileFactory(organization=organization, bms_test=newer)
    theirs = f.BMSTestFactory(organization=other_organization)

    page = text_of(web_client(viewer).get(list_url()))

    mine = [page_url(newer), page_url(bms_test)]
    assert all(url in page for url in mine)
    assert page.index(mine[0]) < page.index(mine[1])
    assert page_url(theirs) not in page
    assert "pack.dbc" in page and newer.battery.battery_id in page
    assert '<td class="num">2</td>' in page  # the newer test's files


def test_the_list_narrows_to_a_battery_or_a_device(organization, other_organization, viewer):
    first, second = (
        f.BMSTestFactory(organization=organization),
        f.BMSTestFactory(organization=organization),
    )
    client = web_client(viewer)

    by_battery = client.get(list_url(), {"battery": first.battery_id})
    assert [t.pk for t in by_battery.context["page"].object_list] == [first.pk]
    assert f"of battery {first.battery.battery_id}" in text_of(by_battery)
    by_device = client.get(list_url(), {"device": second.device_id})
    assert [t.pk for t in by_device.context["page"].object_list] == [second.pk]
    theirs = f.BatteryFactory(organization=other_organization)
    assert client.get(list_url(), {"battery": theirs.pk}).status_code == 404
    bad = client.get(list_url(), {"battery": "\u00b9"})
    assert bad.status_code == 400 and "battery: give the id of a battery" in text_of(bad)


def test_the_list_is_in_the_navigation(organization, viewer):
    page = text_of(web_client(viewer).get(reverse("batterydb-pages:eis-test-list")))
    assert f'href="{list_url()}"' in page and "BMS tests" in page


def test_the_list_is_paged(organization, viewer):
    tests = [f.BMSTestFactory(organization=organization) for _ in range(51)]
    client = web_client(viewer)
    first = text_of(client.get(list_url()))
    assert page_url(tests[-1]) in first and page_url(tests[0]) + '"' not in first
    assert page_url(tests[0]) in text_of(client.get(list_url() + "?page=2"))


def test_the_list_query_count_is_constant(organization, viewer, django_assert_max_num_queries):
    for _ in range(5):
        test = f.BMSTestFactory(organization=organization)
        f.BMSFileFactory(organization=organization, bms_test=test)
    client = web_client(viewer)
    client.get(list_url())  # the session's first read
    with django_assert_max_num_queries(5) as few:
        assert client.get(list_url()).status_code == 200
        queries = len(few.captured_queries)
    for _ in range(20):
        test = f.BMSTestFactory(organization=organization, default_dbc=None)
        f.BMSFileFactory(organization=organization, bms_test=test)
    with django_assert_max_num_queries(queries):
        assert client.get(list_url()).status_code == 200


def test_anonymous_is_sent_to_log_in(bms_test, bms_file):
    for url in (list_url(), page_url(bms_test)):
        response = web_client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = web_client().post(decode_url(bms_file))
    assert response.status_code == 302 and not decode_jobs()


# --- a test's page and decoding from it -----------------------------------------------------------
def test_the_page_shows_the_tests_facts_and_files(bms_test, bms_file, viewer):
    page = text_of(web_client(viewer).get(page_url(bms_test)))
    assert f"BMS test {bms_test.pk}" in page and bms_test.battery.battery_id in page
    assert "pack.dbc" in page and "drive.log" in page and "Not decoded yet." in page
    results = reverse("batterydb:bms-result-list") + f"?bms_test={bms_test.pk}"
    assert f'href="{results}"' in page


def test_decoding_from_the_page_starts_the_job_and_then_shows_the_summary(
    organization, bms_test, bms_file, member, run_jobs
):
    other_dbc = f.DBCFileFactory(
        organization=organization,
        name="pack-v2.dbc",
        file__content=database(voltage_scale=0.02).as_dbc_string().encode(),
    )
    client = web_client(member)
    form_page = text_of(client.get(page_url(bms_test)))
    assert f'action="{decode_url(bms_file)}"' in form_page
    assert f'<option value="{bms_test.default_dbc_id}" selected>pack.dbc' in form_page
    assert f'<option value="{other_dbc.pk}">pack-v2.dbc</option>' in form_page

    response = client.post(decode_url(bms_file), {"dbc": str(other_dbc.pk)})

    assert response.status_code == 302
    assert response["Location"] == page_url(bms_test) + f"#file-{bms_file.pk}"
    (job,) = decode_jobs()
    assert job.params == {"bms_file": bms_file.pk, "dbc": other_dbc.pk, "replace": False}
    page = text_of(client.get(page_url(bms_test)))
    assert f"Decoding of drive.log with pack-v2.dbc has started (job {job.pk})." in page
    assert 'class="job-progress job-queued"' in page and "core/jobs.js" in page

    run_jobs()

    page = text_of(client.get(page_url(bms_test)))
    assert 'class="job-progress job-succeeded"' in page and "core/jobs.js" not in page
    summary = Job.objects.get(pk=job.pk).result
    assert summary["frames"] == 65 and summary["decoded_frames"] == 60
    assert f"{summary['frames']} read, {summary['decoded_frames']} decoded" in page
    assert "<dt>Messages</dt><dd>2</dd>" in page and "<dt>Signals</dt><dd>5</dd>" in page
    assert "with pack-v2.dbc" in page
    assert "2024-05-01 12:00:00 to 2024-05-01 12:00:00 UTC (0.49 s)" in page
    assert f"5 of ids the DBC file lacks: <code>0x{UNKNOWN_ID:03X}</code> (5)" in page
    assert f"<dd>{summary['rows']}</dd>" in page
    assert BMSResult.objects.filter(source_file=bms_file.pk).count() == summary["rows"]
    assert "Decode again" in page


def test_the_default_dbc_is_used_when_the_form_names_none(bms_test, bms_file, member):
    client = web_client(member)
    client.post(decode_url(bms_file), {"dbc": "", "replace": "1"})
    (job,) = decode_jobs()
    assert job.params == {"bms_file": bms_file.pk, "dbc": bms_test.default_dbc_id, "replace": True}


def test_a_second_decoding_while_one_is_queued_is_refused_on_the_page(bms_test, bms_file, member):
    client = web_client(member)
    client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})
    (job,) = decode_jobs()

    client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})

    assert decode_jobs() == [job]
    page = text_of(client.get(page_url(bms_test)))
    assert f"A decoding of this file is already queued (job {job.pk})." in page


def test_a_failed_decoding_shows_its_error(organization, bms_test, member, run_jobs, tmp_path):
    not_a_log = f.BMSFileFactory(
        organization=organization,
        bms_test=bms_test,
        file__content=b"this is not a CAN log\n",
        file__name="notes.log",
    )
    client = web_client(member)
    client.post(decode_url(not_a_log), {"dbc": str(bms_test.default_dbc_id)})
    run_jobs()
    (job,) = decode_jobs()
    assert job.status == Job.Status.FAILED and job.error

    page = text_of(client.get(page_url(bms_test)))

    assert 'class="job-progress job-failed"' in page and job.error in page
    assert not BMSResult.objects.filter(source_file=not_a_log.pk).exists()


def test_a_dbc_of_another_organization_or_a_bad_id_starts_nothing(
    bms_test, bms_file, member, other_organization
):
    theirs = f.DBCFileFactory(organization=other_organization)
    client = web_client(member)
    client.post(decode_url(bms_file), {"dbc": str(theirs.pk)})
    client.post(decode_url(bms_file), {"dbc": "x"})
    assert not decode_jobs()
    page = text_of(client.get(page_url(bms_test)))
    assert f"DBC file: No DBC file {theirs.pk} in the file's organization." in page
    assert "DBC file: A valid integer is required." in page


def test_without_a_default_dbc_the_form_asks_for_one(organization, member, tmp_path):
    test = f.BMSTestFactory(organization=organization, default_dbc=None)
    bms_file = log_file(organization, test, tmp_path)
    client = web_client(member)
    assert '<option value="">Choose a DBC file</option>' in text_of(client.get(page_url(test)))
    client.post(decode_url(bms_file), {})
    assert not decode_jobs()
    page = text_of(client.get(page_url(test)))
    assert "DBC file: The BMS test has no default DBC file; choose the one to use." in page


# --- who may see and do what ----------------------------------------------------------------------
def test_a_viewer_sees_the_page_but_no_form_and_may_not_post(bms_test, bms_file, viewer):
    client = web_client(viewer)
    page = text_of(client.get(page_url(bms_test)))
    assert "drive.log" in page and "bms-decode-form" not in page
    response = client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})
    assert response.status_code == 403 and not decode_jobs()


def test_other_organizations_tests_and_files_are_404(bms_test, bms_file, outsider):
    client = web_client(outsider)
    assert client.get(page_url(bms_test)).status_code == 404
    response = client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})
    assert response.status_code == 404 and not decode_jobs()
    assert page_url(bms_test) not in text_of(client.get(list_url()))


def test_staff_may_decode_any_file(bms_test, bms_file, staff):
    client = web_client(staff)
    assert "bms-decode-form" in text_of(client.get(page_url(bms_test)))
    client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})
    assert len(decode_jobs()) == 1


def test_the_form_needs_the_csrf_token_and_a_post(bms_test, bms_file, member):
    client = web_client(member)
    client.handler.enforce_csrf_checks = True
    response = client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})
    assert response.status_code == 403 and not decode_jobs()
    assert web_client(member).get(decode_url(bms_file)).status_code == 405


def test_the_page_query_count_is_constant_in_files_and_decodings(
    organization, bms_test, member, run_jobs, tmp_path, django_assert_max_num_queries
):
    client = web_client(member)

    def add_files(count: int, start: int) -> None:
        for index in range(start, start + count):
            bms_file = log_file(
                organization, bms_test, tmp_path, name=f"drive{index}.log", start=1e9 + index * 10
            )
            client.post(decode_url(bms_file), {"dbc": str(bms_test.default_dbc_id)})

    add_files(2, 0)
    run_jobs()
    client.get(page_url(bms_test))  # the session's first read
    with django_assert_max_num_queries(12) as few:
        assert client.get(page_url(bms_test)).status_code == 200
        queries = len(few.captured_queries)
    add_files(6, 2)  # queued
    run_jobs()
    add_files(4, 8)  # and some still queued
    page = client.get(page_url(bms_test))
    assert text_of(page).count("job-succeeded") == 8
    with django_assert_max_num_queries(queries):
        assert client.get(page_url(bms_test)).status_code == 200

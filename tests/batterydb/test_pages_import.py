"""The import form of an EIS test's page: an instrument file's sweep imported from the page
(members, CSRF), the outcome said on the page, a bad or too large file refused with its
reason and nothing stored, points already stored refused unless "replace" is ticked; viewers
see no form and may not post, other organizations' tests are 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from batterydb.models import EISData
from tests.batterydb import factories as f
from tests.batterydb.test_import_instruments import (
    SWEEP_1,
    SWEEP_2,
    csv_file,
    mpt,
    upload,
)
from tests.batterydb.test_pages import _pages_mounted, text_of, web_client  # noqa: F401

pytestmark = pytest.mark.django_db


def page_url(test) -> str:
    return reverse("batterydb-pages:eis-test-page", args=[test.pk])


def import_url(test) -> str:
    return reverse("batterydb-pages:eis-test-import", args=[test.pk])


def stored(test) -> dict[tuple[float, str], float]:
    return {
        (frequency, parameter): value
        for frequency, parameter, value in EISData.objects.filter(test=test).values_list(
            "frequency", "parameter", "value"
        )
    }


def post_import(client, test, content: bytes, name: str, **fields):
    """Post the form and follow the redirect to the test's page; the page's text."""
    response = client.post(import_url(test), {"file": upload(content, name), **fields})
    assert response.status_code == 302
    assert response["Location"] == page_url(test) + "#import"
    return text_of(client.get(page_url(test)))


@pytest.fixture
def test(organization):
    return f.EISTestFactory(organization=organization)


def test_the_form_is_offered_to_members(test, member):
    page = text_of(web_client(member).get(page_url(test)))
    assert 'enctype="multipart/form-data"' in page and f'action="{import_url(test)}"' in page
    assert 'accept=".mpr,.mpt,.dta,.csv,.txt,.xlsx"' in page
    assert 'name="sweep" id="id_import_sweep" value="1"' in page
    assert "Replace points already stored" in page and "at most 10.0\xa0MB" in page


def test_an_mpt_file_imported_from_the_page_writes_its_sweep_and_the_page_says_so(test, member):
    page = post_import(web_client(member), test, mpt([SWEEP_1, SWEEP_2]), "cell7.mpt")

    assert (
        "Imported sweep 1 of 2 from cell7.mpt (biologic-mpt): 31 frequencies, 62 rows written."
        in page
    )
    rows = stored(test)
    assert len(rows) == 62
    frequency, _, imag = SWEEP_1[0]
    imags = {round(k[0], 6): v for k, v in rows.items() if k[1] == "z_imag"}
    assert imags[round(frequency, 6)] == pytest.approx(imag, rel=1e-6) and imag < 0
    # The data table on the page now lists the sweep.
    assert "31 frequencies, highest first" in page


def test_the_sweep_asked_for_is_imported(test, member):
    page = post_import(web_client(member), test, mpt([SWEEP_1, SWEEP_2]), "a.mpt", sweep="2")
    assert "Imported sweep 2 of 2" in page
    reals = sorted(v for (_, name), v in stored(test).items() if name == "z_real")
    assert reals == pytest.approx(sorted(real for _, real, _ in SWEEP_2), rel=1e-6)


def test_a_csv_file_is_imported_too(test, member):
    content = csv_file(SWEEP_1, header="frequency,z_real,z_imag")
    page = post_import(web_client(member), test, content, "sweep.csv")
    assert "(csv): 31 frequencies, 62 rows written." in page
    assert len(stored(test)) == 62


def test_a_bad_file_shows_the_reason_and_stores_nothing(test, member):
    page = post_import(web_client(member), test, b"time,voltage\n0,3.7\n", "notes.csv")
    assert "Nothing was imported from notes.csv:" in page
    assert 'class="message error"' in page
    assert not EISData.objects.filter(test=test).exists()


def test_a_sweep_the_file_does_not_hold_is_named(test, member):
    page = post_import(web_client(member), test, mpt([SWEEP_1]), "a.mpt", sweep="3")
    assert "The file holds 1 sweep; sweep 3 was asked for." in page
    assert not EISData.objects.filter(test=test).exists()


def test_a_bad_sweep_number_is_refused_by_the_apis_rules(test, member):
    page = post_import(web_client(member), test, mpt([SWEEP_1]), "a.mpt", sweep="0")
    assert "Sweep: Ensure this value is greater than or equal to 1." in page
    assert not EISData.objects.filter(test=test).exists()


def test_no_file_is_named(test, member):
    client = web_client(member)
    response = client.post(import_url(test), {"sweep": "1"})
    assert response.status_code == 302
    assert "File: No file was submitted." in text_of(client.get(page_url(test)))


def test_a_conflict_without_replace_stores_nothing_and_hints_at_replace(test, member):
    client = web_client(member)
    post_import(client, test, mpt([SWEEP_1]), "a.mpt")
    before = stored(test)

    page = post_import(client, test, mpt([SWEEP_2]), "b.mpt")

    assert (
        "62 of the sweep's values (the real or imaginary part of Z at a frequency) are "
        "already stored for this test (it holds data from 0.1000 Hz to 10000 Hz)" in page
    )
    assert "Tick “Replace points already stored”" in page
    assert stored(test) == before

    page = post_import(client, test, mpt([SWEEP_2]), "b.mpt", replace="1")
    assert "31 frequencies, 0 rows written, 62 replaced." in page
    reals = sorted(v for (_, name), v in stored(test).items() if name == "z_real")
    assert reals == pytest.approx(sorted(real for _, real, _ in SWEEP_2), rel=1e-6)


def test_too_large_a_file_is_refused_with_a_message_and_nothing_stored(test, member, settings):
    settings.EIS_IMPORT_MAX_SIZE = 1000
    page = post_import(web_client(member), test, mpt([SWEEP_1]), "a.mpt")
    assert "Instrument files are limited to 1000 bytes" in page
    assert not EISData.objects.filter(test=test).exists()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(test, member, settings):
    settings.EIS_IMPORT_MAX_SIZE = 1000
    content = mpt([SWEEP_1]) * 40  # more than the limit and the form's room together
    assert len(content) > 1000 + 64 * 1024
    page = post_import(web_client(member), test, content, "a.mpt")
    assert "Nothing was imported: instrument files are limited to 1000 bytes" in page
    assert not EISData.objects.filter(test=test).exists()


def test_a_viewer_sees_no_form_and_gets_403(test, viewer):
    client = web_client(viewer)
    assert 'id="import"' not in text_of(client.get(page_url(test)))
    response = client.post(import_url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt")})
    assert response.status_code == 403
    assert not EISData.objects.filter(test=test).exists()


def test_an_outsider_gets_404(test, outsider):
    response = web_client(outsider).post(
        import_url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt")}
    )
    assert response.status_code == 404
    assert not EISData.objects.filter(test=test).exists()


def test_staff_may_import(test, staff):
    page = post_import(web_client(staff), test, mpt([SWEEP_1]), "a.mpt")
    assert "62 rows written" in page


def test_the_form_needs_the_csrf_token_and_a_post(test, member):
    client = web_client(member)
    client.handler.enforce_csrf_checks = True
    response = client.post(import_url(test), {"file": upload(mpt([SWEEP_1]), "a.mpt")})
    assert response.status_code == 403
    assert not EISData.objects.filter(test=test).exists()
    assert web_client(member).get(import_url(test)).status_code == 405


def test_anonymous_is_sent_to_log_in(test):
    response = web_client().post(import_url(test))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

"""A test's analysis goes stale whenever its data change: bulk ingestion (with or without
replace), a row's update (of the row's old and new test) and a row's delete; analyses of
other tests stay as they were, and a write that fails marks nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batterydb.models import EISAnalysis, EISData
from batterydb.services.ingest import eis_data_ingest
from tests.batterydb.analysis_support import EISAnalysisFactory, store_sweep, synthetic_sweep
from tests.batterydb.factories import EISTestFactory

pytestmark = pytest.mark.django_db

LIST = reverse("batterydb:eis-data-list")


def fresh(test) -> EISAnalysis:
    return EISAnalysisFactory(test=test, stale=False, data_version=3, analysed_version=3)


@pytest.fixture
def tests(organization):
    return EISTestFactory(organization=organization), EISTestFactory(organization=organization)


def state(analysis: EISAnalysis) -> tuple[bool, int]:
    analysis.refresh_from_db()
    return analysis.stale, analysis.data_version


def test_bulk_post_marks_the_tests_analyses_stale(client_for, member, tests):
    first, second = tests
    analysed, untouched = fresh(first), fresh(second)
    rows = [
        {"test": first.pk, "frequency": float(i + 1), "parameter": "z_real", "value": 1.0}
        for i in range(3)
    ]
    response = client_for(member).post(LIST, rows, format="json")
    assert response.status_code == 201
    assert state(analysed) == (True, 4)
    assert analysed.data_changed_at is not None
    assert state(untouched) == (False, 3)


def test_minimal_and_replace_writes_mark_stale(client_for, member, tests):
    first, _ = tests
    analysed = fresh(first)
    row = {"test": first.pk, "frequency": 5.0, "parameter": "z_real", "value": 1.0}
    client = client_for(member)
    response = client.post(LIST, [row], format="json", HTTP_PREFER="return=minimal")
    assert response.status_code == 201
    assert state(analysed) == (True, 4)
    response = client.post(f"{LIST}?on_conflict=replace", [{**row, "value": 2.0}], format="json")
    assert response.status_code == 201
    assert state(analysed) == (True, 5)


def test_a_refused_batch_marks_nothing(client_for, member, tests):
    first, _ = tests
    analysed = fresh(first)
    row = {"test": first.pk, "frequency": 5.0, "parameter": "z_real", "value": 1.0}
    response = client_for(member).post(LIST, [row, row], format="json")
    assert response.status_code == 400
    assert state(analysed) == (False, 3)


def test_updating_a_row_marks_its_old_and_new_tests_stale(client_for, member, tests):
    first, second = tests
    store_sweep(first, synthetic_sweep()[:8], frequencies=[float(i) for i in range(1, 9)])
    a, b = fresh(first), fresh(second)
    point = EISData.objects.filter(test=first).first()
    response = client_for(member).patch(
        reverse("batterydb:eis-data-detail", args=[point.pk]), {"test": second.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert state(a) == (True, 4)
    assert state(b) == (True, 4)


def test_deleting_a_row_marks_its_test_stale(client_for, owner, tests):
    first, second = tests
    store_sweep(first, synthetic_sweep()[:8], frequencies=[float(i) for i in range(1, 9)])
    a, b = fresh(first), fresh(second)
    point = EISData.objects.filter(test=first).first()
    response = client_for(owner).delete(reverse("batterydb:eis-data-detail", args=[point.pk]))
    assert response.status_code == 204
    assert state(a) == (True, 4)
    assert state(b) == (False, 3)


def test_ingestion_service_marks_stale_with_one_update(tests):
    first, second = tests
    a, b = fresh(first), fresh(second)
    rows = [(t.pk, float(f), "z_real", 1.0) for t in tests for f in range(1, 200)]
    organization_of = {t.pk: t.organization_id for t in tests}
    with CaptureQueriesContext(connection) as queries:
        eis_data_ingest(rows=rows, organization_of=organization_of, replace=False, returning=False)
    table = EISAnalysis._meta.db_table
    touching = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("UPDATE")
    assert state(a) == (True, 4)
    assert state(b) == (True, 4)

"""EIS analyses: marking them stale when their test's data change.

Every write path of EIS data (bulk ingestion, including instrument imports; a row's update
or delete) calls :func:`eis_analyses_mark_stale` in its transaction: one ``UPDATE`` per
request, whatever the number of rows, and nothing when the tests have no analysis.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.utils import timezone

from batterydb.models import EISAnalysis


def eis_analyses_mark_stale(*, test_ids: Iterable[int], using: str | None = None) -> int:
    """Mark the analyses of these tests stale (their data changed now); the count marked."""
    test_ids = sorted(set(test_ids))
    if not test_ids:
        return 0
    manager = EISAnalysis._base_manager.db_manager(using)
    return manager.filter(test_id__in=test_ids).update(
        stale=True, data_version=F("data_version") + 1, data_changed_at=timezone.now()
    )

"""EIS analyses: starting them, the job that runs them, staleness and automatic re-analysis.

* :func:`eis_analysis_start` makes (or reuses) the test's :class:`EISAnalysis`, records what
  is asked and starts a ``batterydb.eis_analysis`` job (``core.jobs``).
* :func:`eis_analysis_run` is that job: it reads the sweep, runs the numerics
  (``batterydb.analysis``) outside any transaction, and writes the results in one
  transaction, only if the analysis still points at this job (a restart supersedes it).
  Running it twice writes the same thing: it is idempotent.
* Every write path of EIS data (bulk ingestion, including instrument imports; a row's update
  or delete) calls :func:`eis_analyses_mark_stale` in its transaction: one ``UPDATE`` per
  request, whatever the number of rows, and nothing when the tests have no analysis.
* :func:`eis_analyses_reanalyse_stale` runs every minute on one worker: for organizations
  whose :class:`EISAnalysisPolicy` opts in, it starts jobs for stale analyses whose data have
  been quiet for ``quiet_minutes`` and changed since their last job was started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from batterydb.analysis import (
    DEFAULT_CIRCUIT,
    DEFAULT_DRT_LAMBDA,
    DEFAULT_KK_THRESHOLD,
    AnalysisError,
    CircuitError,
    analyse_sweep,
    sweep_arrays,
)
from batterydb.models import EISAnalysis, EISAnalysisPolicy, EISData, EISTest
from core import jobs

KIND = "batterydb.eis_analysis"
PERIODIC = "batterydb.reanalyse_stale"
PERIODIC_SECONDS = 60
MAX_STARTED_PER_RUN = 500
ACTIVE = (jobs.Job.Status.QUEUED, jobs.Job.Status.RUNNING)


def analysis_params(
    *, circuit: str | None = None, kk_threshold: float | None = None, drt_lambda=None
) -> dict:
    """The parameters of an analysis with the defaults filled in."""
    return {
        "circuit": circuit or DEFAULT_CIRCUIT,
        "kk_threshold": DEFAULT_KK_THRESHOLD if kk_threshold is None else kk_threshold,
        "drt_lambda": DEFAULT_DRT_LAMBDA if drt_lambda is None else drt_lambda,
    }


def eis_analysis_start(*, test: EISTest, user=None, params: dict) -> EISAnalysis:
    """Start (or restart) the analysis of ``test`` with validated ``params``; the analysis
    with its new job. Earlier results stay until the new ones are written."""
    with transaction.atomic():
        analysis, _ = EISAnalysis.objects.select_for_update().get_or_create(
            test=test, defaults={"organization_id": test.organization_id}
        )
        job = jobs.start(
            KIND,
            organization=test.organization,
            user=user,
            params={"test": test.pk, **params},
            subject=f"eis_test:{test.pk}",
        )
        analysis.params = params
        analysis.job = job
        analysis.requested_version = analysis.data_version
        analysis.save(update_fields=["params", "job", "requested_version", "updated_at"])
    return analysis


@jobs.register(KIND)
def eis_analysis_run(job: jobs.Job, progress) -> dict:
    """The analysis job: ``job.params`` are ``{"test", "circuit", "kk_threshold",
    "drt_lambda"}``."""
    params = job.params
    analysis = EISAnalysis.objects.filter(test_id=params.get("test"), job=job).first()
    if analysis is None:
        return {"superseded": True}  # restarted since, or the test was deleted
    version = analysis.data_version
    rows = EISData.objects.filter(
        test_id=analysis.test_id, frequency__isnull=False, parameter__in=("z_real", "z_imag")
    ).values_list("frequency", "parameter", "value")
    try:
        frequencies, impedance = sweep_arrays(rows.iterator())
        results = analyse_sweep(
            frequencies,
            impedance,
            circuit=params["circuit"],
            kk_threshold=params["kk_threshold"],
            drt_lambda=params["drt_lambda"],
            progress=progress,
        )
    except (AnalysisError, CircuitError) as exc:
        raise jobs.JobError(str(exc)) from exc
    fit = results["fit"]
    with transaction.atomic():
        locked = EISAnalysis.objects.select_for_update().filter(pk=analysis.pk, job=job).first()
        if locked is None:
            return {"superseded": True}
        locked.kk, locked.fit, locked.drt = results["kk"], fit, results["drt"]
        locked.kk_passed = results["kk"]["passed"]
        locked.ohmic_resistance = fit["ohmic_resistance"]
        locked.charge_transfer_resistance = fit["charge_transfer_resistance"]
        locked.analysed_version = version
        locked.stale = locked.data_version != version
        locked.analysed_at = timezone.now()
        locked.save()
    return {
        "test": analysis.test_id,
        "frequencies": len(frequencies),
        "kk_passed": locked.kk_passed,
        "ohmic_resistance": locked.ohmic_resistance,
        "charge_transfer_resistance": locked.charge_transfer_resistance,
        "fit_error": fit.get("error"),
    }


def eis_analyses_mark_stale(*, test_ids: Iterable[int], using: str | None = None) -> int:
    """Mark the analyses of these tests stale (their data changed now); the count marked."""
    test_ids = sorted(set(test_ids))
    if not test_ids:
        return 0
    manager = EISAnalysis._base_manager.db_manager(using)
    return manager.filter(test_id__in=test_ids).update(
        stale=True, data_version=F("data_version") + 1, data_changed_at=timezone.now()
    )


def eis_analyses_reanalyse_stale(*, limit: int = MAX_STARTED_PER_RUN) -> int:
    """Start jobs for the stale analyses of opted-in organizations whose data have been quiet
    long enough; the number started (at most ``limit`` per run)."""
    now = timezone.now()
    started = 0
    policies = EISAnalysisPolicy.objects.filter(auto_reanalyse=True).values_list(
        "organization_id", "quiet_minutes"
    )
    for organization_id, quiet_minutes in policies:
        due = (
            EISAnalysis.objects.filter(
                organization_id=organization_id,
                stale=True,
                data_changed_at__lte=now - dt.timedelta(minutes=quiet_minutes),
            )
            .filter(Q(requested_version__isnull=True) | Q(data_version__gt=F("requested_version")))
            .exclude(job__status__in=ACTIVE)
            .select_related("test__organization")
            .order_by("data_changed_at", "id")[: limit - started]
        )
        for analysis in due:
            eis_analysis_start(test=analysis.test, params=analysis.params or analysis_params())
            started += 1
        if started >= limit:
            break
    return started


jobs.register_periodic(
    PERIODIC, every=PERIODIC_SECONDS, function=lambda: eis_analyses_reanalyse_stale()
)

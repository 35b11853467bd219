"""EIS analyses: one per EIS test, and each organization's re-analysis policy.

Imported at the end of ``batterydb.models`` (which would pass 500 lines with them), so that
they are ``batterydb.models.EISAnalysis`` and ``batterydb.models.EISAnalysisPolicy``.

Staleness: every write of a test's data (``batterydb.services.analysis.eis_analyses_mark_stale``,
one ``UPDATE`` per request) sets ``stale``, bumps ``data_version`` and stamps
``data_changed_at``. An analysis records the ``data_version`` it read (``analysed_version``);
it is stale again at once if the data changed while it ran. ``requested_version`` is the
``data_version`` when the last job started: automatic re-analysis starts a job only for data
that changed since (a sweep that cannot be analysed is not tried again every minute).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from batterydb.models import EISTest
from core.jobs import Job
from core.models import Organization, OrganizationOwnedModel


class EISAnalysis(OrganizationOwnedModel):
    """The analysis of one EIS test: Kramers-Kronig test, equivalent-circuit fit and DRT.

    The organization is the test's, copied when the analysis is made. Results are those of
    the last analysis that finished; they stay while a new one runs."""

    test = models.OneToOneField(EISTest, on_delete=models.CASCADE, related_name="analysis")
    job = models.ForeignKey(
        Job,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The last job started for the analysis: its status, progress and error.",
    )
    params = models.JSONField(
        default=dict, help_text="What the analysis is asked: circuit, kk_threshold, drt_lambda."
    )
    kk = models.JSONField(null=True, blank=True, help_text="Kramers-Kronig test result.")
    fit = models.JSONField(null=True, blank=True, help_text="Equivalent-circuit fit result.")
    drt = models.JSONField(null=True, blank=True, help_text="Distribution of relaxation times.")
    kk_passed = models.BooleanField(null=True, blank=True, help_text="Whether the KK test passed.")
    ohmic_resistance = models.FloatField(
        null=True, blank=True, help_text="Fitted R0 (ohm), null if the circuit has none."
    )
    charge_transfer_resistance = models.FloatField(
        null=True, blank=True, help_text="Fitted R1 (ohm), null if the circuit has none."
    )
    stale = models.BooleanField(
        default=False, help_text="The test's data changed since the results were computed."
    )
    data_version = models.PositiveBigIntegerField(
        default=0, help_text="Bumped by every write of the test's data."
    )
    analysed_version = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The data_version the results were computed from."
    )
    requested_version = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The data_version when the last job was started."
    )
    data_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the test's data last changed."
    )
    analysed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the results were written."
    )

    class Meta(OrganizationOwnedModel.Meta):
        verbose_name = "EIS analysis"
        verbose_name_plural = "EIS analyses"
        indexes = [
            models.Index(
                fields=["data_changed_at"], condition=Q(stale=True), name="bdb_eisanalysis_stale"
            ),
            models.Index(fields=["organization", "id"], name="bdb_eisanalysis_org_id"),
        ]

    def __str__(self) -> str:
        return f"analysis of EIS test {self.test_id}"


class EISAnalysisPolicy(models.Model):
    """Whether an organization's stale analyses are analysed again on their own, and after
    how many minutes without new data."""

    organization_field = "organization"

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="eis_analysis_policy"
    )
    auto_reanalyse = models.BooleanField(
        default=False, help_text="Analyse stale tests again once their data are quiet."
    )
    quiet_minutes = models.PositiveIntegerField(
        default=10, help_text="Minutes without new data before a stale test is analysed again."
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "EIS analysis policy"
        verbose_name_plural = "EIS analysis policies"

    def __str__(self) -> str:
        return f"EIS analysis policy of {self.organization}"

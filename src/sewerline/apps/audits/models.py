"""Audit runs and their findings."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.imports.models import BilledCharge
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.engine.findings import FindingType, MatchMethod


class AuditRun(models.Model):
    """One audit of a cycle: its parameters, its totals and how far it got.

    Example: the auditor runs cycle 2016-03 of Westfield with a one-cent tolerance;
    the run finds $7,934.43 at stake in 64 findings, against a budget of $240,000.00.
    """

    cycle = models.ForeignKey(BillingCycle, on_delete=models.PROTECT, related_name="audit_runs")
    rate_version = models.ForeignKey(RateScheduleVersion, on_delete=models.PROTECT,
                                     related_name="audit_runs")
    tolerance = models.DecimalField(max_digits=10, decimal_places=2, default="0.01",
                                    help_text="Largest difference treated as rounding, USD.")
    tolerance_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True,
                                            blank=True)
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="audit_run")
    billed_total = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    expected_total = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    at_stake_total = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    totals = models.JSONField(default=dict, blank=True,
                              help_text="Counts and revenue at stake by finding type, as text.")
    bills = models.IntegerField(default=0)
    profiles = models.IntegerField(default=0)
    matched = models.IntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"audit of {self.cycle} ({self.created_at:%Y-%m-%d %H:%M})"


class Finding(models.Model):
    """One finding of one run; difference = billed minus expected, so overbilling is positive."""

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="findings")
    finding_type = models.CharField(max_length=20,
                                    choices=[(t.value, t.value) for t in FindingType])
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="findings")
    charge = models.ForeignKey(BilledCharge, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="findings")
    billed_account = models.CharField(max_length=40, blank=True)
    expected_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    billed_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    difference = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    revenue_at_stake = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    match_method = models.CharField(max_length=20,
                                    choices=[(m.value, m.value) for m in MatchMethod])
    detail = models.TextField(blank=True)
    discrepancy = models.ForeignKey("discrepancies.Discrepancy", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="findings")

    class Meta:
        indexes = [models.Index(fields=["run", "finding_type"]),
                   models.Index(fields=["billed_account"])]

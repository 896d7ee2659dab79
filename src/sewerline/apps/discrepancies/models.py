"""Discrepancies and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.profiles.models import Account
from sewerline.engine.findings import FindingType


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed as expected"
    REPORTED = "reported", "Reported to the billing entity"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by the entity"
    VERIFIED_CORRECTED = "verified_corrected", "Verified corrected"
    CLOSED = "closed", "Closed"


class Discrepancy(models.Model):
    """A problem that lives across cycles until the billing entity fixes it.

    The same finding type on the same account (or, with no profile, the same billed
    account key) in later cycles is the same discrepancy, so its age grows. When a
    later cycle's data no longer shows it, it becomes "verified corrected".
    """

    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT,
                               related_name="discrepancies")
    finding_type = models.CharField(max_length=20,
                                    choices=[(t.value, t.value) for t in FindingType])
    key = models.CharField(max_length=80, help_text="account_id, or the normalized billed "
                           "account number when no profile matches.")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="discrepancies")
    status = models.CharField(max_length=20, choices=DiscrepancyStatus.choices,
                              default=DiscrepancyStatus.OPEN)
    first_cycle = models.ForeignKey(BillingCycle, on_delete=models.PROTECT, related_name="+")
    last_cycle = models.ForeignKey(BillingCycle, on_delete=models.PROTECT, related_name="+")
    cycles_seen = models.PositiveIntegerField(default=1)
    revenue_at_stake = models.DecimalField(max_digits=14, decimal_places=2, default=0,
                                           help_text="At stake in the last cycle seen, USD.")
    recovered = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                    help_text="Revenue recovered once corrected, USD.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-revenue_at_stake", "key"]
        constraints = [models.UniqueConstraint(fields=["entity", "finding_type", "key"],
                                               name="one_discrepancy_per_type_and_key")]
        indexes = [models.Index(fields=["status", "finding_type"])]

    def __str__(self) -> str:
        return f"{self.finding_type} {self.key}"


class DiscrepancyEvent(models.Model):
    """One step in a discrepancy's history: seen in a cycle, a status change, a note."""

    discrepancy = models.ForeignKey(Discrepancy, on_delete=models.CASCADE,
                                    related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    cycle = models.ForeignKey(BillingCycle, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

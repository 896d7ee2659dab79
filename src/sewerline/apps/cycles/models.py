"""Billing cycles and their revenue budget."""

from __future__ import annotations

from django.db import models

from sewerline.apps.entities.models import BillingEntity


class BillingCycle(models.Model):
    """One billing period of one entity, e.g. Westfield's "2016-03" (bills of March 2016).

    `budget` is the sewer revenue the utility's budget expects from the cycle, so each
    audit run shows billed vs expected vs budget.
    """

    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="cycles")
    code = models.CharField(max_length=40, help_text="Cycle id as staff say it, e.g. 2016-03.")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    bill_date = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                 help_text="Budgeted sewer revenue of the cycle, USD.")

    class Meta:
        ordering = ["entity", "-period_end", "-code"]
        constraints = [models.UniqueConstraint(fields=["entity", "code"],
                                               name="unique_cycle_code_per_entity")]

    def __str__(self) -> str:
        return f"{self.entity.code} {self.code}"

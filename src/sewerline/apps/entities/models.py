"""The external billing entities, their contacts and their saved column mappings."""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class BillingEntity(models.Model):
    """A water utility that puts the sewer charge on its own bill and remits it.

    Example: "City of Westfield Water Department" bills 18,000 sewer customers monthly
    and keeps a 3% collection fee under the interlocal agreement.
    """

    name = models.CharField(max_length=200, unique=True)
    code = models.SlugField(max_length=40, unique=True,
                            help_text="Short name used in file names and the API, e.g. westfield.")
    collection_fee_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"),
        help_text="Share of collected sewer revenue the entity keeps, in percent.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "billing entity"
        verbose_name_plural = "billing entities"

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a billing entity who receives discrepancy reports."""

    entity = models.ForeignKey(BillingEntity, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=100, blank=True, help_text="e.g. billing supervisor")
    receives_reports = models.BooleanField(default=True)

    class Meta:
        ordering = ["entity", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.entity.code})"


class SavedMapping(models.Model):
    """A column mapping of one entity's export, saved for the next import.

    `text` is the mapping YAML the engine reads (docs/mapping.md): columns, usage unit,
    date format, sewer service codes and the rate-code-to-class table.
    """

    entity = models.ForeignKey(BillingEntity, on_delete=models.CASCADE, related_name="mappings")
    name = models.CharField(max_length=100, help_text="e.g. Monthly CIS export")
    text = models.TextField(help_text="Mapping YAML.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "name"]
        constraints = [models.UniqueConstraint(fields=["entity", "name"],
                                               name="unique_mapping_name_per_entity")]

    def __str__(self) -> str:
        return f"{self.entity.code}: {self.name}"

"""Accounts of the sewer utility, with every change kept in the change record."""

from __future__ import annotations

from django.db import models

from sewerline.apps.entities.models import BillingEntity


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    SEPTIC = "septic", "Septic (no sewer service)"
    INACTIVE = "inactive", "Inactive"
    EXEMPT = "exempt", "Exempt"


class Account(models.Model):
    """One sewer customer as the sewer utility expects it to be billed.

    Example: account SS-010045 at 1234 Ocean Park Blvd, parcel 4281-012-034, water
    account 0012345-01 at the Westfield water department, meter 48213377,
    RESIDENTIAL_SINGLE, active, winter average 4.488 kgal a month. Only active accounts
    owe sewer charges; septic, inactive and exempt accounts expect none.
    """

    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="accounts",
                               help_text="The water utility that bills this account.")
    account_id = models.CharField("account id", max_length=40, unique=True,
                                  help_text="The sewer utility's own account id.")
    water_account = models.CharField(max_length=40, blank=True, db_index=True,
                                     help_text="The water utility's account number, as written.")
    owner_name = models.CharField(max_length=200, blank=True)
    service_address = models.CharField(max_length=200, blank=True)
    parcel_id = models.CharField("parcel id", max_length=40, blank=True, db_index=True)
    meter_number = models.CharField(max_length=40, blank=True, db_index=True)
    customer_class = models.CharField(max_length=60,
                                      help_text="Class of the rate schedule, e.g. COMMERCIAL.")
    meter_size = models.CharField(max_length=20, blank=True, help_text='e.g. 5/8"')
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    winter_average = models.DecimalField(
        max_digits=14, decimal_places=3, null=True, blank=True,
        help_text="Average monthly winter water use, in kgal (1,000 gallons).")
    dwelling_units = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True,
                             help_text="Other columns the rates use, e.g. outside_city.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_id"]
        indexes = [models.Index(fields=["entity", "status"]),
                   models.Index(fields=["owner_name"]),
                   models.Index(fields=["service_address"])]

    def __str__(self) -> str:
        return self.account_id

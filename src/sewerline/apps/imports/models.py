"""Imported files (kept with their SHA-256) and the billed charges they contained."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity


class ImportKind(models.TextChoices):
    BILLING = "billing", "Billing export"
    PROFILES = "profiles", "Profile file"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    RUNNING = "running", "Running"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed, nothing stored"


class ImportBatch(models.Model):
    """One uploaded file and what became of it.

    The original is kept unchanged, with its SHA-256, so the same file imported twice
    is recognized and refused unless the user forces it. An import stores all its rows
    or none.
    """

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="imports")
    cycle = models.ForeignKey(BillingCycle, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="imports")
    original = models.FileField(upload_to="imports/%Y/%m/")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()
    mapping_text = models.TextField(blank=True, help_text="Mapping YAML used for the import.")
    status = models.CharField(max_length=10, choices=ImportStatus.choices,
                              default=ImportStatus.PENDING)
    rows_read = models.IntegerField(default=0)
    rows_stored = models.IntegerField(default=0)
    problems = models.JSONField(default=list, blank=True,
                                help_text="Row problems: file, row, column, value, message.")
    summary = models.JSONField(default=dict, blank=True,
                               help_text="Counts and totals of the file as read, as text.")
    forced = models.BooleanField(default=False,
                                 help_text="Imported although the same file was imported before.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class BilledCharge(models.Model):
    """One sewer bill of a cycle, as the water utility's export gave it (canonical form)."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="charges")
    cycle = models.ForeignKey(BillingCycle, on_delete=models.CASCADE, related_name="charges")
    source_row = models.IntegerField(help_text="Spreadsheet row in the original file.")
    billed_account = models.CharField(max_length=40, db_index=True)
    customer_name = models.CharField(max_length=200, blank=True)
    service_address = models.CharField(max_length=200, blank=True)
    parcel_id = models.CharField(max_length=40, blank=True)
    meter_number = models.CharField(max_length=40, blank=True)
    rate_code = models.CharField(max_length=40, blank=True)
    billed_class = models.CharField(max_length=60, blank=True)
    # Usage keeps the engine's 12 decimals, so a volume converted from ccf or m3 is
    # stored as the engine computed it.
    usage_gal = models.DecimalField(max_digits=26, decimal_places=12, null=True, blank=True)
    billed_amount = models.DecimalField(max_digits=14, decimal_places=2)
    water_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                       help_text="Water charge of the bill, USD, if exported.")
    deduct_usage_gal = models.DecimalField(max_digits=26, decimal_places=12, null=True,
                                           blank=True, help_text="Deduct meter usage, gallons.")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    bill_date = models.DateField(null=True, blank=True)
    bill_number = models.CharField(max_length=40, blank=True)
    sewer_lines = models.IntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["cycle", "billed_account"]),
                   # Findings are linked to their bill by the bill's row in the export.
                   models.Index(fields=["cycle", "source_row"])]

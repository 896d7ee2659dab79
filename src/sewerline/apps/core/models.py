"""The change record: who changed what, when, with the old and new values."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ChangeRecord(models.Model):
    """One change to a domain object, written in the same transaction as the change.

    Example: the billing clerk Ana sets the winter average of account SS-010045 from
    4.100 to 3.950 kgal; the record names Ana, the account, and
    {"winter_average": ["4.100", "3.950"]}.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="User who made the change; empty for system jobs.",
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    object_type = models.CharField(max_length=80, help_text="App label and model name.")
    object_id = models.CharField(max_length=64)
    action = models.CharField(max_length=40, help_text="created, updated, deleted or a "
                              "state change such as confirmed.")
    changes = models.JSONField(default=dict, blank=True,
                               help_text="Field name -> [old value, new value], as text.")
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} {self.action} at {self.at:%Y-%m-%d %H:%M}"

"""Rate schedules and their dated versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RateSchedule(models.Model):
    """A named sewer rate schedule, e.g. "Sewer rates (Ordinance 2225)"."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RateScheduleVersion(models.Model):
    """One version of a schedule: the OWRS YAML in force from `effective_date`.

    The text is validated by the rate engine on upload; only published versions are
    used by audits.
    """

    schedule = models.ForeignKey(RateSchedule, on_delete=models.CASCADE,
                                 related_name="versions")
    effective_date = models.DateField()
    text = models.TextField(help_text="The OWRS rate file (YAML).")
    file_name = models.CharField(max_length=200, blank=True)
    published = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["schedule", "-effective_date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "effective_date"],
                                               name="one_version_per_effective_date")]

    def __str__(self) -> str:
        return f"{self.schedule} from {self.effective_date:%Y-%m-%d}"

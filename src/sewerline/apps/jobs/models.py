"""A background job and its progress, shown live in the UI."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """One run of a long task, e.g. "import westfield-2016-03.csv" or "audit 2016-03".

    `progress` goes from 0 to 100 and `step` names what runs now, so the page can show
    a bar; `error` is the message a user can act on when the job failed.
    """

    kind = models.CharField(max_length=40, help_text="import or audit")
    task = models.CharField(max_length=200, blank=True,
                            help_text="Dotted path of the function the job runs.")
    arguments = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder,
                                 help_text="Keyword arguments of the task, as JSON values.")
    status = models.CharField(max_length=10, choices=JobStatus.choices,
                              default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

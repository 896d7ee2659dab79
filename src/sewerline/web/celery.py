"""The Celery application that runs Sewerline's jobs on workers (SEWERLINE_JOBS=celery).

Start a worker with:

    DJANGO_SETTINGS_MODULE=sewerline.web.settings celery -A sewerline.web.celery worker

The broker is settings.CELERY_BROKER_URL (environment variable CELERY_BROKER_URL). A
message carries only the job id: the worker reads the task and its arguments from the
Job row, so it needs the same database as the web application.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sewerline.web.settings")

app = Celery("sewerline")
# Reads the CELERY_* Django settings, e.g. CELERY_BROKER_URL -> broker_url.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Progress and errors are kept on the Job row, so Celery stores no results.
    task_ignore_result=True,
    # Jobs run for minutes: a worker takes the next one only when it is free.
    worker_prefetch_multiplier=1,
)
app.autodiscover_tasks(["sewerline.apps.jobs"])

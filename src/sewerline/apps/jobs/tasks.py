"""The Celery task that runs one Sewerline job on a worker."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="sewerline.run_job")
def run_job(job_id: int) -> None:
    """Run the job with this id, as stored by `runner.submit`."""
    from sewerline.apps.jobs.runner import run_now

    run_now(job_id)

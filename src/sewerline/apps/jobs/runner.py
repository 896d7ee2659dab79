"""Run long tasks (imports, audits) in the background and record their progress.

A task is a function given by its dotted path, called as `task(job_id=..., **kwargs)`.
`submit` stores the job with its task and arguments, then starts it once the caller's
transaction commits, so the task always finds the rows the caller wrote:

- SEWERLINE_JOBS=inprocess (the default): in a daemon thread of this process, with its
  own database connection. A job still running when the process exits is lost and
  stays "running" in the database.
- SEWERLINE_JOBS=celery: as the Celery task `sewerline.run_job` (web/celery.py), which
  a worker runs with `celery -A sewerline.web.celery worker`.

Tests call `run_now` to run a queued job in their own thread and transaction.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from sewerline.apps.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

# Maximum length of the step text in the Job model.
_STEP_LENGTH = Job._meta.get_field("step").max_length


def submit(kind: str, task: str, *, actor, object_type: str = "", object_id: str = "",
           **kwargs) -> Job:
    """Queue `task` as a new job and start it when the current transaction commits.

    `kwargs` must be JSON values because they are stored on the job and, with Celery,
    read back by a worker (a Decimal or date arrives as text). Raises ValueError when
    `task` does not name a function, before anything is stored.
    """
    resolve_task(task)
    job = Job.objects.create(
        kind=kind,
        task=task,
        arguments=kwargs,
        object_type=object_type,
        object_id=str(object_id),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    logger.info("job %s queued: %s %s", job.pk, kind, task)
    transaction.on_commit(lambda: _dispatch(job.pk))
    return job


def run_now(job_id: int) -> Job:
    """Run a queued job in the calling thread and return it as it ended.

    The job ends "done" unless the task marked it failed itself (with `fail`) or raised,
    in which case it ends "failed" with the error message and the traceback is logged.
    A job that is not queued any more is left as it is.
    """
    started = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), step="starting",
    )
    if not started:
        logger.warning("job %s is not queued; not run again", job_id)
        return Job.objects.get(pk=job_id)

    job = Job.objects.get(pk=job_id)
    try:
        function = resolve_task(job.task)
        function(job_id=job_id, **job.arguments)
    except Exception as error:  # any failure of a task ends its job
        logger.exception("job %s (%s) failed", job_id, job.task)
        fail(job_id, _error_text(error))
    else:
        # A task that returns without marking its job has finished it.
        finish(job_id, only_running=True)
    return Job.objects.get(pk=job_id)


def report_progress(job_id: int | None, step: str, percent: int) -> None:
    """Record what a job does now and how far it got (0 to 100); no-op without a job."""
    if job_id is None:
        return
    percent = max(0, min(100, int(percent)))
    Job.objects.filter(pk=job_id).update(step=step[:_STEP_LENGTH], progress=percent)
    logger.debug("job %s: %s (%d%%)", job_id, step, percent)


def finish(job_id: int | None, *, only_running: bool = False) -> None:
    """Mark a job done at 100%; with `only_running`, only if it is still running."""
    if job_id is None:
        return
    jobs = Job.objects.filter(pk=job_id)
    if only_running:
        jobs = jobs.filter(status=JobStatus.RUNNING)
    if jobs.update(status=JobStatus.DONE, progress=100, step="done",
                   finished_at=timezone.now()):
        logger.info("job %s done", job_id)


def fail(job_id: int | None, message: str) -> None:
    """Mark a job failed with a message the user can act on; no-op without a job."""
    if job_id is None:
        return
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED, error=message, step="failed", finished_at=timezone.now(),
    )
    logger.info("job %s failed: %s", job_id, message.splitlines()[0] if message else "")


def resolve_task(task: str) -> Callable[..., object]:
    """Import the function that a dotted path such as "package.module.function" names.

    Raises ValueError when the module or the function does not exist.
    """
    module_name, _, attribute = task.rpartition(".")
    if not module_name or not attribute:
        raise ValueError(f"task {task!r} is not a dotted path such as package.module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"task {task!r}: module {module_name!r} not found ({error})") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"task {task!r}: {module_name} has no function {attribute!r}")
    return function


def _dispatch(job_id: int) -> None:
    """Start a committed job in the way SEWERLINE_JOBS names."""
    try:
        if settings.JOBS == "celery":
            from sewerline.web.celery import app

            app.send_task("sewerline.run_job", args=[job_id])
            logger.info("job %s sent to Celery", job_id)
        else:
            thread = threading.Thread(target=_run_in_thread, args=(job_id,),
                                      name=f"sewerline-job-{job_id}", daemon=True)
            thread.start()
    except Exception as error:  # a job that cannot start must be marked failed
        logger.exception("job %s could not be started", job_id)
        fail(job_id, f"The job could not be started: {_error_text(error)}")


def _run_in_thread(job_id: int) -> None:
    try:
        run_now(job_id)
    except Exception:  # the thread has no caller to raise to
        logger.exception("job %s: the runner itself failed", job_id)
    finally:
        # Django opens one connection per thread; this thread's would otherwise leak.
        connections.close_all()


def _error_text(error: BaseException) -> str:
    text = str(error).strip()
    return text or type(error).__name__

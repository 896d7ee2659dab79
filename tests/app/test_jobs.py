"""Background jobs: running, progress, failures, the in-process thread and a Celery worker."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
import redis
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.imports.actions import create_import
from sewerline.apps.imports.models import ImportKind, ImportStatus
from sewerline.apps.jobs import runner
from sewerline.apps.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"
# Redis database 15 is kept for tests, away from a development broker on database 0.
TEST_BROKER_URL = "redis://127.0.0.1:6379/15"
WAIT_SECONDS = 60


# Tasks that the tests submit by their dotted path.

def record_progress(job_id, step, percent):
    runner.report_progress(job_id, step, percent)


def explode(job_id):
    raise RuntimeError("the meter file is missing")


def give_up(job_id):
    runner.fail(job_id, "nothing to import")


def task_path(function) -> str:
    return f"{__name__}.{function.__name__}"


@pytest.fixture
def user():
    return User.objects.create_user("ana", password="x")


def wait_for(job_id: int, seconds: float = WAIT_SECONDS) -> Job:
    """Poll a job until it has ended, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end within {seconds} s")


def test_run_now_passes_arguments_and_finishes(user):
    job = runner.submit("import", task_path(record_progress), actor=user,
                        step="reading", percent=40)
    assert job.status == JobStatus.QUEUED
    assert job.arguments == {"step": "reading", "percent": 40}
    assert job.created_by == user

    ended = runner.run_now(job.pk)
    assert ended.status == JobStatus.DONE
    assert ended.progress == 100
    assert ended.started_at is not None
    assert ended.finished_at >= ended.started_at


def test_failing_task_marks_job_failed(user, caplog):
    job = runner.submit("import", task_path(explode), actor=user)
    with caplog.at_level(logging.ERROR, logger="sewerline.apps.jobs.runner"):
        ended = runner.run_now(job.pk)
    assert ended.status == JobStatus.FAILED
    assert ended.error == "the meter file is missing"
    record = next(record for record in caplog.records if record.exc_info)
    assert f"job {job.pk}" in record.getMessage()


def test_task_that_fails_its_job_stays_failed(user):
    job = runner.submit("import", task_path(give_up), actor=user)
    ended = runner.run_now(job.pk)
    assert ended.status == JobStatus.FAILED
    assert ended.error == "nothing to import"


def test_finished_job_is_not_run_again(user):
    job = runner.submit("import", task_path(explode), actor=user)
    runner.finish(job.pk)
    assert runner.run_now(job.pk).status == JobStatus.DONE


def test_progress_is_clamped(user):
    job = runner.submit("import", task_path(give_up), actor=user)
    runner.report_progress(job.pk, "storing", 140)
    assert Job.objects.get(pk=job.pk).progress == 100
    runner.report_progress(job.pk, "x" * 300, -5)
    job.refresh_from_db()
    assert job.progress == 0
    assert len(job.step) == Job._meta.get_field("step").max_length


def test_unknown_task_is_refused_before_storing(user):
    with pytest.raises(ValueError, match="no function 'missing'"):
        runner.submit("import", f"{__name__}.missing", actor=user)
    with pytest.raises(ValueError, match="not found"):
        runner.submit("import", "sewerline.no_such_module.run", actor=user)
    with pytest.raises(ValueError, match="dotted path"):
        runner.submit("import", "run", actor=user)
    assert not Job.objects.exists()


def test_job_starts_only_after_commit(user, django_capture_on_commit_callbacks, monkeypatch):
    started = []
    monkeypatch.setattr(runner, "_dispatch", started.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = runner.submit("import", task_path(give_up), actor=user)
    assert started == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert started == [job.pk]


@pytest.mark.django_db(transaction=True)
def test_inprocess_job_runs_in_thread(settings):
    settings.JOBS = "inprocess"
    user = User.objects.create_user("ana", password="x")
    job = runner.submit("import", task_path(record_progress), actor=user,
                        step="reading", percent=10)
    ended = wait_for(job.pk, seconds=20)
    assert ended.status == JobStatus.DONE, ended.error


@pytest.mark.django_db(transaction=True)
def test_inprocess_failure_is_recorded(settings):
    settings.JOBS = "inprocess"
    user = User.objects.create_user("ana", password="x")
    job = runner.submit("import", task_path(explode), actor=user)
    ended = wait_for(job.pk, seconds=20)
    assert ended.status == JobStatus.FAILED
    assert ended.error == "the meter file is missing"


def worker_database_url() -> str:
    """Return the URL of the test database, which the worker process must use."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"])
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{database['NAME']}"


@pytest.fixture
def celery_queue(settings):
    """Point the Celery app at a queue of its own on Redis database 15."""
    from sewerline.web.celery import app

    try:
        redis.Redis.from_url(TEST_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"this test needs Redis at {TEST_BROKER_URL} ({error}); "
                    "`make test` starts it")
    queue = f"sewerline-test-{uuid.uuid4().hex[:8]}"
    previous = {key: app.conf[key] for key in ("broker_url", "task_default_queue")}
    app.conf.update(broker_url=TEST_BROKER_URL, task_default_queue=queue)
    settings.JOBS = "celery"
    yield queue
    app.pool.force_close_all()
    app.conf.update(previous)


@pytest.mark.slow
@pytest.mark.skipif(not ON_POSTGRES, reason="a worker process cannot see an in-memory "
                    "SQLite test database; run with DATABASE_URL set to PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_celery_worker_runs_import(celery_queue, tmp_path):
    # Needs Redis on 127.0.0.1:6379 (database 15) and PostgreSQL; `make test` starts Redis.
    user = User.objects.create_user("ana", password="x")
    entity = BillingEntity.objects.create(name="Westfield Water", code="westfield")
    cycle = BillingCycle.objects.create(entity=entity, code="2024-01")
    mapping = ("layout: per_bill\ncolumns: {billed_account: Acct No, "
               "billed_amount: Sewer Amount}\n")
    export = SimpleUploadedFile("export.csv", b"Acct No,Sewer Amount\n000123,45.10\n"
                                b"000124,12.00\n")
    batch = create_import(user, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                          uploaded_file=export, mapping_text=mapping)

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sewerline.web.settings",
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": TEST_BROKER_URL,
        "SEWERLINE_JOBS": "celery",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sewerline.web.celery", "worker",
             "--pool=solo", "--queues", celery_queue, "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            job = runner.submit("import", "sewerline.apps.imports.actions.run_import",
                                actor=user, batch_id=batch.pk)
            deadline = time.monotonic() + WAIT_SECONDS
            ended = None
            while time.monotonic() < deadline and worker.poll() is None:
                ended = Job.objects.get(pk=job.pk)
                if ended.status in (JobStatus.DONE, JobStatus.FAILED):
                    break
                time.sleep(0.5)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    output = log_path.read_text(errors="replace")[-3000:]
    assert ended is not None and ended.status == JobStatus.DONE, output
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert batch.charges.count() == 2

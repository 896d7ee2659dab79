"""Every change to imports: upload, mapping, check, and storing all rows or none.

An import goes: `create_import` (the original is kept with its SHA-256) -> `set_mapping`
-> `start_check` (a job running `validate_import`) -> `start_import` (a job running
`run_import`). `import_profiles_file` does it all at once for a profile file on disk.
`billed_frame` and `profiles_frame` read the stored tables back for the engine.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, transaction
from django.utils import timezone

from sewerline.apps.core.changes import record_change
from sewerline.apps.entities.models import SavedMapping
from sewerline.apps.imports.accounts import store_accounts
from sewerline.apps.imports.charges import write_charges
from sewerline.apps.imports.frames import billed_frame, profiles_frame
from sewerline.apps.imports.models import ImportBatch, ImportKind, ImportStatus
from sewerline.apps.imports.problems import failure_record, problem_records
from sewerline.apps.imports.reading import bill_summary, read_accounts, read_bills
from sewerline.apps.imports.uploads import megabytes
from sewerline.apps.jobs.models import Job
from sewerline.apps.jobs.runner import fail, finish, report_progress, submit
from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.tables import CSV_SUFFIXES, EXCEL_SUFFIXES

logger = logging.getLogger(__name__)

__all__ = [
    "DuplicateImport", "ImportStateError", "billed_frame", "create_import",
    "import_profiles_file", "latest_job", "profiles_frame", "run_import", "save_mapping",
    "set_mapping",
    "start_check", "start_import", "validate_import",
]

JOB_KIND = "import"
OBJECT_TYPE = ImportBatch._meta.label_lower
# Statuses in which the mapping may change and the file may be checked again.
_EDITABLE = (ImportStatus.PENDING, ImportStatus.FAILED)


class DuplicateImport(Exception):
    """Raised when the same file (same SHA-256) was imported for the entity before."""

    def __init__(self, earlier: ImportBatch):
        self.earlier = earlier
        who = earlier.created_by.get_username() if earlier.created_by else "an unknown user"
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            f"This file was already uploaded as import {earlier.pk} ({earlier.file_name}) "
            f"on {when} by {who}, status: {earlier.get_status_display().lower()}. Import it "
            "again only if that import is wrong or incomplete."
        )


class ImportStateError(Exception):
    """Raised when an import is asked to do what its status does not allow."""


def create_import(actor, *, kind, entity, cycle, uploaded_file, mapping_text="",
                  force=False) -> ImportBatch:
    """Store an uploaded file as a new import waiting to run.

    Keeps the original under MEDIA_ROOT with its SHA-256 and size. Raises InputError
    for an unsupported file type, an empty file, a file over settings.UPLOAD_MAX_BYTES
    and a billing export without a cycle of the entity. Raises DuplicateImport when a
    file with the same SHA-256 was imported for the same entity and kind, unless
    `force`; imports that failed do not count.
    """
    kind = ImportKind(kind)
    file_name = Path(uploaded_file.name or "").name
    _check_upload(kind, entity, cycle, uploaded_file, file_name)

    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    earlier = (ImportBatch.objects.filter(entity=entity, kind=kind, sha256=sha256)
               .exclude(status=ImportStatus.FAILED).select_related("created_by")
               .order_by("-created_at").first())
    # NOTE: two uploads of the same file at the same moment can both pass this check.
    if earlier is not None and not force:
        raise DuplicateImport(earlier)

    batch = ImportBatch(
        kind=kind, entity=entity, cycle=cycle, file_name=file_name[:255], sha256=sha256,
        size_bytes=uploaded_file.size, mapping_text=mapping_text or "",
        forced=earlier is not None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    batch.original.save(file_name, uploaded_file, save=False)
    try:
        with transaction.atomic():
            batch.save()
            note = f"same file as import {earlier.pk}" if earlier else ""
            record_change(actor, batch, "created",
                          {"file_name": [None, batch.file_name], "sha256": [None, sha256]},
                          note=note)
    except DatabaseError:
        batch.original.delete(save=False)
        raise
    logger.info("import %s created: %s for entity %s, %d bytes, sha256 %s%s", batch.pk,
                kind, entity.pk, batch.size_bytes, sha256[:12], " (forced)" if earlier else "")
    return batch


def set_mapping(actor, batch: ImportBatch, mapping_text: str) -> ImportBatch:
    """Store the mapping of an import that has not run; the file must be checked again."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in _EDITABLE:
            raise ImportStateError(
                f"Import {batch.pk} is {locked.get_status_display().lower()}; its mapping "
                "can no longer change."
            )
        changed = locked.mapping_text != mapping_text
        locked.mapping_text = mapping_text
        locked.status = ImportStatus.PENDING
        locked.problems = []
        locked.summary = {}
        locked.rows_read = 0
        locked.save(update_fields=["mapping_text", "status", "problems", "summary", "rows_read"])
        if changed:
            record_change(actor, locked, "mapped", {"mapping_text": [batch.mapping_text,
                                                                     mapping_text]})
    return locked


def save_mapping(actor, entity, name: str, mapping_text: str) -> SavedMapping:
    """Save a mapping under a name for the entity, replacing one of the same name."""
    with transaction.atomic():
        saved = SavedMapping.objects.select_for_update().filter(entity=entity, name=name).first()
        old_text = saved.text if saved else None
        if saved is None:
            saved = SavedMapping(entity=entity, name=name)
        saved.text = mapping_text
        saved.save()
        if old_text != mapping_text:
            record_change(actor, saved, "created" if old_text is None else "updated",
                          {"text": [old_text, mapping_text]})
    return saved


def start_check(actor, batch: ImportBatch) -> Job:
    """Queue a job that reads the file and records its problems or its counts."""
    if batch.status not in _EDITABLE:
        raise ImportStateError(
            f"Import {batch.pk} is {batch.get_status_display().lower()}; it cannot be "
            "checked now."
        )
    return submit(JOB_KIND, f"{__name__}.validate_import", actor=actor,
                  object_type=OBJECT_TYPE, object_id=batch.pk, batch_id=batch.pk)


def start_import(actor, batch: ImportBatch) -> Job:
    """Queue the job that stores a checked import."""
    if batch.status != ImportStatus.PENDING or not batch.summary or batch.problems:
        raise ImportStateError(
            f"Import {batch.pk} has not passed its check; check the file, fix the problems "
            "it lists, then store it."
        )
    return submit(JOB_KIND, f"{__name__}.run_import", actor=actor,
                  object_type=OBJECT_TYPE, object_id=batch.pk, batch_id=batch.pk)


def validate_import(batch_id: int, job_id: int | None = None) -> ImportBatch:
    """Read the import's file as the import would, storing nothing; record the outcome.

    The import stays waiting to run with its counts in `summary`, or fails with its
    problems, which a new mapping clears.
    """
    if not _claim(batch_id, _EDITABLE):
        return _refuse(batch_id, job_id, "checked")
    batch = ImportBatch.objects.select_related("entity").get(pk=batch_id)
    report_progress(job_id, "reading the file", 10)
    try:
        if batch.kind == ImportKind.BILLING:
            bills = read_bills(batch)
            rows, summary = bills.height, bill_summary(bills)
        else:
            summary = read_accounts(batch).summary()
            rows = summary["accounts"]
    except InputError as error:
        return _failed(batch, job_id, problem_records(error, _names(batch)))
    except Exception as error:  # any failure must end the check with a message
        logger.exception("import %s: the check failed", batch_id)
        return _failed(batch, job_id, [_unexpected(batch, error, "Checking the file")])

    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportStatus.PENDING, rows_read=rows, summary=summary, problems=[],
    )
    logger.info("import %s checked: %d rows, no problems", batch_id, rows)
    finish(job_id)
    return ImportBatch.objects.get(pk=batch_id)


def run_import(batch_id: int, job_id: int | None = None) -> ImportBatch:
    """Read the import's file and store all its rows in one transaction, or none.

    Billing exports become BilledCharge rows of the import's cycle. Profile files
    create and update the entity's accounts, with a change record per account. Any
    problem, in the file or while storing, marks the import failed with its problems
    and leaves the database as it was.
    """
    if not _claim(batch_id, (ImportStatus.PENDING,)):
        return _refuse(batch_id, job_id, "stored")
    batch = ImportBatch.objects.select_related("entity", "cycle", "created_by").get(pk=batch_id)
    actor = _job_actor(job_id) or batch.created_by
    report_progress(job_id, "reading the file", 5)
    try:
        if batch.kind == ImportKind.BILLING:
            _store_bills(batch, actor, job_id)
        else:
            _store_accounts(batch, actor, job_id)
    except InputError as error:
        return _failed(batch, job_id, problem_records(error, _names(batch)))
    except Exception as error:  # any failure must end the import with a message
        logger.exception("import %s: storing failed, nothing was stored", batch_id)
        return _failed(batch, job_id, [_unexpected(batch, error, "Storing the rows")])
    finish(job_id)
    return ImportBatch.objects.get(pk=batch_id)


def import_profiles_file(actor, entity, path, mapping_text=None) -> ImportBatch:
    """Import a profile file from disk now: create and update the entity's accounts.

    `mapping_text` is a mapping file whose `profiles:` section names the columns (None:
    the documented layout). Returns the import, done or failed with its problems;
    raises InputError for a file that cannot be uploaded (type, size).
    """
    path = Path(path)
    with path.open("rb") as handle:
        batch = create_import(actor, kind=ImportKind.PROFILES, entity=entity, cycle=None,
                              uploaded_file=File(handle, name=path.name),
                              mapping_text=mapping_text or "", force=True)
    return run_import(batch.pk)


def latest_job(batch: ImportBatch) -> Job | None:
    """Return the most recent job of an import (check or store), if any."""
    return (Job.objects.filter(object_type=OBJECT_TYPE, object_id=str(batch.pk))
            .order_by("-created_at", "-pk").first())


def _store_bills(batch: ImportBatch, actor, job_id: int | None) -> None:
    bills = read_bills(batch)
    summary = bill_summary(bills)
    report_progress(job_id, f"storing {bills.height:,} bills", 50)
    with transaction.atomic():
        stored = write_charges(bills, batch)
        _mark_done(batch, actor, rows_read=bills.height, rows_stored=stored, summary=summary)


def _store_accounts(batch: ImportBatch, actor, job_id: int | None) -> None:
    plan = read_accounts(batch)
    summary = plan.summary()
    report_progress(job_id, f"storing {summary['accounts']:,} accounts", 50)
    with transaction.atomic():
        store_accounts(plan, batch.entity, actor)
        stored = summary["new"] + summary["changed"]
        _mark_done(batch, actor, rows_read=summary["accounts"], rows_stored=stored,
                   summary=summary)


def _mark_done(batch: ImportBatch, actor, *, rows_read: int, rows_stored: int,
               summary: dict) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.DONE, rows_read=rows_read, rows_stored=rows_stored,
        summary=summary, problems=[], finished_at=timezone.now(),
    )
    record_change(actor, batch, "imported", {"status": [ImportStatus.RUNNING.value,
                                                        ImportStatus.DONE.value],
                                             "rows_stored": [None, str(rows_stored)]})
    logger.info("import %s stored: %d of %d rows", batch.pk, rows_stored, rows_read)


def _failed(batch: ImportBatch, job_id: int | None, problems: list[dict]) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.FAILED, problems=problems, rows_stored=0,
        finished_at=timezone.now(),
    )
    count = sum(1 for problem in problems if problem["code"] != "more_problems")
    logger.info("import %s failed with %d problems, nothing stored", batch.pk, count)
    fail(job_id, f"{count} {'problem' if count == 1 else 'problems'} found; nothing was "
                 "stored. The import lists them.")
    return ImportBatch.objects.get(pk=batch.pk)


def _claim(batch_id: int, statuses) -> bool:
    """Move the import to running if its status is one of `statuses`, atomically."""
    # NOTE: an import whose process dies while running stays "running" until someone
    # resets its status in the database.
    return bool(ImportBatch.objects.filter(pk=batch_id, status__in=statuses)
                .update(status=ImportStatus.RUNNING))


def _refuse(batch_id: int, job_id: int | None, verb: str) -> ImportBatch:
    batch = ImportBatch.objects.get(pk=batch_id)
    message = (f"Import {batch_id} is {batch.get_status_display().lower()}, so it cannot be "
               f"{verb} now.")
    logger.warning(message)
    fail(job_id, message)
    return batch


def _job_actor(job_id: int | None):
    if job_id is None:
        return None
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    return job.created_by if job else None


def _names(batch: ImportBatch) -> dict[str, str]:
    return {batch.original.path: batch.file_name}


def _unexpected(batch: ImportBatch, error: Exception, doing: str) -> dict:
    return failure_record(
        f"{doing} failed: {error}".strip(),
        f"Nothing was stored. Check the file and the mapping and try again; if it fails "
        f"again, give the administrator import number {batch.pk}.",
    )


def _check_upload(kind, entity, cycle, uploaded_file, file_name: str) -> None:
    problems = []
    suffix = Path(file_name).suffix.lower()
    supported = CSV_SUFFIXES + EXCEL_SUFFIXES
    if suffix not in supported:
        problems.append(Problem(
            code="unsupported_file", message=f"unsupported file type {suffix or '(none)'!r}",
            file=file_name, expected="a file ending in " + ", ".join(supported),
            hint="Export the data as CSV or as an Excel workbook (.xlsx).",
        ))
    limit = settings.UPLOAD_MAX_BYTES
    if uploaded_file.size > limit:
        problems.append(Problem(
            code="file_too_large",
            message=f"the file is {megabytes(uploaded_file.size)} MB, more than the "
                    f"limit of {megabytes(limit)} MB",
            file=file_name,
            hint="Split the export into smaller files, or ask the administrator to raise "
                 "SEWERLINE_UPLOAD_MAX_MB.",
        ))
    elif uploaded_file.size == 0:
        problems.append(Problem(code="empty_file", message="the file is empty", file=file_name,
                                hint="Export the data again and upload the new file."))
    if kind == ImportKind.BILLING and cycle is None:
        problems.append(Problem(code="missing_value", message="a billing export needs a cycle",
                                hint="Choose the billing cycle the export belongs to."))
    if cycle is not None and cycle.entity_id != entity.pk:
        problems.append(Problem(
            code="invalid_value", message=f"cycle {cycle.code} belongs to another entity",
            value=cycle.code, hint="Choose a cycle of the entity that sent the file.",
        ))
    if problems:
        raise InputError(problems)

"""Rate schedules and versions: create, upload (validated by the rate engine), publish."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from sewerline.apps.core.changes import record_change
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion
from sewerline.apps.rates.schedules import parse_schedule_text
from sewerline.engine.errors import InputError, Problem

logger = logging.getLogger(__name__)


def create_schedule(actor, *, name: str, description: str = "") -> RateSchedule:
    """Create a named rate schedule and record who created it."""
    with transaction.atomic():
        schedule = RateSchedule(name=name.strip(), description=description.strip())
        schedule.full_clean()
        schedule.save()
        record_change(actor, schedule, "created",
                      {"name": [None, schedule.name], "description": [None, schedule.description]})
    logger.info("rate schedule pk=%s created", schedule.pk)
    return schedule


def upload_version(actor, schedule: RateSchedule, uploaded_file) -> RateScheduleVersion:
    """Store an uploaded OWRS file as a new, unpublished version of `schedule`.

    The file must be UTF-8 text of at most settings.UPLOAD_MAX_BYTES bytes, and the rate
    engine must accept it; its effective date comes from metadata.effective_date. Raises
    InputError listing every problem (with the YAML line where the engine gives one),
    including a version that already exists for the same effective date.
    """
    file_name = Path(uploaded_file.name or "rates.owrs").name
    text = _read_text(uploaded_file, file_name)
    engine_schedule = parse_schedule_text(text, file_name)
    effective_date = engine_schedule.effective_date

    with transaction.atomic():
        if RateScheduleVersion.objects.filter(schedule=schedule,
                                              effective_date=effective_date).exists():
            raise InputError([Problem(
                code="version_exists",
                message=f"{schedule.name} already has a version effective "
                        f"{effective_date:%b} {effective_date.day}, {effective_date.year}",
                file=file_name, column="effective_date", value=effective_date.isoformat(),
                hint="Change metadata.effective_date in the file, or upload it to another "
                     "schedule.",
            )])
        version = RateScheduleVersion.objects.create(
            schedule=schedule, effective_date=effective_date, text=text, file_name=file_name,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record_change(actor, version, "created", {
            "effective_date": [None, effective_date.isoformat()],
            "file_name": [None, file_name],
            "classes": [None, ", ".join(engine_schedule.classes)],
        })
    logger.info("rate schedule pk=%s: version pk=%s uploaded, effective %s, %d classes",
                schedule.pk, version.pk, effective_date, len(engine_schedule.classes))
    return version


def publish(actor, version: RateScheduleVersion) -> RateScheduleVersion:
    """Publish a version so that audits use it; publishing it again changes nothing.

    The text is validated once more, because the rate engine may have become stricter
    since the upload; an InputError then leaves the version unpublished.
    """
    parse_schedule_text(version.text, version.file_name or "rates.owrs")
    with transaction.atomic():
        locked = RateScheduleVersion.objects.select_for_update().get(pk=version.pk)
        if locked.published:
            return locked
        locked.published = True
        locked.save(update_fields=["published"])
        record_change(actor, locked, "published", {"published": ["False", "True"]})
    logger.info("rate version pk=%s published", locked.pk)
    return locked


def _read_text(uploaded_file, file_name: str) -> str:
    limit = settings.UPLOAD_MAX_BYTES
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > limit:
        raise InputError([_too_large(file_name, size, limit)])
    data = uploaded_file.read(limit + 1)
    if len(data) > limit:
        raise InputError([_too_large(file_name, len(data), limit)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError([Problem(
            code="rate_file_not_utf8", message="the rate file is not UTF-8 text",
            file=file_name, value=f"byte {error.start}",
            hint="Save the file as UTF-8 (a plain text or YAML file) and upload it again.",
        )]) from None


def _too_large(file_name: str, size: int, limit: int) -> Problem:
    return Problem(
        code="upload_too_large", message="the file is larger than the upload limit",
        file=file_name, value=f"{size:,} bytes", expected=f"at most {limit:,} bytes",
        hint="Rate files are small text files; check that this is the right file.",
    )

"""Rate schedule versions read by the rate engine, and the version in force for a cycle."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from functools import lru_cache
from pathlib import Path

from sewerline.apps.audits.models import AuditRun
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.engine.errors import InputError
from sewerline.engine.rater import Rater, load_rater
from sewerline.engine.rates import RateSchedule
from sewerline.engine.rates.dated import ChangeMode

logger = logging.getLogger(__name__)

DEFAULT_FILE_NAME = "rates.owrs"


def parse_schedule_text(text: str, file_name: str = DEFAULT_FILE_NAME) -> RateSchedule:
    """Validate OWRS text with the rate engine and return the schedule.

    Raises InputError listing every problem, each naming `file_name` and the YAML line.
    """
    return parse_rater_text(text, file_name).schedule


def parse_rater_text(text: str, file_name: str = DEFAULT_FILE_NAME) -> Rater:
    """Validate OWRS text and return the engine's Rater of that one version.

    Parsed texts are cached, so a page that explains many bills of one version reads
    the file once. Raises InputError as parse_schedule_text does.
    """
    return _parse_cached(text, Path(file_name).name or DEFAULT_FILE_NAME)


@lru_cache(maxsize=32)
def _parse_cached(text: str, file_name: str) -> Rater:
    # The engine reads rate files from disk, so the text goes to a private temporary
    # folder under the upload's own name. Problems name the file by that name alone.
    # NOTE: a water rate file that the schedule names (sewer as a percentage of water) is
    # looked for in that temporary folder, where it never is, so such a version fails.
    with tempfile.TemporaryDirectory(prefix="sewerline-rates-") as folder:
        path = Path(folder) / file_name
        path.write_text(text, encoding="utf-8")
        try:
            rater = load_rater([path], change_mode=ChangeMode.SPLIT_BY_DAYS)
        except InputError as error:
            problems = [dataclasses.replace(problem, file=file_name)
                        for problem in error.problems]
            raise InputError(problems, truncated=error.truncated) from None
    return dataclasses.replace(rater, schedule=dataclasses.replace(rater.schedule,
                                                                   path=file_name))


def version_schedule(version: RateScheduleVersion) -> RateSchedule:
    """Return the engine's schedule of a stored version (validated when it was uploaded)."""
    return version_rater(version).schedule


def version_rater(version: RateScheduleVersion) -> Rater:
    """Return the engine's Rater of a stored version."""
    return parse_rater_text(version.text, version.file_name or DEFAULT_FILE_NAME)


def version_for_cycle(cycle: BillingCycle | None) -> RateScheduleVersion | None:
    """Return the rate version that prices a cycle's bills, or None when none applies.

    The version of the cycle's latest finished audit run comes first, because the
    audit's findings were computed with it. Without a run, the newest published
    version in force on the cycle's last day is used; without a cycle, the newest
    published version.
    """
    published = RateScheduleVersion.objects.filter(published=True).select_related("schedule")
    if cycle is None:
        return published.order_by("-effective_date", "-pk").first()
    run = (AuditRun.objects.filter(cycle=cycle, finished_at__isnull=False)
           .select_related("rate_version__schedule").order_by("-created_at").first())
    if run is not None:
        return run.rate_version

    day = cycle.period_end or cycle.bill_date
    if day is not None:
        published = published.filter(effective_date__lte=day)
    return published.order_by("-effective_date", "-pk").first()


def published_classes() -> list[str]:
    """Return the customer classes that some published rate version rates, sorted.

    A version whose text the engine no longer accepts is skipped and logged.
    """
    classes: set[str] = set()
    for version in RateScheduleVersion.objects.filter(published=True).only(
            "pk", "text", "file_name"):
        try:
            classes.update(version_schedule(version).classes)
        except InputError as error:
            logger.warning("published rate version pk=%s is not valid: %d problems",
                           version.pk, len(error.problems))
    return sorted(classes)

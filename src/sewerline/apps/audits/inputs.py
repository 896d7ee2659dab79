"""Build the engine's audit inputs from the database: rate version, profiles and bills."""

from __future__ import annotations

import difflib
import logging
import re
from pathlib import Path

import polars as pl

from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.apps.rates.schedules import parse_rater_text
from sewerline.engine.audit import RATE_INPUT_COLUMNS, AuditInputs
from sewerline.engine.errors import InputError, Problem
from sewerline.engine.rater import Rater
from sewerline.engine.rates import RateSchedule
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile

logger = logging.getLogger(__name__)

# Problems listed per check before the rest are summed up as "more".
MAX_LISTED = 100

# Similarity (difflib ratio, 0 to 1) from which an unknown class is taken for a typo of
# a known one: the cutoff the file audit applies to the mapping's rate-code table.
NEAR_MISS_CUTOFF = 0.8


def rate_file_name(version: RateScheduleVersion) -> str:
    """Return the file name a rate version is known by in messages and reports.

    The uploaded file's name when there is one, else the schedule's name and the
    effective date, reduced to characters that are safe in a file name.
    """
    name = version.file_name or f"{version.schedule.name} {version.effective_date:%Y-%m-%d}"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._") or "rates"
    return f"{stem}.owrs"


def load_rate_version(version: RateScheduleVersion) -> Rater:
    """Read and validate the OWRS text of a rate version; raise InputError on problems.

    Problems and the schedule name the file by `rate_file_name(version)`.
    """
    return parse_rater_text(version.text, rate_file_name(version))


def build_inputs(
    *,
    rater: Rater,
    profiles: pl.DataFrame,
    bills: pl.DataFrame,
    profiles_label: str,
    billing_label: str,
) -> AuditInputs:
    """Check the tables against the rate schedule and bundle them as AuditInputs.

    Raises InputError in three cases. A profile has a customer class the schedule does
    not rate. A bill's class is a near miss of one of the schedule's classes, which is
    a typo in the rate-code table. A rate formula reads a column the profiles lack.
    A file audit makes the same checks while it reads the mapping and the profile file.
    """
    schedule = rater.schedule
    problems = [
        *_unknown_profile_classes(profiles, schedule, profiles_label),
        *_misspelled_bill_classes(bills, schedule, billing_label),
    ]
    if problems:
        raise InputError(problems[:MAX_LISTED], truncated=len(problems) > MAX_LISTED)

    internal = {SOURCE_ROW, Profile.WINTER_AVERAGE_GAL}
    available = (set(profiles.columns) - internal) | set(RATE_INPUT_COLUMNS)
    problems = schedule.validate_columns(available, "the profiles or the audit's inputs")
    if problems:
        raise InputError(problems)

    return AuditInputs(
        schedule=schedule,
        mapping=None,
        profiles=profiles,
        bills=bills,
        profiles_label=profiles_label,
        billing_label=billing_label,
        rater=rater,
    )


def _class_counts(frame: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    """Return (class, number of rows) for each class of `column`, in name order."""
    if frame.is_empty():
        return []
    counts = frame.drop_nulls(column).group_by(column).len().sort(column)
    return list(counts.iter_rows())


def _unknown_profile_classes(
    profiles: pl.DataFrame, schedule: RateSchedule, label: str
) -> list[Problem]:
    """Return one problem per customer class of the profiles that the schedule lacks."""
    known = ", ".join(sorted(schedule.classes))
    return [
        Problem(
            code="unknown_class",
            message=f"customer class {class_name!r} of {count} account(s) is not defined "
                    f"in rate file {schedule.path}",
            file=label,
            column=Profile.CLASS,
            value=class_name,
            expected=f"one of {known}",
            hint="Correct the accounts' class, or choose a rate version that defines it.",
        )
        for class_name, count in _class_counts(profiles, Profile.CLASS)
        if class_name not in schedule.classes
    ]


def _misspelled_bill_classes(
    bills: pl.DataFrame, schedule: RateSchedule, label: str
) -> list[Problem]:
    """Return one problem per billed class that is a near miss of a schedule class.

    A class the sewer rates do not cover at all (an irrigation-only rate code) is
    allowed, as in a file audit. A near miss is rejected, because it would make every
    such bill a class mismatch.
    """
    known = sorted(schedule.classes)
    problems = []
    for class_name, count in _class_counts(bills, Billed.CLASS):
        if class_name in schedule.classes:
            continue
        close = difflib.get_close_matches(class_name, known, n=1, cutoff=NEAR_MISS_CUTOFF)
        if not close:
            logger.info("billed class %s is not rated by %s", class_name, schedule.path)
            continue
        problems.append(Problem(
            code="unknown_class",
            message=f"{count} bill(s) have class {class_name!r}, which rate file "
                    f"{schedule.path} does not define",
            file=label,
            column=Billed.CLASS,
            value=class_name,
            expected="one of " + ", ".join(known),
            hint=f"Did you mean {close[0]!r}? Correct the rate-code table of the import "
                 "and import the billing export again.",
        ))
    return problems

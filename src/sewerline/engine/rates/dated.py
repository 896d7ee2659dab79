"""Effective-dated rate schedules: several versions of one utility's rates over time.

A `ScheduleSet` contains the rate files of one utility, each in effect from its
`effective_date` until the next version's. `rate_bills_dated` rates each bill with
the version (or versions) in effect during its billing period, in one of two modes:

- `next_period`: a new version applies from the first period that starts on or after
  its effective date. A period is rated with the version in effect on its start day.
- `split_by_days`: a period that spans an effective date is split there. Each part
  is rated with its own version as a bill of its own, with the period quantities
  (usage, deduct usage, water charge) and the proration factor shared out by days.

Rounding in split_by_days: each part is rated by `rate_bills`, so its charge
components and its total are rounded to the cent by the rounding rule of the part's
own version. The parts' totals are then added, and that sum of whole cents is exact,
so it is not rounded again. Parts are rounded one by one for two reasons. Each
version's rounding rule, and any min, max or round in its bill formula, apply to the
charges billed under it. And a bill that changes rates mid-period shows one amount in
cents per rate period. The price is that a split bill can differ from the same
period rated whole under one version by half a cent per rounded charge of each part:
at most one cent for a bill of one charge split in two.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.proration import PRORATION_FACTOR, period_problems
from sewerline.engine.rates.compile import EXPECTED
from sewerline.engine.rates.period_parts import (
    PERIOD_ROW,
    ROW_NUMBER,
    VERSION,
    allocate_by_days,
    period_parts,
)
from sewerline.engine.rates.rating import rate_bills
from sewerline.engine.rates.schedule import MAX_PROBLEMS, RateSchedule, load_schedule
from sewerline.engine.schema import SOURCE_ROW, Billed
from sewerline.engine.units import UsageUnit

logger = logging.getLogger(__name__)

SCHEDULE_VERSION = "schedule_version"
SPLIT = "split"   # the schedule_version of a bill rated in parts under several versions

# Quantities of a whole period, shared out between the parts of a split period in
# proportion to their days (the proration factor is shared out the same way).
ALLOCATED_COLUMNS = ("usage_ccf", "deduct_usage", "water_charge")

_PARTS = "__dated_parts"   # number of parts of a row, while adding them up


class ChangeMode(StrEnum):
    """Rating rule for a bill whose period spans a rate change."""

    SPLIT_BY_DAYS = "split_by_days"
    NEXT_PERIOD = "next_period"


class ScheduleSet:
    """The rate schedule versions of one utility, sorted by effective date.

    Raises InputError, naming the files, when two versions take effect on the same
    date, or when they bill usage in different units, because the rated table has one
    usage column in one unit.
    """

    def __init__(self, schedules: Iterable[RateSchedule]):
        versions = tuple(sorted(schedules, key=lambda schedule: schedule.effective_date))
        if not versions:
            raise ValueError("a schedule set needs at least one rate schedule")
        problems = _version_problems(versions)
        if problems:
            raise InputError(problems)
        names = {schedule.utility_name for schedule in versions}
        if len(names) > 1:
            logger.warning("the rate schedule versions name different utilities: %s",
                           ", ".join(sorted(names)))
        self.versions = versions

    @property
    def bill_unit(self) -> UsageUnit:
        """The unit of `usage_ccf`, the same in every version."""
        return self.versions[0].bill_unit

    @property
    def effective_dates(self) -> tuple[dt.date, ...]:
        return tuple(schedule.effective_date for schedule in self.versions)

    def in_effect(self, day: dt.date) -> RateSchedule | None:
        """Return the version in effect on `day`, or None before the first version."""
        current = None
        for schedule in self.versions:
            if schedule.effective_date <= day:
                current = schedule
        return current


def load_schedule_set(paths: Iterable[str | Path]) -> ScheduleSet:
    """Read several rate files as versions of one schedule.

    Raises InputError with the problems of every file together, then with the
    problems of the set (two versions of one date, different bill units).
    """
    schedules: list[RateSchedule] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            schedules.append(load_schedule(path))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    return ScheduleSet(schedules)


def rate_bills_dated(
    table: pl.DataFrame,
    schedules: ScheduleSet | Sequence[RateSchedule],
    *,
    class_column: str,
    mode: ChangeMode | str,
    source: str | None = None,
    row_column: str = SOURCE_ROW,
    period_start: str = Billed.PERIOD_START,
    period_end: str = Billed.PERIOD_END,
    allocated_columns: Sequence[str] = ALLOCATED_COLUMNS,
) -> pl.DataFrame:
    """Compute each row's expected charge under the schedule versions of its period.

    Returns a frame of the table's height and row order with `expected_amount`, one
    `charge:<name>` column per charge component of any version, and
    `schedule_version`: the effective date (YYYY-MM-DD) of the version used, or
    "split" for a period rated in parts. A split row's charge columns add up its parts'
    charges, and a null part amount makes the row's amount null. Rows that do not span
    a change and the parts of split rows are rated together, in one `rate_bills` call
    per version.

    Raises InputError for every problem that split_periods finds and every problem
    that rate_bills reports for any version.
    """
    schedule_set = schedules if isinstance(schedules, ScheduleSet) else ScheduleSet(schedules)
    label = source or "the input table"
    parts = split_periods(
        table, schedule_set, mode=mode, source=label, row_column=row_column,
        period_start=period_start, period_end=period_end, allocated_columns=allocated_columns,
    )
    if parts.is_empty():
        return pl.DataFrame(schema={EXPECTED: DECIMAL, SCHEDULE_VERSION: pl.String})
    if row_column not in parts.columns:
        # Parts are rated out of table order, so their row numbers must travel with them.
        parts = parts.with_columns((pl.col(PERIOD_ROW) + 2).alias(row_column))

    rated: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for schedule in schedule_set.versions:
        version = schedule.effective_date.isoformat()
        subset = parts.filter(pl.col(SCHEDULE_VERSION) == version)
        if subset.is_empty():
            continue
        try:
            result = rate_bills(subset, schedule, class_column=class_column, source=label,
                                row_column=row_column)
        except InputError as error:
            problems += [_name_version(problem, schedule) for problem in error.problems]
            continue
        rated.append(pl.concat([subset.select(PERIOD_ROW, SCHEDULE_VERSION), result],
                               how="horizontal"))
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    logger.debug("rated %d rows in %d parts under %d schedule versions",
                 table.height, parts.height, len(rated))
    return _add_up_parts(rated)


def _name_version(problem: Problem, schedule: RateSchedule) -> Problem:
    """Add the rate file to a problem that names only the input, so the version is known."""
    if problem.file == schedule.path:
        return problem
    version = f"under {schedule.path}, effective {schedule.effective_date.isoformat()}"
    return replace(problem, message=f"{problem.message} {version}")


def split_periods(
    table: pl.DataFrame,
    schedules: ScheduleSet | Sequence[RateSchedule],
    *,
    mode: ChangeMode | str,
    source: str | None = None,
    row_column: str = SOURCE_ROW,
    period_start: str = Billed.PERIOD_START,
    period_end: str = Billed.PERIOD_END,
    allocated_columns: Sequence[str] = ALLOCATED_COLUMNS,
) -> pl.DataFrame:
    """Return the parts to rate: one row per row of the table and version of its period.

    A row that is not split is one part, unchanged except that the allocated columns
    and `proration_factor` become Decimal and the period columns Date. A split row
    becomes one part per version: its period dates and `days_in_period` (when
    present) are the part's own, and each allocated column and `proration_factor` is
    shared out by days. Every part but the last gets value * part_days / days and the
    last gets what is left, so the parts add up to the period's value exactly. In
    next_period mode, and for a row with only one known period date, the row is one
    part under the version in effect on its start date (or its only date).

    The result has the table's columns, `period_row` (the row's 0-based position in
    the table) and `schedule_version` (the effective date of the part's version), in
    table order and then version order. Raises InputError for periods that end before
    they start or begin before the first version takes effect, for rows without period
    dates when there are several versions, and for allocated columns that are not
    numbers.
    """
    schedule_set = schedules if isinstance(schedules, ScheduleSet) else ScheduleSet(schedules)
    mode = ChangeMode(mode)
    label = source or "the input table"
    reserved = [name for name in (PERIOD_ROW, SCHEDULE_VERSION) if name in table.columns]
    if reserved:
        raise InputError([
            Problem(code="reserved_column", message=f"{label} has a column {name!r}, a name "
                    "that rating by schedule version adds itself", file=label, column=name,
                    hint="Rename or drop the column before rating.")
            for name in reserved
        ])

    numbered = table.with_row_index(PERIOD_ROW).with_columns(pl.col(PERIOD_ROW).cast(pl.Int64))
    row_numbers = (pl.col(row_column).cast(pl.Int64) if row_column in table.columns
                   else pl.col(PERIOD_ROW) + 2)
    numbered = numbered.with_columns(row_numbers.alias(ROW_NUMBER))
    for column in (period_start, period_end):
        if column not in numbered.columns:
            numbered = numbered.with_columns(pl.lit(None, dtype=pl.Date).alias(column))
    problems = period_problems(numbered, period_start, period_end, label, ROW_NUMBER)
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    parts = period_parts(
        numbered, schedule_set.versions, split=mode is ChangeMode.SPLIT_BY_DAYS, label=label,
        period_start=period_start, period_end=period_end,
    )
    long = numbered.join(parts, on=PERIOD_ROW, how="inner").sort(PERIOD_ROW, VERSION)
    long = allocate_by_days(long, [*allocated_columns, PRORATION_FACTOR], label=label,
                            period_start=period_start, period_end=period_end)

    labels = {index: schedule.effective_date.isoformat()
              for index, schedule in enumerate(schedule_set.versions)}
    version = pl.col(VERSION).replace_strict(labels, return_dtype=pl.String)
    return long.select(
        *table.columns, PERIOD_ROW, version.alias(SCHEDULE_VERSION),
    )


def _version_problems(versions: tuple[RateSchedule, ...]) -> list[Problem]:
    problems = []
    for earlier, later in zip(versions, versions[1:], strict=False):
        if earlier.effective_date == later.effective_date:
            problems.append(Problem(
                code="schedule_versions_same_date",
                message=f"the rate files {earlier.path} and {later.path} both take effect "
                        f"{earlier.effective_date.isoformat()}",
                file=later.path, column="effective_date",
                value=earlier.effective_date.isoformat(),
                hint="Remove one of the two files, or correct its effective_date.",
            ))
    first = versions[0]
    for schedule in versions[1:]:
        if schedule.bill_unit != first.bill_unit:
            problems.append(Problem(
                code="schedule_versions_unit_differs",
                message=f"the rate file {schedule.path} bills usage in {schedule.bill_unit}, "
                        f"but {first.path} bills it in {first.bill_unit}",
                file=schedule.path, column="bill_unit", value=str(schedule.bill_unit),
                expected=str(first.bill_unit),
                hint="Convert the rates of one file so that every version has the same "
                     "bill_unit.",
            ))
    return problems


def _add_up_parts(rated: list[pl.DataFrame]) -> pl.DataFrame:
    """Add up the rated parts of each row into one row, in table order."""
    charges: list[str] = []
    for result in rated:
        charges += [c for c in result.columns if c.startswith("charge:") and c not in charges]

    long = pl.concat(rated, how="diagonal")
    amount = pl.col(EXPECTED)
    totals = long.group_by(PERIOD_ROW).agg(
        pl.when(amount.null_count() > 0).then(None).otherwise(amount.sum()).alias(EXPECTED),
        *[pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
          for c in charges],
        pl.len().alias(_PARTS),
        pl.col(SCHEDULE_VERSION).first(),
    ).sort(PERIOD_ROW)

    version = (pl.when(pl.col(_PARTS) > 1).then(pl.lit(SPLIT))
               .otherwise(pl.col(SCHEDULE_VERSION)))
    return totals.select(
        pl.col(EXPECTED).cast(DECIMAL),
        *[pl.col(c).cast(DECIMAL) for c in charges],
        version.alias(SCHEDULE_VERSION),
    )

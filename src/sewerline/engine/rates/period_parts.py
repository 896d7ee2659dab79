"""Billing periods cut into parts at the effective dates of rate schedule versions.

`period_parts` lists the parts of each period and the version that rates each, and
`allocate_by_days` shares the period's usage and proration factor out between them.
rates/dated.py rates the parts.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.proration import DAYS_IN_PERIOD, inclusive_days
from sewerline.engine.rates.inputs import describe_rows
from sewerline.engine.rates.schedule import RateSchedule

# The row's 0-based position in the rated table, kept on every part.
PERIOD_ROW = "period_row"

# Helper columns, named so that they cannot clash with an input column.
ROW_NUMBER = "__dated_row_number"   # the row number that problems show
VERSION = "__dated_version"         # position of the part's version, by effective date
DAY = "__dated_day"
DAYS = "__dated_days"
PART_DAYS = "__dated_part_days"
PART_START = "__dated_part_start"
PART_END = "__dated_part_end"
EXAMPLE_ROWS = 5


def period_parts(numbered: pl.DataFrame, versions: tuple[RateSchedule, ...], *, split: bool,
                 label: str, period_start: str, period_end: str) -> pl.DataFrame:
    """Return one row per part of each period: PERIOD_ROW, VERSION, days and dates.

    `numbered` has PERIOD_ROW and ROW_NUMBER columns, and `versions` are sorted by
    effective date. With `split`, a period with both dates is cut at each effective
    date inside it. Without `split`, and for a period with one known date, the whole
    period is one part under the version in effect on its start date (or its only
    date).
    Raises InputError for rows that no version covers.
    """
    dates = tuple(schedule.effective_date for schedule in versions)
    start = pl.col(period_start).cast(pl.Date)
    end = pl.col(period_end).cast(pl.Date)
    days = inclusive_days(start, end)

    # The version in effect on the start day (or on the only known date) is the number
    # of versions in effect by then, minus one; -1 is before the first version.
    anchor = pl.coalesce(start, end)
    in_effect = pl.sum_horizontal([(anchor >= date).cast(pl.Int32) for date in dates]) - 1
    version = pl.when(anchor.is_not_null()).then(in_effect)
    if len(dates) == 1:
        version = version.otherwise(0)   # with one version, no date is needed to choose it

    splittable = start.is_not_null() & end.is_not_null() if split else pl.lit(False)

    whole = numbered.filter(~splittable).select(
        PERIOD_ROW, ROW_NUMBER, version.alias(VERSION), anchor.alias(DAY),
        days.alias(DAYS), days.alias(PART_DAYS), start.alias(PART_START),
        end.alias(PART_END),
    )
    problems = _uncovered_problems(whole, versions[0], label, period_start)
    pieces = [whole.drop(ROW_NUMBER, DAY)]

    dated = numbered.filter(splittable)
    if dated.height:
        day_before_first = pl.lit(dates[0] - dt.timedelta(days=1))
        early = dated.filter(inclusive_days(start, pl.min_horizontal(end, day_before_first)) > 0)
        problems += _uncovered_problems(
            early.select(ROW_NUMBER, pl.lit(-1).alias(VERSION), start.alias(DAY)),
            versions[0], label, period_start,
        )
        for index, date in enumerate(dates):
            part_start = pl.max_horizontal(start, pl.lit(date))
            part_end = end
            if index + 1 < len(dates):
                day_before_next = pl.lit(dates[index + 1] - dt.timedelta(days=1))
                part_end = pl.min_horizontal(end, day_before_next)
            part = dated.select(
                PERIOD_ROW, pl.lit(index).alias(VERSION), days.alias(DAYS),
                inclusive_days(part_start, part_end).alias(PART_DAYS),
                part_start.alias(PART_START), part_end.alias(PART_END),
            )
            pieces.append(part.filter(pl.col(PART_DAYS) > 0))
    if problems:
        raise InputError(problems)
    return pl.concat(
        [piece.with_columns(pl.col(VERSION).cast(pl.Int32)) for piece in pieces],
        how="vertical_relaxed",
    )


def _uncovered_problems(rows: pl.DataFrame, first: RateSchedule, label: str,
                        period_start: str) -> list[Problem]:
    """Describe rows without a version: no period date at all, or a date before the first."""
    problems = []
    undated = rows.filter(pl.col(VERSION).is_null())
    if undated.height:
        examples = undated.get_column(ROW_NUMBER).head(EXAMPLE_ROWS).to_list()
        problems.append(Problem(
            code="period_missing",
            message="the billing period has no dates, so the rate schedule version cannot "
                    f"be chosen ({describe_rows(examples, undated.height)} of {label})",
            file=label, row=examples[0], column=period_start,
            hint="Map period_start and period_end in the mapping file, or rate the cycle "
                 "with a single rate file.",
        ))

    early = rows.filter(pl.col(VERSION) < 0)
    if early.height:
        examples = early.get_column(ROW_NUMBER).head(EXAMPLE_ROWS).to_list()
        day = early.get_column(DAY)[0]
        problems.append(Problem(
            code="schedule_not_in_effect",
            message=f"no rate schedule is in effect on {day}: the earliest, {first.path}, "
                    f"takes effect {first.effective_date.isoformat()} "
                    f"({describe_rows(examples, early.height)} of {label})",
            file=label, row=examples[0], column=period_start, value=str(day),
            hint="Add the rate file that was in effect then, or leave these bills out of "
                 "the cycle.",
        ))
    return problems


def allocate_by_days(long: pl.DataFrame, columns: list[str], *, label: str,
                     period_start: str, period_end: str) -> pl.DataFrame:
    """Share out the columns between the parts of each split period by days.

    `long` is the table joined to its period_parts. Each part but the last gets
    value * part_days / days and the last gets what is left, so the parts add up to
    the period's value exactly. A split part's own dates and day count replace the
    period's. Raises InputError for a column that is not a Decimal or integer.
    """
    present = [column for column in dict.fromkeys(columns) if column in long.columns]
    problems = [
        Problem(
            code="input_not_numeric",
            message=f"column {column!r} of {label} has type {long.schema[column]}, but a "
                    "period split by days shares it out between the parts",
            file=label, column=column, expected="Decimal or integer numbers",
            hint="Read the column as Decimal numbers before rating.",
        )
        for column in present
        if not (long.schema[column].is_decimal() or long.schema[column].is_integer()
                or long.schema[column] == pl.Null)
    ]
    if problems:
        raise InputError(problems)

    split = pl.len().over(PERIOD_ROW) > 1
    is_last = pl.col(VERSION) == pl.col(VERSION).max().over(PERIOD_ROW)
    updates = []
    for column in present:
        value = pl.col(column).cast(DECIMAL)
        # Multiplying before dividing keeps a share that is a whole number of units exact.
        share = value * pl.col(PART_DAYS).cast(DECIMAL) / pl.col(DAYS).cast(DECIMAL)
        remainder = value - share.sum().over(PERIOD_ROW) + share
        allocated = pl.when(is_last).then(remainder).otherwise(share)
        updates.append(pl.when(split).then(allocated).otherwise(value).alias(column))

    for whole, part in ((period_start, PART_START), (period_end, PART_END)):
        updates.append(
            pl.when(split).then(pl.col(part)).otherwise(pl.col(whole).cast(pl.Date)).alias(whole)
        )
    if DAYS_IN_PERIOD in long.columns:
        updates.append(pl.when(split).then(pl.col(PART_DAYS))
                       .otherwise(pl.col(DAYS_IN_PERIOD)).alias(DAYS_IN_PERIOD))
    return long.with_columns(updates)

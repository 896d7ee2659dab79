"""Billing period length and the proration factor that rate formulas multiply by.

A rate file prorates as data, with no mode of its own: a charge written
`service_charge: 42.00 * proration_factor` or a tier start written
`15 * proration_factor` scales with the length of the billing period.
`period_columns` adds the two input columns those formulas read:

- `days_in_period`: days from period start to period end, both included;
- `proration_factor`: days_in_period / standard days of the schedule's cycle.

The standard days come from the rate file's `metadata.sewerline.proration` block:

    metadata:
      sewerline:
        proration:
          standard_days: 30
"""

from __future__ import annotations

import logging
from decimal import Decimal

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.rates.class_parser import parse_number
from sewerline.engine.rates.schedule import MAX_PROBLEMS, RateSchedule
from sewerline.engine.schema import SOURCE_ROW, Billed

logger = logging.getLogger(__name__)

DAYS_IN_PERIOD = "days_in_period"
PRORATION_FACTOR = "proration_factor"

PRORATION_KEY = "proration"
STANDARD_DAYS_KEY = "standard_days"

# Standard days of a cycle when the rate file does not set them. Monthly 30 and
# bimonthly 60 follow the 30-day month that sewer ordinances commonly use. Quarterly 91
# and semiannual 182 are 365 / 4 and 365 / 2 rounded down, and annual is 365 days.
# A rate file whose ordinance defines another standard cycle sets
# proration.standard_days.
STANDARD_DAYS_BY_FREQUENCY: dict[str, int] = {
    "monthly": 30,
    "bimonthly": 60,
    "quarterly": 91,
    "semiannual": 182,
    "annual": 365,
}


def standard_days_for(schedule: RateSchedule) -> Decimal:
    """Return the standard days of the schedule's billing cycle.

    Reads `metadata.sewerline.proration.standard_days` when the rate file sets it,
    else derives the days from the bill frequency (STANDARD_DAYS_BY_FREQUENCY).
    Raises InputError with the YAML line for a block or value that is not usable.
    """
    block = schedule.extensions.get(PRORATION_KEY)
    if block is None:
        return Decimal(STANDARD_DAYS_BY_FREQUENCY[schedule.bill_frequency])

    if block.kind != "map":
        raise InputError([Problem(
            code="proration_invalid", message="metadata.sewerline.proration is not a mapping",
            file=schedule.path, line=block.line, column=PRORATION_KEY,
            expected="standard_days: <days of a standard billing cycle>",
            hint="Write for example `proration: {standard_days: 30}`.",
        )])
    problems = [
        Problem(
            code="proration_invalid", message=f"unknown key {key!r} in proration",
            file=schedule.path, line=item.line, column=key, value=key,
            expected=STANDARD_DAYS_KEY, hint="Remove the line or correct the key.",
        )
        for key, item in block.value.items()
        if key != STANDARD_DAYS_KEY
    ]
    if problems:
        raise InputError(problems)

    item = block.value.get(STANDARD_DAYS_KEY)
    if item is None:
        return Decimal(STANDARD_DAYS_BY_FREQUENCY[schedule.bill_frequency])
    days = parse_number(item)
    if days is None or days <= 0:
        raise InputError([Problem(
            code="proration_invalid",
            message="proration.standard_days is not a positive number of days",
            file=schedule.path, line=item.line, column=STANDARD_DAYS_KEY,
            value=str(item.value) if item.is_scalar else item.kind,
            expected="a positive number such as 30",
            hint="Give the days of a standard billing cycle from the rate ordinance.",
        )])
    return days


def period_columns(
    table: pl.DataFrame,
    *,
    period_start: str = Billed.PERIOD_START,
    period_end: str = Billed.PERIOD_END,
    standard_days: int | Decimal,
    source: str | None = None,
    row_column: str = SOURCE_ROW,
) -> pl.DataFrame:
    """Add `days_in_period` and `proration_factor` to a table of billing periods.

    `days_in_period` counts both the start and the end day. `proration_factor` is
    days_in_period / standard_days, not rounded to the cent. Decimal division keeps
    12 digits, so a factor such as 31/30 is 1.033333333333. A row whose start or end is
    null gets a null day count and a factor of 1, and the number of such rows is
    logged. Raises InputError for a missing or non-date period column and for periods
    that end before they start, naming their rows.
    """
    standard = Decimal(standard_days)
    if standard <= 0:
        raise ValueError(f"standard_days must be positive, not {standard_days}")
    label = source or "the input table"
    problems = period_problems(table, period_start, period_end, label, row_column)
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    days = inclusive_days(pl.col(period_start), pl.col(period_end))
    factor = days.cast(DECIMAL) / decimal_lit(standard)
    result = table.with_columns(
        days.alias(DAYS_IN_PERIOD),
        factor.fill_null(decimal_lit(1)).alias(PRORATION_FACTOR),
    )

    # Without both dates the period length is unknown, so the charge is not prorated.
    unknown = result.get_column(DAYS_IN_PERIOD).null_count()
    if unknown:
        logger.warning(
            "%s: %d of %d rows have no complete billing period; their proration factor is 1",
            label, unknown, result.height,
        )
    return result


def inclusive_days(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Return the days from start to end with both days counted (Int64, null if either is)."""
    return ((end.cast(pl.Date) - start.cast(pl.Date)).dt.total_days() + 1).cast(pl.Int64)


def period_problems(
    table: pl.DataFrame, period_start: str, period_end: str, label: str,
    row_column: str = SOURCE_ROW,
) -> list[Problem]:
    """List the problems of a table's period columns: missing, not dates, end before start.

    Rows are named by `row_column`, or by their spreadsheet row (position + 2) when the
    table has no such column.
    """
    problems = []
    for column in (period_start, period_end):
        if column not in table.columns:
            problems.append(Problem(
                code="period_column_missing", message=f"{label} has no column {column!r}",
                file=label, column=column, expected="the billing period's dates",
                hint="Map period_start and period_end in the mapping file.",
            ))
        elif not isinstance(table.schema[column], pl.Date | pl.Datetime | pl.Null):
            problems.append(Problem(
                code="period_column_invalid",
                message=f"column {column!r} of {label} has type {table.schema[column]}",
                file=label, column=column, expected="dates",
                hint="Parse the column as dates before rating.",
            ))
    if problems:
        return problems

    rows = (pl.col(row_column).cast(pl.Int64) if row_column in table.columns
            else pl.int_range(pl.len(), dtype=pl.Int64) + 2)
    backwards = table.select(
        rows.alias("row"), pl.col(period_start).cast(pl.Date).alias("start"),
        pl.col(period_end).cast(pl.Date).alias("end"),
    ).filter(pl.col("end") < pl.col("start"))
    return [
        Problem(
            code="period_invalid", message="the billing period ends before it starts",
            file=label, row=row, column=period_end, value=f"{start} to {end}",
            expected="a period end on or after the period start",
            hint="Correct the period dates, or swap them if the columns are mapped the "
                 "wrong way round.",
        )
        for row, start, end in backwards.head(MAX_PROBLEMS + 1).iter_rows()
    ]

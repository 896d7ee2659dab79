"""Sewer charges set as a percentage of the water charge.

Some sewer utilities bill a share of the water charge, for example 65 percent of it.
A sewer rate file writes that share in a formula over the input column `water_charge`:

    bill: round(water_charge * 0.65, 2)

The water charge comes either from the bill (the water charge the water utility
billed) or from the water utility's own OWRS rate file, named in the sewer rate file
with a path relative to it:

    metadata:
      sewerline:
        water_schedule: water.owrs

`rate_water_charge` rates the bills' usage on that water schedule.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.rates.compile import EXPECTED
from sewerline.engine.rates.parts import USAGE
from sewerline.engine.rates.rating import rate_bills
from sewerline.engine.rates.schedule import RateSchedule, load_schedule
from sewerline.engine.schema import SOURCE_ROW
from sewerline.engine.units import UsageUnit, convert

logger = logging.getLogger(__name__)

WATER_CHARGE = "water_charge"
WATER_SCHEDULE_KEY = "water_schedule"


def water_schedule_path(schedule: RateSchedule) -> Path | None:
    """Return the water rate file that the sewer schedule names, or None if it names none.

    The path in `metadata.sewerline.water_schedule` is relative to the sewer rate
    file's folder unless it is absolute. Raises InputError with the YAML line when the
    value is not a path or the file does not exist.
    """
    item = schedule.extensions.get(WATER_SCHEDULE_KEY)
    if item is None:
        return None
    text = str(item.value).strip() if item.is_scalar and item.kind != "null" else ""
    if not text:
        raise InputError([Problem(
            code="water_schedule_invalid",
            message="metadata.sewerline.water_schedule is not a file path",
            file=schedule.path, line=item.line, column=WATER_SCHEDULE_KEY,
            value=None if item.kind == "null" else str(item.value),
            expected="the path of the water rate file, relative to this rate file",
            hint="Write for example `water_schedule: water.owrs`.",
        )])

    path = Path(schedule.path).parent / text
    if not path.is_file():
        raise InputError([Problem(
            code="water_schedule_missing",
            message=f"the water rate file {text!r} named in metadata.sewerline.water_schedule "
                    f"does not exist (looked for {path})",
            file=schedule.path, line=item.line, column=WATER_SCHEDULE_KEY, value=text,
            hint="Put the water rate file next to the sewer rate file, or correct the path; "
                 "a relative path starts at the sewer rate file's folder.",
        )])
    return path


def load_water_schedule(schedule: RateSchedule) -> RateSchedule | None:
    """Read the water rate file that the sewer schedule names, or return None if it names none.

    Raises InputError for a path that is not usable and for every problem of the
    water rate file itself.
    """
    path = water_schedule_path(schedule)
    if path is None:
        return None
    water = load_schedule(path)
    logger.info("%s rates water charges with %s", schedule.path, path)
    return water


def rate_water_charge(
    table: pl.DataFrame,
    water_schedule: RateSchedule,
    *,
    class_column: str,
    usage_unit: UsageUnit,
    source: str | None = None,
    row_column: str = SOURCE_ROW,
) -> pl.Series:
    """Compute each row's water charge under the water schedule.

    `usage_unit` is the unit of the table's `usage_ccf` column (the sewer schedule's
    bill unit). Usage is converted to the water schedule's bill unit before rating, so
    the two schedules may bill in different units. `class_column` names the column of
    water customer classes, which may be the sewer class column when the two utilities
    use the same class names. Returns a Decimal series named `water_charge`, of the
    table's height and row order, null where an input the water rates need is null.
    Raises InputError for every problem rate_bills finds, such as a class the water
    schedule lacks.
    """
    if USAGE in table.columns and usage_unit != water_schedule.bill_unit:
        usage = convert(pl.col(USAGE), usage_unit, water_schedule.bill_unit)
        table = table.with_columns(usage.alias(USAGE))
    rated = rate_bills(table, water_schedule, class_column=class_column, source=source,
                       row_column=row_column)
    return rated.get_column(EXPECTED).alias(WATER_CHARGE)

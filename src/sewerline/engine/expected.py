"""Expected sewer charges: what each bill should be under the profiles and the rate schedule."""

from __future__ import annotations

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.proration import DAYS_IN_PERIOD, PRORATION_FACTOR, period_columns
from sewerline.engine.rater import Rater
from sewerline.engine.rates.water_percent import rate_water_charge
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile, Status
from sewerline.engine.units import UsageUnit, convert

# Row column of rate input tables: the profile's row, named in rate problems.
PROFILE_ROW = "source_row_profile"


def rate_linked_bills(linked: pl.DataFrame, rater: Rater, profiles_label: str) -> pl.DataFrame:
    """Add `expected_amount` to linked bills: the profile's class rated on the bill's usage.

    Only active profiles owe a sewer charge, so septic, exempt and inactive profiles
    expect zero, and unlinked bills get no expected amount at all.
    """
    active = (pl.col(Profile.STATUS) == Status.ACTIVE) & pl.col("profile_index").is_not_null()
    to_rate = linked.filter(active)
    _check_usage_present(to_rate, rater)

    table = rate_input_table(to_rate, rater, usage=pl.col(Billed.USAGE_GAL),
                             source=profiles_label)
    rated = rater.rate(table, class_column=Profile.CLASS, source=profiles_label,
                       row_column=PROFILE_ROW)
    charges = rated.select(["expected_amount", *_charge_columns(rated)])
    to_rate = pl.concat([to_rate, charges], how="horizontal")

    others = linked.filter(~active).with_columns(
        pl.when(pl.col("profile_index").is_not_null())
        .then(pl.lit(0).cast(DECIMAL))
        .otherwise(pl.lit(None, dtype=DECIMAL))
        .alias("expected_amount")
    )
    return pl.concat([to_rate, others], how="diagonal_relaxed").sort("bill_index")


def rate_unbilled_profiles(
    profiles: pl.DataFrame, links: pl.DataFrame, rater: Rater, profiles_label: str,
    *, period_end=None,
) -> pl.DataFrame:
    """Rate the active profiles that no bill linked to, at zero usage.

    Their usage in the cycle is unknown, so charges that depend on usage count as zero and
    the expected amount is a lower bound. Charges on the winter average or on dwelling
    units do not need usage and are exact. With dated rate versions they are rated under
    the version in effect on `period_end`, the last period end of the export.
    """
    unbilled = profiles.join(links.select("profile_index"), on="profile_index", how="anti")
    unbilled = unbilled.filter(pl.col(Profile.STATUS) == Status.ACTIVE)
    rows = unbilled.rename({SOURCE_ROW: PROFILE_ROW}).with_columns(
        pl.lit(period_end, dtype=pl.Date).alias(Billed.PERIOD_START),
        pl.lit(period_end, dtype=pl.Date).alias(Billed.PERIOD_END),
    )
    table = rate_input_table(rows, rater, usage=pl.lit(0), source=profiles_label,
                             prorate=False)
    rated = rater.rate(table, class_column=Profile.CLASS, source=profiles_label,
                       row_column=PROFILE_ROW)
    return unbilled.with_columns(rated.get_column("expected_amount"))


def rate_input_table(
    rows: pl.DataFrame, rater: Rater, *, usage: pl.Expr, source: str, prorate: bool = True,
) -> pl.DataFrame:
    """Build the table rate formulas read, with volumes in the schedule's bill unit.

    Profile columns keep their names, so a formula can use any of them (extra columns
    such as `outside_city` included). Of the bill, only measurements are offered:
    `usage_ccf`, `deduct_usage`, `water_charge` (the billed water charge, or the one the
    water schedule gives) and the period, as `days_in_period` and `proration_factor`.
    The sewer amount billed never is, because the expected charge must not depend on it.
    """
    unit = rater.schedule.bill_unit
    extra = [
        name for name in rows.columns
        if name not in _BILL_AND_LINK_COLUMNS and not name.endswith("_profile")
    ]
    table = rows.select(
        pl.col(PROFILE_ROW),
        pl.col(Profile.CLASS),
        *[pl.col(name) for name in extra if name != Profile.CLASS],
        convert(usage.cast(DECIMAL), UsageUnit.GALLONS, unit).alias("usage_ccf"),
        convert(pl.col(Profile.WINTER_AVERAGE_GAL), UsageUnit.GALLONS, unit).alias(
            "winter_average"
        ),
        _optional(rows, Billed.DEDUCT_USAGE_GAL, lambda column: convert(
            column, UsageUnit.GALLONS, unit)).alias("deduct_usage"),
        _optional(rows, Billed.WATER_AMOUNT).alias("water_charge"),
        _optional(rows, Billed.PERIOD_START, dtype=pl.Date).alias(Billed.PERIOD_START),
        _optional(rows, Billed.PERIOD_END, dtype=pl.Date).alias(Billed.PERIOD_END),
    )
    if rater.water_schedule is not None:
        water = rate_water_charge(table, rater.water_schedule, class_column=Profile.CLASS,
                                  usage_unit=unit, source=source, row_column=PROFILE_ROW)
        table = table.with_columns(water.alias("water_charge"))
    if not prorate:
        # No bill, so no period: charges count as for a full standard period.
        return table.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(DAYS_IN_PERIOD),
            decimal_lit(1).alias(PRORATION_FACTOR),
        )
    return period_columns(table, standard_days=rater.standard_days, source=source,
                          row_column=PROFILE_ROW)


def _optional(rows: pl.DataFrame, name: str, transform=None, *, dtype=DECIMAL) -> pl.Expr:
    """Return a column of `rows` (transformed), or nulls when the table has no such column."""
    if name not in rows.columns:
        return pl.lit(None, dtype=dtype)
    column = pl.col(name)
    return transform(column) if transform else column


_BILL_AND_LINK_COLUMNS = {
    *Billed.SCHEMA, "bill_index", "profile_index", "match_method", "match_score",
}


def _charge_columns(rated: pl.DataFrame) -> list[str]:
    return [name for name in rated.columns if name.startswith("charge:")]


def _check_usage_present(bills: pl.DataFrame, rater: Rater) -> None:
    """Reject bills without usage whose class is rated on usage, naming their rows.

    Rating them at zero would hide exactly the undercharges the audit exists to find.
    """
    metered = [
        name for schedule in rater.versions for name in schedule.classes
        if "usage_ccf" in schedule.data_columns(name)
    ]
    missing = bills.filter(
        pl.col(Billed.USAGE_GAL).is_null() & pl.col(Profile.CLASS).is_in(metered)
    )
    if missing.is_empty():
        return
    problems = [
        Problem(
            code="usage.missing",
            message=f"usage is empty, but class {cls} is rated on usage",
            row=row,
            column="usage",
            hint="Fill in the bill's metered usage or map the usage column in the mapping file.",
        )
        for row, cls in missing.select(SOURCE_ROW, Profile.CLASS).head(100).iter_rows()
    ]
    raise InputError(problems, truncated=missing.height > 100)

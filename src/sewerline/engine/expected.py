"""Expected sewer charges: what the profiles and the rate schedule say each bill should be."""

from __future__ import annotations

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import RateSchedule, rate_bills
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile, Status
from sewerline.engine.units import UsageUnit, convert


def rate_linked_bills(
    linked: pl.DataFrame, schedule: RateSchedule, profiles_label: str
) -> pl.DataFrame:
    """Add `expected_amount` to linked bills: the profile's class rated on the bill's usage.

    Only active profiles owe a sewer charge, so septic, exempt and inactive profiles
    expect zero, and unlinked bills get no expected amount at all.
    """
    active = (pl.col(Profile.STATUS) == Status.ACTIVE) & pl.col("profile_index").is_not_null()
    to_rate = linked.filter(active)
    _check_usage_present(to_rate, schedule)

    table = rate_input_table(
        to_rate, schedule, usage=pl.col(Billed.USAGE_GAL), row_column="source_row_profile"
    )
    rated = rate_bills(
        table, schedule, class_column=Profile.CLASS, source=profiles_label,
        row_column="source_row_profile",
    )
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
    profiles: pl.DataFrame, links: pl.DataFrame, schedule: RateSchedule, profiles_label: str
) -> pl.DataFrame:
    """Rate the active profiles that no bill linked to, at zero usage.

    Their usage in the cycle is unknown, so charges that depend on usage count as zero and
    the expected amount is a lower bound; charges on the winter average or on dwelling
    units do not need usage and are exact.
    """
    unbilled = profiles.join(links.select("profile_index"), on="profile_index", how="anti")
    unbilled = unbilled.filter(pl.col(Profile.STATUS) == Status.ACTIVE)
    table = rate_input_table(
        unbilled.rename({SOURCE_ROW: "source_row_profile"}),
        schedule,
        usage=pl.lit(0),
        row_column="source_row_profile",
    )
    rated = rate_bills(
        table, schedule, class_column=Profile.CLASS, source=profiles_label,
        row_column="source_row_profile",
    )
    return unbilled.with_columns(rated.get_column("expected_amount"))


def rate_input_table(
    rows: pl.DataFrame, schedule: RateSchedule, *, usage: pl.Expr, row_column: str
) -> pl.DataFrame:
    """Build the table rate formulas read: usage and winter average in the bill unit.

    Profile columns keep their names, so a formula can use any of them (extra columns
    such as `outside_city` included); billed columns are not offered, because the
    expected charge must not depend on what the water utility chose to bill.
    """
    unit = schedule.bill_unit
    extra = [
        name for name in rows.columns
        if name not in _BILL_AND_LINK_COLUMNS and not name.endswith("_profile")
    ]
    return rows.select(
        pl.col(row_column),
        pl.col(Profile.CLASS),
        *[pl.col(name) for name in extra if name not in (row_column, Profile.CLASS)],
        convert(usage.cast(DECIMAL), UsageUnit.GALLONS, unit).alias("usage_ccf"),
        convert(pl.col(Profile.WINTER_AVERAGE_GAL), UsageUnit.GALLONS, unit).alias(
            "winter_average"
        ),
    )


_BILL_AND_LINK_COLUMNS = {
    *Billed.SCHEMA, "bill_index", "profile_index", "match_method", "match_score",
}


def _charge_columns(rated: pl.DataFrame) -> list[str]:
    return [name for name in rated.columns if name.startswith("charge:")]



def _check_usage_present(bills: pl.DataFrame, schedule: RateSchedule) -> None:
    """Reject bills without usage whose class is rated on usage, naming their rows.

    Rating them at zero would hide exactly the undercharges the audit exists to find.
    """
    metered = [name for name in schedule.classes if "usage_ccf" in schedule.data_columns(name)]
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
            hint="Fill in the bill's metered usage or map the usage column in the mapping file",
        )
        for row, cls in missing.select(SOURCE_ROW, Profile.CLASS).head(100).iter_rows()
    ]
    raise InputError(problems, truncated=missing.height > 100)

"""Each account's own winter average: from its meter reads in the window, or its profile.

Reads are grouped per account and month with Polars, never looped over in Python. The
average of an account is the usage of its months in the window divided by the number
of months that usage covers. With monthly reads that is the plain average of the
monthly usages. A bimonthly read counts as two months, so its monthly usage is half
the read.
"""

from __future__ import annotations

import logging

import polars as pl

from sewerline.engine.money import DECIMAL
from sewerline.engine.normalize import account_key, address_key, parcel_key
from sewerline.engine.units import UsageUnit, convert
from sewerline.engine.winter.history import History, account_column
from sewerline.engine.winter.rule import WindowKind, WinterAverageRule
from sewerline.engine.winter.window import WinterWindow

logger = logging.getLogger(__name__)

# Columns of the tables passed between the steps.
KEY = "_account_key"            # normalized account number
AVERAGE = "_average"            # unrounded winter average, bill unit
WINTER_USAGE = "winter_usage"   # usage of the months averaged, bill unit
MONTHS_USED = "months_used"     # months the averaged usage covers
LAST_READ = "_last_read"        # days since 1970-01-01 of the account's latest read month
PARCEL_KEY = "_parcel_key"
ADDRESS_KEY = "_address_key"

_LABEL = "_month"               # first day of the read's billing or read-date month
_MONTHS = "_months"
_READ = "_read_date"
_INTERVAL_SAMPLE_ROWS = 200_000


def history_averages(
    history: pl.DataFrame,
    rule: WinterAverageRule,
    window: WinterWindow,
    bill_unit: UsageUnit,
) -> pl.DataFrame:
    """Average each account's reads in the window; one row per account with enough months.

    Returns KEY, AVERAGE, WINTER_USAGE and MONTHS_USED. Reads without usage or account
    are left out. With `drop_highest`, the month with the highest usage per month
    covered is left out, but only when another month remains. `minimum_months` is
    compared with the months before that drop.
    """
    account = account_column(history)
    read_date = (
        pl.col(History.READ_DATE) if History.READ_DATE in history.columns
        else pl.lit(None, dtype=pl.Date())
    )
    usage_sum = pl.col(History.USAGE_GAL).sum()
    reads = (
        history.lazy()
        .select(
            pl.col(account).alias("_id"),
            _month_label(history, rule).alias(_LABEL),
            read_date.alias(_READ),
            pl.col(History.USAGE_GAL).cast(DECIMAL),
            _months_covered(history, rule).alias(_MONTHS),
        )
        .filter(
            pl.col(_LABEL).is_between(window.start, window.end)
            & pl.col(History.USAGE_GAL).is_not_null()
            & pl.col("_id").is_not_null()
        )
        # Normalizing the grouped ids is cheaper than normalizing every row.
        .group_by("_id", _LABEL, _READ)
        .agg(usage_sum, pl.col(_MONTHS).max())
        .with_columns(account_key(pl.col("_id")).alias(KEY))
        .filter(pl.col(KEY).is_not_null())
    )
    # Rows of one account and read date (or billing month, without read dates) are
    # one read, such as a corrected bill or a second meter: usage adds up, months do
    # not. Distinct reads in one month add up both.
    per_month = (
        reads.group_by(KEY, _LABEL, _READ)
        .agg(usage_sum, pl.col(_MONTHS).max())
        .group_by(KEY, _LABEL)
        .agg(usage_sum, pl.col(_MONTHS).sum())
    )

    usage = pl.col(History.USAGE_GAL)
    months = pl.col(_MONTHS)
    highest = (usage / months.cast(DECIMAL)).arg_max()
    per_account = per_month.group_by(KEY).agg(
        usage.sum().alias("_total"),
        months.sum().alias("_months_total"),
        pl.len().alias("_labels"),
        usage.get(highest).alias("_top_usage"),
        months.get(highest).alias("_top_months"),
    )

    drop = pl.lit(rule.drop_highest) & (pl.col("_labels") >= 2)
    used_usage = pl.when(drop).then(pl.col("_total") - pl.col("_top_usage")).otherwise("_total")
    used_months = pl.when(drop).then(pl.col("_months_total") - pl.col("_top_months")).otherwise(
        "_months_total"
    )
    averages = (
        per_account.filter(pl.col("_months_total") >= rule.minimum_months)
        .with_columns(
            convert(used_usage, UsageUnit.GALLONS, bill_unit).alias(WINTER_USAGE),
            used_months.cast(pl.Int64).alias(MONTHS_USED),
        )
        # Converting the total before dividing keeps 16 ccf / 3 exact to 12 decimals.
        .with_columns(
            (pl.col(WINTER_USAGE) / pl.col(MONTHS_USED).cast(DECIMAL)).alias(AVERAGE)
        )
        .select(KEY, AVERAGE, WINTER_USAGE, MONTHS_USED)
        .collect()
    )
    logger.info("%d accounts have %d or more months of usage from %s to %s",
                averages.height, rule.minimum_months, window.start, window.end)
    return averages


def typical_read_interval(history: pl.DataFrame, rule: WinterAverageRule) -> int | None:
    """Return the usual number of months between an account's reads, or None if unknown.

    It is the median over accounts of the months from the first to the last read month
    divided by the gaps between them, for the accounts of the first 200,000 rows.
    A sample is enough to see whether reads come monthly or every two months.
    """
    label = _month_label(history, rule)
    month_number = label.dt.year().cast(pl.Int64) * 12 + label.dt.month().cast(pl.Int64)
    spans = (
        history.head(_INTERVAL_SAMPLE_ROWS)
        .select(pl.col(account_column(history)).alias("_id"), month_number.alias("_n"))
        .drop_nulls()
        .group_by("_id")
        .agg(pl.col("_n").max() - pl.col("_n").min(), pl.col("_n").n_unique().alias("_reads"))
        .filter(pl.col("_reads") >= 2)
        .select((pl.col("_n") / (pl.col("_reads") - 1)).median())
    )
    interval = spans.item()
    return None if interval is None else max(1, round(interval))


def history_accounts(history: pl.DataFrame, rule: WinterAverageRule) -> pl.DataFrame:
    """Return each history account's location keys and latest read month.

    One row per KEY with `_account` (the id as written), PARCEL_KEY, ADDRESS_KEY and
    LAST_READ. The location is the account's last non-empty parcel and address in row
    order, because an account rarely moves.
    """
    account = account_column(history)
    location = [
        pl.col(name).drop_nulls().last().alias(name)
        for name in (History.PARCEL, History.SERVICE_ADDRESS)
        if name in history.columns
    ]
    grouped = (
        history.lazy()
        .select(
            pl.col(account).alias("_account"),
            _month_label(history, rule).alias(_LABEL),
            *[pl.col(name) for name in (History.PARCEL, History.SERVICE_ADDRESS)
              if name in history.columns],
        )
        .group_by("_account")
        .agg(pl.col(_LABEL).max(), *location)
        .with_columns(account_key(pl.col("_account")).alias(KEY))
        .filter(pl.col(KEY).is_not_null())
        .sort(KEY, _LABEL)
        .group_by(KEY)
        .last()
        .collect()
    )
    return grouped.select(
        KEY,
        "_account",
        location_keys(grouped, History.PARCEL, History.SERVICE_ADDRESS),
        pl.col(_LABEL).cast(pl.Int64).alias(LAST_READ),
    ).unnest("_location")


def location_keys(frame: pl.DataFrame, parcel: str, address: str) -> pl.Expr:
    """Return a struct of PARCEL_KEY and ADDRESS_KEY from the frame's columns, null if absent."""
    parcel_expr = parcel_key(pl.col(parcel)) if parcel in frame.columns else pl.lit(None)
    address_expr = address_key(pl.col(address)) if address in frame.columns else pl.lit(None)
    return pl.struct(
        parcel_expr.cast(pl.String).alias(PARCEL_KEY),
        address_expr.cast(pl.String).alias(ADDRESS_KEY),
    ).alias("_location")


def _month_label(history: pl.DataFrame, rule: WinterAverageRule) -> pl.Expr:
    """Return the first day of the month that places a read in or out of the window."""
    read_month = (
        pl.col(History.READ_DATE).dt.month_start()
        if History.READ_DATE in history.columns
        else pl.lit(None, dtype=pl.Date())
    )
    if rule.window is WindowKind.READ_DATE:
        return read_month

    has_billing = {History.BILLING_YEAR, History.BILLING_MONTH} <= set(history.columns)
    if not has_billing:
        return read_month
    billing_month = pl.date(pl.col(History.BILLING_YEAR), pl.col(History.BILLING_MONTH), 1)
    return pl.coalesce(billing_month, read_month)


def _months_covered(history: pl.DataFrame, rule: WinterAverageRule) -> pl.Expr:
    default = pl.lit(rule.months_per_read, dtype=pl.Int64())
    if History.PERIOD_MONTHS not in history.columns:
        return default
    return pl.col(History.PERIOD_MONTHS).cast(pl.Int64).fill_null(default)

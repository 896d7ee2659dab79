"""The winter average of every profile for one billing cycle."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.normalize import account_key
from sewerline.engine.schema import SOURCE_ROW, Profile
from sewerline.engine.units import UsageUnit, convert
from sewerline.engine.winter.history import (
    History,
    account_column,
    check_history_columns,
    check_history_values,
)
from sewerline.engine.winter.new_customers import (
    BASIS,
    FLAT_AMOUNT,
    IN_SCOPE,
    PREVIOUS_ACCOUNT,
    SOURCE,
    CandidateBuilder,
    NewCustomerContext,
    apply_new_customer_rules,
    inactive_only,
)
from sewerline.engine.winter.own import (
    AVERAGE,
    KEY,
    LAST_READ,
    MONTHS_USED,
    WINTER_USAGE,
    history_accounts,
    history_averages,
    location_keys,
    typical_read_interval,
)
from sewerline.engine.winter.rule import AverageSource, Source, WinterAverageRule
from sewerline.engine.winter.window import WinterWindow, window_for

logger = logging.getLogger(__name__)


class WinterAverages:
    """Columns of the table compute_winter_averages returns, one row per profile.

    Volumes are in the schedule's bill unit except `winter_average_gal`, which is the
    rounded `winter_average` in gallons, so converting it back gives `winter_average`
    exactly. `flat_amount` is set only where a flat new-customer rule replaces the bill.
    """

    ACCOUNT_ID = "account_id"
    WINTER_AVERAGE = "winter_average"
    WINTER_AVERAGE_GAL = "winter_average_gal"
    SOURCE = SOURCE
    WINDOW_START = "window_start"
    WINDOW_END = "window_end"
    MONTHS_USED = MONTHS_USED
    WINTER_USAGE = WINTER_USAGE
    FLAT_AMOUNT = FLAT_AMOUNT
    PREVIOUS_ACCOUNT = PREVIOUS_ACCOUNT
    BASIS = BASIS

    SCHEMA: dict[str, pl.DataType] = {
        ACCOUNT_ID: pl.String(),
        WINTER_AVERAGE: DECIMAL,
        WINTER_AVERAGE_GAL: DECIMAL,
        SOURCE: pl.String(),
        WINDOW_START: pl.Date(),
        WINDOW_END: pl.Date(),
        MONTHS_USED: pl.Int64(),
        WINTER_USAGE: DECIMAL,
        FLAT_AMOUNT: DECIMAL,
        PREVIOUS_ACCOUNT: pl.String(),
        BASIS: pl.String(),
    }


# Sources whose average the rule rounds. A default volume is used as written.
_ROUNDED = (Source.HISTORY, Source.PROFILE, Source.CLASS_AVERAGE, Source.PREVIOUS_ACCOUNT)
# Sources whose average comes from the history of the window.
_FROM_WINDOW = (Source.HISTORY, Source.CLASS_AVERAGE, Source.PREVIOUS_ACCOUNT)


def compute_winter_averages(
    history: pl.DataFrame | None,
    profiles: pl.DataFrame,
    rule: WinterAverageRule,
    *,
    bill_unit: UsageUnit,
    as_of: dt.date,
    history_label: str = "usage history",
    profiles_label: str = "profiles",
) -> pl.DataFrame:
    """Compute the winter average of every profile for bills whose period ends on `as_of`.

    Returns the WinterAverages columns, one row per profile in profile order. The
    history may be None when the rule's source is `profile`. Raises InputError when a
    table lacks a column the rule needs, or the history has invalid values.
    """
    _check_profiles(profiles, rule, profiles_label)
    window = window_for(rule, as_of)
    logger.info("bills ending %s use the winter %s to %s", as_of, window.start, window.end)

    if rule.source is AverageSource.HISTORY:
        if history is None:
            raise InputError([Problem(
                code="history_missing", message="the winter average rule needs a usage history",
                file=rule.file, line=rule.line, column="winter_average.source",
                value=rule.source.value,
                hint="Pass the usage history, or set source: profile to use the profile's "
                     "winter_average column.",
            )])
        check_history_columns(history, rule, history_label)
        _check_water_accounts(history, profiles, profiles_label)
        check_history_values(history, history_label)
        _warn_on_read_interval(history, rule, history_label)
        table, candidates = _with_history_averages(history, profiles, rule, window, bill_unit)
    else:
        table = _with_profile_averages(profiles, rule, bill_unit)
        candidates = partial(_profile_candidates, table)

    context = NewCustomerContext(
        bill_unit=bill_unit, missing_reason=_missing_reason(rule), candidates=candidates
    )
    table = apply_new_customer_rules(table, rule.new_customer, context)
    result = _finish(table, rule, window, bill_unit)

    counts = dict(result.group_by(SOURCE).len().sort(SOURCE).iter_rows())
    logger.info("winter averages by source: %s", counts)
    return result


def _with_history_averages(
    history: pl.DataFrame,
    profiles: pl.DataFrame,
    rule: WinterAverageRule,
    window: WinterWindow,
    bill_unit: UsageUnit,
) -> tuple[pl.DataFrame, CandidateBuilder]:
    """Join each profile to its own history average; return the table and the candidates.

    A history of `account_id`s is joined to the profiles' account_id, a history of
    `water_account`s to their water_account.
    """
    history_ids = account_column(history)
    own = history_averages(history, rule, window, bill_unit)
    table = _base_table(profiles, rule, history_ids)
    table = table.join(own, on=KEY, how="left", maintain_order="left").with_columns(
        pl.when(pl.col(AVERAGE).is_not_null())
        .then(pl.lit(Source.HISTORY.value))
        .otherwise(pl.lit(Source.NONE.value))
        .alias(SOURCE),
    )

    def candidates() -> pl.DataFrame:
        # Every account of the history with an average may be a previous account,
        # including closed accounts that are no longer among the profiles.
        found = own.join(history_accounts(history, rule), on=KEY)
        return inactive_only(found, table.select(KEY, Profile.STATUS))

    return table, candidates


def _with_profile_averages(profiles: pl.DataFrame, rule: WinterAverageRule,
                           bill_unit: UsageUnit) -> pl.DataFrame:
    table = _base_table(profiles, rule, Profile.ACCOUNT_ID)
    average = convert(pl.col(Profile.WINTER_AVERAGE_GAL), UsageUnit.GALLONS, bill_unit)
    return table.with_columns(
        average.alias(AVERAGE),
        pl.lit(None, dtype=DECIMAL).alias(WINTER_USAGE),
        pl.lit(None, dtype=pl.Int64()).alias(MONTHS_USED),
    ).with_columns(
        pl.when(pl.col(AVERAGE).is_not_null())
        .then(pl.lit(Source.PROFILE.value))
        .otherwise(pl.lit(Source.NONE.value))
        .alias(SOURCE),
    )


def _profile_candidates(table: pl.DataFrame) -> pl.DataFrame:
    """Return the profiles with their own average that are not active, as previous accounts.

    Without read dates, a later row of the profile file counts as more recent.
    """
    own = table.filter(pl.col(SOURCE) == Source.PROFILE)
    own = own.with_columns(
        pl.col(Profile.ACCOUNT_ID).alias("_account"),
        pl.col("_recency").alias(LAST_READ),
        location_keys(own, Profile.PARCEL, Profile.SERVICE_ADDRESS),
    ).unnest("_location")
    return inactive_only(own, table.select(KEY, Profile.STATUS))


def _base_table(profiles: pl.DataFrame, rule: WinterAverageRule,
                id_column: str) -> pl.DataFrame:
    """Select the profile columns the steps need, with the account key and row position."""
    columns = profiles.columns
    text = [
        pl.col(name) if name in columns else pl.lit(None, dtype=pl.String()).alias(name)
        for name in (Profile.PARCEL, Profile.SERVICE_ADDRESS, Profile.STATUS)
    ]
    winter = (
        [pl.col(Profile.WINTER_AVERAGE_GAL).cast(DECIMAL)]
        if Profile.WINTER_AVERAGE_GAL in columns else []
    )
    recency = pl.col(SOURCE_ROW) if SOURCE_ROW in columns else pl.int_range(pl.len())
    in_scope = (
        pl.lit(True) if rule.classes is None
        else pl.col(Profile.CLASS).is_in(sorted(rule.classes))
    )
    key_source = id_column if id_column in columns else Profile.ACCOUNT_ID
    return profiles.select(
        pl.int_range(pl.len(), dtype=pl.Int64()).alias("_row"),
        pl.col(Profile.ACCOUNT_ID),
        pl.col(Profile.CLASS),
        *text,
        *winter,
        account_key(pl.col(key_source)).alias(KEY),
        recency.cast(pl.Int64).alias("_recency"),
        in_scope.fill_null(False).alias(IN_SCOPE),
        pl.lit(None, dtype=DECIMAL).alias(FLAT_AMOUNT),
        pl.lit(None, dtype=pl.String()).alias(PREVIOUS_ACCOUNT),
        pl.lit(None, dtype=pl.String()).alias(BASIS),
    ).with_columns(pl.col(Profile.STATUS).str.to_lowercase())


def _finish(table: pl.DataFrame, rule: WinterAverageRule, window: WinterWindow,
            bill_unit: UsageUnit) -> pl.DataFrame:
    """Round the averages, add gallons, the window and the basis of accounts left without."""
    rounded_sources = [source.value for source in _ROUNDED]
    average = pl.col(AVERAGE)
    if rule.rounding is not None:
        average = pl.when(pl.col(SOURCE).is_in(rounded_sources)).then(
            rule.rounding.apply(average)
        ).otherwise(average)

    from_window = pl.lit(rule.source is AverageSource.HISTORY) & pl.col(SOURCE).is_in(
        [source.value for source in _FROM_WINDOW]
    )
    missing = _missing_reason(rule)
    no_rule = pl.when(pl.col(IN_SCOPE)).then(pl.lit(f"{missing}, and no new-customer rule "
                                                    "gives one")).otherwise(pl.lit(missing))
    basis = pl.when(pl.col(SOURCE) == Source.NONE).then(no_rule).otherwise(pl.col(BASIS))

    result = table.sort("_row").select(
        pl.col(Profile.ACCOUNT_ID),
        average.cast(DECIMAL).alias(WinterAverages.WINTER_AVERAGE),
        pl.col(SOURCE),
        pl.when(from_window).then(pl.lit(window.start)).alias(WinterAverages.WINDOW_START),
        pl.when(from_window).then(pl.lit(window.end)).alias(WinterAverages.WINDOW_END),
        pl.col(MONTHS_USED).cast(pl.Int64),
        pl.col(WINTER_USAGE).cast(DECIMAL),
        pl.col(FLAT_AMOUNT),
        pl.col(PREVIOUS_ACCOUNT),
        basis.alias(BASIS),
    )
    gallons = convert(pl.col(WinterAverages.WINTER_AVERAGE), bill_unit, UsageUnit.GALLONS)
    result = result.with_columns(gallons.alias(WinterAverages.WINTER_AVERAGE_GAL))
    return result.select(
        pl.col(name).cast(dtype) for name, dtype in WinterAverages.SCHEMA.items()
    )


def _warn_on_read_interval(history: pl.DataFrame, rule: WinterAverageRule, label: str) -> None:
    """Log a warning when reads come at another interval than months_per_read assumes.

    Without a period_months column, a bimonthly history averaged as monthly reads gives
    twice the true average, and the opposite gives half.
    """
    if History.PERIOD_MONTHS in history.columns:
        return
    interval = typical_read_interval(history, rule)
    if interval is not None and interval != rule.months_per_read:
        logger.warning(
            "%s: accounts are usually read every %d months, but the winter average rule "
            "counts each read as %d months; set months_per_read in the rate file or add "
            "a period_months column to the history", label, interval, rule.months_per_read,
        )


def _missing_reason(rule: WinterAverageRule) -> str:
    if rule.source is AverageSource.HISTORY:
        return f"fewer than {rule.minimum_months} winter months of history"
    return "the profile has no winter average"


def _check_water_accounts(history: pl.DataFrame, profiles: pl.DataFrame, label: str) -> None:
    """Reject a history of water accounts when the profiles cannot be joined to it."""
    if account_column(history) != History.WATER_ACCOUNT:
        return
    if Profile.WATER_ACCOUNT in profiles.columns:
        return
    raise InputError([Problem(
        code="profile_column_missing",
        message="the usage history names water accounts, but the profiles have no "
                "water_account column",
        file=label, column=Profile.WATER_ACCOUNT,
        hint="Map water_account in the profiles, or give the history an account_id column.",
    )])


def _check_profiles(profiles: pl.DataFrame, rule: WinterAverageRule, label: str) -> None:
    needed = [Profile.ACCOUNT_ID, Profile.CLASS]
    if rule.source is AverageSource.PROFILE:
        needed.append(Profile.WINTER_AVERAGE_GAL)
    problems = [
        Problem(
            code="profile_column_missing",
            message=f"the profiles have no column {name}, which the winter average rule needs",
            file=label, column=name,
            hint="Map the column in the profiles section of the mapping file."
            if name != Profile.WINTER_AVERAGE_GAL
            else "Map winter_average in the profiles, or set source: history.",
        )
        for name in needed if name not in profiles.columns
    ]
    if problems:
        raise InputError(problems)

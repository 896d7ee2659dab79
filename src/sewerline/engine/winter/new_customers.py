"""New-customer rules: a winter average (or a flat bill) for accounts without enough history.

The rules are tried in the rate file's order, each on the profiles that are still
without an average and whose class the rule covers. `flat` and `default_volume` set
every profile they are tried on; `class_average` and `previous_account` set those for
which a value exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.schema import Profile, Status
from sewerline.engine.units import UsageUnit, convert
from sewerline.engine.winter.own import (
    ADDRESS_KEY,
    AVERAGE,
    KEY,
    LAST_READ,
    MONTHS_USED,
    PARCEL_KEY,
    WINTER_USAGE,
    location_keys,
)
from sewerline.engine.winter.rule import NewCustomerKind, NewCustomerRule, Source

logger = logging.getLogger(__name__)

# Columns of the working table, beyond those of own.py.
SOURCE = "winter_average_source"
FLAT_AMOUNT = "flat_amount"
PREVIOUS_ACCOUNT = "previous_account"
BASIS = "winter_average_basis"
IN_SCOPE = "_in_scope"

# Sources whose value is an account's own average, which class averages are made of.
OWN_SOURCES = (Source.HISTORY, Source.PROFILE)

# Builds the previous accounts that a profile without an average may take one from.
CandidateBuilder = Callable[[], pl.DataFrame]


@dataclass(frozen=True)
class NewCustomerContext:
    """Inputs of the rules besides the working table.

    `candidates` builds, only when a previous_account rule runs, one row per possible
    previous account: KEY, `_account`, AVERAGE, WINTER_USAGE, MONTHS_USED, PARCEL_KEY,
    ADDRESS_KEY and LAST_READ (larger is more recent).
    """

    bill_unit: UsageUnit
    missing_reason: str     # why a profile has no average, for the basis column
    candidates: CandidateBuilder


def apply_new_customer_rules(
    table: pl.DataFrame, rules: tuple[NewCustomerRule, ...], context: NewCustomerContext
) -> pl.DataFrame:
    """Fill the average, flat amount and source of profiles without an average, rule by rule."""
    for rule in rules:
        waiting = _waiting(table)
        count = table.select(waiting.sum()).item()
        if not count:
            break
        before = table.select((pl.col(SOURCE) == Source.NONE).sum()).item()
        table = _APPLY[rule.kind](table, rule, context)
        after = table.select((pl.col(SOURCE) == Source.NONE).sum()).item()
        logger.info("new-customer rule %s set %d of %d profiles without a winter average",
                    rule.kind, before - after, count)
    return table


def _waiting(table: pl.DataFrame) -> pl.Expr:
    return (pl.col(SOURCE) == Source.NONE) & pl.col(IN_SCOPE)


def _set_where(table: pl.DataFrame, condition: pl.Expr, values: dict[str, pl.Expr]) -> pl.DataFrame:
    """Replace the given columns where `condition` holds."""
    return table.with_columns(
        pl.when(condition).then(value).otherwise(pl.col(name)).alias(name)
        for name, value in values.items()
    )


def _apply_flat(table: pl.DataFrame, rule: NewCustomerRule,
                context: NewCustomerContext) -> pl.DataFrame:
    basis = f"flat {rule.amount:.2f} per billing cycle"
    if rule.monthly_amount is not None:
        basis += f" ({rule.monthly_amount:.2f} a month)"
    return _set_where(table, _waiting(table), {
        FLAT_AMOUNT: decimal_lit(rule.amount),
        BASIS: pl.lit(f"{context.missing_reason}: {basis}"),
        SOURCE: pl.lit(Source.FLAT.value),
    })


def _apply_default_volume(table: pl.DataFrame, rule: NewCustomerRule,
                          context: NewCustomerContext) -> pl.DataFrame:
    unit = rule.volume_unit or context.bill_unit
    volume = convert(decimal_lit(rule.volume), unit, context.bill_unit)
    return _set_where(table, _waiting(table), {
        AVERAGE: volume,
        BASIS: pl.lit(f"{context.missing_reason}: default volume "
                      f"{rule.volume.normalize():f} {unit}"),
        SOURCE: pl.lit(Source.DEFAULT_VOLUME.value),
    })


def _apply_class_average(table: pl.DataFrame, rule: NewCustomerRule,
                         context: NewCustomerContext) -> pl.DataFrame:
    """Give each waiting profile the mean of the own averages of its class.

    The mean is taken of the unrounded averages; the rule's rounding is applied to it
    afterwards, as to an account's own average.
    """
    own = table.filter(pl.col(SOURCE).is_in([source.value for source in OWN_SOURCES]))
    means = own.group_by(Profile.CLASS).agg(
        (pl.col(AVERAGE).sum() / pl.len().cast(DECIMAL)).alias("_class_average"),
        pl.len().alias("_class_accounts"),
    )
    joined = table.join(means, on=Profile.CLASS, how="left", maintain_order="left")
    found = _waiting(joined) & pl.col("_class_average").is_not_null()
    basis = pl.format(
        "{}: average of class {} ({} accounts with their own winter average)",
        pl.lit(context.missing_reason), pl.col(Profile.CLASS), pl.col("_class_accounts"),
    )
    filled = _set_where(joined, found, {
        AVERAGE: pl.col("_class_average"),
        BASIS: basis,
        SOURCE: pl.lit(Source.CLASS_AVERAGE.value),
    })
    return filled.drop("_class_average", "_class_accounts")


def _apply_previous_account(table: pl.DataFrame, rule: NewCustomerRule,
                            context: NewCustomerContext) -> pl.DataFrame:
    """Give each waiting profile the average of the latest previous account at its location.

    The parcel is compared first; a profile without a parcel match is compared by its
    normalized service address. Among several previous accounts the one with the latest
    read (or the latest profile row) wins, then the highest account key.
    """
    waiting = table.filter(_waiting(table)).select(
        "_row", location_keys(table, Profile.PARCEL, Profile.SERVICE_ADDRESS)
    ).unnest("_location")
    candidates = context.candidates()
    if waiting.is_empty() or candidates.is_empty():
        return table

    matches: list[pl.DataFrame] = []
    unmatched = waiting
    for location in (PARCEL_KEY, ADDRESS_KEY):
        latest = (
            candidates.filter(pl.col(location).is_not_null())
            .sort(LAST_READ, KEY, descending=True, nulls_last=True)
            .unique(location, keep="first")
        )
        found = unmatched.filter(pl.col(location).is_not_null()).join(latest, on=location)
        matches.append(found.select(
            "_row", pl.col("_account").alias("_previous"), pl.col(AVERAGE).alias("_prev_avg"),
            pl.col(WINTER_USAGE).alias("_prev_usage"),
            pl.col(MONTHS_USED).alias("_prev_months"),
            pl.lit("parcel" if location == PARCEL_KEY else "service address").alias("_where"),
        ))
        unmatched = unmatched.join(found.select("_row"), on="_row", how="anti")

    found = pl.concat(matches)
    joined = table.join(found, on="_row", how="left", maintain_order="left")
    hit = _waiting(joined) & pl.col("_previous").is_not_null()
    filled = _set_where(joined, hit, {
        AVERAGE: pl.col("_prev_avg"),
        WINTER_USAGE: pl.col("_prev_usage"),
        MONTHS_USED: pl.col("_prev_months"),
        PREVIOUS_ACCOUNT: pl.col("_previous"),
        BASIS: pl.format("{}: average of previous account {} at the same {}",
                         pl.lit(context.missing_reason), pl.col("_previous"), pl.col("_where")),
        SOURCE: pl.lit(Source.PREVIOUS_ACCOUNT.value),
    })
    return filled.drop("_previous", "_prev_avg", "_prev_usage", "_prev_months", "_where")


def inactive_only(candidates: pl.DataFrame, profile_statuses: pl.DataFrame) -> pl.DataFrame:
    """Drop candidates that are active profiles: a current customer is no previous account.

    `profile_statuses` has KEY and the profile's status.
    """
    active = profile_statuses.filter(pl.col(Profile.STATUS) == Status.ACTIVE).select(KEY)
    return candidates.join(active, on=KEY, how="anti")


_APPLY = {
    NewCustomerKind.FLAT: _apply_flat,
    NewCustomerKind.DEFAULT_VOLUME: _apply_default_volume,
    NewCustomerKind.CLASS_AVERAGE: _apply_class_average,
    NewCustomerKind.PREVIOUS_ACCOUNT: _apply_previous_account,
}

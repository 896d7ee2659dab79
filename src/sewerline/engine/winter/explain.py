"""Flat bills for new customers, and one-line explanations of a winter average."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import polars as pl

from sewerline.engine.money import DECIMAL, SCALE
from sewerline.engine.schema import Profile, Status
from sewerline.engine.units import UsageUnit
from sewerline.engine.winter.compute import WinterAverages
from sewerline.engine.winter.rule import NewCustomerKind, Source, WinterAverageRule

NOTE = "winter_average_note"
EXPECTED = "expected_amount"


def apply_new_customer_flat(
    expected: pl.DataFrame, averages: pl.DataFrame, rule: WinterAverageRule
) -> pl.DataFrame:
    """Replace the expected amount of flat-rate new customers with the rule's flat amount.

    `expected` needs `account_id` and `expected_amount`; `averages` is the output of
    compute_winter_averages. Rows whose account has the source `flat` get the flat
    amount, null `charge:` columns (the flat amount replaces the whole bill) and a
    `winter_average_note` that gives the reason. Other rows are unchanged, with a null note.
    When `expected` has a `status` column, only active profiles are changed, because
    the others owe no sewer charge. Rows keep their order.
    """
    if not any(entry.kind is NewCustomerKind.FLAT for entry in rule.new_customer):
        if NOTE in expected.columns:
            return expected
        return expected.with_columns(pl.lit(None, dtype=pl.String()).alias(NOTE))

    flat = averages.filter(pl.col(WinterAverages.SOURCE) == Source.FLAT).select(
        pl.col(WinterAverages.ACCOUNT_ID),
        pl.col(WinterAverages.FLAT_AMOUNT).alias("_flat_amount"),
        pl.format("{}; the flat amount replaces the rated bill",
                  pl.col(WinterAverages.BASIS)).alias("_flat_note"),
    )
    joined = expected.join(flat, on=WinterAverages.ACCOUNT_ID, how="left",
                           maintain_order="left")

    replace = pl.col("_flat_amount").is_not_null()
    if Profile.STATUS in expected.columns:
        replace = replace & (pl.col(Profile.STATUS).str.to_lowercase() == Status.ACTIVE)
    charges = [name for name in expected.columns if name.startswith("charge:")]

    earlier_note = pl.col(NOTE) if NOTE in expected.columns else pl.lit(None, dtype=pl.String())
    changed = joined.with_columns(
        pl.when(replace).then(pl.col("_flat_amount")).otherwise(pl.col(EXPECTED))
        .cast(DECIMAL).alias(EXPECTED),
        *[pl.when(replace).then(None).otherwise(pl.col(name)).alias(name) for name in charges],
        pl.when(replace).then(pl.col("_flat_note")).otherwise(earlier_note).alias(NOTE),
    )
    return changed.drop("_flat_amount", "_flat_note")


def explain_winter_average(
    row: Mapping[str, object], rule: WinterAverageRule, bill_unit: UsageUnit
) -> str:
    """Describe how one row of compute_winter_averages' output was set, in one line.

    For an average from the history: "winter average 5 ccf: 16 ccf over 3 months
    from 2023-12-01 to 2024-02-29 = 5.333333333333, rounded down to whole units".
    """
    source = row[WinterAverages.SOURCE]
    average = row[WinterAverages.WINTER_AVERAGE]
    basis = row[WinterAverages.BASIS]
    if source in (Source.FLAT, Source.NONE) or not isinstance(average, Decimal):
        return f"no winter average: {basis}"

    head = f"winter average {_number(average)} {bill_unit}"
    rounding = f", {rule.rounding.describe()}" if rule.rounding is not None else ""
    if source == Source.HISTORY:
        usage = row[WinterAverages.WINTER_USAGE]
        months = row[WinterAverages.MONTHS_USED]
        start = _date(row[WinterAverages.WINDOW_START])
        end = _date(row[WinterAverages.WINDOW_END])
        dropped = " (highest month left out)" if rule.drop_highest else ""
        unrounded = _divide(usage, months)
        return (f"{head}: {_number(usage)} {bill_unit} over {months} months{dropped} "
                f"from {start} to {end} = {_number(unrounded)}{rounding}")
    if source == Source.PROFILE:
        return f"{head}: the profile's winter average{rounding}"
    if source == Source.DEFAULT_VOLUME:
        return f"{head}: {basis}"
    return f"{head}: {basis}{rounding}"


def _divide(usage: object, months: object) -> Decimal | None:
    """Divide as Polars does: to 12 decimals, ties to even."""
    if not isinstance(usage, Decimal) or not isinstance(months, int) or months == 0:
        return None
    with localcontext() as context:
        # Enough digits that the quantize to 12 decimals does the rounding that shows.
        context.prec = 50
        return (usage / Decimal(months)).quantize(Decimal(1).scaleb(-SCALE), ROUND_HALF_EVEN)


def _number(value: object) -> str:
    if not isinstance(value, Decimal):
        return "(missing)"
    return format(value.normalize(), "f")


def _date(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else "(unknown)"

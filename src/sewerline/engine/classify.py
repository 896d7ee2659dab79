"""Turn linked, rated bills into findings, and add up the money of the cycle.

Difference is always billed minus expected, so overbilling is positive. Only the amount
findings (overbilled, underbilled, not_billed, duplicate_bill) carry revenue at stake;
account, owner, meter and class findings explain why an amount is wrong, and counting
their money again would double the total.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.expected import PROFILE_ROW, rate_input_table
from sewerline.engine.findings import (
    FINDING_EXTRA_SCHEMA,
    FINDING_SCHEMA,
    AuditConfig,
    FindingType,
    MatchMethod,
    Tolerance,
    Totals,
)
from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.normalize import account_key, meter_key, owners_differ
from sewerline.engine.rater import Rater
from sewerline.engine.rates import RateSchedule
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile, Status

logger = logging.getLogger(__name__)

ALL_COLUMNS = {**FINDING_SCHEMA, **FINDING_EXTRA_SCHEMA}

# Note that apply_new_customer_flat puts on bills whose amount is a flat new-customer charge.
WINTER_NOTE = "winter_average_note"

# Finding types whose difference is money the sewer utility may gain or must refund.
AMOUNT_TYPES = (
    FindingType.OVERBILLED,
    FindingType.UNDERBILLED,
    FindingType.NOT_BILLED,
    FindingType.DUPLICATE_BILL,
)


def classify_findings(
    *,
    linked: pl.DataFrame,
    duplicates: pl.DataFrame,
    ambiguous: pl.DataFrame,
    unbilled: pl.DataFrame,
    profiles: pl.DataFrame,
    rater: Rater,
    config: AuditConfig,
    profiles_label: str,
) -> pl.DataFrame:
    """Return every finding of the cycle as one table with FINDING_SCHEMA columns and extras."""
    schedule = rater.schedule
    _check_expected_computed(linked, schedule, profiles_label)
    details = _explain_amounts(linked, rater, profiles_label)
    linked = linked.with_columns(details)

    parts = [
        _amount_findings(linked, config.tolerance),
        _account_changed(linked),
        _owner_changed(linked, config.owner_changed_max_score),
        _meter_changed(linked),
        _class_mismatch(linked),
        _duplicate_bills(linked, duplicates),
        _unknown_customers(linked, ambiguous, profiles),
        _not_billed(unbilled, schedule),
    ]
    findings = pl.concat([_shape(part, config.cycle) for part in parts], how="vertical")
    logger.info(
        "findings by type: %s",
        dict(findings.group_by("finding_type").len().sort("finding_type").iter_rows()),
    )
    return findings


def compute_totals(
    *,
    findings: pl.DataFrame,
    bills: pl.DataFrame,
    linked: pl.DataFrame,
    unbilled: pl.DataFrame,
    months_per_cycle: Decimal,
) -> Totals:
    """Add up billed, expected and revenue at stake for the cycle.

    Expected is what the sewer utility should have been billed: the expected amount of
    every linked bill plus that of each active profile that got no bill.
    """
    billed = _sum(bills.get_column(Billed.AMOUNT))
    expected = _sum(linked.get_column("expected_amount")) + _sum(
        unbilled.get_column("expected_amount")
    )
    by_type = findings.group_by("finding_type").agg(
        pl.col("revenue_at_stake").sum().alias("at_stake"), pl.len().alias("count")
    )
    at_stake = {ftype.value: Decimal("0") for ftype in FindingType}
    counts = {ftype.value: 0 for ftype in FindingType}
    for ftype, amount, count in by_type.iter_rows():
        at_stake[ftype] = _quantize(amount)
        counts[ftype] = count
    return Totals(
        billed=billed,
        expected=expected,
        at_stake_by_type=at_stake,
        count_by_type=counts,
        months_per_cycle=months_per_cycle,
    )


# --- one function per finding type ------------------------------------------------------


def _amount_findings(linked: pl.DataFrame, tolerance: Tolerance) -> pl.DataFrame:
    """Overbilled and underbilled bills of linked profiles, beyond the tolerance.

    A bill with more than one sewer line is left to the duplicate-bill finding.
    """
    difference = pl.col(Billed.AMOUNT) - pl.col("expected_amount")
    single = linked.filter(
        pl.col("expected_amount").is_not_null() & (pl.col(Billed.SEWER_LINES) <= 1)
    )
    beyond = single.with_columns(difference.alias("difference")).filter(
        _beyond_tolerance(pl.col("difference"), pl.col("expected_amount"), tolerance)
    )
    return beyond.with_columns(
        pl.when(pl.col("difference") > 0)
        .then(pl.lit(FindingType.OVERBILLED.value))
        .otherwise(pl.lit(FindingType.UNDERBILLED.value))
        .alias("finding_type"),
        pl.col("difference").abs().alias("revenue_at_stake"),
        pl.col("amount_detail").alias("detail"),
    )


def _account_changed(linked: pl.DataFrame) -> pl.DataFrame:
    """Bills linked by meter, parcel or address: the water account number changed."""
    moved = linked.filter(
        pl.col("match_method").is_not_null()
        & (pl.col("match_method") != MatchMethod.ACCOUNT.value)
    )
    return moved.with_columns(
        pl.lit(FindingType.ACCOUNT_CHANGED.value).alias("finding_type"),
        _with_difference(),
        pl.format(
            "billed under water account {} to '{}' but the profile has account {} of "
            "'{}'; linked by {} (score {})",
            pl.col(Billed.ACCOUNT),
            pl.col(Billed.CUSTOMER_NAME).fill_null(""),
            pl.col(Profile.WATER_ACCOUNT).fill_null("none"),
            pl.col(Profile.OWNER).fill_null(""),
            pl.col("match_method"),
            pl.col("match_score"),
        ).alias("detail"),
    )


def _owner_changed(linked: pl.DataFrame, max_score: int) -> pl.DataFrame:
    """Same water account, clearly different customer name (likely a sale or new tenant)."""
    # Most names are written the same way in both files; only the others need the
    # slower normalization and fuzzy score.
    same_account = linked.filter(
        (pl.col("match_method") == MatchMethod.ACCOUNT.value)
        & (
            pl.col(Billed.CUSTOMER_NAME).str.to_uppercase()
            != pl.col(Profile.OWNER).str.to_uppercase()
        )
    )
    differ = owners_differ(
        same_account.get_column(Billed.CUSTOMER_NAME),
        same_account.get_column(Profile.OWNER),
        max_score,
    )
    changed = same_account.filter(differ)
    return changed.with_columns(
        pl.lit(FindingType.OWNER_CHANGED.value).alias("finding_type"),
        _with_difference(),
        pl.format(
            "billed to '{}' but the profile owner is '{}'",
            pl.col(Billed.CUSTOMER_NAME),
            pl.col(Profile.OWNER),
        ).alias("detail"),
    )


def _meter_changed(linked: pl.DataFrame) -> pl.DataFrame:
    """Same water account, another meter number (a swap not yet in the profile)."""
    billed_meter = meter_key(pl.col(Billed.METER))
    profile_meter = meter_key(pl.col(f"{Billed.METER}_profile"))
    changed = linked.filter(
        (pl.col("match_method") == MatchMethod.ACCOUNT.value)
        & billed_meter.is_not_null()
        & profile_meter.is_not_null()
        & (billed_meter != profile_meter)
    )
    return changed.with_columns(
        pl.lit(FindingType.METER_CHANGED.value).alias("finding_type"),
        _with_difference(),
        pl.format(
            "billed on meter {} but the profile has meter {}",
            pl.col(Billed.METER),
            pl.col(f"{Billed.METER}_profile"),
        ).alias("detail"),
    )


def _class_mismatch(linked: pl.DataFrame) -> pl.DataFrame:
    """Bills whose rate code maps to another customer class than the profile's."""
    mismatched = linked.filter(
        pl.col("profile_index").is_not_null()
        & pl.col(Billed.CLASS).is_not_null()
        & (pl.col(Billed.CLASS) != pl.col(Profile.CLASS))
    )
    return mismatched.with_columns(
        pl.lit(FindingType.CLASS_MISMATCH.value).alias("finding_type"),
        _with_difference(),
        pl.format(
            "rate code {} bills as {} but the profile class is {}",
            pl.col(Billed.RATE_CODE),
            pl.col(Billed.CLASS),
            pl.col(Profile.CLASS),
        ).alias("detail"),
    )


def _duplicate_bills(linked: pl.DataFrame, duplicates: pl.DataFrame) -> pl.DataFrame:
    """Sewer charged twice for one account and period.

    Two cases: one bill with several sewer lines (compared with the expected amount), and
    a repeat bill of the same period (nothing more was due, so its whole amount is extra).
    """
    within = linked.filter(
        (pl.col(Billed.SEWER_LINES) > 1) & pl.col("expected_amount").is_not_null()
    ).with_columns(
        pl.lit(FindingType.DUPLICATE_BILL.value).alias("finding_type"),
        _with_difference(),
        pl.format(
            "{} sewer lines on one bill; {}", pl.col(Billed.SEWER_LINES), pl.col("amount_detail")
        ).alias("detail"),
    ).with_columns(pl.col("difference").abs().alias("revenue_at_stake"))

    repeat = _repeat_with_first(duplicates, linked)
    return pl.concat([within, repeat], how="diagonal_relaxed")


def _repeat_with_first(duplicates: pl.DataFrame, linked: pl.DataFrame) -> pl.DataFrame:
    """Describe each repeat bill against the first bill of its account and period."""
    key = account_key(pl.col(Billed.ACCOUNT)).alias("_account_key")
    first = linked.select(
        key, Billed.PERIOD_START, Billed.PERIOD_END,
        pl.col(SOURCE_ROW).alias("first_row"), "account_id", Profile.OWNER, "match_method",
    )
    repeats = duplicates.with_columns(key).join(
        first, on=["_account_key", Billed.PERIOD_START, Billed.PERIOD_END],
        how="left", nulls_equal=True,
    )
    return repeats.with_columns(
        pl.lit(FindingType.DUPLICATE_BILL.value).alias("finding_type"),
        pl.lit(0).cast(DECIMAL).alias("expected_amount"),
        pl.col(Billed.AMOUNT).alias("difference"),
        pl.col(Billed.AMOUNT).abs().alias("revenue_at_stake"),
        pl.format(
            "second bill for the same account and period; the first is at row {}",
            pl.col("first_row"),
        ).alias("detail"),
    )


def _unknown_customers(
    linked: pl.DataFrame, ambiguous: pl.DataFrame, profiles: pl.DataFrame
) -> pl.DataFrame:
    """Sewer bills that link to no profile.

    A bill without a sewer line and without a sewer amount is only a water customer (an
    irrigation meter, a septic home the sewer utility never served) and is not reported.
    """
    unlinked = linked.filter(
        pl.col("profile_index").is_null()
        & ((pl.col(Billed.SEWER_LINES) > 0) | (pl.col(Billed.AMOUNT) != 0))
    )
    candidates = ambiguous.explode("candidates").join(
        profiles.select("profile_index", "account_id"),
        left_on="candidates",
        right_on="profile_index",
        how="left",
    ).group_by("bill_index").agg(
        pl.col("match_method").first().alias("ambiguous_method"),
        pl.col("account_id").sort().str.join(", ").alias("candidate_accounts"),
    )
    unlinked = unlinked.join(candidates, on="bill_index", how="left")
    is_ambiguous = pl.col("candidate_accounts").is_not_null()
    return unlinked.with_columns(
        pl.lit(FindingType.UNKNOWN_CUSTOMER.value).alias("finding_type"),
        pl.col(Billed.CUSTOMER_NAME).alias(Profile.OWNER),
        pl.lit(None, dtype=DECIMAL).alias("expected_amount"),
        pl.lit(None, dtype=DECIMAL).alias("difference"),
        pl.when(is_ambiguous)
        .then(pl.lit(MatchMethod.AMBIGUOUS.value))
        .otherwise(pl.lit(MatchMethod.NONE.value))
        .alias("match_method"),
        pl.when(is_ambiguous)
        .then(
            pl.format(
                "several profiles match by {}: {}; not linked, check which one it is",
                pl.col("ambiguous_method"),
                pl.col("candidate_accounts"),
            )
        )
        .otherwise(pl.lit("no profile matches the account, meter, parcel or address"))
        .alias("detail"),
    )


def _not_billed(unbilled: pl.DataFrame, schedule: RateSchedule) -> pl.DataFrame:
    """Active profiles with no bill in the cycle; the expected amount is what was lost."""
    metered = [name for name in schedule.classes if "usage_ccf" in schedule.data_columns(name)]
    note = (
        pl.when(pl.col(Profile.CLASS).is_in(metered))
        .then(pl.lit("; usage unknown, so usage charges are counted as zero (a lower bound)"))
        .otherwise(pl.lit(""))
    )
    return unbilled.with_columns(
        pl.lit(FindingType.NOT_BILLED.value).alias("finding_type"),
        pl.lit(None, dtype=pl.String).alias(Billed.ACCOUNT),
        pl.lit(None, dtype=DECIMAL).alias(Billed.AMOUNT),
        (-pl.col("expected_amount")).alias("difference"),
        pl.col("expected_amount").alias("revenue_at_stake"),
        pl.lit(MatchMethod.NONE.value).alias("match_method"),
        pl.lit(None, dtype=pl.Int64).alias(SOURCE_ROW),
        pl.format(
            "active {} profile (water account {}) has no bill in the cycle{}",
            pl.col(Profile.CLASS),
            pl.col(Profile.WATER_ACCOUNT).fill_null("none"),
            note,
        ).alias("detail"),
    )


# --- helpers --------------------------------------------------------------------------


def _with_difference() -> pl.Expr:
    return (pl.col(Billed.AMOUNT) - pl.col("expected_amount")).alias("difference")


def _beyond_tolerance(
    difference: pl.Expr, expected: pl.Expr, tolerance: Tolerance
) -> pl.Expr:
    """True where a difference is larger than every configured tolerance."""
    beyond = difference.abs() > decimal_lit(tolerance.absolute)
    if tolerance.percent is not None:
        share = expected.abs() * decimal_lit(tolerance.percent) / decimal_lit(100)
        beyond = beyond & (difference.abs() > share)
    return beyond


def _shape(part: pl.DataFrame, cycle: str) -> pl.DataFrame:
    """Select and type the finding columns of one finding type's rows."""
    columns = []
    for name, dtype in ALL_COLUMNS.items():
        if name == "cycle":
            columns.append(pl.lit(cycle).alias("cycle"))
        elif name == "revenue_at_stake" and name not in part.columns:
            columns.append(pl.lit(0).cast(DECIMAL).alias(name))
        elif name in part.columns:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return part.select(columns)


def _explain_amounts(linked: pl.DataFrame, rater: Rater, profiles_label: str) -> pl.Series:
    """Build the `amount_detail` column: how the expected amount was computed.

    Only bills that can become amount findings are explained, because a trace is built
    in Python row by row; the others get no detail. A flat new-customer amount of a
    winter-average rule is explained by its note instead of a trace.
    """
    rows = linked.with_row_index("_position").filter(
        pl.col("expected_amount").is_not_null()
        & (pl.col(Billed.AMOUNT) != pl.col("expected_amount"))
    )
    detail: list[str | None] = [None] * linked.height
    has_note = WINTER_NOTE in rows.columns
    flat = pl.col(WINTER_NOTE).is_not_null() if has_note else pl.lit(False)
    active = rows.filter((pl.col(Profile.STATUS) == Status.ACTIVE) & ~flat)
    if active.height:
        table = rate_input_table(active, rater, usage=pl.col(Billed.USAGE_GAL),
                                 source=profiles_label)
        summaries = rater.explain(table, class_column=Profile.CLASS, source=profiles_label,
                                  row_column=PROFILE_ROW)
        for position, summary in zip(active.get_column("_position"), summaries, strict=True):
            detail[position] = summary
    if has_note:
        for position, note in rows.filter(flat).select("_position", WINTER_NOTE).iter_rows():
            detail[position] = note
    inactive = rows.filter(pl.col(Profile.STATUS) != Status.ACTIVE)
    for position, status in inactive.select("_position", Profile.STATUS).iter_rows():
        detail[position] = f"profile status is {status}: no sewer charge is expected"
    return pl.Series("amount_detail", detail, dtype=pl.String)


# Rate inputs whose profile column has another name (the audit converts the unit).
PROFILE_COLUMN_OF = {"winter_average": Profile.WINTER_AVERAGE_GAL}


def _check_expected_computed(
    linked: pl.DataFrame, schedule: RateSchedule, profiles_label: str
) -> None:
    """Reject linked active profiles whose expected charge came out empty.

    An empty expected amount means a value the rates need (a winter average, dwelling
    units) is missing from the profile. Skipping the bill would read as "no difference".
    """
    missing = linked.filter(
        pl.col("profile_index").is_not_null()
        & (pl.col(Profile.STATUS) == Status.ACTIVE)
        & pl.col("expected_amount").is_null()
    )
    if missing.is_empty():
        return
    problems = []
    for record in missing.head(100).iter_rows(named=True):
        needed = schedule.data_columns(record[Profile.CLASS]) - {"usage_ccf"}
        empty = sorted(
            name for name in needed
            if record.get(PROFILE_COLUMN_OF.get(name, name)) in (None, "")
        ) or sorted(needed)
        problems.append(Problem(
            code="rates.input_missing",
            message=f"the expected charge of account {record['account_id']} "
            f"({record[Profile.CLASS]}) cannot be computed because {', '.join(empty)} "
            "is empty",
            file=profiles_label,
            row=record["source_row_profile"],
            column=empty[0] if empty else None,
            hint="Fill in the value in the profile file and run the audit again.",
        ))
    raise InputError(problems, truncated=missing.height > 100)


def _sum(column: pl.Series) -> Decimal:
    return _quantize(column.sum())


def _quantize(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))

"""Figures derived from an `AuditResult` that more than one report shows.

Every report takes its row order, revenue-at-stake table and largest findings from
here, so the CSV, the workbook and the HTML page list the same numbers in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from sewerline.engine.findings import (
    FINDING_EXTRA_SCHEMA,
    FINDING_SCHEMA,
    AuditResult,
    FindingType,
    MatchMethod,
)
from sewerline.engine.money import CENT
from sewerline.engine.report.formatting import humanize_code

MONEY_COLUMNS = ("expected_amount", "billed_amount", "difference", "revenue_at_stake")
MONTHS_PER_YEAR = Decimal(12)

# Match methods whose code alone would read oddly as a label.
MATCH_METHOD_LABELS = {
    MatchMethod.AMBIGUOUS: "Ambiguous (not linked)",
    MatchMethod.NONE: "No match",
}


@dataclass(frozen=True)
class AtStakeRow:
    """Revenue at stake of one finding type, per billing cycle, per month and per year."""

    finding_type: str
    label: str
    count: int
    per_cycle: Decimal
    per_month: Decimal
    per_year: Decimal


def check_findings_table(findings: pl.DataFrame) -> None:
    """Raise ValueError unless the findings table has every column the reports read.

    Amount columns must be Decimal, because the reports format them without float.
    """
    expected = {**FINDING_SCHEMA, **FINDING_EXTRA_SCHEMA}
    missing = [name for name in expected if name not in findings.columns]
    if missing:
        raise ValueError(
            f"findings table is missing columns {missing}. Build it with "
            "FINDING_SCHEMA and FINDING_EXTRA_SCHEMA from sewerline.engine.findings"
        )

    not_decimal = [
        name for name in MONEY_COLUMNS if not isinstance(findings.schema[name], pl.Decimal)
    ]
    if not_decimal:
        raise ValueError(
            f"findings columns {not_decimal} must be Decimal, not float. "
            "Cast them with sewerline.engine.money.DECIMAL"
        )


def _rank_in(order: Iterable[str], column: str) -> pl.Expr:
    """Return each value's position in `order`, or one past the end for a value not in it."""
    ranks = {value: rank for rank, value in enumerate(order)}
    return pl.col(column).replace_strict(ranks, default=len(ranks), return_dtype=pl.Int64)


def sort_findings(findings: pl.DataFrame) -> pl.DataFrame:
    """Sort findings by finding type (FindingType order), |difference| descending, account.

    Unknown finding types come after the known ones, in name order. A missing difference
    sorts last within its type. Ties on the amount are broken by the sewer utility's
    account id, then by the water utility's account number.
    """
    return findings.sort(
        by=[
            _rank_in(FindingType, "finding_type"),
            pl.col("finding_type"),
            pl.col("difference").abs(),
            pl.col("account_id"),
            pl.col("billed_account"),
        ],
        descending=[False, False, True, False, False],
        nulls_last=True,
        maintain_order=True,
    )


def order_codes(codes: Iterable[str], known: Iterable[str]) -> list[str]:
    """Order codes as in `known` (an enum's order), followed by unknown codes by name."""
    present = set(codes)
    in_order = [code for code in known if code in present]
    return in_order + sorted(present.difference(in_order))


def _check_months(months_per_cycle: Decimal) -> None:
    if months_per_cycle <= 0:
        raise ValueError(
            f"months_per_cycle must be positive to turn per-cycle amounts into monthly "
            f"and yearly ones, got {months_per_cycle}. Set Totals.months_per_cycle to "
            "the length of the billing cycle in months, for example 1, 2 or 3."
        )


def per_month(per_cycle: Decimal, months_per_cycle: Decimal) -> Decimal:
    """Convert a per-cycle amount to a monthly one, rounded half up to the cent."""
    _check_months(months_per_cycle)
    return (per_cycle / months_per_cycle).quantize(CENT, rounding=ROUND_HALF_UP)


def per_year(per_cycle: Decimal, months_per_cycle: Decimal) -> Decimal:
    """Annualize a per-cycle amount (times 12 / months per cycle), rounded half up to the cent.

    The year is worked out from the exact per-cycle amount, not from the rounded monthly
    one, so $100.00 a quarter is $400.00 a year rather than 12 x $33.33.
    """
    _check_months(months_per_cycle)
    annual = per_cycle * MONTHS_PER_YEAR / months_per_cycle
    return annual.quantize(CENT, rounding=ROUND_HALF_UP)


def at_stake_rows(result: AuditResult) -> list[AtStakeRow]:
    """List revenue at stake and finding count per finding type, from the result's totals.

    Types appear in FindingType order. A type in only one of the two totals dictionaries
    gets zero for the other.
    """
    totals = result.totals
    months = totals.months_per_cycle
    _check_months(months)
    codes = order_codes([*totals.at_stake_by_type, *totals.count_by_type], FindingType)
    rows = []
    for code in codes:
        amount = totals.at_stake_by_type.get(code, Decimal(0))
        rows.append(AtStakeRow(
            finding_type=code,
            label=humanize_code(code),
            count=totals.count_by_type.get(code, 0),
            per_cycle=amount,
            per_month=per_month(amount, months),
            per_year=per_year(amount, months),
        ))
    return rows


def at_stake_total(result: AuditResult) -> AtStakeRow:
    """Sum the revenue at stake and counts of all finding types into one "Total" row."""
    months = result.totals.months_per_cycle
    amount = sum(result.totals.at_stake_by_type.values(), Decimal(0))
    count = sum(result.totals.count_by_type.values())
    return AtStakeRow(
        finding_type="total",
        label="Total",
        count=count,
        per_cycle=amount,
        per_month=per_month(amount, months),
        per_year=per_year(amount, months),
    )


def match_count_rows(result: AuditResult) -> list[tuple[str, int]]:
    """List (label, links) per match method, in the order the matcher tries them."""
    codes = order_codes(result.match_counts, MatchMethod)
    return [
        (MATCH_METHOD_LABELS.get(code, humanize_code(code)), result.match_counts[code])
        for code in codes
    ]


def input_count_rows(result: AuditResult) -> list[tuple[str, int]]:
    """List (label, count) of the audit's inputs and matched bills."""
    return [
        ("Billing export rows", result.billed_rows),
        ("Bills", result.bills),
        ("Sewer profiles", result.profiles),
        ("Bills matched to a profile", result.matched),
    ]


def largest_findings(result: AuditResult, limit: int = 20) -> pl.DataFrame:
    """Return the `limit` findings with the most revenue at stake, largest first.

    Findings with no revenue at stake are left out. Ties are broken by account.
    """
    return (
        result.findings
        .filter(pl.col("revenue_at_stake") > 0)
        .sort(
            by=["revenue_at_stake", "account_id", "billed_account"],
            descending=[True, False, False],
            nulls_last=True,
        )
        .head(limit)
    )

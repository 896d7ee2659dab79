"""Audit results built by hand for the report tests (this module contains no tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from sewerline.engine.findings import (
    FINDING_EXTRA_SCHEMA,
    FINDING_SCHEMA,
    AuditConfig,
    AuditResult,
    Totals,
)

FINDINGS_SCHEMA = {**FINDING_SCHEMA, **FINDING_EXTRA_SCHEMA}
GENERATED_AT = dt.datetime(2016, 3, 1, 14, 5, tzinfo=dt.UTC)


def finding(finding_type: str, account_id: str | None, billed_account: str | None,
            expected: str | None, billed: str | None, **extra: object) -> dict:
    """Return one findings row; difference and revenue at stake follow from the amounts."""
    expected_amount = Decimal(expected) if expected is not None else None
    billed_amount = Decimal(billed) if billed is not None else None
    difference = None
    if expected_amount is not None and billed_amount is not None:
        difference = billed_amount - expected_amount
    row = {
        "cycle": "2016-03",
        "finding_type": finding_type,
        "account_id": account_id,
        "billed_account": billed_account,
        "expected_amount": expected_amount,
        "billed_amount": billed_amount,
        "difference": difference,
        "match_method": "account",
        "detail": None,
        "source_row": None,
        "owner_name": None,
        "service_address": None,
        "revenue_at_stake": abs(difference) if difference is not None else Decimal(0),
    }
    row.update(extra)
    return row


def findings_frame(rows: list[dict]) -> pl.DataFrame:
    """Build a findings table with the engine's schema from row dictionaries."""
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA, orient="row")


def make_result(rows: list[dict], *, months_per_cycle: str = "2",
                utility_name: str = "Springfield Water", **totals: object) -> AuditResult:
    """Build an AuditResult whose totals are summed from `rows` unless given."""
    at_stake: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for row in rows:
        kind = row["finding_type"]
        at_stake[kind] = at_stake.get(kind, Decimal(0)) + row["revenue_at_stake"]
        counts[kind] = counts.get(kind, 0) + 1

    return AuditResult(
        config=AuditConfig(cycle="2016-03"),
        findings=findings_frame(rows),
        totals=Totals(
            billed=totals.get("billed", Decimal("10250.75")),
            expected=totals.get("expected", Decimal("11000.00")),
            at_stake_by_type=totals.get("at_stake_by_type", at_stake),
            count_by_type=totals.get("count_by_type", counts),
            months_per_cycle=Decimal(months_per_cycle),
        ),
        billed_rows=1204,
        bills=1200,
        profiles=1180,
        matched=1150,
        match_counts={"account": 1100, "meter": 30, "fuzzy_address": 20, "none": 50},
        utility_name=utility_name,
        rate_schedule="Springfield sewer rates 2016",
        generated_at=GENERATED_AT,
    )

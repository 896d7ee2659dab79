"""Finding types and the typed result of one audit run.

Every report (CSV, XLSX, HTML) is rendered from an `AuditResult` and reads nothing else,
so the numbers in the three files cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import polars as pl

from sewerline.engine.money import DECIMAL


class FindingType(StrEnum):
    """Kind of problem with one bill or one profile. Difference = billed minus expected."""

    OVERBILLED = "overbilled"              # matched customer billed more than the rates give
    UNDERBILLED = "underbilled"            # billed less, including a sewer charge of zero
    UNKNOWN_CUSTOMER = "unknown_customer"  # billed, but no profile matches
    NOT_BILLED = "not_billed"              # active profile with no bill in the cycle
    ACCOUNT_CHANGED = "account_changed"    # linked by meter, parcel or address, new account no.
    OWNER_CHANGED = "owner_changed"        # same account, clearly different customer name
    METER_CHANGED = "meter_changed"        # same account, different meter number
    CLASS_MISMATCH = "class_mismatch"      # billed rate code maps to another class
    DUPLICATE_BILL = "duplicate_bill"      # same account billed twice for the same period


class MatchMethod(StrEnum):
    """Method that linked a bill to a profile, in the order the matcher tries them."""

    ACCOUNT = "account"
    METER = "meter"
    PARCEL = "parcel"
    ADDRESS = "address"
    FUZZY_ADDRESS = "fuzzy_address"
    AMBIGUOUS = "ambiguous"   # several candidates; reported, never linked
    NONE = "none"


# Columns of the findings table, in the order of findings.csv. Amounts are Decimal;
# the renderers format them with two decimals.
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "cycle": pl.String(),
    "finding_type": pl.String(),
    "account_id": pl.String(),          # sewer utility's account id; empty when unknown
    "billed_account": pl.String(),      # water utility's account number on the bill
    "expected_amount": DECIMAL,
    "billed_amount": DECIMAL,
    "difference": DECIMAL,              # billed minus expected
    "match_method": pl.String(),
    "detail": pl.String(),
}
FINDING_COLUMNS = tuple(FINDING_SCHEMA)

# Extra columns kept on the findings table for the reports (not in findings.csv).
FINDING_EXTRA_SCHEMA: dict[str, pl.DataType] = {
    "source_row": pl.Int64(),           # row of the bill in the billing export, if any
    "owner_name": pl.String(),
    "service_address": pl.String(),
    "revenue_at_stake": DECIMAL,        # money the finding puts at risk this cycle, >= 0
}


@dataclass(frozen=True)
class Tolerance:
    """Differences within a tolerance are rounding noise, not findings.

    A difference is noise when its absolute value is at most `absolute` dollars, or at
    most `percent` percent of the expected amount when `percent` is set. The default of
    one cent absorbs a rounding rule that differs between the two billing systems.
    """

    absolute: Decimal = Decimal("0.01")
    percent: Decimal | None = None


@dataclass(frozen=True)
class AuditConfig:
    """Everything that changes an audit's outcome, passed in explicitly (no globals).

    The rounding rule is not here: it belongs to the rate schedule, as in the ordinance.
    """

    cycle: str
    tolerance: Tolerance = field(default_factory=Tolerance)
    # Lowest rapidfuzz token-sort score (0-100) at which two addresses with the same
    # house number and unit are taken as the same service location.
    fuzzy_address_min_score: int = 92
    # Highest token-sort score (0-100) of two normalized owner names that still counts
    # as a clearly different customer.
    owner_changed_max_score: int = 60
    keep_intermediate: bool = False


@dataclass(frozen=True)
class Totals:
    """Money totals of one cycle, all Decimal dollars."""

    billed: Decimal
    expected: Decimal
    at_stake_by_type: dict[str, Decimal]
    count_by_type: dict[str, int]
    months_per_cycle: Decimal   # to turn per-cycle amounts into monthly and annual ones


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit: findings with their amounts, totals and input counts."""

    config: AuditConfig
    findings: pl.DataFrame                 # FINDING_SCHEMA + FINDING_EXTRA_SCHEMA columns
    totals: Totals
    billed_rows: int
    bills: int
    profiles: int
    matched: int
    match_counts: dict[str, int]           # MatchMethod value -> number of links
    utility_name: str
    rate_schedule: str
    generated_at: dt.datetime
    intermediate: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def has_findings(self) -> bool:
        return self.findings.height > 0

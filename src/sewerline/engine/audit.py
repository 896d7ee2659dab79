"""Audit one billing cycle: load, split duplicates, link, rate, then classify.

Each step is a named function over Polars tables so that a number in a report can be
traced back through the intermediate tables (kept when `keep_intermediate` is set).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sewerline.engine.classify import classify_findings, compute_totals
from sewerline.engine.errors import InputError, Problem
from sewerline.engine.expected import rate_linked_bills, rate_unbilled_profiles
from sewerline.engine.findings import AuditConfig, AuditResult
from sewerline.engine.ingest import Mapping, load_mapping, read_billing, read_profiles
from sewerline.engine.match import link_bills
from sewerline.engine.normalize import account_key
from sewerline.engine.rates import RateSchedule, load_schedule
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile

logger = logging.getLogger(__name__)

# Called with the name of the step about to run; the CLI turns it into a progress bar.
ProgressCallback = Callable[[str], None]

STEPS = ("read rates", "read profiles", "read billing", "link", "rate", "classify")

# Data columns the audit offers to rate formulas, besides the profile's extra columns.
# `usage_ccf` is OWRS's name for usage in the schedule's bill unit, whatever that unit is.
RATE_INPUT_COLUMNS = ("usage_ccf", "winter_average", "dwelling_units", "meter_size")


@dataclass(frozen=True)
class AuditInputs:
    """The three inputs of an audit after reading and validation."""

    schedule: RateSchedule
    mapping: Mapping
    profiles: pl.DataFrame
    bills: pl.DataFrame
    profiles_label: str
    billing_label: str


def run_audit(
    *,
    profiles_path: Path,
    billing_path: Path,
    rates_path: Path,
    mapping_path: Path,
    config: AuditConfig,
    progress: ProgressCallback | None = None,
) -> AuditResult:
    """Read the four input files and audit the cycle. Raises InputError on bad input."""
    report = progress or (lambda step: None)
    inputs = load_inputs(
        profiles_path=profiles_path,
        billing_path=billing_path,
        rates_path=rates_path,
        mapping_path=mapping_path,
        progress=report,
    )
    return audit(inputs, config, progress=report)


def load_inputs(
    *,
    profiles_path: Path,
    billing_path: Path,
    rates_path: Path,
    mapping_path: Path,
    progress: ProgressCallback,
) -> AuditInputs:
    """Read and validate the rate schedule, mapping, profiles and billing export."""
    progress("read rates")
    schedule = load_schedule(rates_path)
    mapping = load_mapping(mapping_path)
    _check_rate_code_classes(mapping, schedule, mapping_path, rates_path)

    progress("read profiles")
    profiles = read_profiles(
        profiles_path, mapping.profiles, known_classes=set(schedule.classes)
    )
    _check_rate_columns(schedule, profiles, rates_path)

    progress("read billing")
    bills = read_billing(billing_path, mapping)
    logger.info(
        "read %d profiles from %s and %d bills from %s",
        profiles.height, profiles_path.name, bills.height, billing_path.name,
    )
    return AuditInputs(
        schedule=schedule,
        mapping=mapping,
        profiles=profiles,
        bills=bills,
        profiles_label=profiles_path.name,
        billing_label=billing_path.name,
    )


def audit(
    inputs: AuditInputs, config: AuditConfig, *, progress: ProgressCallback | None = None
) -> AuditResult:
    """Audit validated inputs: the steps after reading, usable on in-memory tables."""
    report = progress or (lambda step: None)
    schedule = inputs.schedule
    profiles = inputs.profiles.with_row_index("profile_index").with_columns(
        pl.col("profile_index").cast(pl.Int64)
    )
    bills = inputs.bills.with_row_index("bill_index").with_columns(
        pl.col("bill_index").cast(pl.Int64)
    )

    report("link")
    groups = group_bills(bills)
    links = link_bills(groups.first, profiles, fuzzy_min_score=config.fuzzy_address_min_score)
    all_links = links_with_other_periods(links.links, groups)
    audited = pl.concat([groups.first, groups.other_periods]).sort("bill_index")
    linked = join_links(audited, all_links, profiles)

    report("rate")
    linked = rate_linked_bills(linked, schedule, inputs.profiles_label)
    unbilled = rate_unbilled_profiles(profiles, all_links, schedule, inputs.profiles_label)

    report("classify")
    findings = classify_findings(
        linked=linked,
        duplicates=groups.repeats,
        ambiguous=links.ambiguous,
        unbilled=unbilled,
        profiles=profiles,
        schedule=schedule,
        config=config,
        profiles_label=inputs.profiles_label,
    )
    totals = compute_totals(
        findings=findings,
        bills=bills,
        linked=linked,
        unbilled=unbilled,
        months_per_cycle=schedule.months_per_cycle,
    )
    by_method = links.links.group_by("match_method").len().sort("match_method")
    match_counts = dict(by_method.iter_rows())
    if links.ambiguous.height:
        match_counts["ambiguous"] = links.ambiguous.height

    intermediate = {}
    if config.keep_intermediate:
        intermediate = {
            "links": links.links,
            "ambiguous": links.ambiguous,
            "duplicates": groups.repeats,
            "linked": linked,
            "unbilled": unbilled,
        }
    logger.info(
        "cycle %s: %d bills, %d linked, %d findings",
        config.cycle, bills.height, links.links.height, findings.height,
    )
    return AuditResult(
        config=config,
        findings=findings,
        totals=totals,
        billed_rows=bills.height,
        bills=bills.height,
        profiles=profiles.height,
        matched=links.links.height,
        match_counts=match_counts,
        utility_name=schedule.utility_name,
        rate_schedule=Path(schedule.path).name,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        intermediate=intermediate,
    )


@dataclass(frozen=True)
class BillGroups:
    """The bills of an export, split by how they relate to other bills of the account.

    `first` holds the first bill of each account (what the matcher links), `repeats` the
    later bills of the same account and period that carry a sewer charge (duplicate
    bills), and `other_periods` the bills of the same account for another period, such
    as a catch-up bill, which are audited under the link of the account's first bill.
    """

    first: pl.DataFrame
    repeats: pl.DataFrame
    other_periods: pl.DataFrame


def group_bills(bills: pl.DataFrame) -> BillGroups:
    """Split the bills by account and period, in file order.

    Accounts compare by their normalized key, so "0012345-01" and "12345 01" are one
    account. A repeat of the same period without a sewer line is only a water bill and
    is dropped.
    """
    # Bills come in file order, so the first distinct key is the earliest bill.
    key = account_key(pl.col(Billed.ACCOUNT))
    ranked = bills.with_columns(key.alias("_account_key")).with_columns(
        pl.col("_account_key").is_first_distinct().alias("_first_of_account"),
        pl.struct("_account_key", Billed.PERIOD_START, Billed.PERIOD_END)
        .is_first_distinct()
        .alias("_first_of_period"),
    )
    # Bills without an account number cannot repeat one another.
    no_account = pl.col("_account_key").is_null()
    first = ranked.filter(no_account | pl.col("_first_of_account"))
    later = ranked.filter(~no_account & ~pl.col("_first_of_account"))
    repeats = later.filter(~pl.col("_first_of_period") & (pl.col(Billed.SEWER_LINES) > 0))
    other_periods = later.filter(pl.col("_first_of_period"))

    helper_columns = ["_account_key", "_first_of_account", "_first_of_period"]
    groups = BillGroups(
        first=first.drop(helper_columns),
        repeats=repeats.drop(helper_columns),
        other_periods=other_periods.drop(helper_columns),
    )
    if groups.repeats.height or groups.other_periods.height:
        logger.info(
            "%d repeat bills of an account and period, %d bills of another period",
            groups.repeats.height, groups.other_periods.height,
        )
    return groups


def links_with_other_periods(links: pl.DataFrame, groups: BillGroups) -> pl.DataFrame:
    """Give each bill of another period the link of its account's first bill."""
    key = account_key(pl.col(Billed.ACCOUNT)).alias("_account_key")
    first_links = groups.first.select("bill_index", key).join(links, on="bill_index")
    inherited = groups.other_periods.select("bill_index", key).join(
        first_links.drop("bill_index"), on="_account_key"
    )
    return pl.concat([links, inherited.select(links.columns)]).sort("bill_index")


def join_links(
    bills: pl.DataFrame, links: pl.DataFrame, profiles: pl.DataFrame
) -> pl.DataFrame:
    """Attach each bill's linked profile (columns suffixed `_profile` where names clash)."""
    return bills.join(links, on="bill_index", how="left").join(
        profiles, on="profile_index", how="left", suffix="_profile"
    )


def _check_rate_columns(
    schedule: RateSchedule, profiles: pl.DataFrame, rates_path: Path
) -> None:
    """Reject a rate file whose formulas read a column the audit cannot supply.

    The columns offered are the profile's (without the engine's own bookkeeping
    columns) and the inputs the audit computes, such as usage in the bill unit.
    """
    internal = {SOURCE_ROW, Profile.WINTER_AVERAGE_GAL}
    available = (set(profiles.columns) - internal) | set(RATE_INPUT_COLUMNS)
    problems = schedule.validate_columns(available, "the profiles or the audit's inputs")
    if problems:
        raise InputError(problems)


def _check_rate_code_classes(
    mapping: Mapping, schedule: RateSchedule, mapping_path: Path, rates_path: Path
) -> None:
    """Reject rate codes mapped to a class the rate schedule does not define.

    Otherwise every bill with such a code would be reported as a class mismatch.
    """
    known = sorted(schedule.classes)
    problems = [
        Problem(
            code="mapping.unknown_class",
            message=f"under rate_codes, rate code {code!r} maps to class {cls!r}, which "
            f"{rates_path.name} does not define",
            file=str(mapping_path),
            value=cls,
            expected="one of " + ", ".join(known),
            hint="Correct the class name under rate_codes or add the class to the rate file.",
        )
        for code, cls in sorted(mapping.rate_codes.items())
        if cls not in schedule.classes
    ]
    if problems:
        raise InputError(problems)

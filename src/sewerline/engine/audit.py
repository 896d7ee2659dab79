"""Audit one billing cycle: load, split duplicates, link, rate, then classify.

Each step is a named function over Polars tables so that a number in a report can be
traced back through the intermediate tables (kept when `keep_intermediate` is set).
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sewerline.engine.classify import classify_findings, compute_totals
from sewerline.engine.errors import InputError, Problem
from sewerline.engine.expected import rate_linked_bills, rate_unbilled_profiles
from sewerline.engine.findings import AuditConfig, AuditResult
from sewerline.engine.ingest import (
    Mapping,
    ReadStats,
    load_mapping,
    read_billing,
    read_profiles,
)
from sewerline.engine.match import link_bills
from sewerline.engine.normalize import account_key
from sewerline.engine.rater import Rater, load_rater
from sewerline.engine.rates import RateSchedule
from sewerline.engine.rates.dated import ChangeMode
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile
from sewerline.engine.units import UsageUnit
from sewerline.engine.winter import (
    WinterAverageRule,
    apply_new_customer_flat,
    compute_winter_averages,
    read_history,
)

logger = logging.getLogger(__name__)

# Called with the name of the step about to run; the CLI turns it into a progress bar.
ProgressCallback = Callable[[str], None]

STEPS = ("read rates", "read profiles", "read billing", "link", "rate", "classify")

# Data columns the audit offers to rate formulas, besides the profile's extra columns.
# `usage_ccf` is OWRS's name for usage in the schedule's bill unit, whatever that unit is.
RATE_INPUT_COLUMNS = (
    "usage_ccf", "winter_average", "dwelling_units", "meter_size", "deduct_usage",
    "water_charge", "days_in_period", "proration_factor",
)


@dataclass(frozen=True)
class AuditInputs:
    """The three inputs of an audit after reading and validation.

    `mapping` is the file mapping the bills were read with. The audit steps do not read
    it, so it is None when the tables come from somewhere else, such as a database.
    """

    schedule: RateSchedule
    mapping: Mapping | None
    profiles: pl.DataFrame
    bills: pl.DataFrame
    profiles_label: str
    billing_label: str
    # Several dated rate versions, a water schedule or proration; None builds a Rater
    # of `schedule` alone.
    rater: Rater | None = None
    # Meter reads for a winter-average rule computed from history (see engine/winter).
    history: pl.DataFrame | None = None
    history_label: str = "usage history"
    # Data rows of the export; more than the bills when it has one row per service line.
    billing_rows: int | None = None

    def get_rater(self) -> Rater:
        if self.rater is not None:
            return self.rater
        from sewerline.engine.proration import standard_days_for
        from sewerline.engine.rates.water_percent import load_water_schedule

        return Rater(schedule=self.schedule, schedule_set=None,
                     change_mode=ChangeMode.SPLIT_BY_DAYS,
                     water_schedule=load_water_schedule(self.schedule),
                     standard_days=standard_days_for(self.schedule))


def run_audit(
    *,
    profiles_path: Path,
    billing_path: Path,
    rates_path: Path | Sequence[Path],
    mapping_path: Path,
    config: AuditConfig,
    progress: ProgressCallback | None = None,
    change_mode: ChangeMode = ChangeMode.SPLIT_BY_DAYS,
    history_path: Path | None = None,
    history_unit: UsageUnit = UsageUnit.GALLONS,
) -> AuditResult:
    """Read the input files and audit the cycle. Raises InputError on bad input.

    `rates_path` may list several versions of one rate schedule; a billing period that
    spans a change is rated by `change_mode`. `history_path` is a usage history for a
    winter-average rule computed from history, with usage in `history_unit`.
    """
    report = progress or (lambda step: None)
    inputs = load_inputs(
        profiles_path=profiles_path,
        billing_path=billing_path,
        rates_path=rates_path,
        mapping_path=mapping_path,
        progress=report,
        change_mode=change_mode,
        history_path=history_path,
        history_unit=history_unit,
    )
    return audit(inputs, config, progress=report)


def load_inputs(
    *,
    profiles_path: Path,
    billing_path: Path,
    rates_path: Path | Sequence[Path],
    mapping_path: Path,
    progress: ProgressCallback,
    change_mode: ChangeMode = ChangeMode.SPLIT_BY_DAYS,
    history_path: Path | None = None,
    history_unit: UsageUnit = UsageUnit.GALLONS,
) -> AuditInputs:
    """Read and validate the rate schedule, mapping, profiles, billing export and history."""
    progress("read rates")
    rate_paths = [rates_path] if isinstance(rates_path, Path | str) else list(rates_path)
    rater = load_rater([Path(path) for path in rate_paths], change_mode=change_mode)
    schedule = rater.schedule
    rates_path = Path(rate_paths[-1])
    mapping = load_mapping(mapping_path)
    _check_rate_code_classes(mapping, schedule, mapping_path, rates_path)
    history = read_history(history_path, usage_unit=history_unit) if history_path else None

    progress("read profiles")
    profiles = read_profiles(
        profiles_path, mapping.profiles, known_classes=set(schedule.classes)
    )
    _check_rate_columns(schedule, profiles, rates_path)

    progress("read billing")
    stats = ReadStats()
    bills = read_billing(billing_path, mapping, stats=stats)
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
        rater=rater,
        history=history,
        history_label=history_path.name if history_path else "usage history",
        billing_rows=stats.rows,
    )


def audit(
    inputs: AuditInputs, config: AuditConfig, *, progress: ProgressCallback | None = None
) -> AuditResult:
    """Audit validated inputs: the steps after reading, usable on in-memory tables."""
    report = progress or (lambda step: None)
    schedule = inputs.schedule
    rater = inputs.get_rater()
    bills = inputs.bills.with_row_index("bill_index").with_columns(
        pl.col("bill_index").cast(pl.Int64)
    )
    winter_rule = WinterAverageRule.from_schedule(schedule)
    averages = None
    profiles = inputs.profiles
    if winter_rule is not None:
        _require_cycle_end(bills, inputs.billing_label)
        averages = compute_winter_averages(
            inputs.history, profiles, winter_rule, bill_unit=schedule.bill_unit,
            as_of=_cycle_end(bills), history_label=inputs.history_label,
            profiles_label=inputs.profiles_label,
        )
        profiles = with_winter_averages(profiles, averages)
    profiles = profiles.with_row_index("profile_index").with_columns(
        pl.col("profile_index").cast(pl.Int64)
    )

    report("link")
    groups = group_bills(bills)
    links = link_bills(groups.first, profiles, fuzzy_min_score=config.fuzzy_address_min_score)
    all_links = links_with_other_periods(links.links, groups)
    audited = pl.concat([groups.first, groups.other_periods]).sort("bill_index")
    linked = join_links(audited, all_links, profiles)

    report("rate")
    linked = rate_linked_bills(linked, rater, inputs.profiles_label)
    unbilled = rate_unbilled_profiles(profiles, all_links, rater, inputs.profiles_label,
                                      period_end=_cycle_end(bills))
    if winter_rule is not None:
        linked = apply_new_customer_flat(linked, averages, winter_rule)
        unbilled = apply_new_customer_flat(unbilled, averages, winter_rule)

    report("classify")
    findings = classify_findings(
        linked=linked,
        duplicates=groups.repeats,
        ambiguous=links.ambiguous,
        unbilled=unbilled,
        profiles=profiles,
        rater=rater,
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
        billed_rows=inputs.billing_rows or bills.height,
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

    `first` contains the first bill of each account (what the matcher links), `repeats` the
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


def with_winter_averages(profiles: pl.DataFrame, averages: pl.DataFrame) -> pl.DataFrame:
    """Put the computed winter averages (in gallons) in the profiles, in profile order."""
    return profiles.with_columns(
        averages.get_column("winter_average_gal").alias(Profile.WINTER_AVERAGE_GAL)
    )


def _require_cycle_end(bills: pl.DataFrame, billing_label: str) -> None:
    """Reject an export without dates when the rates need to know which winter applies."""
    if _cycle_end(bills) is None:
        raise InputError([Problem(
            code="winter_average.no_period",
            message="the winter average rule needs the billing period, but the export has "
            "no period end or bill date",
            file=billing_label,
            hint="Map period_end or bill_date in the mapping file.",
        )])


def _cycle_end(bills: pl.DataFrame) -> dt.date | None:
    """Return the last period end (or bill date) of the export: the date the cycle bills."""
    for column in (Billed.PERIOD_END, Billed.BILL_DATE):
        latest = bills.get_column(column).max()
        if latest is not None:
            return latest
    return None


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
    """Reject rate codes mapped to a misspelling of one of the schedule's classes.

    A code may map to a class the sewer rates do not cover (an irrigation-only code),
    but a near miss such as RESIDENTIAL_SINGL is a typo that would report every bill
    with that code as a class mismatch.
    """
    known = sorted(schedule.classes)
    problems = []
    for code, cls in sorted(mapping.rate_codes.items()):
        if cls in schedule.classes:
            continue
        close = difflib.get_close_matches(cls, known, n=1, cutoff=0.8)
        if not close:
            logger.info("rate code %s maps to class %s, which %s does not rate",
                        code, cls, rates_path.name)
            continue
        problems.append(Problem(
            code="mapping.unknown_class",
            message=f"under rate_codes, rate code {code!r} maps to class {cls!r}, which "
            f"{rates_path.name} does not define",
            file=str(mapping_path),
            value=cls,
            expected="one of " + ", ".join(known),
            hint=f"Did you mean {close[0]!r}? Correct the class name under rate_codes.",
        ))
    if problems:
        raise InputError(problems)

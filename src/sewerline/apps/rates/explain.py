"""The expected sewer charge of one account, computed and explained by the rate engine.

The rate inputs are built as the audit builds them: engine.expected's rate_input_table
reads the profile's columns and the bill's usage and period. So the trace's total is
the expected amount the audit computes for the same profile, bill and rate version.
NOTE: only that one version is used; a bill whose period spans a rate change, and a
winter-average rule's flat charge for new customers, are explained by the audit's
own finding detail, not here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from sewerline.apps.imports.models import BilledCharge
from sewerline.apps.profiles.models import Account, Status
from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.apps.rates.schedules import version_for_cycle, version_rater
from sewerline.engine.errors import InputError, Problem
from sewerline.engine.expected import PROFILE_ROW, rate_input_table
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import explain_rows
from sewerline.engine.schema import Billed, Profile

logger = logging.getLogger(__name__)

GALLONS_PER_KGAL = Decimal(1000)


@dataclass(frozen=True)
class ExplainedCharge:
    """An expected charge with the engine's trace lines, or the reason there is none."""

    version: RateScheduleVersion | None
    charge: BilledCharge | None
    total: Decimal | None = None
    lines: list[str] = field(default_factory=list)
    note: str = ""
    problems: list[Problem] = field(default_factory=list)


def account_rate_frame(account: Account, usage_gal: Decimal | None,
                       charge: BilledCharge | None = None) -> pl.DataFrame:
    """Return a one-row table of the account's profile columns and a bill's measurements.

    The columns and units are those of the engine's profile table: the winter average
    in gallons, extra columns under their own names as text. Of the bill come the
    usage in gallons and the period dates, which proration reads.
    """
    winter_average = (account.winter_average * GALLONS_PER_KGAL
                      if account.winter_average is not None else None)
    columns: dict[str, pl.Series] = {
        PROFILE_ROW: pl.Series([1], dtype=pl.Int64),
        Profile.ACCOUNT_ID: pl.Series([account.account_id], dtype=pl.String),
        Profile.CLASS: pl.Series([account.customer_class], dtype=pl.String),
        Profile.METER_SIZE: pl.Series([account.meter_size or None], dtype=pl.String),
        Profile.STATUS: pl.Series([account.status], dtype=pl.String),
        Profile.WINTER_AVERAGE_GAL: pl.Series([winter_average], dtype=DECIMAL),
        Profile.DWELLING_UNITS: pl.Series([account.dwelling_units], dtype=DECIMAL),
        Billed.USAGE_GAL: pl.Series([usage_gal], dtype=DECIMAL),
        Billed.PERIOD_START: pl.Series([charge.period_start if charge else None],
                                       dtype=pl.Date),
        Billed.PERIOD_END: pl.Series([charge.period_end if charge else None], dtype=pl.Date),
    }
    for name, value in sorted((account.extra or {}).items()):
        key = str(name).strip().lower()
        if key and key not in columns:
            text = None if value in (None, "") else str(value)
            columns[key] = pl.Series([text], dtype=pl.String)
    return pl.DataFrame(columns)


def explain_account_charge(account: Account, charge: BilledCharge | None = None,
                           version: RateScheduleVersion | None = None) -> ExplainedCharge:
    """Compute the expected sewer charge of `account` for `charge`'s usage and explain it.

    Without `version`, the version that priced the charge's cycle is used (see
    version_for_cycle). Without `charge`, usage is zero, as the audit rates an active
    profile that no bill reached. Input problems come back in `problems`, not raised.
    """
    cycle = charge.cycle if charge is not None else None
    version = version or version_for_cycle(cycle)
    if version is None:
        return ExplainedCharge(version=None, charge=charge,
                               note="No published rate version applies to this cycle.")
    if account.status != Status.ACTIVE:
        return ExplainedCharge(
            version=version, charge=charge, total=Decimal("0.00"),
            note=f"The profile's status is {account.get_status_display().lower()}, "
                 "so no sewer charge is expected.")

    usage = charge.usage_gal if charge is not None else Decimal(0)
    note = "" if charge is not None else "No bill found: rated at zero usage, as the audit does."
    source = f"account {account.account_id}"
    try:
        rater = version_rater(version)
        frame = account_rate_frame(account, usage, charge)
        table = rate_input_table(frame, rater, usage=pl.col(Billed.USAGE_GAL), source=source,
                                 prorate=charge is not None)
        trace = explain_rows(table, rater.schedule, Profile.CLASS, [0],
                             row_column=PROFILE_ROW, source=source)[0]
    except InputError as error:
        logger.info("expected charge of account pk=%s not computed: %d problems",
                    account.pk, len(error.problems))
        return ExplainedCharge(version=version, charge=charge, note=note,
                               problems=error.problems)
    if trace.total is None:
        note = (note + " A value the rates need is missing, so no total could be computed."
                ).strip()
    return ExplainedCharge(version=version, charge=charge, total=trace.total,
                           lines=trace.lines(), note=note)

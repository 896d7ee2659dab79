"""Read an import's stored file with the engine, as a check or before storing it."""

from __future__ import annotations

import polars as pl

from sewerline.apps.imports.accounts import AccountPlan, plan_accounts
from sewerline.apps.imports.charges import fit_problems
from sewerline.apps.imports.mappings import load_billing_mapping, load_profile_mapping
from sewerline.apps.imports.models import ImportBatch
from sewerline.engine.ingest import read_billing, read_profiles
from sewerline.engine.ingest.mapping import PROFILE_FIELDS, WINTER_AVERAGE
from sewerline.engine.money import format_cents
from sewerline.engine.schema import Billed, Profile

# Customer classes listed in a billing summary.
_LISTED_CLASSES = 30


def read_bills(batch: ImportBatch) -> pl.DataFrame:
    """Read a billing export into the Billed table and check that every value can be stored.

    Raises InputError with the engine's problems (mapping, header, values) or with the
    values that do not fit their database columns.
    """
    mapping = load_billing_mapping(batch.mapping_text)
    bills = read_billing(batch.original.path, mapping)
    fit_problems(bills, mapping, batch.file_name).raise_if_any()
    return bills


def read_accounts(batch: ImportBatch) -> AccountPlan:
    """Read a profile file and compare it with the entity's accounts.

    Raises InputError with the engine's problems or with the values that cannot be
    stored in an account.
    """
    mapping = load_profile_mapping(batch.mapping_text)
    profiles = read_profiles(batch.original.path, mapping)
    headers = {name: mapping.header_for(name) for name in PROFILE_FIELDS}
    headers[Profile.WINTER_AVERAGE_GAL] = mapping.header_for(WINTER_AVERAGE)
    plan, found = plan_accounts(profiles, batch.entity, batch.file_name, headers)
    found.raise_if_any()
    return plan


def bill_summary(bills: pl.DataFrame) -> dict:
    """Return counts and totals of a Billed table, amounts as text with two decimals."""
    totals = bills.select(
        pl.col(Billed.AMOUNT).sum().alias("billed_total"),
        pl.col(Billed.WATER_AMOUNT).sum().alias("water_total"),
        pl.col(Billed.SEWER_LINES).sum().alias("sewer_lines"),
        (pl.col(Billed.SEWER_LINES) == 0).sum().alias("without_sewer_line"),
        pl.col(Billed.PERIOD_START).min().alias("period_from"),
        pl.col(Billed.PERIOD_END).max().alias("period_to"),
        pl.col(Billed.WATER_AMOUNT).is_not_null().any().alias("has_water"),
    ).row(0, named=True)
    classes = (
        bills.group_by(Billed.CLASS).len().sort(["len", Billed.CLASS], descending=[True, False])
        .head(_LISTED_CLASSES).iter_rows()
    )
    return {
        "bills": bills.height,
        "sewer_lines": int(totals["sewer_lines"] or 0),
        "without_sewer_line": int(totals["without_sewer_line"] or 0),
        "billed_total": format_cents(totals["billed_total"]),
        "water_total": format_cents(totals["water_total"]) if totals["has_water"] else "",
        "period_from": _date_text(totals["period_from"]),
        "period_to": _date_text(totals["period_to"]),
        "classes": [[name or "", count] for name, count in classes],
    }


def _date_text(value) -> str:
    return value.isoformat() if value is not None else ""

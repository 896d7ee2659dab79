"""Store an engine AuditResult: Finding rows in bulk and the run's totals.

Amounts go from the engine's Decimal columns straight into DecimalFields, so no value
passes through float. The caller opens the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.imports.models import BilledCharge, ImportStatus
from sewerline.apps.profiles.models import Account
from sewerline.engine.findings import AuditResult
from sewerline.engine.money import CENT

logger = logging.getLogger(__name__)

# Rows per INSERT and ids per IN (...) list: below SQLite's limit of bound variables.
BATCH_SIZE = 500


def store_result(run: AuditRun, result: AuditResult) -> int:
    """Replace the run's findings with those of `result` and store its totals.

    Each finding is linked to the entity's account of its `account_id` and to the
    cycle's billed charge of its source row. Returns the number of findings stored.
    """
    run.findings.all().delete()

    records = list(result.findings.iter_rows(named=True))
    accounts = _account_ids(run, {r["account_id"] for r in records if r["account_id"]})
    charges = _charge_ids(run, {r["source_row"] for r in records if r["source_row"]})

    findings = [
        Finding(
            run=run,
            finding_type=record["finding_type"],
            account_id=accounts.get(record["account_id"]),
            charge_id=charges.get(record["source_row"]),
            billed_account=record["billed_account"] or "",
            expected_amount=_cents(record["expected_amount"]),
            billed_amount=_cents(record["billed_amount"]),
            difference=_cents(record["difference"]),
            revenue_at_stake=_cents(record["revenue_at_stake"]) or Decimal("0.00"),
            match_method=record["match_method"] or "",
            detail=record["detail"] or "",
        )
        for record in records
    ]
    Finding.objects.bulk_create(findings, batch_size=BATCH_SIZE)

    _store_totals(run, result)
    logger.info("audit run %s: stored %d findings", run.pk, len(findings))
    return len(findings)


def _store_totals(run: AuditRun, result: AuditResult) -> None:
    totals = result.totals
    at_stake = {ftype: _cents(amount) for ftype, amount in totals.at_stake_by_type.items()}
    run.billed_total = _cents(totals.billed)
    run.expected_total = _cents(totals.expected)
    run.at_stake_total = sum(at_stake.values(), Decimal("0.00"))
    run.totals = {
        "at_stake_by_type": {ftype: format(amount, "f") for ftype, amount in at_stake.items()},
        "count_by_type": dict(totals.count_by_type),
        "findings": result.findings.height,
        "months_per_cycle": format(totals.months_per_cycle, "f"),
        "match_counts": dict(result.match_counts),
        "utility_name": result.utility_name,
        "rate_schedule": result.rate_schedule,
    }
    run.bills = result.bills
    run.profiles = result.profiles
    run.matched = result.matched
    run.finished_at = timezone.now()
    run.save(update_fields=[
        "billed_total", "expected_total", "at_stake_total", "totals", "bills", "profiles",
        "matched", "finished_at",
    ])


def _account_ids(run: AuditRun, account_ids: set[str]) -> dict[str, int]:
    """Map account ids of the run's entity to Account primary keys."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(account_ids)):
        found.update(
            Account.objects.filter(entity_id=run.cycle.entity_id, account_id__in=chunk)
            .values_list("account_id", "pk")
        )
    return found


def _charge_ids(run: AuditRun, source_rows: set[int]) -> dict[int, int]:
    """Map source rows of the run's cycle to BilledCharge primary keys.

    When the cycle contains more than one import with the same row, the newest charge is
    linked, because it is the last one imported.
    """
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(source_rows)):
        rows = (
            BilledCharge.objects.filter(cycle_id=run.cycle_id, source_row__in=chunk,
                                        batch__status=ImportStatus.DONE)
            .order_by("pk")
            .values_list("source_row", "pk")
        )
        found.update(rows)
    return found


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), BATCH_SIZE):
        yield values[start:start + BATCH_SIZE]


def _cents(value: Decimal | None) -> Decimal | None:
    """Return an engine amount (12 decimals) at the two decimals of the model fields.

    The engine rounds every charge component to the cent and billed amounts are stored
    in cents, so this drops only trailing zeros.
    """
    if value is None:
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


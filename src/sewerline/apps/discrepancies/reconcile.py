"""Carry an audit run's findings into discrepancies that live across cycles.

A discrepancy is one finding type on one key of one billing entity: the sewer
account id, or the normalized billed account number when no profile matched. Each
run's findings are linked to their discrepancy; a discrepancy that an earlier cycle
showed and this cycle no longer shows is verified corrected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.changes import record_change
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from sewerline.apps.discrepancies.models import DiscrepancyStatus as Status
from sewerline.apps.discrepancies.transitions import CORRECTED, OPEN_LIKE, audit_may_set
from sewerline.engine.normalize import account_key
from sewerline.engine.report.formatting import format_usd

logger = logging.getLogger(__name__)

# Ids per IN (...) list and rows per bulk statement: below SQLite's bound-variable limit.
BATCH_SIZE = 500


@dataclass
class ReconcileSummary:
    """Numbers of discrepancies one reconciliation created, saw again, reopened, corrected."""

    created: int = 0
    seen_again: int = 0
    reopened: int = 0
    corrected: int = 0


@dataclass
class _Group:
    """The findings of one run that belong to one discrepancy."""

    finding_ids: list[int] = field(default_factory=list)
    at_stake: Decimal = Decimal("0.00")
    account_pk: int | None = None


def cycle_is_earlier(first: BillingCycle, second: BillingCycle) -> bool:
    """Return whether cycle `first` comes before cycle `second`.

    Cycles compare by period end when both have one (then by code), otherwise by
    code, which sorts in time for codes such as 2016-03.
    """
    if first.period_end is not None and second.period_end is not None:
        return (first.period_end, first.code) < (second.period_end, second.code)
    return first.code < second.code


def reconcile(run: AuditRun) -> ReconcileSummary:
    """Link the run's findings to discrepancies and verify the ones it no longer shows.

    For each (finding type, key) of the run, create the discrepancy or update its last
    cycle, revenue at stake and cycles seen. A corrected discrepancy that shows up in a
    later cycle is reopened. Then every open, confirmed, reported or acknowledged
    discrepancy of the entity last seen in an earlier cycle, and not seen by this run,
    becomes verified_corrected with `recovered` set to its last revenue at stake.

    Reconciling a run again, or another run of the same cycle, counts the cycle once.
    Runs in one transaction (a savepoint inside the caller's).
    """
    run = AuditRun.objects.select_related("cycle__entity").get(pk=run.pk)
    summary = ReconcileSummary()
    with transaction.atomic():
        groups = _group_findings(run)
        existing = _existing_discrepancies(run, groups)
        seen_before = _seen_in_cycle(run.cycle, [d.pk for d in existing.values()])

        events: list[DiscrepancyEvent] = []
        created = _create_new(run, groups, existing, events)
        summary.created = len(created)
        updated = _update_existing(run, groups, existing, seen_before, events, summary)

        linked = {**existing, **created}
        _link_findings(groups, linked)
        _recount_cycles([d.pk for d in linked.values()])
        summary.corrected = _verify_corrected(run, events)
        DiscrepancyEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)

    logger.info(
        "audit run %s of cycle %s: %d discrepancies created, %d seen again (%d updated), "
        "%d reopened, %d verified corrected",
        run.pk, run.cycle_id, summary.created, summary.seen_again, updated,
        summary.reopened, summary.corrected,
    )
    return summary


def _group_findings(run: AuditRun) -> dict[tuple[str, str], _Group]:
    """Group the run's findings by (finding type, discrepancy key)."""
    rows = list(
        Finding.objects.filter(run=run)
        .order_by("pk")
        .values_list("pk", "finding_type", "account_id", "account__account_id",
                     "billed_account", "revenue_at_stake")
    )
    billed_keys = _normalized_accounts([row[4] for row in rows if row[3] is None])

    groups: dict[tuple[str, str], _Group] = {}
    for pk, finding_type, account_pk, account_id, billed_account, at_stake in rows:
        key = account_id or billed_keys.get(billed_account)
        if not key:
            # Nothing identifies the bill across cycles; the finding stays on its own.
            logger.warning("audit run %s: finding %s has no account to track it by",
                           run.pk, pk)
            continue
        group = groups.setdefault((finding_type, key), _Group())
        group.finding_ids.append(pk)
        group.at_stake += at_stake
        group.account_pk = group.account_pk or account_pk
    return groups


def _normalized_accounts(billed_accounts: list[str]) -> dict[str, str | None]:
    """Map billed account numbers to the engine's account key (None when nothing is left)."""
    distinct = sorted(set(billed_accounts))
    if not distinct:
        return {}
    frame = pl.DataFrame({"billed_account": distinct}, schema={"billed_account": pl.String()})
    keys = frame.select(account_key(pl.col("billed_account"))).to_series().to_list()
    return dict(zip(distinct, keys, strict=True))


def _existing_discrepancies(
    run: AuditRun, groups: dict[tuple[str, str], _Group]
) -> dict[tuple[str, str], Discrepancy]:
    found: dict[tuple[str, str], Discrepancy] = {}
    keys = sorted({key for _, key in groups})
    for chunk in _chunks(keys):
        candidates = Discrepancy.objects.filter(
            entity_id=run.cycle.entity_id, key__in=chunk
        ).select_related("first_cycle", "last_cycle")
        for discrepancy in candidates:
            group_key = (discrepancy.finding_type, discrepancy.key)
            if group_key in groups:
                found[group_key] = discrepancy
    return found


def _seen_in_cycle(cycle: BillingCycle, discrepancy_ids: list[int]) -> set[int]:
    """Return the discrepancies that already have a "seen" event for `cycle`.

    Seen events are the ones with a cycle and no status change. Asking the events
    rather than the findings keeps a re-run of the same run, whose earlier findings
    were replaced, from adding a second event.
    """
    seen: set[int] = set()
    for chunk in _chunks(discrepancy_ids):
        seen.update(
            DiscrepancyEvent.objects.filter(
                discrepancy_id__in=chunk, cycle=cycle, new_status=""
            )
            .values_list("discrepancy_id", flat=True)
            .distinct()
        )
    return seen


def _create_new(
    run: AuditRun,
    groups: dict[tuple[str, str], _Group],
    existing: dict[tuple[str, str], Discrepancy],
    events: list[DiscrepancyEvent],
) -> dict[tuple[str, str], Discrepancy]:
    cycle = run.cycle
    new = {
        group_key: Discrepancy(
            entity_id=cycle.entity_id,
            finding_type=group_key[0],
            key=group_key[1],
            account_id=group.account_pk,
            status=Status.OPEN,
            first_cycle=cycle,
            last_cycle=cycle,
            cycles_seen=1,
            revenue_at_stake=group.at_stake,
        )
        for group_key, group in groups.items()
        if group_key not in existing
    }
    # Both supported databases return the new primary keys from a bulk insert.
    Discrepancy.objects.bulk_create(new.values(), batch_size=BATCH_SIZE)
    events.extend(
        DiscrepancyEvent(
            discrepancy=discrepancy,
            cycle=cycle,
            note=f"first seen in cycle {cycle.code} (audit run {run.pk}): "
                 f"{format_usd(discrepancy.revenue_at_stake)} at stake",
        )
        for discrepancy in new.values()
    )
    return new


def _update_existing(
    run: AuditRun,
    groups: dict[tuple[str, str], _Group],
    existing: dict[tuple[str, str], Discrepancy],
    seen_before: set[int],
    events: list[DiscrepancyEvent],
    summary: ReconcileSummary,
) -> int:
    """Move last cycle, first cycle and revenue at stake; reopen corrected ones seen again."""
    cycle = run.cycle
    now = timezone.now()
    for group_key, discrepancy in existing.items():
        group = groups[group_key]
        later = cycle_is_earlier(discrepancy.last_cycle, cycle)
        if later or discrepancy.last_cycle_id == cycle.pk:
            discrepancy.last_cycle = cycle
            discrepancy.revenue_at_stake = group.at_stake
        if cycle_is_earlier(cycle, discrepancy.first_cycle):
            discrepancy.first_cycle = cycle
        if discrepancy.account_id is None:
            discrepancy.account_id = group.account_pk
        discrepancy.updated_at = now

        if discrepancy.pk not in seen_before:
            summary.seen_again += 1
            events.append(DiscrepancyEvent(
                discrepancy=discrepancy,
                cycle=cycle,
                note=f"seen in cycle {cycle.code} (audit run {run.pk}): "
                     f"{format_usd(group.at_stake)} at stake",
            ))
        # Data of an older cycle audited late does not undo a later correction.
        if later and discrepancy.status in CORRECTED:
            summary.reopened += 1
            _set_status(discrepancy, Status.OPEN, run, events, recovered=None,
                        note=f"seen again in cycle {cycle.code} after it was corrected")

    Discrepancy.objects.bulk_update(
        existing.values(),
        ["last_cycle", "first_cycle", "revenue_at_stake", "account", "status", "recovered",
         "updated_at"],
        batch_size=BATCH_SIZE,
    )
    return len(existing)


def _link_findings(
    groups: dict[tuple[str, str], _Group], discrepancies: dict[tuple[str, str], Discrepancy]
) -> None:
    findings = [
        Finding(pk=finding_id, discrepancy_id=discrepancies[group_key].pk)
        for group_key, group in groups.items()
        for finding_id in group.finding_ids
    ]
    Finding.objects.bulk_update(findings, ["discrepancy"], batch_size=BATCH_SIZE)


def _recount_cycles(discrepancy_ids: list[int]) -> None:
    """Set cycles_seen to the number of distinct cycles among each discrepancy's findings.

    Counting stored findings, not adding one per run, is what makes a re-run of a cycle
    count that cycle once.
    """
    for chunk in _chunks(discrepancy_ids):
        counts = (
            Finding.objects.filter(discrepancy_id__in=chunk)
            .values("discrepancy_id")
            .annotate(cycles=Count("run__cycle", distinct=True))
            .values_list("discrepancy_id", "cycles")
        )
        Discrepancy.objects.bulk_update(
            [Discrepancy(pk=pk, cycles_seen=cycles) for pk, cycles in counts],
            ["cycles_seen"],
        )


def _verify_corrected(run: AuditRun, events: list[DiscrepancyEvent]) -> int:
    """Mark verified_corrected the open-like discrepancies of earlier cycles this run lacks.

    The discrepancies this run saw already have this cycle (or a later one) as their
    last cycle, so filtering on an earlier last cycle leaves exactly the unseen ones.
    """
    # NOTE: a discrepancy that an earlier run of this same cycle found, and this re-run
    # does not, keeps its status. Only the data of a later cycle verifies a correction.
    cycle = run.cycle
    earlier = [
        other.pk for other in BillingCycle.objects.filter(entity_id=cycle.entity_id)
        if cycle_is_earlier(other, cycle)
    ]
    if not earlier:
        return 0
    corrected = list(
        Discrepancy.objects.filter(
            entity_id=cycle.entity_id, status__in=OPEN_LIKE, last_cycle_id__in=earlier
        ).select_related("last_cycle")
    )
    now = timezone.now()
    for discrepancy in corrected:
        discrepancy.updated_at = now
        _set_status(
            discrepancy, Status.VERIFIED_CORRECTED, run, events,
            recovered=discrepancy.revenue_at_stake,
            note=f"cycle {cycle.code} no longer shows it (last seen in cycle "
                 f"{discrepancy.last_cycle.code}); "
                 f"{format_usd(discrepancy.revenue_at_stake)} recovered per cycle",
        )
    Discrepancy.objects.bulk_update(
        corrected, ["status", "recovered", "updated_at"], batch_size=BATCH_SIZE
    )
    return len(corrected)


def _set_status(
    discrepancy: Discrepancy,
    new_status: str,
    run: AuditRun,
    events: list[DiscrepancyEvent],
    *,
    recovered: Decimal | None,
    note: str,
) -> None:
    """Change a status as the audit run, with an event and a change record (no actor)."""
    old_status = discrepancy.status
    if not audit_may_set(old_status, new_status):
        raise ValueError(f"an audit run cannot move discrepancy {discrepancy.pk} from "
                         f"{old_status} to {new_status}")
    old_recovered = discrepancy.recovered
    discrepancy.status = new_status
    discrepancy.recovered = recovered
    full_note = f"{note} (audit run {run.pk})"
    events.append(DiscrepancyEvent(
        discrepancy=discrepancy, cycle=run.cycle, old_status=old_status,
        new_status=new_status, note=full_note,
    ))
    record_change(
        None, discrepancy, new_status,
        {"status": [old_status, new_status],
         "recovered": [_text(old_recovered), _text(recovered)]},
        note=full_note,
    )


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), BATCH_SIZE):
        yield values[start:start + BATCH_SIZE]

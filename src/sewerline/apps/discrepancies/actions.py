"""Every change to a discrepancy: reconciliation after an audit, status changes, recoveries.

Each function writes its DiscrepancyEvent and ChangeRecord rows in the same
transaction as the change. Callers check the user's capability (views and the API ask
for REVIEW_DISCREPANCIES); these functions check only what the data allows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sewerline.apps.core.changes import record_change
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent, DiscrepancyStatus
from sewerline.apps.discrepancies.reconcile import ReconcileSummary, reconcile
from sewerline.apps.discrepancies.transitions import InvalidTransition, staff_may_set
from sewerline.engine.money import CENT
from sewerline.engine.report.formatting import format_usd

logger = logging.getLogger(__name__)

__all__ = [
    "InvalidTransition",
    "ReconcileSummary",
    "change_status",
    "reconcile",
    "record_recovery",
]

# Ids per IN (...) list: below SQLite's bound-variable limit.
BATCH_SIZE = 500


def change_status(
    actor,
    discrepancies: Iterable[Discrepancy | int] | QuerySet,
    new_status: str,
    note: str = "",
) -> int:
    """Set the status of every given discrepancy, all or none, and return how many changed.

    `discrepancies` is a queryset, or an iterable of Discrepancy objects or primary
    keys. Raises InvalidTransition, listing every discrepancy whose current status
    does not allow `new_status`, before anything is written; ValueError for a status
    that does not exist; Discrepancy.DoesNotExist for a missing id. Each discrepancy
    gets one event and one change record naming the actor.
    """
    if new_status not in DiscrepancyStatus.values:
        raise ValueError(
            f"unknown discrepancy status {new_status!r}; use one of "
            + ", ".join(DiscrepancyStatus.values)
        )

    with transaction.atomic():
        rows = _locked(discrepancies)
        rejected = [
            (discrepancy, discrepancy.status, new_status)
            for discrepancy in rows
            if not staff_may_set(discrepancy.status, new_status)
        ]
        if rejected:
            raise InvalidTransition(rejected)

        now = timezone.now()
        events = []
        for discrepancy in rows:
            old_status = discrepancy.status
            discrepancy.status = new_status
            discrepancy.updated_at = now
            events.append(DiscrepancyEvent(
                discrepancy=discrepancy, actor=_user(actor), old_status=old_status,
                new_status=new_status, note=note,
            ))
            record_change(actor, discrepancy, new_status,
                          {"status": [old_status, new_status]}, note=note)
        Discrepancy.objects.bulk_update(rows, ["status", "updated_at"], batch_size=BATCH_SIZE)
        DiscrepancyEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)

    logger.info("user %s set %d discrepancies to %s",
                getattr(actor, "pk", None), len(rows), new_status)
    return len(rows)


def record_recovery(actor, discrepancy: Discrepancy, amount: Decimal | str | int) -> Discrepancy:
    """Record the revenue recovered for a discrepancy, in dollars, with an event and change record.

    Raises ValueError for a float, a negative amount, a value that is not a number, or
    one with fractions of a cent. Returns the updated discrepancy.
    """
    recovered = _recovery_amount(amount)
    with transaction.atomic():
        locked = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        old = locked.recovered
        locked.recovered = recovered
        locked.save(update_fields=["recovered", "updated_at"])
        DiscrepancyEvent.objects.create(
            discrepancy=locked, actor=_user(actor),
            note=f"recovered {format_usd(recovered)}",
        )
        record_change(
            actor, locked, "recovery_recorded",
            {"recovered": [None if old is None else format(old, "f"), format(recovered, "f")]},
        )
    logger.info("user %s recorded a recovery on discrepancy %s",
                getattr(actor, "pk", None), locked.pk)
    return locked


def _recovery_amount(amount: Decimal | str | int) -> Decimal:
    if isinstance(amount, float):
        raise ValueError("pass the recovered amount as a Decimal or text, never a float")
    try:
        value = Decimal(str(amount).strip().replace(",", "").removeprefix("$"))
    except InvalidOperation:
        raise ValueError(f"recovered amount {amount!r} is not a number; "
                         "write dollars such as 1234.56") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"recovered amount {amount!r} must be zero or more dollars")
    if value != value.quantize(CENT):
        raise ValueError(f"recovered amount {amount!r} has fractions of a cent; "
                         "round it to the cent")
    return value.quantize(CENT)


def _locked(discrepancies: Iterable[Discrepancy | int] | QuerySet) -> list[Discrepancy]:
    """Fetch and lock the discrepancies in primary key order (a no-op lock on SQLite)."""
    if isinstance(discrepancies, QuerySet):
        ids = list(discrepancies.values_list("pk", flat=True))
    else:
        ids = [item.pk if isinstance(item, Discrepancy) else int(item) for item in discrepancies]
    requested = sorted(set(ids))
    rows: list[Discrepancy] = []
    for start in range(0, len(requested), BATCH_SIZE):
        chunk = requested[start:start + BATCH_SIZE]
        rows.extend(
            Discrepancy.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        )
    missing = sorted(set(requested) - {row.pk for row in rows})
    if missing:
        others = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise Discrepancy.DoesNotExist(f"discrepancy {missing[0]}{others} not found")
    return rows


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None

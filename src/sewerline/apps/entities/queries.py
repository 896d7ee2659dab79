"""Read-only queries shared by the dashboard and the entity pages."""

from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from sewerline.apps.audits.models import AuditRun
from sewerline.apps.cycles.models import BillingCycle


def with_latest_run(cycles: QuerySet[BillingCycle]) -> QuerySet[BillingCycle]:
    """Annotate each cycle with its latest finished audit run's id and totals, in one query.

    Adds run_id, billed_total, expected_total and at_stake_total (None for a cycle
    that no finished run audited).
    """
    latest = (AuditRun.objects.filter(cycle=OuterRef("pk"), finished_at__isnull=False)
              .order_by("-created_at", "-pk"))
    return cycles.annotate(
        run_id=Subquery(latest.values("pk")[:1]),
        billed_total=Subquery(latest.values("billed_total")[:1]),
        expected_total=Subquery(latest.values("expected_total")[:1]),
        at_stake_total=Subquery(latest.values("at_stake_total")[:1]),
    )


def count_of(queryset: QuerySet, field: str) -> Coalesce:
    """Return a subquery counting the rows of `queryset` whose `field` is the outer row."""
    counted = (queryset.filter(**{field: OuterRef("pk")}).order_by().values(field)
               .annotate(total=Count("pk")).values("total"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

# Cycles by end date, newest first; a cycle without an end date sorts last on every
# database (PostgreSQL would put it first, SQLite last).
NEWEST_FIRST = F("period_end").desc(nulls_last=True)

"""Pages that belong to no single domain: the dashboard and the health check."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.http import JsonResponse
from django.views.generic import TemplateView

from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.filters import AGE_BUCKETS, UNRESOLVED_STATUSES
from sewerline.apps.discrepancies.models import Discrepancy
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.entities.queries import NEWEST_FIRST, with_latest_run
from sewerline.engine.report.chart import render_bar_chart, render_grouped_bar_chart
from sewerline.engine.report.formatting import format_count, humanize_code

# Cycles per entity on the dashboard, newest last.
CYCLES_SHOWN = 12


@dataclass
class EntitySummary:
    """One entity's part of the dashboard."""

    entity: BillingEntity
    cycles: list[BillingCycle] = field(default_factory=list)
    cycle_chart: str = ""
    latest_run: AuditRun | None = None
    at_stake_rows: list[dict] = field(default_factory=list)
    at_stake_chart: str = ""


class HomeView(CapabilityRequiredMixin, TemplateView):
    """The dashboard: billed vs expected vs budget per cycle, revenue at stake, ages.

    The number of queries does not grow with the data: one for the entities and their
    latest runs, one for the cycles, one for the runs, one for the findings' sums and
    one for the discrepancy ages.
    """

    capability = Capability.VIEW
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        latest = (AuditRun.objects.filter(cycle__entity=OuterRef("pk"), finished_at__isnull=False)
                  .order_by("-created_at", "-pk"))
        entities = list(BillingEntity.objects.annotate(
            latest_run_id=Subquery(latest.values("pk")[:1])))
        summaries = {entity.pk: EntitySummary(entity) for entity in entities}

        _add_cycles(summaries)
        _add_at_stake(summaries, [e.latest_run_id for e in entities if e.latest_run_id])
        context["summaries"] = list(summaries.values())
        context.update(_age_buckets())
        return context


def _add_cycles(summaries: dict[int, EntitySummary]) -> None:
    """Attach each entity's latest cycles with audit totals and budget, and their chart."""
    cycles = (with_latest_run(BillingCycle.objects.all())
              .order_by("entity_id", NEWEST_FIRST, "-code"))
    for cycle in cycles:
        summary = summaries.get(cycle.entity_id)
        if summary is not None and len(summary.cycles) < CYCLES_SHOWN:
            summary.cycles.append(cycle)

    for summary in summaries.values():
        summary.cycles.reverse()
        audited = [c for c in summary.cycles if c.billed_total is not None or c.budget]
        if not audited:
            continue
        summary.cycle_chart = render_grouped_bar_chart(
            [(c.code, [c.billed_total, c.expected_total, c.budget]) for c in audited],
            ["Billed", "Expected", "Budget"],
            title=f"{summary.entity.name}: billed, expected and budgeted sewer revenue",
            description=f"Per cycle from {audited[0].code} to {audited[-1].code}, from the "
                        "latest audit run of each cycle; the table lists every amount.",
            chart_id=f"cycles-{summary.entity.pk}",
        )


def _add_at_stake(summaries: dict[int, EntitySummary], run_ids: list[int]) -> None:
    """Attach revenue at stake by finding type of each entity's latest run, with a chart."""
    runs = {run.pk: run for run in AuditRun.objects.filter(pk__in=run_ids)
            .select_related("cycle")}
    sums = (Finding.objects.filter(run_id__in=run_ids)
            .values("run_id", "finding_type")
            .annotate(total=Sum("revenue_at_stake"), findings=Count("pk"))
            .order_by("run_id", "-total", "finding_type"))
    rows_by_run = defaultdict(list)
    for row in sums:
        rows_by_run[row["run_id"]].append(row)

    for summary in summaries.values():
        run = runs.get(summary.entity.latest_run_id)
        if run is None:
            continue
        summary.latest_run = run
        summary.at_stake_rows = rows_by_run[run.pk]
        if summary.at_stake_rows:
            summary.at_stake_chart = render_bar_chart(
                [(humanize_code(row["finding_type"]), row["total"] or Decimal(0))
                 for row in summary.at_stake_rows],
                title=f"{summary.entity.name}: revenue at stake by finding type, "
                      f"cycle {run.cycle.code}",
                description="Dollars at stake in the latest audit run, one bar per "
                            "finding type; the table lists the counts too.",
                chart_id=f"at-stake-{summary.entity.pk}",
            )


def _age_buckets() -> dict:
    """Count unresolved discrepancies and their revenue at stake by cycles seen."""
    aggregates = {}
    for name, (fewest, most) in AGE_BUCKETS.items():
        condition = Q(cycles_seen__gte=fewest)
        if most is not None:
            condition &= Q(cycles_seen__lte=most)
        aggregates[f"count_{name}"] = Count("pk", filter=condition)
        aggregates[f"sum_{name}"] = Sum("revenue_at_stake", filter=condition)
    totals = Discrepancy.objects.filter(status__in=UNRESOLVED_STATUSES).aggregate(**aggregates)

    buckets = [
        {"name": name, "count": totals[f"count_{name}"],
         "at_stake": totals[f"sum_{name}"] or Decimal(0)}
        for name in AGE_BUCKETS
    ]
    chart = ""
    if any(bucket["count"] for bucket in buckets):
        chart = render_bar_chart(
            [(f"{bucket['name']} {'cycle' if bucket['name'] == '1' else 'cycles'}",
              Decimal(bucket["count"])) for bucket in buckets],
            title="Unresolved discrepancies by age",
            description="Number of open, confirmed, reported or acknowledged discrepancies "
                        "by the number of cycles they were seen in.",
            chart_id="age-chart",
            value_format=lambda value: format_count(int(value)),
        )
    return {"age_buckets": buckets, "age_chart": chart}


def health(request):
    """Return {"status": "ok"} without login, for load balancers and the test server's start-up."""
    return JsonResponse({"status": "ok"})

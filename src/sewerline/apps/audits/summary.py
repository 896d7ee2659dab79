"""Data of the run page: the run's state, and its totals as figures and charts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe

from sewerline.apps.audits.models import AuditRun
from sewerline.apps.jobs.models import JobStatus
from sewerline.engine.classify import AMOUNT_TYPES
from sewerline.engine.findings import FindingType
from sewerline.engine.report.chart import render_bar_chart
from sewerline.engine.report.formatting import humanize_code


def run_state(run: AuditRun) -> str:
    """Return queued, running, done or failed from the run's job.

    A run without a job (audited by calling run_audit directly) is done once it has
    totals, and queued before that.
    """
    if run.job is not None:
        return run.job.status
    return JobStatus.DONE if run.finished_at is not None else JobStatus.QUEUED


@dataclass(frozen=True)
class TypeLine:
    """Count and revenue at stake of one finding type in one run."""

    finding_type: str
    label: str
    count: int
    at_stake: Decimal


@dataclass(frozen=True)
class RunSummary:
    """Totals of a finished run, with the cycle's budget and two inline SVG charts."""

    billed: Decimal | None
    expected: Decimal | None
    budget: Decimal | None
    at_stake: Decimal | None
    lines: list[TypeLine]
    findings: int
    totals_chart: SafeString
    at_stake_chart: SafeString

    @property
    def billed_minus_expected(self) -> Decimal | None:
        if self.billed is None or self.expected is None:
            return None
        return self.billed - self.expected

    @property
    def billed_minus_budget(self) -> Decimal | None:
        if self.billed is None or self.budget is None:
            return None
        return self.billed - self.budget

    @classmethod
    def of(cls, run: AuditRun) -> RunSummary:
        """Build the summary from the run's stored totals (amounts stored as text)."""
        at_stake_by_type = run.totals.get("at_stake_by_type", {})
        count_by_type = run.totals.get("count_by_type", {})
        lines = [
            TypeLine(
                finding_type=ftype.value,
                label=humanize_code(ftype.value),
                count=int(count_by_type.get(ftype.value, 0)),
                at_stake=Decimal(at_stake_by_type.get(ftype.value, "0")),
            )
            for ftype in FindingType
        ]
        budget = run.cycle.budget
        totals = [("Billed", run.billed_total), ("Expected", run.expected_total),
                  ("Budget", budget)]
        totals_chart = render_bar_chart(
            [(label, amount) for label, amount in totals if amount is not None],
            title=f"Billed, expected and budgeted sewer revenue of cycle {run.cycle.code}",
            description="Sewer charges billed by the entity, what the rates give for the "
                        "cycle, and the cycle's budget, in dollars.",
            chart_id=f"run-{run.pk}-totals",
        )
        at_stake_chart = render_bar_chart(
            [(line.label, line.at_stake) for line in lines
             if line.finding_type in AMOUNT_TYPES],
            title=f"Revenue at stake by finding type, cycle {run.cycle.code}",
            description="Dollars at stake in the cycle for each finding type that "
                        "carries an amount. Account, owner, meter and class findings "
                        "explain these amounts and carry none of their own.",
            chart_id=f"run-{run.pk}-at-stake",
        )
        return cls(
            billed=run.billed_total,
            expected=run.expected_total,
            budget=budget,
            at_stake=run.at_stake_total,
            lines=lines,
            findings=int(run.totals.get("findings", sum(line.count for line in lines))),
            # render_bar_chart escapes every text it writes into the SVG.
            totals_chart=mark_safe(totals_chart),
            at_stake_chart=mark_safe(at_stake_chart),
        )

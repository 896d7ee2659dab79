"""The rates an audit uses: one schedule, or dated versions of one schedule, and their extras.

`Rater` hides whether bills are rated under one rate file or under several versions
of it (a rate change during the cycle). It also carries what every rating needs
besides the formulas: the water schedule of a sewer-as-percent-of-water rate and the
standard period length for proration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from sewerline.engine.proration import standard_days_for
from sewerline.engine.rates import BillTrace, RateSchedule, explain_rows, rate_bills
from sewerline.engine.rates.dated import (
    SCHEDULE_VERSION,
    ChangeMode,
    ScheduleSet,
    load_schedule_set,
    rate_bills_dated,
    split_periods,
)
from sewerline.engine.rates.water_percent import load_water_schedule


@dataclass(frozen=True)
class Rater:
    """Rates audit tables under the schedule, or under the versions of `schedule_set`.

    `schedule` is the only version, or the latest one of a set: classes, bill unit and
    cycle length are read from it (a set has one bill unit, which ScheduleSet checks).
    """

    schedule: RateSchedule
    schedule_set: ScheduleSet | None
    change_mode: ChangeMode
    water_schedule: RateSchedule | None
    standard_days: Decimal

    @property
    def versions(self) -> tuple[RateSchedule, ...]:
        return self.schedule_set.versions if self.schedule_set else (self.schedule,)

    def rate(self, table: pl.DataFrame, *, class_column: str, source: str,
             row_column: str) -> pl.DataFrame:
        """Return `expected_amount` and the charge columns for each row of the table."""
        if self.schedule_set is None:
            return rate_bills(table, self.schedule, class_column=class_column,
                              source=source, row_column=row_column)
        return rate_bills_dated(
            table, self.schedule_set, class_column=class_column, mode=self.change_mode,
            source=source, row_column=row_column,
        ).drop(SCHEDULE_VERSION)

    def explain(self, table: pl.DataFrame, *, class_column: str, source: str,
                row_column: str) -> list[str]:
        """Return a one-line explanation of each row's expected amount.

        A period split at a rate change is explained part by part, each under its version.
        """
        if self.schedule_set is None:
            traces = explain_rows(table, self.schedule, class_column, list(range(table.height)),
                                  row_column=row_column, source=source)
            return [trace.summary() for trace in traces]

        parts = split_periods(table, self.schedule_set, mode=self.change_mode, source=source,
                              row_column=row_column)
        by_date = {schedule.effective_date.isoformat(): schedule
                   for schedule in self.schedule_set.versions}
        summaries: list[list[str]] = [[] for _ in range(table.height)]
        for version, part_rows in parts.group_by(SCHEDULE_VERSION, maintain_order=True):
            schedule = by_date[version[0]]
            traces: list[BillTrace] = explain_rows(
                part_rows, schedule, class_column, list(range(part_rows.height)),
                row_column=row_column, source=source,
            )
            for position, trace in zip(part_rows.get_column("period_row"), traces,
                                       strict=True):
                summaries[position].append(f"rates of {version[0]}: {trace.summary()}")
        return [" + ".join(parts) for parts in summaries]


def load_rater(paths: Sequence[Path], *, change_mode: ChangeMode) -> Rater:
    """Read one rate file, or several versions of one schedule, into a Rater."""
    if len(paths) == 1:
        from sewerline.engine.rates import load_schedule

        schedule = load_schedule(paths[0])
        schedule_set = None
    else:
        schedule_set = load_schedule_set(paths)
        schedule = schedule_set.versions[-1]
    return Rater(
        schedule=schedule,
        schedule_set=schedule_set,
        change_mode=change_mode,
        water_schedule=load_water_schedule(schedule),
        standard_days=standard_days_for(schedule),
    )

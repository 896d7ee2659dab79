"""The winter window that applies to a billing cycle, from the rule's months and effective date."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sewerline.engine.winter.rule import WinterAverageRule


@dataclass(frozen=True)
class WinterWindow:
    """One winter: the months whose reads are averaged and the bills the average applies to.

    `start` is the first day of the window's first month and `end` the last day of its
    last month. The average applies to bills whose period ends from `effective_from`
    to `effective_until`, both included.
    """

    start: dt.date
    end: dt.date
    effective_from: dt.date
    effective_until: dt.date


def months_in_window_order(months: Iterable[int]) -> tuple[int, ...] | None:
    """Order calendar months as one consecutive run, wrapping at December.

    Returns None when the months do not form one run, such as (12, 2). {1, 2, 12}
    gives (12, 1, 2). All twelve months start at January.
    """
    chosen = set(months)
    if not chosen or not chosen <= set(range(1, 13)):
        return None
    if len(chosen) == 12:
        return tuple(range(1, 13))

    # The run starts at the one month whose predecessor is not chosen.
    starts = [month for month in chosen if (month - 2) % 12 + 1 not in chosen]
    if len(starts) != 1:
        return None
    first = starts[0]
    return tuple((first - 1 + offset) % 12 + 1 for offset in range(len(chosen)))


def effective_inside_window(months: tuple[int, ...], effective: tuple[int, int]) -> bool:
    """Return True when the effective month is one of the window's months.

    The average of a winter cannot take effect before the winter has ended.
    """
    return effective[0] in months


def window_for(rule: WinterAverageRule, as_of: dt.date) -> WinterWindow:
    """Return the winter whose average applies to a bill whose period ends on `as_of`.

    That is the last window that ended before the latest effective date on or before
    `as_of`. With the window December to February and effective 04-01, a bill ending
    2024-03-31 uses December 2022 to February 2023, and one ending 2024-04-01 uses
    December 2023 to February 2024.
    """
    month, day = rule.effective
    effective_from = dt.date(as_of.year, month, day)
    if effective_from > as_of:
        effective_from = dt.date(as_of.year - 1, month, day)
    effective_until = dt.date(effective_from.year + 1, month, day) - dt.timedelta(days=1)

    first_month, last_month = rule.months[0], rule.months[-1]
    end_year = effective_from.year
    if _last_day(end_year, last_month) >= effective_from:
        end_year -= 1
    # A window such as December to February starts in the year before it ends.
    start_year = end_year - 1 if first_month > last_month else end_year

    return WinterWindow(
        start=dt.date(start_year, first_month, 1),
        end=_last_day(end_year, last_month),
        effective_from=effective_from,
        effective_until=effective_until,
    )


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])

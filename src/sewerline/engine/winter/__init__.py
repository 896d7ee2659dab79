"""Winter average sewer volumes: the rule of a rate file, computed for every profile.

    rule = WinterAverageRule.from_schedule(schedule)          # None without the block
    history = read_history("usage_history.csv", usage_unit=UsageUnit.CCF)
    averages = compute_winter_averages(history, profiles, rule,
                                       bill_unit=schedule.bill_unit, as_of=period_end)
    expected = apply_new_customer_flat(expected, averages, rule)

The rule lives in the rate file under `metadata.sewerline.winter_average`; the
history layout is described in `history.py`.
"""

from sewerline.engine.winter.compute import WinterAverages, compute_winter_averages
from sewerline.engine.winter.explain import apply_new_customer_flat, explain_winter_average
from sewerline.engine.winter.history import History, read_history
from sewerline.engine.winter.rule import (
    AverageRounding,
    AverageSource,
    NewCustomerKind,
    NewCustomerRule,
    RoundingMode,
    Source,
    WindowKind,
    WinterAverageRule,
)
from sewerline.engine.winter.window import WinterWindow, window_for

__all__ = [
    "AverageRounding",
    "AverageSource",
    "History",
    "NewCustomerKind",
    "NewCustomerRule",
    "RoundingMode",
    "Source",
    "WindowKind",
    "WinterAverageRule",
    "WinterAverages",
    "WinterWindow",
    "apply_new_customer_flat",
    "compute_winter_averages",
    "explain_winter_average",
    "read_history",
    "window_for",
]

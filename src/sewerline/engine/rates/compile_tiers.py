"""Compiling Tiered and Budget charges: one start and one price column per tier.

Tier values that are numbers stay Decimal literals or, in a lookup, become one
`replace_strict` mapping per tier. Percentages become the budget column times the
share, and formulas (`indoor`, `15 * proration_factor`) compile like any formula, so
every row gets its own starts without Python code per row.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from sewerline.engine.errors import Problem
from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.rates.arithmetic import to_scale
from sewerline.engine.rates.parts import (
    USAGE,
    Lookup,
    Percent,
    Tiered,
    TierList,
    TierValue,
)
from sewerline.engine.rates.tiers import TierColumn, tiered_charge_expr

MISSING = pl.lit(None, dtype=DECIMAL)


class TierCompiling:
    """The tiered-charge methods of ClassCompiler (compile.py).

    ClassCompiler provides `rates`, `schedule`, `lookup_values`, `lookup_by_entry`,
    `node_expr`, `name_expr` and `add_check`, which these methods call.
    """

    def tier_value_expr(self, value: TierValue, budget: pl.Expr | None,
                        used: list[str]) -> pl.Expr | Decimal:
        """Return one tier value: a Decimal, or an expression for a percentage or formula."""
        if isinstance(value, Decimal):
            return to_scale(value)
        if isinstance(value, Percent):
            # Load checks give every charge with a percentage start a budget.
            assert budget is not None
            return budget * decimal_lit(value.share)
        return self.node_expr(value.node, value, used)

    def tier_columns(self, field_name: str, count: int, budget: pl.Expr | None,
                     used: list[str]) -> tuple[list[TierColumn], pl.Expr | int]:
        """Return one start or price column per tier and the length of each row's list."""
        part = self.rates.parts[field_name]
        if isinstance(part, TierList):
            columns = [TierColumn(self.tier_value_expr(value, budget, used))
                       for value in part.values]
            columns += [TierColumn(MISSING, pl.lit(False))] * (count - len(part.values))
            return columns, len(part.values)

        lengths = {len(entry.values) for entry in part.entries.values()}
        shortest = min(lengths)
        length: pl.Expr | int = lengths.pop() if len(lengths) == 1 else self.lookup_values(
            part, field_name, lambda entry: len(entry.values))
        numbers_only = all(entry.numbers_only for entry in part.entries.values())

        columns = []
        for index in range(count):
            exists = None
            if index >= shortest:
                exists = pl.lit(index < length) if isinstance(length, int) else length > index
            if numbers_only:
                def pick(entry: TierList, index: int = index) -> Decimal | None:
                    return to_scale(entry.values[index]) if index < len(entry.values) else None
                value = self.lookup_values(part, field_name, pick).cast(DECIMAL)
            else:
                def entry_value(entry: TierList, index: int = index) -> pl.Expr | None:
                    if index >= len(entry.values):
                        return None
                    item = self.tier_value_expr(entry.values[index], budget, used)
                    return decimal_lit(item) if isinstance(item, Decimal) else item
                value = self.lookup_by_entry(part, field_name, entry_value)
            columns.append(TierColumn(value, exists))
        return columns, length

    def tiered_expr(self, name: str, part: Tiered, used: list[str]) -> pl.Expr:
        count = max(_longest(self.rates.parts[part.starts]),
                    _longest(self.rates.parts[part.prices]))
        budget = self.name_expr(part.budget, used) if part.budget else None
        starts, start_length = self.tier_columns(part.starts, count, budget, used)
        prices, price_length = self.tier_columns(part.prices, count, None, used)
        if not (isinstance(start_length, int) and isinstance(price_length, int)):
            self.add_check(_as_expr(start_length) != _as_expr(price_length), Problem(
                code="tier_lengths_differ",
                message=f"class {self.rates.name}: {name} has a different number of tier "
                        f"starts ({part.starts}) and tier prices ({part.prices})",
                file=self.schedule.path, line=part.line,
                hint="Give every combination of keys as many tier prices as tier starts.",
            ), used)
        usage = self.name_expr(USAGE, used)
        return tiered_charge_expr(usage, starts, prices, round_up=part.rounds_starts_up)


def _as_expr(value: pl.Expr | int) -> pl.Expr:
    return pl.lit(value) if isinstance(value, int) else value


def _longest(part: TierList | Lookup) -> int:
    if isinstance(part, TierList):
        return len(part.values)
    return max(len(entry.values) for entry in part.entries.values()
               if isinstance(entry, TierList))

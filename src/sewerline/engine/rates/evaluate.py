"""Evaluation of one bill in Python Decimal, step by step, for bill traces.

Every operation goes through arithmetic.py, which rounds as Polars does, so the
amounts equal those of rate_bills for the same inputs.
"""

from __future__ import annotations

from decimal import Decimal

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import round_cents_python
from sewerline.engine.rates import formula as ast
from sewerline.engine.rates.arithmetic import (
    add,
    divide,
    multiply,
    round_half_up,
    subtract,
    to_scale,
)
from sewerline.engine.rates.keys import PART_SEPARATOR, canonical_row_key, display_row_key
from sewerline.engine.rates.parts import (
    USAGE,
    ClassRates,
    Constant,
    Formula,
    Lookup,
    LookupValue,
    Percent,
    RatePart,
    Tiered,
    TierList,
    TierValue,
)
from sewerline.engine.rates.schedule import RateSchedule
from sewerline.engine.rates.tiers import TierLine, tier_lines, tiered_amount

Value = Decimal | None


def format_number(value: Value) -> str:
    """Format a computed value without trailing zeros (4.488000000000 -> 4.488)."""
    if value is None:
        return "(missing)"
    text = format(value.normalize(), "f")
    return f"({text})" if value < 0 else text


class BillEvaluator:
    """Computes the fields of one class for one set of inputs, remembering each step.

    `numbers` contains the numeric inputs (Decimal at scale 12 or None) and `keys` the
    lookup key inputs as text (or None).
    """

    def __init__(self, schedule: RateSchedule, rates: ClassRates,
                 numbers: dict[str, Value], keys: dict[str, str | None], where: str):
        self.schedule = schedule
        self.rates = rates
        self.numbers = numbers
        self.keys = keys
        self.where = where
        self.values: dict[str, Value] = {}
        self.chosen_keys: dict[str, str | None] = {}
        self.tiers: dict[str, list[TierLine]] = {}

    def field(self, name: str) -> Value:
        """Return the unrounded value of a field of the class."""
        if name not in self.values:
            self.values[name] = self.compute(name, self.rates.parts[name])
        return self.values[name]

    def name(self, name: str, overrides: dict[str, Value] | None = None) -> Value:
        if overrides is not None and name in overrides:
            return overrides[name]
        if name in self.rates.parts:
            return self.field(name)
        return self.numbers[name]

    def compute(self, name: str, part: RatePart) -> Value:
        if isinstance(part, Constant):
            return to_scale(part.value)
        if isinstance(part, Formula):
            return self.formula(part.node, part)
        if isinstance(part, Lookup):
            entry = self.lookup_entry(name, part)
            return None if entry is None else self.entry_value(entry, part)
        if isinstance(part, Tiered):
            return self.tiered(name, part)
        raise TypeError(f"field {name} is a list of tier values, not a single value")

    def formula(self, node: ast.Node, part: Formula | Lookup,
                overrides: dict[str, Value] | None = None) -> Value:
        """Evaluate a formula; None (a missing input) makes the result None."""
        if isinstance(node, ast.Number):
            return to_scale(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.name, overrides)
        if isinstance(node, ast.Negate):
            operand = self.formula(node.operand, part, overrides)
            return None if operand is None else -operand
        if isinstance(node, ast.Round):
            operand = self.formula(node.operand, part, overrides)
            return None if operand is None else round_half_up(operand, node.digits)
        if isinstance(node, ast.Call):
            arguments = [self.formula(a, part, overrides) for a in node.arguments]
            if any(a is None for a in arguments):
                return None
            return min(arguments) if node.function == "min" else max(arguments)

        left = self.formula(node.left, part, overrides)
        right = self.formula(node.right, part, overrides)
        if left is None or right is None:
            return None
        if node.operator == "+":
            return add(left, right)
        if node.operator == "-":
            return subtract(left, right)
        if node.operator == "*":
            return multiply(left, right)
        if right == 0:
            raise InputError([Problem(
                code="division_by_zero",
                message=f"class {self.rates.name}: the formula {ast.format_formula(node)} "
                        f"divides by zero ({self.where})",
                file=self.schedule.path, line=part.line,
                hint="Correct the input value that the formula divides by.",
            )])
        return divide(left, right)

    def lookup_key(self, lookup: Lookup) -> str | None:
        texts = [self.keys[column] for column in lookup.depends_on]
        if any(text is None for text in texts):
            return None
        return PART_SEPARATOR.join(texts)

    def lookup_entry(self, name: str, lookup: Lookup) -> LookupValue | None:
        """Return the lookup's entry for the inputs' key; raise InputError if it has none."""
        text = self.lookup_key(lookup)
        self.chosen_keys[name] = None if text is None else display_row_key(text)
        if text is None:
            return None
        entry = lookup.entries.get(canonical_row_key(text))
        if entry is None:
            columns = "|".join(lookup.depends_on)
            written = ", ".join(lookup.keys_as_written.values())
            raise InputError([Problem(
                code="lookup_key_missing",
                message=f"class {self.rates.name}: {name} has no value for {columns} = "
                        f"{display_row_key(text)!r} ({self.where})",
                file=self.schedule.path, line=lookup.line, column=columns,
                value=display_row_key(text), expected=f"one of the keys: {written}",
                hint=f"Add the key to {name} in the rate file, or correct {columns} in the "
                     "input.",
            )])
        return entry

    def entry_value(self, entry: LookupValue, lookup: Lookup) -> Value:
        if isinstance(entry, Constant):
            return to_scale(entry.value)
        return self.formula(entry.node, lookup)

    def tier_list(self, field_name: str) -> tuple[TierValue, ...] | None:
        part = self.rates.parts[field_name]
        if isinstance(part, TierList):
            return part.values
        entry = self.lookup_entry(field_name, part)
        return None if entry is None else entry.values

    def tier_value(self, value: TierValue, budget: Value) -> Value:
        """Return one tier start or price: a number, a share of the budget or a formula."""
        if isinstance(value, Decimal):
            return value   # as written, so traces show 7.5 and not 7.500000000000
        if isinstance(value, Percent):
            return None if budget is None else multiply(budget, value.share)
        return self.formula(value.node, value)

    def tiered(self, name: str, part: Tiered) -> Value:
        starts = self.tier_list(part.starts)
        prices = self.tier_list(part.prices)
        usage = self.name(USAGE)
        if starts is None or prices is None or usage is None:
            return None
        if len(starts) != len(prices):
            raise InputError([Problem(
                code="tier_lengths_differ",
                message=f"class {self.rates.name}: {name} has {len(starts)} tier starts "
                        f"({part.starts}) but {len(prices)} tier prices ({part.prices}) "
                        f"({self.where})",
                file=self.schedule.path, line=part.line,
                hint="Give every combination of keys as many tier prices as tier starts.",
            )])

        budget = self.name(part.budget) if part.budget else None
        start_values = [self.tier_value(value, budget) for value in starts]
        price_values = [self.tier_value(value, None) for value in prices]
        if any(value is None for value in (*start_values, *price_values)):
            return None
        lines = tier_lines(usage, start_values, price_values,
                           round_up=part.rounds_starts_up,
                           written=[_written(value) for value in starts])
        self.tiers[name] = lines
        return tiered_amount(lines)

    def rounded(self, value: Value) -> Value:
        """Round a charge to the cent by the schedule's rule, kept at scale 12."""
        if value is None:
            return None
        return to_scale(round_cents_python(value, self.schedule.rounding))


def _written(value: TierValue) -> str:
    """Return a tier start as the rate file writes it, or "" for a plain number."""
    if isinstance(value, Percent):
        return f"{format(value.value.normalize(), 'f')}%"
    if isinstance(value, Formula):
        return value.text
    return ""

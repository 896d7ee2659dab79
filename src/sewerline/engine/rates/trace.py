"""Bill traces: how one expected amount was computed, for a finding's detail."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import Rounding, format_cents
from sewerline.engine.rates import formula as ast
from sewerline.engine.rates.arithmetic import to_scale
from sewerline.engine.rates.evaluate import BillEvaluator, Value, format_number
from sewerline.engine.rates.inputs import ROW, key_name, numeric_name, prepare_inputs
from sewerline.engine.rates.parts import USAGE, ClassRates, Constant, Formula, Lookup, Tiered
from sewerline.engine.rates.rating import check_classes, with_row_numbers
from sewerline.engine.rates.schedule import MAX_PROBLEMS, RateSchedule
from sewerline.engine.rates.tiers import TierLine
from sewerline.engine.units import UsageUnit

_RULE_WORDS = {
    Rounding.HALF_UP: "half-up",
    Rounding.HALF_EVEN: "half-even",
    Rounding.DOWN: "rounded down",
}


@dataclass(frozen=True)
class ComponentTrace:
    """One charge component of a bill.

    `formula` is the rate file's formula, or a description for a lookup or a tiered
    charge. `substituted` is the formula with the values in place of the names.
    """

    name: str
    formula: str
    substituted: str
    value: Decimal | None            # before rounding
    rounded: Decimal | None          # to the cent, by the schedule's rule
    tiers: tuple[TierLine, ...] = ()


@dataclass(frozen=True)
class BillTrace:
    """The computation of one expected amount: inputs, components, rounding and total."""

    class_name: str
    unit: UsageUnit
    inputs: dict[str, object]
    components: tuple[ComponentTrace, ...]
    bill_formula: str
    bill_substituted: str
    total: Decimal | None
    rounding: Rounding

    @property
    def rounding_text(self) -> str:
        return f"{_RULE_WORDS[self.rounding]} per component"

    def summary(self) -> str:
        """Return the computation on one line, for a finding's detail."""
        parts = [_component_summary(component) for component in self.components]
        total = format_cents(self.total) or "(missing)"
        plain_sum = self.bill_formula == " + ".join(c.name for c in self.components)
        if plain_sum and self.components:
            parts.append(f"bill = {total}")
        else:
            parts.append(f"bill = {self.bill_substituted} = {total}")
        return f"{self.class_name}: {'; '.join(parts)} ({self.unit}, {self.rounding_text})"

    def lines(self) -> list[str]:
        """Return the computation as lines for a printout, with every tier."""
        lines = [f"class {self.class_name}; usage in {self.unit}; {self.rounding_text}"]
        if self.inputs:
            given = ", ".join(f"{name} = {_input_text(value)}"
                              for name, value in self.inputs.items())
            lines.append(f"inputs: {given}")
        for component in self.components:
            value = format_number(component.value)
            rounded = format_cents(component.rounded) or "(missing)"
            lines.append(f"{component.name} = {component.formula} = {component.substituted} "
                         f"= {value} -> {rounded}")
            for number, tier in enumerate(component.tiers, start=1):
                end = f"to {format_number(tier.end)}" if tier.end is not None else "and up"
                start = format_number(tier.start)
                if tier.unrounded is not None:
                    start = f"{format_number(tier.unrounded)}, rounded up to {start},"
                if tier.written:
                    start = f"{tier.written} = {start}"
                lines.append(f"  tier {number}: {start} {end}: "
                             f"{format_number(tier.volume)} * {format_number(tier.price)} "
                             f"= {format_number(tier.amount)}")
        total = format_cents(self.total) or "(missing)"
        lines.append(f"bill = {self.bill_formula} = {self.bill_substituted} = {total}")
        return lines


def _input_text(value: object) -> str:
    if isinstance(value, Decimal):
        return format_number(value)
    return "(missing)" if value is None else str(value)


def _component_summary(component: ComponentTrace) -> str:
    rounded = format_cents(component.rounded) or "(missing)"
    if component.tiers:
        return f"{component.name} = tiers {component.substituted} = {rounded}"
    if component.substituted in (component.formula, rounded):
        return f"{component.name} = {rounded}"
    return f"{component.name} = {component.substituted} = {rounded}"


def explain_bill(schedule: RateSchedule, class_name: str,
                 inputs: dict[str, object]) -> BillTrace:
    """Compute one bill step by step and return its trace.

    `inputs` maps input column names to values: numbers as Decimal, int or str (never
    float), lookup keys as text. None or a blank string is a missing value, which
    makes the charges that use it (and the bill) None. Raises InputError for a class
    the schedule lacks, an input the class needs but `inputs` lacks, a value that is
    not a number, a lookup key the rate file lacks, or division by zero.
    """
    rates = schedule.class_rates(class_name).with_input_columns(set(inputs))
    problems = schedule.validate_columns(set(inputs), "the inputs", [class_name])
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    numbers = {column: _number(column, inputs[column]) for column in rates.numeric_columns}
    keys = {column: _key_text(inputs[column]) for column in rates.key_columns}
    return trace_bill(schedule, rates, numbers, keys, "the given inputs")


def explain_rows(table: pl.DataFrame, schedule: RateSchedule, class_column: str,
                 rows: list[int], *, row_column: str = "source_row",
                 source: str | None = None) -> list[BillTrace]:
    """Return the traces of the table rows at the given 0-based positions, in that order.

    Reads the inputs exactly as rate_bills does, so each trace's total equals the
    row's expected_amount.
    """
    label = source or "the input table"
    numbered = with_row_numbers(table, row_column)[rows]
    problems = check_classes(numbered, schedule, class_column, label)
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    classes = numbered[class_column].cast(pl.String).to_list()
    problems = schedule.validate_columns(set(table.columns), label, set(classes))
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    prepared: dict[str, list[dict[str, object]]] = {}
    class_rates = {class_name: schedule.classes[class_name].with_input_columns(set(table.columns))
                   for class_name in dict.fromkeys(classes)}
    for class_name, rates in class_rates.items():
        subset = numbered.filter(pl.col(class_column).cast(pl.String) == class_name)
        frame = prepare_inputs(subset, rates, file_label=label, problems=problems)
        prepared[class_name] = frame.to_dicts()
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    traces = []
    position = dict.fromkeys(prepared, 0)
    for class_name in classes:
        record = prepared[class_name][position[class_name]]
        position[class_name] += 1
        rates = class_rates[class_name]
        numbers = {c: record[numeric_name(c)] for c in rates.numeric_columns}
        keys = {c: record[key_name(c)] for c in rates.key_columns}
        traces.append(trace_bill(schedule, rates, numbers, keys, f"row {record[ROW]} of {label}"))
    return traces


def trace_bill(schedule: RateSchedule, rates: ClassRates, numbers: dict[str, Value],
               keys: dict[str, str | None], where: str) -> BillTrace:
    """Evaluate one bill of a class and return its trace."""
    evaluator = BillEvaluator(schedule, rates, numbers, keys, where)
    rounded: dict[str, Value] = {}
    components = []
    for name in rates.components:
        value = evaluator.field(name)
        rounded[name] = evaluator.rounded(value)
        formula, substituted = _describe(evaluator, name)
        components.append(ComponentTrace(
            name=name, formula=formula, substituted=substituted, value=value,
            rounded=rounded[name], tiers=tuple(evaluator.tiers.get(name, ())),
        ))

    bill = rates.parts["bill"]
    if isinstance(bill, Formula):
        total = evaluator.rounded(evaluator.formula(bill.node, bill, rounded))
        bill_formula = ast.format_formula(bill.node)
        bill_substituted = ast.format_formula(
            bill.node, lambda n: _name_text(evaluator, n, rounded))
    else:
        total = evaluator.rounded(evaluator.field("bill"))
        bill_formula, bill_substituted = _describe(evaluator, "bill")

    inputs: dict[str, object] = {**keys, **numbers}
    return BillTrace(
        class_name=rates.name, unit=schedule.bill_unit, inputs=inputs,
        components=tuple(components), bill_formula=bill_formula,
        bill_substituted=bill_substituted, total=total, rounding=schedule.rounding,
    )


def _name_text(evaluator: BillEvaluator, name: str,
               rounded: dict[str, Value] | None = None) -> str:
    if rounded is not None and name in rounded:
        return format_cents(rounded[name]) or "(missing)"
    part = evaluator.rates.parts.get(name)
    if isinstance(part, Constant):
        text = format(part.value, "f")
        return f"({text})" if part.value < 0 else text
    return format_number(evaluator.name(name))


def _describe(evaluator: BillEvaluator, name: str) -> tuple[str, str]:
    """Return a field's formula (or description) and the same with values filled in."""
    part = evaluator.rates.parts[name]
    if isinstance(part, Constant):
        text = format(part.value, "f")
        return text, text
    if isinstance(part, Formula):
        return (ast.format_formula(part.node),
                ast.format_formula(part.node, lambda n: _name_text(evaluator, n)))
    if isinstance(part, Lookup):
        columns = "|".join(part.depends_on)
        key = evaluator.chosen_keys.get(name)
        described = f"lookup by {columns}"
        entry = evaluator.lookup_entry(name, part) if key is not None else None
        if entry is None:
            return described, f"{columns} (missing)"
        if isinstance(entry, Formula):
            filled = ast.format_formula(entry.node, lambda n: _name_text(evaluator, n))
            return described, f"[{columns} {key}] {filled}"
        return described, f"[{columns} {key}] {format(entry.value, 'f')}"
    if isinstance(part, Tiered):
        budget = f"; budget {part.budget}" if part.budget else ""
        described = f"{part.kind} on {USAGE} ({part.starts}, {part.prices}{budget})"
        lines = evaluator.tiers.get(name, [])
        used = [line for line in lines if line.volume != 0] or lines[:1]
        filled = " + ".join(f"{format_number(line.volume)} * {format_number(line.price)}"
                            for line in used)
        return described, filled or "(missing)"
    return name, name


def _number(column: str, value: object) -> Value:
    if value is None:
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, float):
        raise TypeError(f"input {column!r} is a float; pass a Decimal, int or str so that "
                        "no binary rounding enters the amounts")
    if isinstance(value, Decimal | int):
        return to_scale(Decimal(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        return to_scale(Decimal(text))
    except ArithmeticError:
        raise InputError([Problem(
            code="input_not_numeric", message=f"input {column!r} is not a number",
            column=column, value=text, expected="a number such as 4.5",
            hint="Pass the value as a plain number.",
        )]) from None


def _key_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"   # as Polars casts a Boolean to text
    text = str(value)
    return text if text.strip() else None


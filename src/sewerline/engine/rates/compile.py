"""Compiling one customer class's rates to Polars expressions over its prepared inputs.

Each field the bill needs becomes one column `f:<name>`, computed once, in stages:
a field is computed in the stage after the last field it uses, so the fields of one
stage run in parallel. Lookups are turned into `replace_strict` mappings built from
the distinct key values of the input, so no Python code runs per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from sewerline.engine.errors import Problem
from sewerline.engine.money import DECIMAL, decimal_lit, round_cents
from sewerline.engine.rates import formula as ast
from sewerline.engine.rates.arithmetic import to_scale
from sewerline.engine.rates.compile_tiers import TierCompiling
from sewerline.engine.rates.inputs import (
    INDEX,
    ROW,
    describe_rows,
    example_rows,
    key_name,
    numeric_name,
)
from sewerline.engine.rates.keys import PART_SEPARATOR, canonical_row_key, display_row_key
from sewerline.engine.rates.parts import (
    ClassRates,
    Constant,
    Formula,
    Lookup,
    LookupValue,
    Tiered,
)
from sewerline.engine.rates.schedule import RateSchedule

EXPECTED = "expected_amount"
MAX_BAD_KEYS = 20


def charge_column(component: str) -> str:
    """Return the output column name of a charge component."""
    return f"charge:{component}"


def field_column(name: str) -> str:
    return f"f:{name}"


def lookup_key_expr(depends_on: tuple[str, ...]) -> pl.Expr:
    """Return a row's key text: the key columns joined by PART_SEPARATOR (null if any is)."""
    if len(depends_on) == 1:
        return pl.col(key_name(depends_on[0]))
    return pl.concat_str([pl.col(key_name(c)) for c in depends_on], separator=PART_SEPARATOR)


@dataclass
class _Check:
    """A condition on rows that makes the bill impossible, reported after rating."""

    column: str
    problem: Problem


class ClassCompiler(TierCompiling):
    """Builds the rated columns of one class over a frame from inputs.prepare_inputs."""

    def __init__(self, schedule: RateSchedule, rates: ClassRates, frame: pl.DataFrame,
                 problems: list[Problem], label: str = "the input table"):
        self.schedule = schedule
        self.label = label
        self.rates = rates
        self.frame = frame
        self.problems = problems
        self.stage_of: dict[str, int] = {}
        self.stages: list[list[pl.Expr]] = []
        self.checks: list[_Check] = []
        self.key_maps: dict[str, dict[str, str]] = {}   # lookup field -> key text map

    # Lookup keys -------------------------------------------------------------------

    def key_map(self, lookup: Lookup, field_name: str) -> dict[str, str]:
        """Map each distinct key text of the input to its canonical key in `lookup`.

        Key texts the lookup lacks are reported once per lookup with example rows.
        """
        if field_name in self.key_maps:
            return self.key_maps[field_name]
        key_expr = lookup_key_expr(lookup.depends_on)
        texts = self.frame.select(key_expr.unique().alias("key"))["key"].to_list()
        mapping: dict[str, str] = {}
        missing: list[str] = []
        for text in texts:
            if text is None:
                continue
            canonical = canonical_row_key(text)
            if canonical in lookup.entries:
                mapping[text] = canonical
            else:
                missing.append(text)

        written = ", ".join(lookup.keys_as_written.values())
        columns = "|".join(lookup.depends_on)
        for text in sorted(missing)[:MAX_BAD_KEYS]:
            count = self.frame.filter(key_expr == text).height
            rows = example_rows(self.frame, key_expr == text)
            self.problems.append(Problem(
                code="lookup_key_missing",
                message=f"class {self.rates.name}: {field_name} has no value for "
                        f"{columns} = {display_row_key(text)!r} "
                        f"({describe_rows(rows, count)} of {self.label})",
                file=self.schedule.path, line=lookup.line, column=columns,
                value=display_row_key(text), expected=f"one of the keys: {written}",
                hint=f"Add the key to {field_name} in the rate file, or correct {columns} "
                     "in the input.",
            ))
        self.key_maps[field_name] = mapping
        return mapping

    def lookup_values(self, lookup: Lookup, field_name: str,
                      value: Callable[[LookupValue], object]) -> pl.Expr:
        """Return the lookup's `value(entry)` per row, by replace_strict on the key text."""
        mapping = self.key_map(lookup, field_name)
        new = {text: value(lookup.entries[canonical]) for text, canonical in mapping.items()}
        return lookup_key_expr(lookup.depends_on).replace_strict(new, default=None)

    # Fields ------------------------------------------------------------------------

    def field_expr(self, name: str) -> pl.Expr:
        """Return the expression reading field `name`, scheduling its column if needed."""
        part = self.rates.parts[name]
        if isinstance(part, Constant):
            return decimal_lit(to_scale(part.value))
        if name not in self.stage_of:
            expr, stage = self.build(name)
            while len(self.stages) <= stage:
                self.stages.append([])
            self.stages[stage].append(expr.alias(field_column(name)))
            self.stage_of[name] = stage
        return pl.col(field_column(name))

    def stage_after(self, names: list[str]) -> int:
        stages = [self.stage_of[n] for n in names if n in self.stage_of]
        return max(stages, default=-1) + 1

    def build(self, name: str) -> tuple[pl.Expr, int]:
        part = self.rates.parts[name]
        used: list[str] = []
        if isinstance(part, Formula):
            expr = self.node_expr(part.node, part, used)
        elif isinstance(part, Lookup):
            expr = self.lookup_expr(name, part, used)
        elif isinstance(part, Tiered):
            expr = self.tiered_expr(name, part, used)
        else:
            raise TypeError(f"field {name} of kind {type(part).__name__} has no single value")
        return expr, self.stage_after(used)

    def name_expr(self, name: str, used: list[str],
                  overrides: dict[str, pl.Expr] | None = None) -> pl.Expr:
        if overrides and name in overrides:
            used.append(name)
            return overrides[name]
        if name in self.rates.parts:
            expr = self.field_expr(name)
            used.append(name)
            return expr
        return pl.col(numeric_name(name))

    def node_expr(self, node: ast.Node, part: Formula | Lookup, used: list[str],
                  overrides: dict[str, pl.Expr] | None = None) -> pl.Expr:
        """Compile a formula's syntax tree; division by a zero value is checked per row.

        Names in `overrides` read the given expression instead of the field (the bill
        reads its rounded components this way).
        """
        def compile_child(child: ast.Node) -> pl.Expr:
            return self.node_expr(child, part, used, overrides)

        if isinstance(node, ast.Number):
            return decimal_lit(to_scale(node.value))
        if isinstance(node, ast.Name):
            return self.name_expr(node.name, used, overrides)
        if isinstance(node, ast.Negate):
            return -compile_child(node.operand)
        if isinstance(node, ast.Round):
            return compile_child(node.operand).round(node.digits, mode="half_away_from_zero")
        if isinstance(node, ast.Call):
            arguments = [compile_child(a) for a in node.arguments]
            combine = pl.min_horizontal if node.function == "min" else pl.max_horizontal
            # min_horizontal skips nulls; a missing input must give a missing result.
            any_null = pl.any_horizontal([a.is_null() for a in arguments])
            return pl.when(any_null).then(None).otherwise(combine(arguments)).cast(DECIMAL)

        left = compile_child(node.left)
        right = compile_child(node.right)
        if node.operator == "+":
            return left + right
        if node.operator == "-":
            return left - right
        if node.operator == "*":
            return left * right
        if isinstance(node.right, ast.Number) and to_scale(node.right.value) != 0:
            return left / right
        # Polars raises on a zero Decimal divisor for the whole table; make it null and
        # report the rows instead.
        # NOTE: a division inside a lookup value is checked on every row of the class,
        # also on rows whose key selects another value.
        self.add_check(right == 0, Problem(
            code="division_by_zero",
            message=f"class {self.rates.name}: the formula {ast.format_formula(node)} divides "
                    "by zero",
            file=self.schedule.path, line=part.line,
            hint="Correct the input value that the formula divides by.",
        ), used)
        return left / pl.when(right != 0).then(right)

    def add_check(self, condition: pl.Expr, problem: Problem, used: list[str]) -> None:
        column = f"check:{len(self.checks)}"
        self.checks.append(_Check(column, problem))
        stage = self.stage_after(used)
        while len(self.stages) <= stage:
            self.stages.append([])
        self.stages[stage].append(condition.fill_null(False).alias(column))

    def lookup_expr(self, name: str, lookup: Lookup, used: list[str]) -> pl.Expr:
        if all(isinstance(v, Constant) for v in lookup.entries.values()):
            return self.lookup_values(
                lookup, name, lambda entry: to_scale(entry.value)).cast(DECIMAL)
        return self.lookup_by_entry(lookup, name,
                                    lambda entry: self.entry_expr(entry, lookup, used))

    def lookup_by_entry(self, lookup: Lookup, field_name: str,
                        entry_expr: Callable[[LookupValue], pl.Expr | None]) -> pl.Expr:
        """Return `entry_expr(entry)` of each row's entry, for entries that are formulas.

        Each row's key picks the entry's position, and a when/then chain picks the
        expression; an entry whose `entry_expr` is None gives null.
        """
        positions = {canonical: index for index, canonical in enumerate(lookup.entries)}
        mapping = self.key_map(lookup, field_name)
        position = lookup_key_expr(lookup.depends_on).replace_strict(
            {text: positions[canonical] for text, canonical in mapping.items()},
            default=None, return_dtype=pl.Int32)
        chain = None
        for canonical, entry in lookup.entries.items():
            expr = entry_expr(entry)
            if expr is None:
                continue
            condition = position == positions[canonical]
            chain = (pl.when(condition) if chain is None else chain.when(condition)).then(expr)
        if chain is None:
            return pl.lit(None, dtype=DECIMAL)
        return chain.otherwise(None).cast(DECIMAL)

    def entry_expr(self, entry: LookupValue, lookup: Lookup, used: list[str]) -> pl.Expr:
        if isinstance(entry, Constant):
            return decimal_lit(to_scale(entry.value))
        return self.node_expr(entry.node, lookup, used)

    # The whole class -----------------------------------------------------------------

    def rated(self) -> pl.LazyFrame:
        """Return a lazy frame of INDEX, ROW, the charge columns, EXPECTED and the checks."""
        charges = {c: round_cents(self.field_expr(c), self.schedule.rounding)
                   for c in self.rates.components}
        bill = self.rates.parts["bill"]
        if isinstance(bill, Formula):
            bill_expr = self.node_expr(bill.node, bill, [], overrides=charges)
        else:
            bill_expr = self.field_expr("bill")

        frame = self.staged()
        outputs = [pl.col(INDEX), pl.col(ROW)]
        outputs += [expr.alias(charge_column(c)) for c, expr in charges.items()]
        outputs.append(round_cents(bill_expr, self.schedule.rounding).alias(EXPECTED))
        outputs += [pl.col(check.column) for check in self.checks]
        return frame.select(outputs)

    def staged(self) -> pl.LazyFrame:
        """Return the input frame with the columns of every scheduled field."""
        frame = self.frame.lazy()
        for stage in self.stages:
            frame = frame.with_columns(stage)
        return frame

    def field_values(self, name: str) -> pl.Series:
        """Return the unrounded values of one field for every row (for tests and debugging).

        Division by zero gives null here; rated() reports it instead.
        """
        expr = self.field_expr(name)
        return self.staged().select(expr.cast(DECIMAL).alias(name)).collect()[name]

    def report_checks(self, result: pl.DataFrame) -> None:
        """Add a problem for each check that some rows fail, with example rows."""
        for check in self.checks:
            failing = result[check.column]
            count = int(failing.sum())
            if count == 0:
                continue
            rows = example_rows(result, pl.col(check.column))
            problem = check.problem
            self.problems.append(Problem(
                code=problem.code,
                message=f"{problem.message} ({describe_rows(rows, count)} of {self.label})",
                file=problem.file, line=problem.line, hint=problem.hint,
            ))

"""Checks across the fields of one class: names, tier lists, kinds of values, cycles, inputs.

Any name a formula uses that is not a field of the class, directly or through a tier
set (see names.py), is an input column. So a misspelt name cannot be caught here:
RateSchedule.validate_columns compares these columns with the input table's.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from sewerline.engine.errors import Problem
from sewerline.engine.rates.formula import referenced_names, rename_names
from sewerline.engine.rates.names import NameResolver
from sewerline.engine.rates.parts import (
    DATA_DEFAULTS,
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
from sewerline.engine.rates.tier_checks import (
    TierChecker,
    is_list_valued,
    tier_list_candidates,
)

__all__ = ["ClassChecker", "tier_list_candidates"]

logger = logging.getLogger(__name__)


class ClassChecker:
    """Validates one class's parts and works out its components and input columns."""

    def __init__(self, file: str, name: str, line: int, parts: dict[str, RatePart],
                 problems: list[Problem]):
        self.file = file
        self.name = name
        self.line = line
        self.parts = parts
        self.problems = problems

    def problem(self, code: str, message: str, line: int, **details: str | None) -> None:
        self.problems.append(Problem(
            code=code, message=f"class {self.name}: {message}", file=self.file, line=line,
            **details,
        ))

    def check(self) -> ClassRates | None:
        """Return the validated class, or None when a problem was found."""
        before = len(self.problems)
        if "bill" not in self.parts:
            self.problem("bill_missing", "the class has no bill formula", self.line,
                         column="bill", hint="Add bill: with the sum of the class's charges, "
                                             "for example bill: service_charge+commodity_charge.")
            return None

        self.resolve_names()
        TierChecker(self.parts, self.problem).resolve_all()
        self.check_kinds()
        self.check_cycles()
        if len(self.problems) > before:
            return None

        numeric: dict[str, int] = {}
        keys: dict[str, int] = {}
        seen: set[str] = set()
        self.collect_columns("bill", numeric, keys, seen)
        components = self.components()
        defaults = {name: self.parts[name].line for name in DATA_DEFAULTS
                    if name in seen and isinstance(self.parts[name], Constant)
                    and name not in components and name != "bill"}
        self.warn_unused_tier_lists()
        return ClassRates(self.name, self.line, dict(self.parts), components,
                          numeric, keys, defaults)

    def warn_unused_tier_lists(self) -> None:
        """Log tier lists that no tiered charge uses, which usually means a missing charge.

        Los Angeles's 2017 file, for example, gives INDUSTRIAL tier lists but no
        `commodity_charge: Tiered`, so its bill reads commodity_charge as an input column.
        """
        used = {name for part in self.parts.values() if isinstance(part, Tiered)
                for name in (part.starts, part.prices)}
        for name, part in self.parts.items():
            if "tier_starts" in name and name not in used:
                logger.warning("%s line %d: class %s: %s is not used by any Tiered or Budget "
                               "charge", self.file, part.line, self.name, name)

    def components(self) -> tuple[str, ...]:
        bill = self.parts["bill"]
        if not isinstance(bill, Formula):
            return ()
        return tuple(name for name in referenced_names(bill.node) if name in self.parts)

    # Names -------------------------------------------------------------------------

    def resolve_names(self) -> None:
        """Rewrite short names of tier-set fields (`indoor` for indoor_commodity) in formulas."""
        resolver = NameResolver(self.parts)
        if not resolver.sets:
            return
        for name, part in list(self.parts.items()):
            self.parts[name] = self.renamed_part(name, part, resolver)

    def renamed_part(self, user: str, part: RatePart, resolver: NameResolver) -> RatePart:
        if isinstance(part, Formula):
            return self.renamed_formula(user, part, resolver)
        if isinstance(part, TierList):
            return self.renamed_list(user, part, resolver)
        if isinstance(part, Lookup):
            entries: dict[str, LookupValue] = {}
            for key, entry in part.entries.items():
                if isinstance(entry, Formula):
                    entries[key] = self.renamed_formula(user, entry, resolver)
                elif isinstance(entry, TierList):
                    entries[key] = self.renamed_list(user, entry, resolver)
                else:
                    entries[key] = entry
            return replace(part, entries=entries)
        return part

    def renamed_list(self, user: str, part: TierList, resolver: NameResolver) -> TierList:
        values = tuple(self.renamed_formula(user, value, resolver)
                       if isinstance(value, Formula) else value for value in part.values)
        return replace(part, values=values)

    def renamed_formula(self, user: str, part: Formula, resolver: NameResolver) -> Formula:
        new_names: dict[str, str] = {}
        for used in referenced_names(part.node):
            found = resolver.resolve(used, user)
            if isinstance(found, list):
                self.problem("name_ambiguous", f"{user} uses {used!r}, which may mean any of "
                             f"the fields {', '.join(found)}", part.line, column=user,
                             value=used, expected="the full name of one field",
                             hint=f"Write the full field name in the formula of {user}.")
            elif found != used:
                new_names[used] = found
        if not new_names:
            return part
        return replace(part, node=rename_names(part.node, new_names))

    # Kinds and cycles ---------------------------------------------------------------

    def check_kinds(self) -> None:
        """Report list-valued fields used as numbers and lookups keyed on fields."""
        for name, part in self.parts.items():
            for used in _formula_names(part):
                target = self.parts.get(used)
                if target is not None and is_list_valued(target):
                    self.check_list_as_number(name, part, used, target)
            if isinstance(part, Lookup):
                for column in part.depends_on:
                    if column in self.parts:
                        self.problem("lookup_key_is_field", f"{name} depends on {column}, "
                                     "which is a field of the class, not an input column",
                                     part.line, column=name, value=column,
                                     hint="Lookups are keyed on input columns such as "
                                          "meter_size; rename the field or the column.")
        bill = self.parts["bill"]
        if is_list_valued(bill):
            self.problem("lookup_value_kind", "bill is a list", bill.line, column="bill",
                         expected="a formula", hint="Write bill: as the sum of the charges.")

    def check_list_as_number(self, name: str, part: RatePart, used: str,
                             target: RatePart) -> None:
        single = _single_values(target)
        if single is not None:
            # A one-value list is a plain number, as in R, where OWRS began.
            self.parts[used] = single
            return
        formula = _single_formula(target)
        if formula is not None:
            # Burbank's 2016 file lists `- 1.785*usage_ccf` as the rate that
            # commodity_charge multiplies by usage_ccf again.
            self.problem("lookup_value_kind", f"{name} uses {used} as a number, but {used} "
                         f"is a one-value list holding the formula {formula.text!r}",
                         formula.line, column=used, value=formula.text,
                         expected="a number in a one-value list, or a formula without the list",
                         hint=f"Remove the '- ' before the formula if {used} is meant to be "
                              "a formula, and check that usage is not multiplied twice.")
            return
        self.problem("lookup_value_kind", f"{name} uses {used} as a number, but {used} is a "
                     "list of tier values", part.line, column=name, value=used,
                     expected="a number or formula",
                     hint="Make the charge Tiered, or give a single value.")

    def dependencies(self, name: str) -> list[str]:
        part = self.parts[name]
        used = list(_formula_names(part))
        if isinstance(part, Tiered):
            used += [part.starts, part.prices, USAGE]
            if part.budget:
                used.append(part.budget)
        return [item for item in used if item in self.parts]

    def check_cycles(self) -> None:
        state: dict[str, str] = {}   # "open" while on the current path, then "done"
        reported: set[frozenset[str]] = set()

        def visit(name: str, path: list[str]) -> None:
            state[name] = "open"
            path.append(name)
            for used in self.dependencies(name):
                if state.get(used) == "open":
                    cycle = path[path.index(used):] + [used]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        self.problem("formula_cycle", "formulas refer to each other in a "
                                     f"cycle: {' -> '.join(cycle)}", self.parts[used].line,
                                     column=used, hint="Break the cycle: one of these fields "
                                                       "must not use the others.")
                elif used not in state:
                    visit(used, path)
            path.pop()
            state[name] = "done"

        for name in self.parts:
            if name not in state:
                visit(name, [])

    # Input columns -------------------------------------------------------------------

    def collect_columns(self, name: str, numeric: dict[str, int], keys: dict[str, int],
                        seen: set[str]) -> None:
        """Record the input columns `name` needs, with the first line that uses each."""
        if name in seen:
            return
        seen.add(name)
        part = self.parts[name]

        if isinstance(part, Lookup):
            for column in part.depends_on:
                keys.setdefault(column, part.line)
        for used in _formula_names(part):
            if used in self.parts:
                self.collect_columns(used, numeric, keys, seen)
            else:
                numeric.setdefault(used, _line_using(part, used))
        if isinstance(part, Tiered):
            self.collect_columns(part.starts, numeric, keys, seen)
            self.collect_columns(part.prices, numeric, keys, seen)
            needed = [(USAGE, part.line)]
            if part.budget:
                needed.append((part.budget, _percent_line(self.parts[part.starts])))
            for used, line in needed:
                if used in self.parts:
                    self.collect_columns(used, numeric, keys, seen)
                else:
                    numeric.setdefault(used, line)


def _single_values(part: RatePart) -> RatePart | None:
    """Return a list-valued field as numbers when every list is one number."""
    if isinstance(part, TierList):
        [value, *rest] = part.values
        return Constant(value, part.line) if not rest and isinstance(value, Decimal) else None
    if isinstance(part, Lookup) and all(
        isinstance(value, TierList) and len(value.values) == 1
        and isinstance(value.values[0], Decimal) for value in part.entries.values()
    ):
        entries: dict[str, LookupValue] = {key: Constant(value.values[0], value.line)
                                           for key, value in part.entries.items()}
        return replace(part, entries=entries)
    return None


def _single_formula(part: RatePart) -> Formula | None:
    """Return the first formula that is the only value of one of a field's lists."""
    for tier_list in _lists_of(part):
        if len(tier_list.values) == 1 and isinstance(tier_list.values[0], Formula):
            return tier_list.values[0]
    return None


def _lists_of(part: RatePart) -> list[TierList]:
    if isinstance(part, TierList):
        return [part]
    if isinstance(part, Lookup):
        return [value for value in part.entries.values() if isinstance(value, TierList)]
    return []


def _list_formulas(values: tuple[TierValue, ...]) -> list[Formula]:
    return [value for value in values if isinstance(value, Formula)]


def _formulas_of(part: RatePart) -> list[Formula]:
    """Return every formula of a field: its own, its lookup values' and its lists'."""
    if isinstance(part, Formula):
        return [part]
    if isinstance(part, TierList):
        return _list_formulas(part.values)
    if isinstance(part, Lookup):
        formulas: list[Formula] = []
        for value in part.entries.values():
            if isinstance(value, Formula):
                formulas.append(value)
            elif isinstance(value, TierList):
                formulas += _list_formulas(value.values)
        return formulas
    return []


def _formula_names(part: RatePart) -> list[str]:
    names: list[str] = []
    for formula in _formulas_of(part):
        names += [n for n in referenced_names(formula.node) if n not in names]
    return names


def _line_using(part: RatePart, name: str) -> int:
    for formula in _formulas_of(part):
        if name in referenced_names(formula.node):
            return formula.line
    return part.line


def _percent_line(part: RatePart) -> int:
    """Return the line of the first percentage tier start of a starts field."""
    for tier_list in _lists_of(part):
        for value in tier_list.values:
            if isinstance(value, Percent):
                return value.line
    return part.line

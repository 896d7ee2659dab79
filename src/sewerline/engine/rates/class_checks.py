"""Checks across the fields of one class: tier lists, kinds of values, cycles, inputs.

Any name a formula uses that is not a field of the class is an input column, so a
misspelt name cannot be caught here; RateSchedule.validate_columns compares these
columns with the input table's.
"""

from __future__ import annotations

from dataclasses import replace

from sewerline.engine.errors import Problem
from sewerline.engine.rates.formula import referenced_names
from sewerline.engine.rates.parts import (
    USAGE,
    ClassRates,
    Constant,
    Formula,
    Lookup,
    RatePart,
    Tiered,
    TierList,
)


def tier_list_candidates(charge: str) -> list[tuple[str, str]]:
    """List the (starts, prices) field names a Tiered charge may use, most specific first.

    For `commodity_charge` these are tier_starts_commodity / commodity_tier_starts
    (OWRS and RateParser spellings), then the same for each word of the name (so
    `variable_drought_surcharge` finds tier_starts_drought), then plain tier_starts.
    """
    stems = [charge.removesuffix("_charge"), charge]
    stems += [word for word in charge.split("_") if word and word not in ("charge", "surcharge")]
    pairs: list[tuple[str, str]] = []
    for stem in stems:
        for pair in ((f"tier_starts_{stem}", f"tier_prices_{stem}"),
                     (f"{stem}_tier_starts", f"{stem}_tier_prices")):
            if pair not in pairs:
                pairs.append(pair)
    pairs.append(("tier_starts", "tier_prices"))
    return pairs


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

        self.resolve_tiered()
        self.check_kinds()
        self.check_cycles()
        if len(self.problems) > before:
            return None

        numeric: dict[str, int] = {}
        keys: dict[str, int] = {}
        self.collect_columns("bill", numeric, keys, set())
        return ClassRates(self.name, self.line, dict(self.parts), self.components(),
                          numeric, keys)

    def components(self) -> tuple[str, ...]:
        bill = self.parts["bill"]
        if not isinstance(bill, Formula):
            return ()
        return tuple(name for name in referenced_names(bill.node) if name in self.parts)

    def resolve_tiered(self) -> None:
        for name, part in list(self.parts.items()):
            if not isinstance(part, Tiered):
                continue
            candidates = tier_list_candidates(name)
            found = next(((s, p) for s, p in candidates if s in self.parts), None)
            if found is None:
                tried = ", ".join(starts for starts, _ in candidates)
                self.problem("tier_lists_missing", f"{name} is Tiered but the class has no "
                             "tier starts for it", part.line, column=name,
                             expected=f"one of the fields {tried}",
                             hint="Add the tier starts and tier prices lists.")
                continue
            starts, prices = found
            if prices not in self.parts:
                self.problem("tier_lists_missing", f"{name} has {starts} but no {prices}",
                             part.line, column=name, expected=prices,
                             hint="Add the tier prices list, one price per tier start.")
                continue
            self.parts[name] = replace(part, starts=starts, prices=prices)
            self.check_tier_lists(name, starts, prices)

    def check_tier_lists(self, charge: str, starts_name: str, prices_name: str) -> None:
        starts = self.parts[starts_name]
        prices = self.parts[prices_name]
        for field_name, part in ((starts_name, starts), (prices_name, prices)):
            if not _is_list_valued(part):
                self.problem("tier_list_kind", f"{field_name}, the tier list of {charge}, is "
                             "not a list", part.line, column=field_name,
                             expected="a list, or depends_on with a list per key",
                             hint="Write one value per tier as a YAML list.")
                return

        for _, key, values in _lists_of(starts):
            where = f"{starts_name}[{key}]" if key else starts_name
            if values[0] != 0:
                self.problem("tiers_not_ascending", f"{where} starts at {values[0]}, not 0",
                             starts.line, column=starts_name, value=str(values[0]),
                             expected="a first tier start of 0",
                             hint="Start the first tier at 0; give a price of 0 for free usage.")
            descending = [(a, b) for a, b in zip(values, values[1:], strict=False) if b < a]
            if descending:
                a, b = descending[0]
                self.problem("tiers_not_ascending", f"tier starts of {where} are not in "
                             f"ascending order ({b} follows {a})", starts.line,
                             column=starts_name, value=", ".join(str(v) for v in values),
                             expected="tier starts from lowest to highest",
                             hint="Sort the tier starts and their prices together.")

        self.check_tier_lengths(charge, starts_name, starts, prices_name, prices)

    def check_tier_lengths(self, charge: str, starts_name: str, starts: RatePart,
                           prices_name: str, prices: RatePart) -> None:
        start_lists = {canonical: (key, values) for canonical, key, values in _lists_of(starts)}
        price_lists = {canonical: (key, values) for canonical, key, values in _lists_of(prices)}
        same_keys = (isinstance(starts, Lookup) and isinstance(prices, Lookup)
                     and starts.depends_on == prices.depends_on)
        if same_keys:
            pairs = [(key, values, price_lists[canonical][1])
                     for canonical, (key, values) in start_lists.items()
                     if canonical in price_lists]
        elif isinstance(starts, Lookup) and isinstance(prices, Lookup):
            # Keys of different columns meet only row by row, so unless every list has
            # one length, rating checks the pairs that occur.
            start_lengths = {len(values) for _, values in start_lists.values()}
            price_lengths = {len(values) for _, values in price_lists.values()}
            if len(start_lengths) > 1 or len(price_lengths) > 1:
                return
            pairs = [("", next(iter(start_lists.values()))[1],
                      next(iter(price_lists.values()))[1])]
        else:
            pairs = [(s_key or p_key, s_values, p_values)
                     for s_key, s_values in start_lists.values()
                     for p_key, p_values in price_lists.values()]

        for key, start_values, price_values in pairs:
            if len(start_values) != len(price_values):
                where = f" for key {key!r}" if key else ""
                self.problem("tier_lengths_differ", f"{charge} has {len(start_values)} tier "
                             f"starts but {len(price_values)} tier prices{where}",
                             prices.line, column=prices_name,
                             expected=f"as many values in {prices_name} as in {starts_name}",
                             hint="Give every tier one start and one price.")
                return

    def check_kinds(self) -> None:
        """Report list-valued fields used as numbers and lookups keyed on fields."""
        for name, part in self.parts.items():
            for used in _formula_names(part):
                target = self.parts.get(used)
                if target is not None and _is_list_valued(target):
                    single = _single_values(target)
                    if single is not None:
                        # A one-value list is a plain number, as in R, where OWRS began.
                        self.parts[used] = single
                        continue
                    self.problem("lookup_value_kind", f"{name} uses {used} as a number, but "
                                 f"{used} is a list of tier values", part.line, column=name,
                                 value=used, expected="a number or formula",
                                 hint="Make the charge Tiered, or give a single value.")
            if isinstance(part, Lookup):
                for column in part.depends_on:
                    if column in self.parts:
                        self.problem("lookup_key_is_field", f"{name} depends on {column}, "
                                     "which is a field of the class, not an input column",
                                     part.line, column=name, value=column,
                                     hint="Lookups are keyed on input columns such as "
                                          "meter_size; rename the field or the column.")
        bill = self.parts["bill"]
        if _is_list_valued(bill):
            self.problem("lookup_value_kind", "bill is a list", bill.line, column="bill",
                         expected="a formula", hint="Write bill: as the sum of the charges.")

    def dependencies(self, name: str) -> list[str]:
        part = self.parts[name]
        used = list(_formula_names(part))
        if isinstance(part, Tiered):
            used += [part.starts, part.prices, USAGE]
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
            if name not in state and not isinstance(self.parts[name], TierList):
                visit(name, [])

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
            if USAGE in self.parts:
                self.collect_columns(USAGE, numeric, keys, seen)
            else:
                numeric.setdefault(USAGE, part.line)


def _is_list_valued(part: RatePart) -> bool:
    return isinstance(part, TierList) or (isinstance(part, Lookup) and part.has_lists)


def _single_values(part: RatePart) -> RatePart | None:
    """Return a list-valued field as numbers when every list has exactly one value."""
    if isinstance(part, TierList):
        return Constant(part.values[0], part.line) if len(part.values) == 1 else None
    if isinstance(part, Lookup) and all(
        isinstance(value, TierList) and len(value.values) == 1 for value in part.entries.values()
    ):
        entries = {key: Constant(value.values[0], value.line)
                   for key, value in part.entries.items()}
        return replace(part, entries=entries)
    return None


def _lists_of(part: RatePart) -> list[tuple[str, str, tuple]]:
    """Return (canonical key, key as written, values) for each list of a tier list field.

    A plain list has the empty key.
    """
    if isinstance(part, TierList):
        return [("", "", part.values)]
    if isinstance(part, Lookup):
        return [(key, part.keys_as_written[key], value.values)
                for key, value in part.entries.items() if isinstance(value, TierList)]
    return []


def _formula_names(part: RatePart) -> list[str]:
    if isinstance(part, Formula):
        return referenced_names(part.node)
    if isinstance(part, Lookup):
        names: list[str] = []
        for value in part.entries.values():
            if isinstance(value, Formula):
                names += [n for n in referenced_names(value.node) if n not in names]
        return names
    return []


def _line_using(part: RatePart, name: str) -> int:
    if isinstance(part, Lookup):
        for value in part.entries.values():
            if isinstance(value, Formula) and name in referenced_names(value.node):
                return value.line
    return part.line


"""Tiered and Budget charges of one class: finding their tier lists and budget, checking them.

A charge finds its tier lists by name (tier_list_candidates) and, when a tier start is a
percentage, the budget that the percentage is a share of (budget_candidates). Starts
that are numbers must begin at 0 and ascend, and so must the percentages among them.
Starts that are formulas are known only per row, so they are not compared here. A
start below an earlier one leaves its tier empty (see tiers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from sewerline.engine.rates.parts import (
    Lookup,
    Percent,
    RatePart,
    Tiered,
    TierList,
    TierValue,
)

Report = Callable[..., None]


def tier_list_candidates(charge: str) -> list[tuple[str, str]]:
    """List the (starts, prices) field names a Tiered charge may use, most specific first.

    For `commodity_charge` these are tier_starts_commodity / commodity_tier_starts
    (OWRS and RateParser spellings), then the same for each word of the name (so
    `variable_drought_surcharge` finds tier_starts_drought), then plain tier_starts.
    """
    pairs: list[tuple[str, str]] = []
    for stem in _stems(charge):
        for pair in ((f"tier_starts_{stem}", f"tier_prices_{stem}"),
                     (f"{stem}_tier_starts", f"{stem}_tier_prices")):
            if pair not in pairs:
                pairs.append(pair)
    pairs.append(("tier_starts", "tier_prices"))
    return pairs


def budget_candidates(charge: str, starts_field: str) -> list[str]:
    """List the field names that may hold the budget of a charge, most specific first.

    The tier set of the starts field comes first (budget_commodity for
    tier_starts_commodity, sewer_budget for sewer_tier_starts, as RateParser names the
    budget of `sewer_charge`), then the stems of the charge's name, then plain `budget`.
    """
    stems = []
    if starts_field.startswith("tier_starts_"):
        stems.append(starts_field.removeprefix("tier_starts_"))
    if starts_field.endswith("_tier_starts"):
        stems.append(starts_field.removesuffix("_tier_starts"))
    stems += _stems(charge)

    names: list[str] = []
    for stem in stems:
        for name in (f"budget_{stem}", f"{stem}_budget"):
            if name not in names:
                names.append(name)
    names.append("budget")
    return names


def _stems(charge: str) -> list[str]:
    stems = [charge.removesuffix("_charge"), charge]
    stems += [word for word in charge.split("_") if word and word not in ("charge", "surcharge")]
    return list(dict.fromkeys(stems))


def tier_lists_of(part: RatePart) -> list[tuple[str, str, TierList]]:
    """Return (canonical key, key as written, list) for each list of a tier list field.

    A plain list has the empty key.
    """
    if isinstance(part, TierList):
        return [("", "", part)]
    if isinstance(part, Lookup):
        return [(key, part.keys_as_written[key], value)
                for key, value in part.entries.items() if isinstance(value, TierList)]
    return []


def is_list_valued(part: RatePart) -> bool:
    return isinstance(part, TierList) or (isinstance(part, Lookup) and part.has_lists)


class TierChecker:
    """Resolves the tier lists and budget of each Tiered or Budget charge and checks them.

    `report(code, message, line, **details)` records a problem of the class.
    """

    def __init__(self, parts: dict[str, RatePart], report: Report):
        self.parts = parts
        self.report = report

    def resolve_all(self) -> None:
        """Fill in the tier lists and budget of every tiered charge of the class."""
        for name, part in list(self.parts.items()):
            if isinstance(part, Tiered):
                self.resolve(name, part)

    def resolve(self, name: str, part: Tiered) -> None:
        candidates = tier_list_candidates(name)
        found = next(((s, p) for s, p in candidates if s in self.parts), None)
        if found is None:
            tried = ", ".join(starts for starts, _ in candidates)
            self.report("tier_lists_missing", f"{name} is {part.kind} but the class has no "
                        "tier starts for it", part.line, column=name,
                        expected=f"one of the fields {tried}",
                        hint="Add the tier starts and tier prices lists.")
            return
        starts, prices = found
        if prices not in self.parts:
            self.report("tier_lists_missing", f"{name} has {starts} but no {prices}",
                        part.line, column=name, expected=prices,
                        hint="Add the tier prices list, one price per tier start.")
            return
        if not self.check_lists(name, starts, prices):
            return

        budget = ""
        if self.has_percent(starts):
            budget = self.resolve_budget(name, starts)
        self.parts[name] = replace(part, starts=starts, prices=prices, budget=budget)

    def has_percent(self, field_name: str) -> bool:
        return any(isinstance(value, Percent)
                   for _, _, tier_list in tier_lists_of(self.parts[field_name])
                   for value in tier_list.values)

    def resolve_budget(self, charge: str, starts: str) -> str:
        """Return the field (or else the input column) that percentage starts refer to."""
        candidates = budget_candidates(charge, starts)
        budget = next((name for name in candidates if name in self.parts), "budget")
        if budget == charge:
            # Corona's 2014 file writes `budget: Tiered` and `commodity_charge: budget`,
            # so the percentages would be shares of the charge they compute.
            self.report("budget_is_charge", f"{charge} is a tiered charge with tier starts "
                        f"that are percentages of the budget, but the budget field is "
                        f"{charge} itself", self.parts[charge].line, column=charge,
                        expected=f"a budget field ({', '.join(candidates)}) that is a "
                                 "number, formula or input column",
                        hint=f"Write the budget as a formula, for example "
                             f"budget: indoor + outdoor, and make the charge {charge}: Budget.")
            return ""
        return budget

    def check_lists(self, charge: str, starts_name: str, prices_name: str) -> bool:
        """Check the kinds, order and lengths of a charge's tier lists; False on a problem."""
        starts = self.parts[starts_name]
        prices = self.parts[prices_name]
        for field_name, part in ((starts_name, starts), (prices_name, prices)):
            if not is_list_valued(part):
                self.report("tier_list_kind", f"{field_name}, the tier list of {charge}, is "
                            "not a list", part.line, column=field_name,
                            expected="a list, or depends_on with a list per key",
                            hint="Write one value per tier as a YAML list.")
                return False

        fine = True
        for _, key, tier_list in tier_lists_of(prices):
            percent = next((v for v in tier_list.values if isinstance(v, Percent)), None)
            if percent is not None:
                where = f"{prices_name}[{key}]" if key else prices_name
                self.report("tier_value_invalid", f"{where} contains {percent.value}%, but a "
                            "tier price cannot be a percentage", percent.line,
                            column=prices_name, value=f"{percent.value}%",
                            expected="a price per unit, as a number or formula",
                            hint="Write the price in dollars per unit of usage.")
                fine = False
        for _, key, tier_list in tier_lists_of(starts):
            where = f"{starts_name}[{key}]" if key else starts_name
            fine = self.check_order(where, starts_name, tier_list.line, tier_list.values) and fine
        return self.check_lengths(charge, starts_name, starts, prices_name, prices) and fine

    def check_order(self, where: str, starts_name: str, line: int,
                    values: tuple[TierValue, ...]) -> bool:
        first = values[0]
        if not (isinstance(first, Decimal) and first == 0):
            written = f"{first.value}%" if isinstance(first, Percent) else (
                first.text if not isinstance(first, Decimal) else str(first))
            self.report("tiers_not_ascending", f"{where} starts at {written}, not 0", line,
                        column=starts_name, value=written, expected="a first tier start of 0",
                        hint="Start the first tier at 0; give a price of 0 for free usage.")
            return False

        # Numbers must not decrease, and neither must percentages of the one budget.
        for kind in (Decimal, Percent):
            same_kind = [_number(value) for value in values if isinstance(value, kind)]
            descending = [(a, b) for a, b in zip(same_kind, same_kind[1:], strict=False)
                          if b < a]
            if descending:
                a, b = descending[0]
                suffix = "%" if kind is Percent else ""
                self.report("tiers_not_ascending", f"tier starts of {where} are not in "
                            f"ascending order ({b}{suffix} follows {a}{suffix})", line,
                            column=starts_name, value=", ".join(_text(v) for v in values),
                            expected="tier starts from lowest to highest",
                            hint="Sort the tier starts and their prices together.")
                return False
        return True

    def check_lengths(self, charge: str, starts_name: str, starts: RatePart,
                      prices_name: str, prices: RatePart) -> bool:
        start_lists = {canonical: (key, tier_list.values)
                       for canonical, key, tier_list in tier_lists_of(starts)}
        price_lists = {canonical: (key, tier_list.values)
                       for canonical, key, tier_list in tier_lists_of(prices)}
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
                return True
            pairs = [("", next(iter(start_lists.values()))[1],
                      next(iter(price_lists.values()))[1])]
        else:
            pairs = [(s_key or p_key, s_values, p_values)
                     for s_key, s_values in start_lists.values()
                     for p_key, p_values in price_lists.values()]

        for key, start_values, price_values in pairs:
            if len(start_values) != len(price_values):
                where = f" for key {key!r}" if key else ""
                self.report("tier_lengths_differ", f"{charge} has {len(start_values)} tier "
                            f"starts but {len(price_values)} tier prices{where}",
                            prices.line, column=prices_name,
                            expected=f"as many values in {prices_name} as in {starts_name}",
                            hint="Give every tier one start and one price.")
                return False
        return True


def _number(value: Decimal | Percent) -> Decimal:
    return value.value if isinstance(value, Percent) else value


def _text(value: TierValue) -> str:
    if isinstance(value, Percent):
        return f"{value.value}%"
    if isinstance(value, Decimal):
        return str(value)
    return value.text

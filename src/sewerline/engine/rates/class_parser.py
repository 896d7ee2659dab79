"""Turning one customer class of a rate file into rate parts, collecting every problem."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sewerline.engine.errors import Problem
from sewerline.engine.rates.formula import FormulaError, parse_formula
from sewerline.engine.rates.keys import canonical_file_key
from sewerline.engine.rates.parts import (
    BUDGET,
    TIERED,
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
from sewerline.engine.rates.yaml_lines import Item

_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_PERCENT_TEXT = re.compile(r"\s*(\d+\.?\d*|\.\d+)\s*%\s*")
_BUDGET_WORDS = ("indoor", "outdoor")


def parse_number(item: Item) -> Decimal | None:
    """Return a scalar's number, also for numbers written as strings ("2.1"), else None."""
    if not item.is_scalar or item.kind in ("bool", "null", "timestamp"):
        return None
    text = str(item.value)
    if not _NUMBER_TEXT.fullmatch(text):
        return None
    try:
        return Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        return None


class ClassParser:
    """Builds the parts of one class; problems go to the shared list, parts stay out."""

    def __init__(self, file: str, class_name: str, problems: list[Problem]):
        self.file = file
        self.class_name = class_name
        self.problems = problems

    def problem(self, code: str, message: str, line: int, **details: str | None) -> None:
        self.problems.append(Problem(
            code=code, message=f"class {self.class_name}: {message}", file=self.file,
            line=line, **details,
        ))

    def parse_part(self, name: str, item: Item) -> RatePart | None:
        """Return the rate part a class field's YAML value describes, or None on a problem."""
        if item.kind == "list":
            return self.parse_tier_list(name, item)
        if item.kind == "map":
            return self.parse_lookup(name, item)
        if item.value in (TIERED, BUDGET):
            # Tier lists and the budget are resolved per class, by ClassChecker.
            return Tiered(starts="", prices="", line=item.line, kind=str(item.value))
        return self.parse_scalar(name, item)

    def parse_scalar(self, name: str, item: Item) -> Constant | Formula | None:
        number = parse_number(item)
        if number is not None:
            return Constant(number, item.line)
        if item.kind in ("null", "bool", "timestamp") or not str(item.value).strip():
            self.problem(
                "rate_value_invalid", f"{name} has no usable value", item.line, column=name,
                value=None if item.kind == "null" else str(item.value),
                expected="a number, a formula, Tiered, or depends_on with values",
                hint="Write the charge or rate, for example 2.1 or flat_rate*usage_ccf.",
            )
            return None

        text = str(item.value)
        try:
            node = parse_formula(text)
        except FormulaError as error:
            self.problem(
                "formula_invalid", f"formula of {name} is invalid at position "
                f"{error.position}: {error.reason}", item.line, column=name, value=text,
                hint="Use numbers, names, + - * /, parentheses, min(), max() and round(x, n).",
            )
            return None
        return Formula(" ".join(text.split()), node, item.line)

    def parse_tier_list(self, name: str, item: Item) -> TierList | None:
        values: list[TierValue] = []
        for element in item.value:
            value = self.parse_tier_value(name, element)
            if value is None:
                return None
            values.append(value)
        if not values:
            self.problem("tier_list_empty", f"{name} is an empty list", item.line, column=name,
                         hint="List one value per tier.")
            return None
        return TierList(tuple(values), item.line)

    def parse_tier_value(self, name: str, element: Item) -> TierValue | None:
        """Return one value of a list: a number, a percentage or a formula such as `indoor`."""
        number = parse_number(element)
        if number is not None:
            return number
        text = str(element.value) if element.is_scalar else element.kind
        if not element.is_scalar or element.kind in ("null", "bool", "timestamp"):
            self.problem(
                "tier_value_invalid", f"{name} contains {text!r}, which is not a tier value",
                element.line, column=name, value=text,
                expected="a number, a percentage of the budget such as 125%, or a formula",
                hint="Write one number, percentage or formula per line of the list.",
            )
            return None

        percent = _PERCENT_TEXT.fullmatch(text)
        if percent:
            return Percent(Decimal(percent[1]), element.line)
        if text.strip().lower() in _BUDGET_WORDS:
            # RateParser's get_budget_tiers reads these two words in any case.
            text = text.strip().lower()
        try:
            node = parse_formula(text)
        except FormulaError as error:
            self.problem(
                "tier_value_invalid", f"{name} contains {text!r}, which is neither a number, "
                f"a percentage nor a formula (position {error.position}: {error.reason})",
                element.line, column=name, value=text,
                expected="a number, a percentage of the budget such as 125%, or a formula",
                hint="Write tier values as 15, 125% or a formula such as indoor + outdoor.",
            )
            return None
        return Formula(" ".join(text.split()), node, element.line)

    def parse_lookup(self, name: str, item: Item) -> Lookup | None:
        mapping: dict[str, Item] = item.value
        if "depends_on" not in mapping or "values" not in mapping:
            self.problem(
                "lookup_invalid", f"{name} is a mapping without both depends_on and values",
                item.line, column=name, value=", ".join(mapping),
                expected="depends_on (input columns) and values (one entry per key)",
                hint="Write the value as a number or formula, or give both depends_on and values.",
            )
            return None

        depends_on = self.parse_depends_on(name, mapping["depends_on"])
        values_item = mapping["values"]
        if depends_on is None:
            return None
        if values_item.kind != "map" or not values_item.value:
            self.problem("lookup_invalid", f"values of {name} is not a mapping of keys to values",
                         values_item.line, column=name,
                         hint="Write one 'key: value' line per key under values.")
            return None

        entries: dict[str, LookupValue] = {}
        keys_as_written: dict[str, str] = {}
        failed = False
        for key, value_item in values_item.value.items():
            value = self.parse_lookup_value(name, key, value_item)
            if value is None:
                failed = True
                continue
            if len(key.split("|")) < len(depends_on):
                columns = ", ".join(depends_on)
                self.problem(
                    "lookup_key_parts", f"key {key!r} of {name} names fewer values than "
                    f"depends_on has columns ({columns})", value_item.line, column=name,
                    value=key, expected=f"{len(depends_on)} values joined by |",
                    hint="Join one value per depends_on column with |, for example "
                         "5/8\"|inside_city, or remove the extra column from depends_on.",
                )
                failed = True
                continue
            canonical = canonical_file_key(key, len(depends_on))
            earlier = entries.get(canonical)
            if earlier is not None and _comparable(earlier) != _comparable(value):
                self.problem(
                    "lookup_key_repeated", f"{name} has keys {keys_as_written[canonical]!r} "
                    f"and {key!r}, which match the same input values but give different values",
                    value_item.line, column=name, value=key,
                    hint="Keep one of the two keys; case, spaces, _, | and - do not tell keys "
                         "apart.",
                )
                failed = True
                continue
            entries[canonical] = value
            keys_as_written.setdefault(canonical, key)

        kinds = {isinstance(value, TierList) for value in entries.values()}
        if len(kinds) > 1:
            self.problem(
                "lookup_value_kind", f"values of {name} mix lists and single values",
                values_item.line, column=name,
                expected="all lists (tier starts or prices) or all numbers and formulas",
                hint="Give every key the same kind of value.",
            )
            return None
        if failed:
            return None
        return Lookup(depends_on, entries, keys_as_written, item.line)

    def parse_depends_on(self, name: str, item: Item) -> tuple[str, ...] | None:
        if item.is_scalar and item.kind == "str" and str(item.value).strip():
            return (str(item.value).strip(),)
        if item.kind == "list" and item.value and all(
            element.is_scalar and str(element.value).strip() for element in item.value
        ):
            return tuple(str(element.value).strip() for element in item.value)
        self.problem("lookup_invalid", f"depends_on of {name} does not name input columns",
                     item.line, column=name, expected="a column name or a list of column names",
                     hint="For example depends_on: meter_size.")
        return None

    def parse_lookup_value(self, name: str, key: str, item: Item) -> LookupValue | None:
        if item.kind == "list":
            return self.parse_tier_list(f"{name}[{key}]", item)
        if item.kind == "map":
            self.problem("lookup_value_kind", f"value of {name} for key {key!r} is a mapping",
                         item.line, column=name, value=key,
                         expected="a number, a formula or a list of tier values",
                         hint="Nested depends_on is not supported; list the keys of all "
                              "columns in one depends_on.")
            return None
        if item.value in (TIERED, BUDGET):
            self.problem("lookup_value_kind", f"value of {name} for key {key!r} is {item.value}",
                         item.line, column=name, value=str(item.value),
                         expected="a number, a formula or a list of tier values",
                         hint="Make the charge Tiered and let its tier lists depend on the column.")
            return None
        return self.parse_scalar(f"{name}[{key}]", item)


def _comparable(value: LookupValue) -> object:
    if isinstance(value, Formula):
        return value.node
    if isinstance(value, TierList):
        return tuple(_comparable_tier_value(v) for v in value.values)
    return value.value


def _comparable_tier_value(value: TierValue) -> object:
    if isinstance(value, Formula):
        return value.node
    if isinstance(value, Percent):
        return ("%", value.value)
    return value

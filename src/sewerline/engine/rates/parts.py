"""The parts of a customer class's rates, as read from a rate file.

Each part keeps the YAML line it came from, so every later problem (a missing lookup
key, an unknown input column) can point at the line to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sewerline.engine.rates.arithmetic import to_scale
from sewerline.engine.rates.formula import Node

TIERED = "Tiered"
BUDGET = "Budget"
USAGE = "usage_ccf"   # OWRS's name for the period's usage, in the file's bill_unit

# Input columns that OWRS names as data. A class field of one of these names that is a
# plain number (`days_in_period: 30.4`) is a default: an input column of the same name
# replaces it, as in RateParser, which skips a field whose name is already a column.
DATA_DEFAULTS = ("usage_ccf", "days_in_period", "hhsize", "et_amount", "irr_area")


@dataclass(frozen=True)
class Constant:
    """A number, kept as written (21.00 stays 21.00 in traces)."""

    value: Decimal
    line: int


@dataclass(frozen=True)
class Formula:
    """An arithmetic formula over fields of the class and input columns.

    `text` is the formula as written; `node` may name fields by their full names where
    the text uses a tier-set short name (see names.py).
    """

    text: str
    node: Node
    line: int


@dataclass(frozen=True)
class Percent:
    """A tier start written as a percentage of the charge's budget: `125%` is 1.25 x budget."""

    value: Decimal   # the number before the percent sign
    line: int

    @property
    def share(self) -> Decimal:
        """The share of the budget at the engine's scale: 1.25 for 125%."""
        return to_scale(self.value.scaleb(-2))


# One value of a tier list: a number, a percentage of the budget, or a formula such
# as `indoor` or `15 * proration_factor`.
TierValue = Decimal | Percent | Formula


@dataclass(frozen=True)
class TierList:
    """A list of tier starts or tier prices."""

    values: tuple[TierValue, ...]
    line: int

    @property
    def numbers_only(self) -> bool:
        return all(isinstance(value, Decimal) for value in self.values)


LookupValue = Constant | Formula | TierList


@dataclass(frozen=True)
class Lookup:
    """A value chosen by the values of one or more input columns (OWRS `depends_on`).

    `entries` maps the canonical key (see keys.py) to its value; `keys_as_written`
    maps the same canonical key to the key's spelling in the rate file.
    """

    depends_on: tuple[str, ...]
    entries: dict[str, LookupValue]
    keys_as_written: dict[str, str]
    line: int

    @property
    def has_lists(self) -> bool:
        return any(isinstance(value, TierList) for value in self.entries.values())


@dataclass(frozen=True)
class Tiered:
    """A charge billed by tiers of usage (OWRS `Tiered` or `Budget`).

    `starts` and `prices` name the tier list fields. `budget` names the field or input
    column that percentage tier starts are shares of, or is empty when no start is a
    percentage. A Budget charge rounds every tier start up to a whole unit.
    """

    starts: str
    prices: str
    line: int
    kind: str = TIERED
    budget: str = ""

    @property
    def rounds_starts_up(self) -> bool:
        return self.kind == BUDGET


RatePart = Constant | Formula | TierList | Lookup | Tiered


@dataclass(frozen=True)
class ClassRates:
    """The rates of one customer class.

    `components` are the fields the `bill` formula uses directly, in order of use;
    each is rounded to the cent before the bill adds them up. `numeric_columns` and
    `key_columns` map each input column the bill needs to the first YAML line that
    uses it, as a number or as a lookup key. `defaults` maps each DATA_DEFAULTS field
    the bill needs to its line: an input column of that name replaces the field.
    """

    name: str
    line: int
    parts: dict[str, RatePart]
    components: tuple[str, ...] = ()
    numeric_columns: dict[str, int] = field(default_factory=dict)
    key_columns: dict[str, int] = field(default_factory=dict)
    defaults: dict[str, int] = field(default_factory=dict)

    @property
    def bill(self) -> RatePart:
        return self.parts["bill"]

    def data_columns(self) -> set[str]:
        """Return the input columns the class's bill needs."""
        return set(self.numeric_columns) | set(self.key_columns)

    def with_input_columns(self, columns: set[str]) -> ClassRates:
        """Return the rates with each default field that `columns` contains read as input.

        The field is dropped, so formulas read the column of the same name instead.
        """
        replaced = {name: line for name, line in self.defaults.items() if name in columns}
        if not replaced:
            return self
        parts = {name: part for name, part in self.parts.items() if name not in replaced}
        numeric = {**self.numeric_columns, **replaced}
        defaults = {name: line for name, line in self.defaults.items() if name not in replaced}
        return ClassRates(self.name, self.line, parts, self.components, numeric,
                          self.key_columns, defaults)

"""The parts of a customer class's rates, as read from a rate file.

Each part keeps the YAML line it came from, so every later problem (a missing lookup
key, an unknown input column) can point at the line to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sewerline.engine.rates.formula import Node

TIERED = "Tiered"
BUDGET = "Budget"
USAGE = "usage_ccf"   # OWRS's name for the period's usage, in the file's bill_unit


@dataclass(frozen=True)
class Constant:
    """A number, kept as written (21.00 stays 21.00 in traces)."""

    value: Decimal
    line: int


@dataclass(frozen=True)
class Formula:
    """An arithmetic formula over fields of the class and input columns."""

    text: str
    node: Node
    line: int


@dataclass(frozen=True)
class TierList:
    """A list of tier starts or tier prices."""

    values: tuple[Decimal, ...]
    line: int


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
    """A charge billed by tiers of usage; `starts` and `prices` name the tier list fields."""

    starts: str
    prices: str
    line: int


RatePart = Constant | Formula | TierList | Lookup | Tiered


@dataclass(frozen=True)
class ClassRates:
    """The rates of one customer class.

    `components` are the fields the `bill` formula uses directly, in order of use;
    each is rounded to the cent before the bill adds them up. `numeric_columns` and
    `key_columns` map each input column the bill needs to the first YAML line that
    uses it, as a number or as a lookup key.
    """

    name: str
    line: int
    parts: dict[str, RatePart]
    components: tuple[str, ...] = ()
    numeric_columns: dict[str, int] = field(default_factory=dict)
    key_columns: dict[str, int] = field(default_factory=dict)

    @property
    def bill(self) -> RatePart:
        return self.parts["bill"]

    def data_columns(self) -> set[str]:
        """Return the input columns the class's bill needs."""
        return set(self.numeric_columns) | set(self.key_columns)

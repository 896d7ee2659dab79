"""The winter average rule of a rate schedule: which months, how averaged, when effective.

Residential sewer is rarely metered, so many utilities bill a customer's sewer volume as
the average monthly water use of the winter months, when little water goes to
irrigation. The rule is read from the `metadata.sewerline.winter_average` block of the
rate file (see `parse.py`); this module holds the parsed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import polars as pl

from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.units import UsageUnit

if TYPE_CHECKING:
    from sewerline.engine.rates import RateSchedule


class AverageSource(StrEnum):
    """Origin of an account's own winter average."""

    HISTORY = "history"    # computed from the meter reads of the usage history
    PROFILE = "profile"    # the profile's winter_average_gal column, set by the utility


class WindowKind(StrEnum):
    """Month of a meter read that places the read in or out of the winter window."""

    BILLING_MONTH = "billing_month"   # the month the read was billed in
    READ_DATE = "read_date"           # the month of the read date


class RoundingMode(StrEnum):
    """Rounding mode of the winter average, at the rule's number of decimal places."""

    DOWN = "down"              # toward zero: 16/3 = 5.33 -> 5
    UP = "up"                  # away from zero: 5.33 -> 6
    HALF_UP = "half_up"        # ties away from zero: 5.5 -> 6
    HALF_EVEN = "half_even"    # ties to the even digit: 5.5 -> 6, 4.5 -> 4


class NewCustomerKind(StrEnum):
    """Billing basis of an account without enough winter history of its own."""

    FLAT = "flat"                            # a fixed amount replaces the whole bill
    DEFAULT_VOLUME = "default_volume"        # a fixed volume replaces the average
    CLASS_AVERAGE = "class_average"          # the average of the class's own averages
    PREVIOUS_ACCOUNT = "previous_account"    # the average of the last account at the location


class Source(StrEnum):
    """Values of the `winter_average_source` column: how each account's average was set."""

    HISTORY = "history"
    PROFILE = "profile"
    DEFAULT_VOLUME = "default_volume"
    CLASS_AVERAGE = "class_average"
    PREVIOUS_ACCOUNT = "previous_account"
    FLAT = "flat"
    NONE = "none"


@dataclass(frozen=True)
class AverageRounding:
    """Rounding of the winter average to `places` decimals, in the schedule's bill unit."""

    places: int
    mode: RoundingMode

    def apply(self, expr: pl.Expr) -> pl.Expr:
        """Round a non-negative Decimal volume column, keeping the Decimal type."""
        if self.mode is RoundingMode.HALF_UP:
            return expr.round(self.places, mode="half_away_from_zero")
        if self.mode is RoundingMode.HALF_EVEN:
            return expr.round(self.places, mode="half_to_even")

        # Volumes are never negative, so down is floor and up is ceiling.
        scale = decimal_lit(Decimal(10) ** self.places)
        scaled = expr.cast(DECIMAL) * scale
        whole = scaled.floor() if self.mode is RoundingMode.DOWN else scaled.ceil()
        return (whole / scale).cast(DECIMAL)

    def describe(self) -> str:
        """Describe the rounding for a trace, for example "rounded down to whole units"."""
        if self.places == 0:
            target = "whole units"
        elif self.places == 1:
            target = "1 decimal"
        else:
            target = f"{self.places} decimals"
        words = {
            RoundingMode.DOWN: "rounded down",
            RoundingMode.UP: "rounded up",
            RoundingMode.HALF_UP: "rounded half-up",
            RoundingMode.HALF_EVEN: "rounded half-even",
        }
        return f"{words[self.mode]} to {target}"


@dataclass(frozen=True)
class NewCustomerRule:
    """One rule for accounts without enough winter history of their own.

    `amount` is the flat charge per billing cycle (FLAT only); `monthly_amount` is the
    amount the rate file gave per month, when it did. `volume` is the stand-in average
    (DEFAULT_VOLUME only), in `volume_unit`, or in the schedule's bill unit when
    `volume_unit` is None.
    """

    kind: NewCustomerKind
    amount: Decimal | None = None
    monthly_amount: Decimal | None = None
    volume: Decimal | None = None
    volume_unit: UsageUnit | None = None


@dataclass(frozen=True)
class WinterAverageRule:
    """A utility's winter average rule.

    `months` lists the window's calendar months in window order, so December comes
    before January in (12, 1, 2). The window's average applies to bills whose period
    ends on or after `effective` (month, day) and for 12 months from then.
    `months_per_read` is the number of months one meter read covers when the history
    has no `period_months` column. The new-customer rules are tried in order, and only
    for profiles of `classes` (None means every class).

    The defaults here match the defaults of the rate file block for the window
    December to February. Set them explicitly when building a rule for another window.
    """

    source: AverageSource = AverageSource.HISTORY
    months: tuple[int, ...] = (12, 1, 2)
    window: WindowKind = WindowKind.BILLING_MONTH
    drop_highest: bool = False
    rounding: AverageRounding | None = None
    effective: tuple[int, int] = (4, 1)
    minimum_months: int = 3
    months_per_read: int = 1
    new_customer: tuple[NewCustomerRule, ...] = ()
    classes: frozenset[str] | None = None
    file: str | None = None
    line: int | None = None

    @classmethod
    def from_schedule(cls, schedule: RateSchedule) -> WinterAverageRule | None:
        """Read the rule from a RateSchedule's extensions; None when the file has none.

        Raises InputError listing every invalid value with its YAML line and a hint.
        """
        # parse.py builds rules, so it is imported here rather than at the top.
        from sewerline.engine.winter.parse import rule_from_schedule

        return rule_from_schedule(schedule)

    @property
    def effective_text(self) -> str:
        """Return the effective month and day as MM-DD."""
        return f"{self.effective[0]:02d}-{self.effective[1]:02d}"

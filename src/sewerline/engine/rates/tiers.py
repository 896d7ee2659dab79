"""Tiered (inclining block) and Budget charges, with the tier semantics of RateParser.

RateParser, the reference R implementation of OWRS (R/tier_calcs.R,
get_usage_in_tiers), reads each tier start as the first unit billed at that tier's
price. With starts 0, 15, 41 the units 1-14 are billed at the first price, 15-40 at
the second and 41 and up at the third. So the usage boundary below tier i (i >= 1) is
max(start_i - 1, 0), and usage of 27.3 with starts 0, 15, 21, 26 splits into 14, 6, 5
and 2.3. The first start is always 0 (checked at load), and usage at or below 0 bills
nothing.

Two more rules come from the same function. A Budget charge rounds each tier start up
to a whole unit first (R's ceiling()), so a budget of 12.53 ccf bills 12 units in the
tier below it. And a start that falls below an earlier one, which only starts computed
per row can do (an `indoor` start above `100%` of a smaller budget), leaves its tier
empty: each boundary is at least the one below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

import polars as pl

from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.rates.arithmetic import add, multiply, subtract, to_scale

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class TierLine:
    """One tier of a tiered charge for one bill.

    `start` is the tier start this bill used, `end` the last unit of the tier (the
    next boundary), or None for the top tier. `written` is the start as the rate file
    writes it when it is not a plain number, such as `125%` or `indoor`, and
    `unrounded` the start before a Budget charge rounded it up, when that changed it.
    """

    start: Decimal
    end: Decimal | None
    volume: Decimal
    price: Decimal
    amount: Decimal
    written: str = ""
    unrounded: Decimal | None = None


@dataclass(frozen=True)
class TierColumn:
    """One tier's start or price for every row of a class.

    `value` is a Decimal when every row has the same value, else an expression.
    `exists` is None when every row has the tier, else an expression that is False on
    rows whose tier list is shorter (their value is null and the tier is skipped).
    """

    value: pl.Expr | Decimal
    exists: pl.Expr | None = None


def round_start_up(start: Decimal) -> Decimal:
    """Round a Budget tier start up to a whole unit, as RateParser's ceiling() does."""
    return to_scale(start.to_integral_value(rounding=ROUND_CEILING))


def boundary(start: Decimal) -> Decimal:
    """Return the usage at which a tier starting at `start` begins to fill."""
    return max(subtract(to_scale(start), ONE), ZERO)


def tier_bounds(starts: tuple[Decimal, ...] | list[Decimal], *,
                round_up: bool = False) -> list[Decimal]:
    """Return the usage boundary below each tier; each is at least the one before it."""
    bounds = [ZERO]
    for start in starts[1:]:
        used = round_start_up(start) if round_up else start
        bounds.append(max(bounds[-1], boundary(used)))
    return bounds


def split_usage(usage: Decimal, starts: tuple[Decimal, ...] | list[Decimal], *,
                round_up: bool = False) -> list[Decimal]:
    """Return the usage in each tier; the volumes add up to max(usage, 0)."""
    usage = to_scale(usage)
    bounds = tier_bounds(starts, round_up=round_up)
    volumes = []
    for index, lower in enumerate(bounds):
        upper = bounds[index + 1] if index + 1 < len(bounds) else None
        filled = max(usage, lower) if upper is None else min(max(usage, lower), upper)
        volumes.append(subtract(filled, lower))
    return volumes


def tier_lines(usage: Decimal, starts: tuple[Decimal, ...] | list[Decimal],
               prices: tuple[Decimal, ...] | list[Decimal], *, round_up: bool = False,
               written: tuple[str, ...] | list[str] = ()) -> list[TierLine]:
    """Return the tier breakdown of one bill, computed as the rated table computes it."""
    bounds = tier_bounds(starts, round_up=round_up)
    lines = []
    for index, volume in enumerate(split_usage(usage, starts, round_up=round_up)):
        start = round_start_up(starts[index]) if round_up and index else starts[index]
        unrounded = starts[index] if start != starts[index] else None
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        text = written[index] if index < len(written) else ""
        lines.append(TierLine(start, end, volume, prices[index],
                              multiply(volume, to_scale(prices[index])), text, unrounded))
    return lines


def tiered_amount(lines: list[TierLine]) -> Decimal:
    """Return the charge of a tier breakdown (the sum of the tier amounts)."""
    total = ZERO
    for line in lines:
        total = add(total, line.amount)
    return total


def _as_expr(value: pl.Expr | Decimal) -> pl.Expr:
    return decimal_lit(to_scale(value)) if isinstance(value, Decimal) else value


def _bound_expr(start: TierColumn, below: pl.Expr | Decimal, round_up: bool
                ) -> pl.Expr | Decimal:
    """Return the boundary of a tier as a Decimal when possible, else as an expression."""
    if isinstance(start.value, Decimal) and isinstance(below, Decimal) and start.exists is None:
        used = round_start_up(start.value) if round_up else start.value
        return max(below, boundary(used))

    value = _as_expr(start.value)
    if round_up:
        value = value.ceil()
    raw = (value - decimal_lit(ONE)).clip(lower_bound=decimal_lit(ZERO))
    bound = pl.max_horizontal(_as_expr(below), raw).cast(DECIMAL)
    if start.exists is not None:
        # A null bound reads as "no upper bound" in clip, so the row's last listed
        # tier takes the rest of the usage.
        bound = pl.when(start.exists).then(bound)
    return bound


def tiered_charge_expr(usage: pl.Expr, starts: list[TierColumn], prices: list[TierColumn],
                       *, round_up: bool = False) -> pl.Expr:
    """Build the Polars expression of a tiered charge.

    `starts` and `prices` have one entry per tier. A row is null when its usage, a
    start or a price of one of its tiers is null (a missing input).
    """
    bounds: list[pl.Expr | Decimal] = [ZERO]
    for start in starts[1:]:
        bounds.append(_bound_expr(start, bounds[-1], round_up))

    total: pl.Expr | None = None
    missing: list[pl.Expr] = []
    for index, (start, price) in enumerate(zip(starts, prices, strict=True)):
        lower = _as_expr(bounds[index])
        upper = _as_expr(bounds[index + 1]) if index + 1 < len(bounds) else None
        volume = usage.clip(lower, upper) - lower
        amount = volume * _as_expr(price.value)
        if start.exists is not None:
            amount = pl.when(start.exists).then(amount).otherwise(decimal_lit(ZERO))
        if not isinstance(start.value, Decimal):
            # max_horizontal skips nulls, so a missing start must null the charge here.
            unknown = start.value.is_null()
            missing.append(unknown if start.exists is None else unknown & start.exists)
        total = amount if total is None else total + amount

    if not missing:
        return total
    return pl.when(pl.any_horizontal(missing)).then(None).otherwise(total).cast(DECIMAL)

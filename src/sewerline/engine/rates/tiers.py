"""Tiered (inclining block) charges, with the tier semantics of RateParser.

RateParser, the reference R implementation of OWRS, reads each tier start as the
first unit billed at that tier's price. With starts 0, 15, 41 the units 1-14 are
billed at the first price, 15-40 at the second and 41 and up at the third. So the
usage boundary below tier i (i >= 1) is max(start_i - 1, 0), and usage of 27.3 with
starts 0, 15, 21, 26 splits into 14, 6, 5 and 2.3. The first start is always 0
(checked at load), and usage at or below 0 bills nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from sewerline.engine.money import decimal_lit
from sewerline.engine.rates.arithmetic import add, multiply, subtract, to_scale

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class TierLine:
    """One tier of a tiered charge for one bill.

    `start` is the tier start as written, `end` the last unit of the tier (the next
    start minus 1), or None for the top tier.
    """

    start: Decimal
    end: Decimal | None
    volume: Decimal
    price: Decimal
    amount: Decimal


def boundary(start: Decimal) -> Decimal:
    """Return the usage at which a tier starting at `start` begins to fill."""
    return max(subtract(to_scale(start), ONE), ZERO)


def split_usage(usage: Decimal, starts: tuple[Decimal, ...]) -> list[Decimal]:
    """Return the usage in each tier; the volumes add up to max(usage, 0)."""
    usage = to_scale(usage)
    bounds = [ZERO] + [boundary(start) for start in starts[1:]]
    volumes = []
    for index, lower in enumerate(bounds):
        upper = bounds[index + 1] if index + 1 < len(bounds) else None
        filled = max(usage, lower) if upper is None else min(max(usage, lower), upper)
        volumes.append(subtract(filled, lower))
    return volumes


def tier_lines(usage: Decimal, starts: tuple[Decimal, ...],
               prices: tuple[Decimal, ...]) -> list[TierLine]:
    """Return the tier breakdown of one bill, computed as the rated table computes it."""
    lines = []
    for index, volume in enumerate(split_usage(usage, starts)):
        end = boundary(starts[index + 1]) if index + 1 < len(starts) else None
        lines.append(TierLine(starts[index], end, volume, prices[index],
                              multiply(volume, to_scale(prices[index]))))
    return lines


def tiered_amount(lines: list[TierLine]) -> Decimal:
    """Return the charge of a tier breakdown (the sum of the tier amounts)."""
    total = ZERO
    for line in lines:
        total = add(total, line.amount)
    return total


def tiered_charge_expr(usage: pl.Expr, starts: list[pl.Expr | Decimal],
                       prices: list[pl.Expr | Decimal]) -> pl.Expr:
    """Build the Polars expression of a tiered charge.

    `starts` and `prices` have one entry per tier: a Decimal when every row has the
    same value, or an expression that is null for rows whose tier list is shorter.
    """
    bounds: list[pl.Expr | None] = [decimal_lit(0)]
    for start in starts[1:]:
        if isinstance(start, Decimal):
            bounds.append(decimal_lit(boundary(start)))
        else:
            # A null start leaves a null bound, which clip reads as "no upper bound",
            # so the row's last listed tier takes the rest of the usage.
            bounds.append((start - decimal_lit(ONE)).clip(lower_bound=decimal_lit(ZERO)))

    total: pl.Expr | None = None
    for index, (start, price) in enumerate(zip(starts, prices, strict=True)):
        lower = bounds[index]
        upper = bounds[index + 1] if index + 1 < len(bounds) else None
        volume = usage.clip(lower, upper) - lower
        price_expr = decimal_lit(to_scale(price)) if isinstance(price, Decimal) else price
        amount = volume * price_expr
        if not isinstance(start, Decimal):
            amount = pl.when(start.is_null()).then(decimal_lit(ZERO)).otherwise(amount)
        total = amount if total is None else total + amount
    return total

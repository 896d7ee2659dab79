"""Exact money and usage arithmetic on Polars Decimal columns.

Every amount and usage volume is a Decimal with 12 digits after the point, so
intermediate values (a rate of $3.123 per kgal times 4.488312 kgal) are kept whole and
only the charge components are rounded to the cent. Polars raises an error on decimal
overflow instead of wrapping, so a result can be wrong only by the documented rounding.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

import polars as pl

SCALE = 12
DECIMAL = pl.Decimal(38, SCALE)
CENT = Decimal("0.01")


class Rounding(StrEnum):
    """Rule that rounds a charge component to the cent.

    HALF_UP rounds ties away from zero (2.675 -> 2.68, -2.675 -> -2.68), the same as
    Python's ROUND_HALF_UP and the usual rule of rate ordinances.
    """

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"


_PYTHON_ROUNDING = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.DOWN: ROUND_DOWN,
}


def decimal_lit(value: Decimal | int | str) -> pl.Expr:
    """Return a Decimal literal at the engine's scale."""
    return pl.lit(Decimal(str(value))).cast(DECIMAL)


def round_cents(expr: pl.Expr, rounding: Rounding = Rounding.HALF_UP) -> pl.Expr:
    """Round a Decimal column to whole cents by the given rule, keeping the Decimal type."""
    if rounding is Rounding.HALF_UP:
        return expr.round(2, mode="half_away_from_zero")
    if rounding is Rounding.HALF_EVEN:
        return expr.round(2, mode="half_to_even")
    # Truncation toward zero: scale up, drop the fraction, scale back.
    hundred = decimal_lit(100)
    scaled = expr * hundred
    truncated = pl.when(scaled >= 0).then(scaled.floor()).otherwise(scaled.ceil())
    return truncated / hundred


def round_cents_python(value: Decimal, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    """Round one Decimal to the cent by the given rule (for traces and tests)."""
    return value.quantize(CENT, rounding=_PYTHON_ROUNDING[rounding])


def format_cents(value: Decimal | None) -> str:
    """Format an amount with exactly two decimals, or an empty string for a missing one."""
    if value is None:
        return ""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"

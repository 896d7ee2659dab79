"""Python Decimal arithmetic that gives the same digits as the engine's Polars columns.

Polars 2.1 keeps a Decimal(38, 12) product or quotient at scale 12 and rounds the
exact result half to even; sums and differences are exact. Bill traces compute with
these functions, so a trace and a rated table agree to the last digit. The property
tests in tests/test_rates_formula.py check the match on random formulas.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

from sewerline.engine.money import SCALE

QUANTUM = Decimal(1).scaleb(-SCALE)

# Wide enough for the exact product of two Decimal(38, 12) values.
_EXACT = Context(prec=100)


def to_scale(value: Decimal) -> Decimal:
    """Round a value to the engine's 12 digits after the point, half to even."""
    with localcontext(_EXACT):
        return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def multiply(left: Decimal, right: Decimal) -> Decimal:
    """Multiply two scale-12 values and round the product as Polars does."""
    with localcontext(_EXACT):
        return (left * right).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def divide(left: Decimal, right: Decimal) -> Decimal:
    """Divide two scale-12 values and round the quotient as Polars does.

    Works on scaled integers, so the rounding is exact however long the quotient's
    expansion is. Raises ZeroDivisionError for a zero divisor.
    """
    if right == 0:
        raise ZeroDivisionError("division by zero")
    numerator = int(to_scale(left).scaleb(SCALE)) * 10**SCALE
    denominator = int(to_scale(right).scaleb(SCALE))
    negative = (numerator < 0) != (denominator < 0)
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    twice = 2 * remainder
    if twice > abs(denominator) or (twice == abs(denominator) and quotient % 2 == 1):
        quotient += 1
    result = Decimal(-quotient if negative else quotient).scaleb(-SCALE)
    return to_scale(result)


def add(left: Decimal, right: Decimal) -> Decimal:
    """Add two scale-12 values (exact)."""
    with localcontext(_EXACT):
        return to_scale(left + right)


def subtract(left: Decimal, right: Decimal) -> Decimal:
    """Subtract two scale-12 values (exact)."""
    with localcontext(_EXACT):
        return to_scale(left - right)


def round_half_up(value: Decimal, digits: int) -> Decimal:
    """Round to `digits` after the point with ties away from zero, kept at scale 12."""
    with localcontext(_EXACT):
        return to_scale(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))

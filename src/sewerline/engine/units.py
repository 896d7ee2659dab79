"""Water volume units and their exact conversion factors to gallons.

1 ccf (hundred cubic feet) = 748.052 gallons and 1 cubic meter = 264.172 gallons, the
factors used in US utility billing; kgal is 1,000 gallons. Conversions multiply by
Decimal factors, so no float ever touches a volume.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import polars as pl

from sewerline.engine.money import DECIMAL, decimal_lit


class UsageUnit(StrEnum):
    GALLONS = "gallons"
    KGAL = "kgal"
    CCF = "ccf"
    M3 = "m3"


GALLONS_PER_UNIT: dict[UsageUnit, Decimal] = {
    UsageUnit.GALLONS: Decimal("1"),
    UsageUnit.KGAL: Decimal("1000"),
    UsageUnit.CCF: Decimal("748.052"),
    UsageUnit.M3: Decimal("264.172"),
}

_ALIASES = {
    "gal": UsageUnit.GALLONS, "gallon": UsageUnit.GALLONS, "gallons": UsageUnit.GALLONS,
    "kgal": UsageUnit.KGAL, "tgal": UsageUnit.KGAL, "1000 gal": UsageUnit.KGAL,
    "thousand gallons": UsageUnit.KGAL,
    "ccf": UsageUnit.CCF, "hcf": UsageUnit.CCF,
    "m3": UsageUnit.M3, "cubic meters": UsageUnit.M3,
}


def parse_unit(text: str) -> UsageUnit:
    """Return the unit named by `text` (case-insensitive; gal, kgal, ccf, hcf, m3 ...).

    Raises ValueError naming the accepted spellings when the unit is unknown.
    """
    unit = _ALIASES.get(text.strip().lower())
    if unit is None:
        accepted = ", ".join(sorted(_ALIASES))
        raise ValueError(f"unknown usage unit {text!r}; use one of: {accepted}")
    return unit


def conversion_factor(source: UsageUnit, target: UsageUnit) -> Decimal:
    """Return the exact factor that turns a volume in `source` units into `target` units."""
    return GALLONS_PER_UNIT[source] / GALLONS_PER_UNIT[target]


def convert(expr: pl.Expr, source: UsageUnit, target: UsageUnit) -> pl.Expr:
    """Convert a Decimal usage column between units.

    Multiplying by the source factor before dividing by the target's keeps ccf -> kgal
    exact (748.052 / 1000 = 0.748052); a single precomputed quotient would not be for m3.
    """
    if source == target:
        return expr.cast(DECIMAL)
    return (expr.cast(DECIMAL) * decimal_lit(GALLONS_PER_UNIT[source])) / decimal_lit(
        GALLONS_PER_UNIT[target]
    )

"""Hand-written Decimal arithmetic for the sample's sewer and water charges.

This module deliberately shares no code with the rate engine: the amounts it computes
are the expected amounts the engine is checked against. Every charge component is rounded to
the cent half-up, then the components are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import yaml

CENT = Decimal("0.01")
GALLONS_PER_CCF = Decimal("748.052")
GALLONS_PER_KGAL = Decimal("1000")

# Sewer rates of the City of Mulvane, Kansas, for residential customers: a customer
# charge per month plus a rate per 1,000 gallons of the December-February average.
CUSTOMER_CHARGE = Decimal("21.00")
VOLUME_RATE = Decimal("5.25")
MONTHS_IN_CYCLE = 2
# Mulvane bills a new customer this much per month until its own winter average exists.
NEW_CUSTOMER_MONTHLY = Decimal("42.00")

RESIDENTIAL_SINGLE = "RESIDENTIAL_SINGLE"
RESIDENTIAL_MULTI = "RESIDENTIAL_MULTI"
COMMERCIAL = "COMMERCIAL"

# Santa Monica's non-residential water prices depend on the water type; the sample's
# commercial customers all take potable water.
WATER_TYPE = "POTABLE"


def to_cents(value: Decimal) -> Decimal:
    """Round an amount to the cent, ties away from zero."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ccf_to_kgal(ccf: int | Decimal) -> Decimal:
    """Convert ccf to kgal exactly (1 ccf = 748.052 gallons)."""
    return Decimal(ccf) * GALLONS_PER_CCF / GALLONS_PER_KGAL


def winter_average_kgal(previous_read_ccf: int, cycle_read_ccf: int) -> Decimal:
    """Compute the December-February monthly average in kgal, rounded to 3 decimals half-up.

    The read billed 2016-01 covers November and December 2015, so half of it is
    December's use. The read billed 2016-03 covers all of January and February 2016.
    The average of the three months is therefore (previous + 2 * cycle) / 6 ccf.
    """
    with localcontext() as context:
        # Enough digits that the quotient is exact or, when it does not terminate,
        # cannot sit on a rounding tie.
        context.prec = 50
        winter_ccf = Decimal(previous_read_ccf) + 2 * Decimal(cycle_read_ccf)
        monthly_kgal = winter_ccf * GALLONS_PER_CCF / (6 * GALLONS_PER_KGAL)
        return monthly_kgal.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SewerCharge:
    """The two components of a sewer charge for one bimonthly cycle, each in whole cents."""

    service: Decimal
    volume: Decimal

    @property
    def total(self) -> Decimal:
        return self.service + self.volume


def sewer_charge(
    customer_class: str,
    *,
    winter_average: Decimal,
    dwelling_units: int | None,
    usage_ccf: int,
    customer_charge: Decimal = CUSTOMER_CHARGE,
    volume_rate: Decimal = VOLUME_RATE,
) -> SewerCharge:
    """Compute a cycle's sewer charge by the sample schedule (sewer_rates.owrs).

    Residential classes pay the customer charge (per dwelling unit for multi-family)
    and the volume rate on the winter average, both for every month of the cycle.
    Commercial customers pay the customer charge and the volume rate on the cycle's
    metered use. `customer_charge` and `volume_rate` can be changed to produce the
    wrong amounts of the injected cases.
    """
    if customer_class == COMMERCIAL:
        service = to_cents(customer_charge * MONTHS_IN_CYCLE)
        volume = to_cents(volume_rate * ccf_to_kgal(usage_ccf))
        return SewerCharge(service=service, volume=volume)

    if customer_class == RESIDENTIAL_MULTI:
        if dwelling_units is None:
            raise ValueError("a multi-family sewer charge needs the dwelling units")
        service = to_cents(customer_charge * dwelling_units * MONTHS_IN_CYCLE)
    elif customer_class == RESIDENTIAL_SINGLE:
        service = to_cents(customer_charge * MONTHS_IN_CYCLE)
    else:
        raise ValueError(f"the sample has no sewer rates for class {customer_class!r}")
    volume = to_cents(volume_rate * winter_average * MONTHS_IN_CYCLE)
    return SewerCharge(service=service, volume=volume)


def new_customer_charge() -> Decimal:
    """Return the cycle's flat sewer charge of a customer without a winter average yet."""
    return to_cents(NEW_CUSTOMER_MONTHLY * MONTHS_IN_CYCLE)


def tiered_charge(usage: Decimal, starts: list[Decimal], prices: list[Decimal]) -> Decimal:
    """Charge usage by OWRS tiers, unrounded.

    Each start is the first unit billed at its tier's price, so each tier boundary is
    start - 1. Starts 0, 15, 41 bill units 1-14 at the first price, 15-40 at the second
    and 41 and up at the third.
    """
    bounds = [max(start - 1, Decimal(0)) for start in starts]
    total = Decimal(0)
    for index, price in enumerate(prices):
        lower = bounds[index]
        upper = bounds[index + 1] if index + 1 < len(bounds) else None
        if usage <= lower:
            break
        volume = (min(usage, upper) if upper is not None else usage) - lower
        total += volume * price
    return total


class WaterSchedule:
    """Santa Monica's bimonthly tiered water rates, read from the real OWRS file.

    Values are read as text (yaml.BaseLoader) and turned into Decimal, so no rate ever
    passes through a float.
    """

    def __init__(self, path: Path):
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        self.path = path
        self._classes = document["rate_structure"]

    def charge(self, customer_class: str, usage_ccf: int, meter_size: str) -> Decimal:
        """Compute the water line of one bill in whole cents."""
        rates = self._classes[customer_class]
        starts = self._tier_list(rates["tier_starts"], meter_size)
        prices = self._tier_list(rates["tier_prices"], meter_size)
        return to_cents(tiered_charge(Decimal(usage_ccf), starts, prices))

    @staticmethod
    def _tier_list(value: list[str] | dict, meter_size: str) -> list[Decimal]:
        if isinstance(value, list):
            return [Decimal(item) for item in value]
        # A lookup: the commercial tier starts depend on meter_size and the prices on
        # water_type.
        column = value["depends_on"]
        key = meter_size if column == "meter_size" else WATER_TYPE
        return [Decimal(item) for item in value["values"][key]]

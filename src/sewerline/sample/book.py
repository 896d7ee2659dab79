"""The sample's records before they are written: profiles, bills and expected findings.

Every customer of the usage slice starts as an `Entry` with a correct profile and one
correct bill. The injected cases (cases.py) then change, add or remove records and
write down the findings the audit must report. Each bill keeps the recipe it was made
by, so that the next cycle (next_cycle.py) can bill the same customer the same way.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sewerline.sample import CYCLES
from sewerline.sample.charges import (
    RESIDENTIAL_MULTI,
    RESIDENTIAL_SINGLE,
    SewerCharge,
    WaterSchedule,
    sewer_charge,
    winter_average_kgal,
)
from sewerline.sample.identities import Identity, IdentityFactory
from sewerline.sample.usage import CustomerUsage

ACTIVE = "active"
SEPTIC = "septic"
INACTIVE = "inactive"
EXEMPT = "exempt"

# The cycle's bills: the read billed in March 2016 covers January and February.
PERIOD_START = CYCLES[0].period_start
PERIOD_END = CYCLES[0].period_end
# The water utility bills its routes over the first days of the month.
BILL_DATES = tuple(dt.date(2016, 3, day) for day in (2, 3, 4, 7, 8))
# A repeat bill comes from a later bill run of the same month.
REPEAT_BILL_DATE = dt.date(2016, 3, 21)


@dataclass(frozen=True)
class ProfileRow:
    """One row of profiles.csv, in the documented profile layout."""

    account_id: str
    water_account: str
    owner_name: str
    service_address: str
    parcel_id: str
    meter_number: str
    customer_class: str
    meter_size: str
    status: str
    winter_average: Decimal          # kgal per month, 3 decimals
    dwelling_units: int | None       # empty for commercial


# Sewer amounts of a bill: fixed, or a function of the entry for amounts that follow
# the cycle's usage and charge.
SewerAmounts = tuple[Decimal, ...] | Callable[["Entry"], tuple[Decimal, ...]]


def full_charge(entry: Entry) -> tuple[Decimal, ...]:
    """Return one sewer line of the charge the rates give the entry's class and usage."""
    return (entry.expected,)


@dataclass(frozen=True)
class BillRecipe:
    """The recipe of a bill: the BillRow fields a case set, and its sewer amounts."""

    changes: dict[str, object]
    sewer: SewerAmounts


@dataclass(frozen=True)
class BillRow:
    """One bill of the export; it becomes a water line and zero or more sewer lines."""

    account: str
    customer_name: str
    service_address: str
    parcel_id: str
    meter_number: str
    rate_code: str
    usage_ccf: int
    water_amount: Decimal
    sewer_amounts: tuple[Decimal, ...]
    bill_date: dt.date
    # A repeat bill is issued in a later bill run and numbered after the regular ones.
    repeat: bool = False
    recipe: BillRecipe | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ExpectedFinding:
    """One finding the audit must report: one row of expected_findings.csv."""

    case_id: str
    finding_type: str
    account_id: str
    billed_account: str
    match_method: str
    expected_amount: Decimal | None
    billed_amount: Decimal | None
    description: str


@dataclass(frozen=True)
class Control:
    """A record that must produce no finding: one row of controls.csv."""

    case_id: str
    account_id: str
    billed_account: str
    description: str


@dataclass
class Entry:
    """One real customer of the slice with its synthetic identity, profile and bills.

    `profile` is None for a customer the sewer utility has no record of, such as new
    construction. `bills` is empty for a customer the water utility did not bill.
    """

    usage: CustomerUsage
    identity: Identity
    meter_size: str
    dwelling_units: int | None
    winter_average: Decimal
    bill_date: dt.date
    usage_ccf: int                   # the metered use the cycle's bill carries
    profile: ProfileRow | None = None
    bills: list[BillRow] = field(default_factory=list)
    case_id: str | None = None

    @property
    def customer_class(self) -> str:
        return self.usage.customer_class

    def charge(self, **overrides) -> SewerCharge:
        """Compute this customer's sewer charge, optionally with a wrong rate or class."""
        arguments = {
            "winter_average": self.winter_average,
            "dwelling_units": self.dwelling_units,
            "usage_ccf": self.usage_ccf,
        }
        customer_class = overrides.pop("customer_class", self.customer_class)
        arguments.update(overrides)
        return sewer_charge(customer_class, **arguments)

    @property
    def expected(self) -> Decimal:
        """Return the sewer charge the profile and the ordinance give for the cycle."""
        return self.charge().total


class SampleBook:
    """All entries of the sample plus the findings and controls recorded so far."""

    def __init__(
        self,
        customers: list[CustomerUsage],
        factory: IdentityFactory,
        water: WaterSchedule,
        pick_seed: str,
    ):
        self.factory = factory
        self.water = water
        self.entries = [self._new_entry(customer) for customer in customers]
        self.findings: list[ExpectedFinding] = []
        self.controls: list[Control] = []
        # The order in which cases take customers: one seeded shuffle, fixed up front.
        self._pick_order = list(self.entries)
        random.Random(pick_seed).shuffle(self._pick_order)

    def take(
        self,
        case_id: str,
        customer_class: str | tuple[str, ...],
        accept: Callable[[Entry], bool] = lambda entry: True,
    ) -> Entry:
        """Assign the next unassigned customer of the class that `accept` takes to a case."""
        classes = (customer_class,) if isinstance(customer_class, str) else customer_class
        for entry in self._pick_order:
            if entry.case_id is None and entry.customer_class in classes and accept(entry):
                entry.case_id = case_id
                return entry
        raise LookupError(f"no customer of {classes} left that fits case {case_id}")

    def bill(self, entry: Entry, sewer_amounts: SewerAmounts = full_charge,
             **changes) -> BillRow:
        """Return a correct bill of the entry's profile, with `changes` applied.

        `sewer_amounts` gives the sewer lines, as amounts or as a function of the entry.
        The water line is recomputed from the bill's rate code class, because the water
        utility prices water by the class it has on file.
        """
        recipe = BillRecipe(changes=dict(changes), sewer=sewer_amounts)
        identity = entry.identity
        values = {
            "account": identity.water_account,
            "customer_name": identity.owner_name,
            "service_address": identity.export_address(),
            "parcel_id": identity.parcel_id,
            "meter_number": identity.meter_number,
            "rate_code": entry.usage.rate_code,
            "usage_ccf": entry.usage_ccf,
            "bill_date": entry.bill_date,
        }
        billed_class = changes.pop("billed_class", entry.customer_class)
        values.update(changes)
        values["sewer_amounts"] = (
            sewer_amounts(entry) if callable(sewer_amounts) else tuple(sewer_amounts)
        )
        values["water_amount"] = self.water.charge(
            billed_class, values["usage_ccf"], entry.meter_size
        )
        return BillRow(**values, recipe=recipe)

    def record(self, finding: ExpectedFinding) -> None:
        """Add one finding the audit must report."""
        self.findings.append(finding)

    def control(self, entry: Entry, billed_account: str, description: str) -> None:
        """Add one record that must produce no finding."""
        account_id = entry.profile.account_id if entry.profile else ""
        self.controls.append(Control(entry.case_id or "", account_id, billed_account, description))

    def _new_entry(self, customer: CustomerUsage) -> Entry:
        identity = self.factory.identity()
        units = self._dwelling_units(customer)
        entry = Entry(
            usage=customer,
            identity=identity,
            meter_size=self._meter_size(customer, units),
            dwelling_units=units,
            winter_average=winter_average_kgal(
                customer.previous_read_ccf, customer.cycle_read_ccf
            ),
            bill_date=self.factory.rng.choice(BILL_DATES),
            usage_ccf=customer.cycle_read_ccf,
        )
        entry.profile = ProfileRow(
            account_id=identity.account_id,
            water_account=identity.water_account,
            owner_name=identity.owner_name,
            service_address=identity.profile_address(),
            parcel_id=identity.parcel_id,
            meter_number=identity.meter_number,
            customer_class=customer.customer_class,
            meter_size=entry.meter_size,
            status=ACTIVE,
            winter_average=entry.winter_average,
            dwelling_units=units,
        )
        entry.bills = [self.bill(entry)]
        return entry

    def _dwelling_units(self, customer: CustomerUsage) -> int | None:
        if customer.customer_class == RESIDENTIAL_SINGLE:
            return 1
        if customer.customer_class != RESIDENTIAL_MULTI:
            return None
        # Scale the building to its real use: one unit per 6 to 12 ccf a cycle, 2 to 40.
        ccf_per_unit = self.factory.rng.randint(6, 12)
        units = (customer.cycle_read_ccf + ccf_per_unit // 2) // ccf_per_unit
        return max(2, min(40, units))

    def _meter_size(self, customer: CustomerUsage, units: int | None) -> str:
        if customer.customer_class == RESIDENTIAL_SINGLE:
            return self.factory.rng.choices(('5/8"', '3/4"', '1"'), weights=(6, 3, 1))[0]
        if customer.customer_class == RESIDENTIAL_MULTI:
            for max_units, size in ((4, '3/4"'), (12, '1"'), (24, '1 1/2"')):
                if units is not None and units <= max_units:
                    return size
            return '2"'
        for below_ccf, size in ((30, '5/8"'), (100, '3/4"'), (250, '1"'), (500, '1 1/2"')):
            if customer.cycle_read_ccf < below_ccf:
                return size
        return '2"'

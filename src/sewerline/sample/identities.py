"""Synthetic identities for the sample customers: names, addresses, parcels, meters, accounts.

Nothing here is real: names are drawn from short seeded lists, house numbers are random,
and only the street names are Santa Monica's. Every identifier the matcher keys on
(water account, meter, parcel, house number) is drawn without repeats, so two profiles
can only look alike where an injected case makes them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Santa Monica streets as (name, USPS suffix); Broadway has no suffix.
STREETS = (
    ("Ocean", "Ave"), ("Main", "St"), ("Lincoln", "Blvd"), ("Wilshire", "Blvd"),
    ("Santa Monica", "Blvd"), ("Pico", "Blvd"), ("Ocean Park", "Blvd"), ("Montana", "Ave"),
    ("San Vicente", "Blvd"), ("Colorado", "Ave"), ("Broadway", None), ("Arizona", "Ave"),
    ("California", "Ave"), ("Washington", "Ave"), ("Idaho", "Ave"), ("Marguerita", "Ave"),
    ("Alta", "Ave"), ("Georgina", "Ave"), ("Euclid", "St"), ("Yale", "St"),
    ("Harvard", "St"), ("Princeton", "St"), ("Stanford", "St"), ("Berkeley", "St"),
    ("Franklin", "St"), ("Centinela", "Ave"), ("Cloverfield", "Blvd"), ("Pearl", "St"),
    ("Hill", "St"), ("Ashland", "Ave"), ("Marine", "St"), ("Navy", "St"),
    ("Hollister", "Ave"), ("Kansas", "Ave"), ("Michigan", "Ave"), ("Delaware", "Ave"),
    ("Virginia", "Ave"), ("Neilson", "Way"), ("2nd", "St"), ("4th", "St"), ("6th", "St"),
    ("7th", "St"), ("9th", "St"), ("11th", "St"), ("14th", "St"), ("17th", "St"),
    ("20th", "St"), ("23rd", "St"), ("26th", "St"),
)

# Owner names of the profiles. Some carry Spanish and French letters (Ñ, É, Á ...) so
# that the Windows-1252 encoding of the billing export matters.
LAST_NAMES = (
    "ANDERSON", "BAKER", "BROOKS", "CAMPBELL", "CARTER", "CASTAÑEDA", "CHEN", "CLARK",
    "COLLINS", "DAVIS", "DIAZ", "EDWARDS", "EVANS", "FISHER", "FLORES", "FOSTER",
    "GARCIA", "GOLDBERG", "GOMEZ", "GREEN", "HALL", "HARRIS", "HERNANDEZ", "HILL",
    "HUGHES", "IBÁÑEZ", "JACKSON", "JOHNSON", "KIM", "KLEIN", "LEE", "LEWIS", "LOPEZ",
    "MARTIN", "MARTINEZ", "MENDOZA", "MILLER", "MORALES", "MUÑOZ", "MURPHY", "NELSON",
    "NGUYEN", "NÚÑEZ", "ORTIZ", "PARK", "PATEL", "PEÑA", "PEREZ", "PHILLIPS", "RAMIREZ",
    "REYES", "RIVERA", "ROBERTS", "RODRIGUEZ", "ROSSI", "RUSSELL", "SANCHEZ", "SCOTT",
    "SHAPIRO", "SULLIVAN", "TAYLOR", "THOMPSON", "TORRES", "TURNER", "WALKER", "WANG",
    "WARD", "WATSON", "WILLIAMS", "WONG", "WRIGHT", "YAMAMOTO", "YOUNG",
)
FIRST_NAMES = (
    "ALICE", "ANDRÉS", "ANGELA", "ANNA", "BARBARA", "BRIAN", "CAROL", "CARLOS", "DANIEL",
    "DAVID", "DEBORAH", "ELENA", "EMILY", "ERIC", "FRANK", "GEORGE", "GRACE", "HELEN",
    "INÉS", "JAMES", "JANET", "JASON", "JENNIFER", "JOSÉ", "JULIA", "KAREN", "KEVIN",
    "LAURA", "LINDA", "LUIS", "MARGARET", "MARIA", "MARK", "MICHAEL", "MÓNICA", "NANCY",
    "PAUL", "RACHEL", "RENÉ", "RICHARD", "ROBERT", "ROSA", "RUTH", "SAMUEL", "SARAH",
    "SOFIA", "STEVEN", "SUSAN", "THOMAS", "VICTOR", "WILLIAM",
)
# Buyers and new tenants of the injected cases come from separate lists, so that the new
# name shares no first or last name with the profile's.
NEW_LAST_NAMES = (
    "ABERNATHY", "BJÖRKLUND", "DUBOIS", "FITZGERALD", "HAUGEN", "KOWALCZYK", "LINDQVIST",
    "MBEKI", "OKAFOR", "PRZYBYLSKI", "QUINTERO", "SVOBODA", "TANAKA", "VILLANUEVA",
    "ZIMMERMANN",
)
NEW_FIRST_NAMES = (
    "AGNES", "BERNARD", "CORNELIUS", "DESMOND", "EUGENIA", "FIONA", "GUSTAV", "HORACE",
    "IMOGEN", "OTTO", "PRISCILLA", "WINIFRED",
)
MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTW"

# Map books in the range of Santa Monica's Assessor books. Pages and parcels are drawn
# at random, so an APN here is not meant to point to a real parcel.
MAP_BOOKS = range(4260, 4295)


@dataclass(frozen=True)
class Street:
    """A street name with its USPS suffix, written two ways."""

    name: str
    suffix: str | None

    def title(self) -> str:
        """Return the street as the sewer utility writes it, e.g. "Ocean Park Blvd"."""
        return f"{self.name} {self.suffix}" if self.suffix else self.name

    def upper(self) -> str:
        """Return the street as the water utility's export writes it, e.g. "OCEAN PARK BLVD"."""
        return self.title().upper()


@dataclass(frozen=True)
class Identity:
    """The synthetic record of one customer, before any injected case changes it."""

    account_id: str
    water_account: str
    owner_name: str
    house_number: int
    street: Street
    unit: str | None
    parcel_id: str
    meter_number: str

    def profile_address(self) -> str:
        """Return the service address in the sewer utility's style, e.g. "1234 Main St Unit 3"."""
        text = f"{self.house_number} {self.street.title()}"
        return f"{text} Unit {self.unit}" if self.unit else text

    def export_address(self) -> str:
        """Return the service address in the export's style, e.g. "1234 MAIN ST #3"."""
        text = f"{self.house_number} {self.street.upper()}"
        return f"{text} #{self.unit}" if self.unit else text


class IdentityFactory:
    """Source of synthetic identifiers from one seeded generator, never the same one twice."""

    def __init__(self, seed: str):
        self.rng = random.Random(seed)
        self._account_ids: set[int] = set()
        self._water_bases: set[int] = set()
        self._meters: set[int] = set()
        self._parcels: set[tuple[int, int, int]] = set()
        self._house_numbers: set[int] = set()

    def account_id(self) -> str:
        """Return a new sewer account id such as "SS-010045"."""
        number = self._draw(self._account_ids, 10000, 99999)
        return f"SS-{number:06d}"

    def water_account(self) -> str:
        """Return a new water account such as "0012345-01": 7 digits, a dash, a suffix.

        The suffix counts the occupants of the premises; most accounts are on their first.
        """
        base = self._draw(self._water_bases, 10000, 1999999)
        suffix = self.rng.choices((1, 2, 3), weights=(85, 10, 5))[0]
        return f"{base:07d}-{suffix:02d}"

    def meter_number(self) -> str:
        """Return a new meter number of 8 to 10 digits; the 8-digit ones start with zeros."""
        style = self.rng.choice(("zero8", "nine", "ten"))
        if style == "zero8":
            number = self._draw(self._meters, 100000, 999999)
            return f"{number:08d}"
        if style == "nine":
            number = self._draw(self._meters, 300000000, 899999999)
            return f"{number:09d}"
        number = self._draw(self._meters, 1500000000, 1599999999)
        return f"{number:010d}"

    def parcel_id(self) -> str:
        """Return a new Assessor parcel number in the style "4281-012-034"."""
        while True:
            parcel = (
                self.rng.choice(MAP_BOOKS), self.rng.randint(1, 40), self.rng.randint(1, 60)
            )
            if parcel not in self._parcels:
                self._parcels.add(parcel)
                return f"{parcel[0]}-{parcel[1]:03d}-{parcel[2]:03d}"

    def house_number(self) -> int:
        """Return a house number that no earlier draw returned."""
        return self._draw(self._house_numbers, 100, 3299)

    def street(self) -> Street:
        """Return a random Santa Monica street."""
        name, suffix = self.rng.choice(STREETS)
        return Street(name, suffix)

    def owner_name(self) -> str:
        """Return an owner name in the Assessor's style "LAST, FIRST M"."""
        return self._name(LAST_NAMES, FIRST_NAMES)

    def new_owner_name(self) -> str:
        """Return a buyer's or new tenant's name from the separate list."""
        return self._name(NEW_LAST_NAMES, NEW_FIRST_NAMES)

    def identity(self) -> Identity:
        """Draw a complete identity; about one home in twelve is a numbered unit."""
        house_number = self.house_number()
        street = self.street()
        unit = str(self.rng.randint(1, 12)) if self.rng.random() < 1 / 12 else None
        return Identity(
            account_id=self.account_id(),
            water_account=self.water_account(),
            owner_name=self.owner_name(),
            house_number=house_number,
            street=street,
            unit=unit,
            parcel_id=self.parcel_id(),
            meter_number=self.meter_number(),
        )

    def _name(self, last_names: tuple[str, ...], first_names: tuple[str, ...]) -> str:
        last = self.rng.choice(last_names)
        first = self.rng.choice(first_names)
        if self.rng.random() < 0.6:
            return f"{last}, {first} {self.rng.choice(MIDDLE_INITIALS)}"
        return f"{last}, {first}"

    def _draw(self, used: set[int], low: int, high: int) -> int:
        while True:
            number = self.rng.randint(low, high)
            if number not in used:
                used.add(number)
                return number

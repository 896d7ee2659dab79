"""The injected discrepancies of the sample and the findings each one must produce.

Each function below takes its customers from the book in a fixed seeded order, changes
their profile or bills the way a real billing error would, and records the findings.
Amounts come from charges.py, never from the rate engine. A case that changes an amount
only takes a customer whose amount changes by at least MIN_DIFFERENCE, so no injected
amount can hide inside the audit's one-cent tolerance. A wrong amount that follows the
usage or the charge is given to the bill as a function of the entry, so that the next
cycle repeats the mistake on that cycle's usage.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from rapidfuzz import fuzz

from sewerline.sample.book import (
    INACTIVE,
    REPEAT_BILL_DATE,
    SEPTIC,
    Entry,
    ExpectedFinding,
    SampleBook,
    full_charge,
)
from sewerline.sample.charges import (
    COMMERCIAL,
    CUSTOMER_CHARGE,
    RESIDENTIAL_MULTI,
    RESIDENTIAL_SINGLE,
    VOLUME_RATE,
    ccf_to_kgal,
    new_customer_charge,
    to_cents,
)

MIN_DIFFERENCE = Decimal("1.00")
ZERO = Decimal("0.00")

RS, RM, COM = RESIDENTIAL_SINGLE, RESIDENTIAL_MULTI, COMMERCIAL

# Highest rapidfuzz token_set_ratio between an old and a new owner name; well below the
# audit's default of 60 for "clearly different".
NEW_OWNER_MAX_SCORE = 40

# The residential rate code a commercial customer is wrongly billed under.
WRONG_RESIDENTIAL_CODE = "WASF1"


def inject_cases(book: SampleBook) -> None:
    """Apply every injected case to the book, in a fixed order."""
    overbilled(book)
    underbilled(book)
    sewer_line_missing(book)
    unknown_customers(book)
    not_billed(book)
    sold_houses(book)
    linked_by_parcel(book)
    linked_by_address(book)
    linked_by_fuzzy_address(book)
    owner_changed(book)
    meter_changed(book)
    class_mismatch(book)
    duplicate_bills(book)
    billed_while_not_active(book)


# --- amounts ---------------------------------------------------------------------------


def overbilled(book: SampleBook) -> None:
    """Bill sewer amounts above the ordinance, each from a different billing mistake."""
    mistakes = [
        ("OVER-01", RS, "billed at $5.50 per kgal instead of $5.25",
         lambda e: e.charge(volume_rate=Decimal("5.50")).total),
        ("OVER-02", RM, "billed for 4 more dwelling units than the building has",
         lambda e: e.charge(dwelling_units=e.dwelling_units + 4).total),
        ("OVER-03", COM, "usage in ccf billed as if it were kgal",
         lambda e: _service(e) + to_cents(VOLUME_RATE * e.usage_ccf)),
        ("OVER-04", RS, "volume billed on the cycle's metered use, above the winter average",
         lambda e: _service(e) + to_cents(VOLUME_RATE * ccf_to_kgal(e.usage_ccf))),
        ("OVER-05", COM, "billed at $5.50 per kgal instead of $5.25",
         lambda e: e.charge(volume_rate=Decimal("5.50")).total),
    ]
    for case_id, customer_class, description, billed_amount in mistakes:
        entry = book.take(case_id, customer_class, _raises(billed_amount))
        _bill_amount(book, entry, billed_amount, description)


def underbilled(book: SampleBook) -> None:
    """Bill sewer amounts below the ordinance."""
    mistakes = [
        ("UNDER-01", RS, "volume charge left off the bill",
         lambda e: e.charge().service),
        ("UNDER-02", RM, "multi-family building billed as one dwelling unit",
         lambda e: e.charge(dwelling_units=1).total),
        ("UNDER-03", COM, "billed at an old rate of $4.75 per kgal",
         lambda e: e.charge(volume_rate=Decimal("4.75")).total),
        ("UNDER-04", RS, "customer charge billed for one month of the two",
         lambda e: e.charge().total - to_cents(CUSTOMER_CHARGE)),
        ("UNDER-05", RS, "volume billed on the cycle's metered use, below the winter average",
         lambda e: _service(e) + to_cents(VOLUME_RATE * ccf_to_kgal(e.usage_ccf))),
    ]
    for case_id, customer_class, description, billed_amount in mistakes:
        entry = book.take(case_id, customer_class, _lowers(billed_amount))
        _bill_amount(book, entry, billed_amount, description)


def sewer_line_missing(book: SampleBook) -> None:
    """Drop the sewer line from bills that keep their water line: underbilled at zero."""
    for number, customer_class in enumerate((RS, RM, COM, RS), start=1):
        entry = book.take(f"NOSW-{number:02d}", customer_class)
        entry.bills = [book.bill(entry, sewer_amounts=())]
        _record(book, entry, "underbilled", "account", entry.expected, ZERO,
                "water billed but the sewer line is missing")


def unknown_customers(book: SampleBook) -> None:
    """Bill new construction whose account, meter, parcel and address match no profile.

    The water utility charges Mulvane's new-customer rate of $42.00 a month, because the
    home has no winter average yet.
    """
    for number in range(1, 5):
        entry = book.take(f"UNK-{number:02d}", RS)
        entry.identity = book.factory.identity()
        entry.profile = None
        bill = book.bill(entry, sewer_amounts=(new_customer_charge(),))
        entry.bills = [bill]
        book.record(ExpectedFinding(
            case_id=entry.case_id, finding_type="unknown_customer", account_id="",
            billed_account=bill.account, match_method="none", expected_amount=None,
            billed_amount=new_customer_charge(),
            description="new construction billed the new-customer charge; no profile exists",
        ))


def not_billed(book: SampleBook) -> None:
    """Remove every bill of some active residential profiles.

    Only residential classes are used: their charge rests on the winter average, so the
    expected amount is exact even though the cycle's usage is unknown.
    """
    for number, customer_class in enumerate((RS, RS, RM, RM), start=1):
        entry = book.take(f"NOTB-{number:02d}", customer_class)
        entry.bills = []
        book.record(ExpectedFinding(
            case_id=entry.case_id, finding_type="not_billed",
            account_id=entry.profile.account_id, billed_account="", match_method="none",
            expected_amount=entry.expected, billed_amount=None,
            description="active profile with no bill in the cycle",
        ))


# --- links under a new water account ---------------------------------------------------


def sold_houses(book: SampleBook) -> None:
    """Sell houses: new water account and owner on the same meter, and no sewer line."""
    for number, customer_class in enumerate((RS, RS, RS, RM), start=1):
        entry = book.take(f"SOLD-{number:02d}", customer_class)
        account = _successor_account(entry.identity.water_account)
        entry.bills = [book.bill(
            entry, account=account, customer_name=_new_owner(book, entry), sewer_amounts=(),
        )]
        # The next cycle may correct the missing line and keep the new account, so each
        # finding describes only its own part.
        _record(book, entry, "account_changed", "meter", entry.expected, ZERO,
                "house sold: new account and owner on the same meter", billed_account=account)
        _record(book, entry, "underbilled", "meter", entry.expected, ZERO,
                "house sold: the new account is billed no sewer line", billed_account=account)


def linked_by_parcel(book: SampleBook) -> None:
    """Move accounts to a new owner and meter on the same parcel.

    The third one is also billed a wrong amount.
    """
    for number, customer_class in enumerate((RS, RM, RS), start=1):
        case_id = f"PARCEL-{number:02d}"
        # The third buyer is billed as a new customer ($42.00 a month) instead of on the
        # home's winter average.
        wrong_amount = number == 3
        accept = _differs_from_new_customer if wrong_amount else _any
        entry = book.take(case_id, customer_class, accept)
        billed = new_customer_charge() if wrong_amount else entry.expected
        bill = book.bill(
            entry,
            account=book.factory.water_account(),
            customer_name=_new_owner(book, entry),
            meter_number=book.factory.meter_number(),
            sewer_amounts=(billed,) if wrong_amount else full_charge,
        )
        entry.bills = [bill]
        description = "new account, owner and meter; same parcel"
        _record(book, entry, "account_changed", "parcel", entry.expected, billed, description,
                billed_account=bill.account)
        if wrong_amount:
            _record(book, entry, _amount_type(entry.expected, billed), "parcel",
                    entry.expected, billed, "new account billed as a new customer",
                    billed_account=bill.account)


def linked_by_address(book: SampleBook) -> None:
    """Move accounts to a new owner and meter, with no parcel and another address spelling.

    The second case is unit 14C of a building whose unit 14A has its own (inactive)
    profile, which must not be linked.
    """
    forms = [
        ("North Ocean Park Boulevard Apt 3", "N OCEAN PARK BLVD #3", None),
        ("Ocean Avenue Unit 14C", "OCEAN AVE #14C", "Ocean Avenue Unit 14A"),
        ("Twentieth Street", "20TH ST", None),
    ]
    for number, (profile_street, export_street, neighbour_street) in enumerate(forms, start=1):
        entry = book.take(f"ADDR-{number:02d}", RS)
        _relink_by_address(book, entry, profile_street, export_street, "address",
                           "new account, owner and meter; address written differently")
        if neighbour_street:
            _add_unit_neighbour(book, entry, neighbour_street, "CTL-UNIT-01")


def linked_by_fuzzy_address(book: SampleBook) -> None:
    """Move accounts like linked_by_address does, but misspell the street in the export."""
    forms = [
        ("Wilshire Blvd", "WILSHRE BLVD", None),
        ("San Vicente Blvd", "SAN VINCENTE BLVD", None),
        ("Montana Ave Apt 7B", "MONTANNA AVE #7B", "Montana Ave Apt 7D"),
    ]
    for number, (profile_street, export_street, neighbour_street) in enumerate(forms, start=1):
        entry = book.take(f"FUZZY-{number:02d}", RS)
        _relink_by_address(book, entry, profile_street, export_street, "fuzzy_address",
                           "new account, owner and meter; street name misspelled")
        if neighbour_street:
            _add_unit_neighbour(book, entry, neighbour_street, "CTL-UNIT-02")


# --- same account, other details -------------------------------------------------------


def owner_changed(book: SampleBook) -> None:
    """Bill some accounts to a clearly different name (a new tenant or buyer)."""
    for number, customer_class in enumerate((RS, RS, RM, COM), start=1):
        entry = book.take(f"OWNER-{number:02d}", customer_class)
        entry.bills = [book.bill(entry, customer_name=_new_owner(book, entry))]
        _record(book, entry, "owner_changed", "account", entry.expected, entry.expected,
                "same account billed to a different name")


def meter_changed(book: SampleBook) -> None:
    """Bill some accounts on a new meter that the profile does not have yet."""
    for number, customer_class in enumerate((RS, RS, RM, COM), start=1):
        entry = book.take(f"METER-{number:02d}", customer_class)
        entry.bills = [book.bill(entry, meter_number=book.factory.meter_number())]
        _record(book, entry, "meter_changed", "account", entry.expected, entry.expected,
                "meter swapped; the profile has the old meter number")


def class_mismatch(book: SampleBook) -> None:
    """Bill commercial customers under a residential rate code and the residential amount.

    The residential amount is above the commercial one when the customer used less in
    the cycle than in the winter, so the first case is overbilled and the others are
    underbilled. Each case has another cycle usage, so no two look alike.
    """
    residential = _residential_amount
    seen_usage: set[int] = set()
    for case_id, direction in (
        ("CLASS-01", _raises(residential)),
        ("CLASS-02", _lowers(residential)),
        ("CLASS-03", _lowers(residential)),
    ):
        entry = book.take(
            case_id, COM,
            lambda entry, fits=direction: fits(entry)
            and entry.usage_ccf not in seen_usage,
        )
        seen_usage.add(entry.usage_ccf)
        billed = residential(entry)
        entry.bills = [book.bill(
            entry, rate_code=WRONG_RESIDENTIAL_CODE, billed_class=RS,
            sewer_amounts=lambda e: (residential(e),),
        )]
        description = f"commercial customer billed under {WRONG_RESIDENTIAL_CODE} as residential"
        _record(book, entry, "class_mismatch", "account", entry.expected, billed, description)
        _record(book, entry, _amount_type(entry.expected, billed), "account", entry.expected,
                billed, description)


def duplicate_bills(book: SampleBook) -> None:
    """Charge sewer twice for one period: two sewer lines on a bill, or a second bill.

    For two lines on one bill, the finding compares the bill's total with the charge due.
    A second bill of the same period owes nothing, so its expected amount is zero.
    """
    for number, customer_class in enumerate((RS, RM), start=1):
        entry = book.take(f"DUP-{number:02d}", customer_class)
        entry.bills = [book.bill(entry, sewer_amounts=lambda e: (e.expected, e.expected))]
        _record(book, entry, "duplicate_bill", "account", entry.expected, 2 * entry.expected,
                "two sewer lines on one bill")
    for number, customer_class in enumerate((RS, COM), start=3):
        entry = book.take(f"DUP-{number:02d}", customer_class)
        repeat = dataclasses.replace(entry.bills[0], repeat=True, bill_date=REPEAT_BILL_DATE)
        entry.bills = [entry.bills[0], repeat]
        _record(book, entry, "duplicate_bill", "account", ZERO, entry.expected,
                "second bill for the same account and period")


def billed_while_not_active(book: SampleBook) -> None:
    """Bill septic and inactive profiles the full sewer charge: overbilled against zero."""
    for status, prefix, classes in ((SEPTIC, "SEPTIC", (RS, RS, RM)),
                                    (INACTIVE, "INACT", (RS, RM, COM))):
        for number, customer_class in enumerate(classes, start=1):
            entry = book.take(f"{prefix}-{number:02d}", customer_class)
            entry.profile = dataclasses.replace(entry.profile, status=status)
            _record(book, entry, "overbilled", "account", ZERO, entry.expected,
                    f"{status} profile billed sewer")


# --- helpers ---------------------------------------------------------------------------


def _service(entry: Entry) -> Decimal:
    return entry.charge().service


def _raises(billed_amount):
    return lambda entry: billed_amount(entry) - entry.expected >= MIN_DIFFERENCE


def _lowers(billed_amount):
    return lambda entry: entry.expected - billed_amount(entry) >= MIN_DIFFERENCE


def _any(entry: Entry) -> bool:
    return True


def _differs_from_new_customer(entry: Entry) -> bool:
    return abs(new_customer_charge() - entry.expected) >= MIN_DIFFERENCE


def _residential_amount(entry: Entry) -> Decimal:
    return entry.charge(customer_class=RS).total


def _amount_type(expected: Decimal, billed: Decimal) -> str:
    return "overbilled" if billed > expected else "underbilled"


def _bill_amount(book: SampleBook, entry: Entry, billed_amount, description: str) -> None:
    entry.bills = [book.bill(entry, sewer_amounts=lambda e: (billed_amount(e),))]
    billed = billed_amount(entry)
    _record(book, entry, _amount_type(entry.expected, billed), "account", entry.expected,
            billed, description)


def _record(
    book: SampleBook,
    entry: Entry,
    finding_type: str,
    match_method: str,
    expected: Decimal,
    billed: Decimal,
    description: str,
    *,
    billed_account: str | None = None,
) -> None:
    book.record(ExpectedFinding(
        case_id=entry.case_id,
        finding_type=finding_type,
        account_id=entry.profile.account_id,
        billed_account=billed_account or entry.bills[0].account,
        match_method=match_method,
        expected_amount=expected,
        billed_amount=billed,
        description=description,
    ))


def _successor_account(water_account: str) -> str:
    """Return the account the water utility opens for the next occupant: suffix plus one."""
    base, suffix = water_account.split("-")
    return f"{base}-{int(suffix) + 1:02d}"


def _new_owner(book: SampleBook, entry: Entry) -> str:
    """Draw a buyer's name that scores at most NEW_OWNER_MAX_SCORE against the owner's."""
    old = _comparable(entry.identity.owner_name)
    while True:
        name = book.factory.new_owner_name()
        if fuzz.token_set_ratio(old, _comparable(name)) <= NEW_OWNER_MAX_SCORE:
            return name


def _comparable(name: str) -> str:
    words = "".join(char if char.isalnum() else " " for char in name.upper()).split()
    return " ".join(sorted(words))


def _relink_by_address(
    book: SampleBook,
    entry: Entry,
    profile_street: str,
    export_street: str,
    match_method: str,
    description: str,
) -> None:
    number = entry.identity.house_number
    entry.profile = dataclasses.replace(
        entry.profile, service_address=f"{number} {profile_street}"
    )
    bill = book.bill(
        entry,
        account=book.factory.water_account(),
        customer_name=_new_owner(book, entry),
        service_address=f"{number} {export_street}",
        parcel_id="",
        meter_number=book.factory.meter_number(),
    )
    entry.bills = [bill]
    _record(book, entry, "account_changed", match_method, entry.expected, entry.expected,
            description, billed_account=bill.account)


def _add_unit_neighbour(book: SampleBook, entry: Entry, street: str, case_id: str) -> None:
    """Give another unit of the same building an inactive, unbilled profile.

    If the matcher ignored the unit, the bill of `entry` would link to this profile, or
    both profiles would be ambiguous. Either way, findings that are not expected would appear.
    """
    neighbour = book.take(case_id, RS)
    neighbour.profile = dataclasses.replace(
        neighbour.profile,
        service_address=f"{entry.identity.house_number} {street}",
        status=INACTIVE,
    )
    neighbour.bills = []
    book.control(
        neighbour, "",
        f"inactive unit at {neighbour.profile.service_address}, next to case {entry.case_id}; "
        "must not be linked to that bill",
    )

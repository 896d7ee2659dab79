"""Controls: records that look like discrepancies but must produce no finding.

The unit controls (CTL-UNIT-01 and -02) are added next to their address cases in
cases.py; the rest are here.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sewerline.sample.book import EXEMPT, INACTIVE, SEPTIC, SampleBook
from sewerline.sample.charges import COMMERCIAL, RESIDENTIAL_SINGLE

CENT = Decimal("0.01")


def add_controls(book: SampleBook) -> None:
    """Apply every control to the book, in a fixed order."""
    off_by_a_cent(book)
    owner_written_differently(book)
    account_without_zeros(book)
    not_active_and_not_billed(book)
    water_only_customer(book)


def off_by_a_cent(book: SampleBook) -> None:
    """Bill one cent above and one cent below the charge, within the default tolerance."""
    for case_id, customer_class, step in (
        ("CTL-CENT-01", RESIDENTIAL_SINGLE, CENT),
        ("CTL-CENT-02", COMMERCIAL, -CENT),
    ):
        entry = book.take(case_id, customer_class)
        billed = entry.expected + step
        entry.bills = [book.bill(entry, sewer_amounts=lambda e, step=step: (e.expected + step,))]
        book.control(
            entry, entry.bills[0].account,
            f"billed {billed} where {entry.expected} is due: one cent, within the tolerance",
        )


def owner_written_differently(book: SampleBook) -> None:
    """Write one owner in the Assessor's order in the profile and in natural order on the bill."""
    for case_id, profile_name, export_name in (
        ("CTL-NAME-01", "SMITH, JOHN A", "John A. Smith"),
        ("CTL-NAME-02", "O'BRIEN, PATRICK J", "PATRICK J OBRIEN"),
    ):
        entry = book.take(case_id, RESIDENTIAL_SINGLE)
        entry.profile = dataclasses.replace(entry.profile, owner_name=profile_name)
        entry.bills = [book.bill(entry, customer_name=export_name)]
        book.control(
            entry, entry.bills[0].account,
            f"owner '{profile_name}' in the profile is '{export_name}' on the bill",
        )


def account_without_zeros(book: SampleBook) -> None:
    """Write the water account in the export without its leading zeros and dash."""
    for case_id, customer_class in (
        ("CTL-ACCT-01", RESIDENTIAL_SINGLE),
        ("CTL-ACCT-02", COMMERCIAL),
    ):
        entry = book.take(case_id, customer_class)
        digits = entry.profile.water_account.replace("-", "").lstrip("0")
        entry.bills = [book.bill(entry, account=digits)]
        book.control(
            entry, digits,
            f"profile account {entry.profile.water_account} written {digits} in the export",
        )


def not_active_and_not_billed(book: SampleBook) -> None:
    """Leave septic, exempt and inactive profiles without a sewer charge, as is correct."""
    for case_id, status, water_bill in (
        ("CTL-SEPTIC-01", SEPTIC, True),
        ("CTL-SEPTIC-02", SEPTIC, False),
        ("CTL-EXEMPT-01", EXEMPT, True),
        ("CTL-EXEMPT-02", EXEMPT, False),
        ("CTL-INACT-01", INACTIVE, False),
    ):
        entry = book.take(case_id, RESIDENTIAL_SINGLE)
        entry.profile = dataclasses.replace(entry.profile, status=status)
        entry.bills = [book.bill(entry, sewer_amounts=())] if water_bill else []
        billed_account = entry.bills[0].account if water_bill else ""
        bill_note = "water billed without a sewer line" if water_bill else "no bill at all"
        book.control(entry, billed_account, f"{status} profile, {bill_note}")


def water_only_customer(book: SampleBook) -> None:
    """Bill water only to a customer the sewer utility does not serve and has no profile of."""
    entry = book.take("CTL-WATER-01", RESIDENTIAL_SINGLE)
    entry.identity = book.factory.identity()
    entry.profile = None
    entry.bills = [book.bill(entry, sewer_amounts=())]
    book.control(
        entry, entry.bills[0].account,
        "water-only bill of a home on a private septic system, unknown to the sewer utility",
    )

"""The sample's second billing cycle, 2016-05, in which the water utility corrected half the cases.

Every customer keeps its profile, and each bill of cycle 2016-03 is made again from its
recipe with the usage of the read billed 2016-05-01. Where the source has no such read,
the water utility bills an estimate equal to the previous read, as utilities do for a
meter they could not read. A customer is billed on the same route day, two months later.

Before the 2016-05 bill run the water utility corrected its billing of the cases in
CORRECTED_CASES. A correction fixes what the water utility controls: the amount, the rate
code, a missing or extra sewer line, a bill never sent, and sewer billed to a home that
has no sewer service. A new account, owner or meter stays, because only the sewer
utility's profile can catch up with it. So a corrected sold house keeps its
account_changed finding and loses its underbilled one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sewerline.sample.book import (
    ACTIVE,
    BILL_DATES,
    BillRow,
    Entry,
    ExpectedFinding,
    SampleBook,
    full_charge,
)
from sewerline.sample.cases import MIN_DIFFERENCE, ZERO

# The cases whose billing the water utility corrected, which removes 32 of the 64
# first-cycle findings. The cases left wrong were chosen so that the cycle's usage
# cannot change their finding type, and verify_next_cycle checks it.
CORRECTED_CASES = frozenset({
    "OVER-01", "OVER-03", "OVER-04", "OVER-05",
    "UNDER-01", "UNDER-03", "UNDER-05",
    "NOSW-01", "NOSW-02", "NOSW-03",
    "NOTB-01", "NOTB-02", "NOTB-03",
    "SOLD-01", "SOLD-02", "SOLD-03",
    "PARCEL-03",
    "CLASS-01", "CLASS-02", "CLASS-03",
    "DUP-01", "DUP-02", "DUP-03",
    "SEPTIC-01", "SEPTIC-02", "SEPTIC-03",
    "INACT-01", "INACT-02", "INACT-03",
})

# Finding types that a correction of the water utility's billing removes.
BILLING_FINDINGS = frozenset({
    "overbilled", "underbilled", "not_billed", "class_mismatch", "duplicate_bill",
})
AMOUNT_FINDINGS = ("overbilled", "underbilled", "duplicate_bill")

# Bill fields a correction keeps: who the customer is now and where the meter is.
IDENTITY_FIELDS = frozenset({
    "account", "customer_name", "service_address", "parcel_id", "meter_number",
})

# The bill runs of May 2016. A customer billed on the n-th run of March 2016 (book.py's
# BILL_DATES) is billed on the n-th run of May.
NEXT_BILL_DATES = tuple(dt.date(2016, 5, day) for day in (2, 3, 4, 5, 6))
# A repeat bill comes from a later bill run of the same month.
NEXT_REPEAT_BILL_DATE = dt.date(2016, 5, 23)


@dataclass(frozen=True)
class CorrectedDiscrepancy:
    """A first-cycle finding the next cycle no longer shows: one row of corrected_2016-05.csv.

    `recovered_amount` is the finding's revenue at stake in the first cycle, which the
    correction recovers every cycle from now on.
    """

    case_id: str
    finding_type: str
    account_id: str
    billed_account: str
    recovered_amount: Decimal
    description: str


@dataclass(frozen=True)
class NextCycle:
    """The second cycle's bills, the findings its audit must report, and the corrections."""

    bills: list[BillRow]
    findings: list[ExpectedFinding]
    corrected: list[CorrectedDiscrepancy]
    estimated_reads: int        # bills whose usage is an estimate, not a real read


def build_next_cycle(book: SampleBook) -> NextCycle:
    """Bill every customer of the book for the next cycle and derive what its audit must find.

    Raises ValueError when the corrections or the derived findings break what the
    sample promises (see verify_next_cycle).
    """
    following: dict[str, Entry] = {}
    bills: list[BillRow] = []
    estimated = 0
    for entry in book.entries:
        next_entry = _next_entry(entry)
        if entry.case_id in CORRECTED_CASES:
            next_entry.bills = _corrected_bills(book, next_entry, entry.bills)
        else:
            next_entry.bills = [_rebill(book, next_entry, bill) for bill in entry.bills]
        if entry.case_id:
            following[entry.case_id] = next_entry
        if entry.usage.next_read_ccf is None:
            estimated += len(next_entry.bills)
        bills.extend(next_entry.bills)

    findings: list[ExpectedFinding] = []
    corrected: list[CorrectedDiscrepancy] = []
    for finding in book.findings:
        if finding.case_id in CORRECTED_CASES and finding.finding_type in BILLING_FINDINGS:
            corrected.append(_corrected(finding))
        else:
            findings.append(_carried_over(finding, following[finding.case_id]))

    next_cycle = NextCycle(bills=bills, findings=findings, corrected=corrected,
                           estimated_reads=estimated)
    verify_next_cycle(book, next_cycle)
    return next_cycle


def finding_amounts(entry: Entry, finding: ExpectedFinding) -> tuple[Decimal | None, ...]:
    """Return the expected and billed amounts of `finding` for the entry's current bills.

    The expected amount is what the profile owes for the bill: nothing without a
    profile (None), zero for a septic, exempt or inactive profile and for a repeat
    bill, else the charge of the rates. The billed amount is the sewer total of the
    last bill under the finding's billed account, or None for a not_billed finding.
    """
    if entry.profile is None:
        expected = None
    elif entry.profile.status != ACTIVE:
        expected = ZERO
    elif finding.finding_type == "duplicate_bill" and any(b.repeat for b in entry.bills):
        expected = ZERO
    else:
        expected = entry.expected

    if finding.billed_amount is None:
        return expected, None
    bills = [bill for bill in entry.bills if bill.account == finding.billed_account]
    return expected, sum(bills[-1].sewer_amounts, ZERO)


def revenue_at_stake(finding: ExpectedFinding) -> Decimal:
    """Return the money a finding puts at stake, by the rule of the audit's reports.

    Over-, under- and duplicate billing put the difference at stake, a profile not
    billed its whole expected amount. Account, owner, meter and class findings explain
    an amount finding and put nothing at stake themselves.
    """
    if finding.finding_type in AMOUNT_FINDINGS:
        return abs(finding.billed_amount - finding.expected_amount)
    if finding.finding_type == "not_billed":
        return finding.expected_amount
    return ZERO


def verify_next_cycle(book: SampleBook, next_cycle: NextCycle) -> None:
    """Check the corrections and the derived findings before anything is written.

    Raises ValueError when a corrected case is unknown or has no billing finding, when
    finding_amounts does not give back the first cycle's recorded amounts, or when a
    carried-over amount finding changed direction or fell below MIN_DIFFERENCE.
    """
    case_ids = {entry.case_id for entry in book.entries if entry.case_id}
    unknown = sorted(CORRECTED_CASES - case_ids)
    if unknown:
        raise ValueError(f"corrected cases {unknown} are not cases of the sample")
    billing_cases = {f.case_id for f in book.findings if f.finding_type in BILLING_FINDINGS}
    idle = sorted(CORRECTED_CASES - billing_cases)
    if idle:
        raise ValueError(f"corrected cases {idle} have no billing finding to correct")

    # The rule that derives the next cycle's amounts must give back the first cycle's.
    entries = {entry.case_id: entry for entry in book.entries if entry.case_id}
    for finding in book.findings:
        recorded = (finding.expected_amount, finding.billed_amount)
        derived = finding_amounts(entries[finding.case_id], finding)
        if derived != recorded:
            raise ValueError(f"{finding.case_id} {finding.finding_type}: amounts {derived} "
                             f"derived, {recorded} recorded")

    for finding in next_cycle.findings:
        if finding.finding_type not in AMOUNT_FINDINGS:
            continue
        difference = finding.billed_amount - finding.expected_amount
        if finding.finding_type == "underbilled":
            difference = -difference
        if difference < MIN_DIFFERENCE:
            raise ValueError(f"{finding.case_id}: the {finding.finding_type} finding of the "
                             f"next cycle is off by {difference}, less than {MIN_DIFFERENCE}")


def corrected_counts_by_type(next_cycle: NextCycle) -> dict[str, int]:
    """Return how many corrected discrepancies each finding type has (for the log)."""
    counts: dict[str, int] = defaultdict(int)
    for item in next_cycle.corrected:
        counts[item.finding_type] += 1
    return dict(sorted(counts.items()))


def _next_entry(entry: Entry) -> Entry:
    """Return the entry as the next cycle bills it: its next read, its route's next bill run."""
    usage = entry.usage
    read = usage.next_read_ccf if usage.next_read_ccf is not None else usage.cycle_read_ccf
    bill_date = NEXT_BILL_DATES[BILL_DATES.index(entry.bill_date)]
    return dataclasses.replace(entry, usage_ccf=read, bill_date=bill_date, bills=[])


def _rebill(book: SampleBook, entry: Entry, bill: BillRow) -> BillRow:
    """Make a first-cycle bill again for the next cycle, mistakes included."""
    recipe = bill.recipe
    again = book.bill(entry, sewer_amounts=recipe.sewer, **recipe.changes)
    if bill.repeat:
        again = dataclasses.replace(again, repeat=True, bill_date=NEXT_REPEAT_BILL_DATE)
    return again


def _corrected_bills(book: SampleBook, entry: Entry, bills: list[BillRow]) -> list[BillRow]:
    """Bill a corrected case once, with the charge due, under the customer's current identity.

    A profile without sewer service is billed water only.
    """
    changes = {}
    if bills:
        changes = {
            name: value for name, value in bills[0].recipe.changes.items()
            if name in IDENTITY_FIELDS
        }
    owes_sewer = entry.profile is not None and entry.profile.status == ACTIVE
    return [book.bill(entry, sewer_amounts=full_charge if owes_sewer else (), **changes)]


def _carried_over(finding: ExpectedFinding, entry: Entry) -> ExpectedFinding:
    """Return the next cycle's form of a finding that was not corrected."""
    expected, billed = finding_amounts(entry, finding)
    return dataclasses.replace(finding, expected_amount=expected, billed_amount=billed)


def _corrected(finding: ExpectedFinding) -> CorrectedDiscrepancy:
    return CorrectedDiscrepancy(
        case_id=finding.case_id,
        finding_type=finding.finding_type,
        account_id=finding.account_id,
        billed_account=finding.billed_account,
        recovered_amount=revenue_at_stake(finding),
        description=finding.description,
    )

"""Status changes of a discrepancy: those staff may make and those only an audit makes.

Staff move a discrepancy through review (confirm or dismiss it, report it to the
billing entity, record the entity's acknowledgment). Only an audit run decides that a
discrepancy is corrected: when a later cycle's data no longer shows it, the run marks
it verified_corrected, and when a corrected one shows up again, the run reopens it.
"""

from __future__ import annotations

from sewerline.apps.discrepancies.models import DiscrepancyStatus as Status

# Statuses of a discrepancy that is still a problem in the billing data. An audit run
# whose findings no longer include one of these marks it verified_corrected.
OPEN_LIKE = frozenset({Status.OPEN, Status.CONFIRMED, Status.REPORTED, Status.ACKNOWLEDGED})

# Statuses of a discrepancy the data showed corrected. An audit run that finds it again
# in a later cycle reopens it.
CORRECTED = frozenset({Status.VERIFIED_CORRECTED, Status.CLOSED})

# Status -> statuses staff may set from it.
STAFF_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.CONFIRMED, Status.DISMISSED}),
    Status.CONFIRMED: frozenset({Status.REPORTED, Status.DISMISSED, Status.OPEN}),
    Status.REPORTED: frozenset({Status.ACKNOWLEDGED, Status.DISMISSED}),
    # Reported again when the entity acknowledged it but the next cycles still show it.
    Status.ACKNOWLEDGED: frozenset({Status.REPORTED, Status.DISMISSED}),
    # Reopened when staff find the correction was not real.
    Status.VERIFIED_CORRECTED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.DISMISSED: frozenset({Status.OPEN}),
    Status.CLOSED: frozenset(),
}

# Status -> statuses an audit run sets from it.
AUDIT_TRANSITIONS: dict[str, frozenset[str]] = {
    **{status: frozenset({Status.VERIFIED_CORRECTED}) for status in OPEN_LIKE},
    **{status: frozenset({Status.OPEN}) for status in CORRECTED},
}


class InvalidTransition(Exception):
    """Raised when a status change is not allowed; lists every rejected discrepancy.

    `rejected` contains (discrepancy, old status, new status) triples.
    """

    def __init__(self, rejected: list[tuple[object, str, str]]):
        self.rejected = list(rejected)
        parts = [
            f"discrepancy {discrepancy.pk} ({discrepancy}) cannot go from {old} to {new}"
            f"{allowed_hint(old)}"
            for discrepancy, old, new in self.rejected
        ]
        super().__init__("; ".join(parts))


def allowed_hint(status: str) -> str:
    """Return a clause naming the statuses staff may set from `status`."""
    allowed = sorted(STAFF_TRANSITIONS.get(status, ()))
    if not allowed:
        return f" ({status} is final)"
    return f" (from {status}, choose {' or '.join(allowed)})"


def staff_may_set(old: str, new: str) -> bool:
    """Return whether staff may change a discrepancy's status from `old` to `new`."""
    return new in STAFF_TRANSITIONS.get(old, frozenset())


def audit_may_set(old: str, new: str) -> bool:
    """Return whether an audit run may change a discrepancy's status from `old` to `new`."""
    return new in AUDIT_TRANSITIONS.get(old, frozenset())

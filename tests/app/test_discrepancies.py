"""Status changes and recoveries of discrepancies, with their events and change records."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from audit_data import make_cycle, make_entity, user_with

from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.discrepancies.actions import (
    InvalidTransition,
    change_status,
    record_recovery,
)
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from sewerline.apps.discrepancies.models import DiscrepancyStatus as Status
from sewerline.apps.discrepancies.reconcile import cycle_is_earlier
from sewerline.apps.discrepancies.transitions import (
    AUDIT_TRANSITIONS,
    OPEN_LIKE,
    STAFF_TRANSITIONS,
    audit_may_set,
    staff_may_set,
)

pytestmark = pytest.mark.django_db

# The review path staff may take, and the moves they may not make.
ALLOWED = [
    (Status.OPEN, Status.CONFIRMED),
    (Status.OPEN, Status.DISMISSED),
    (Status.CONFIRMED, Status.REPORTED),
    (Status.CONFIRMED, Status.DISMISSED),
    (Status.REPORTED, Status.ACKNOWLEDGED),
    (Status.ACKNOWLEDGED, Status.REPORTED),
    (Status.VERIFIED_CORRECTED, Status.CLOSED),
    (Status.VERIFIED_CORRECTED, Status.OPEN),
    (Status.DISMISSED, Status.OPEN),
]
REFUSED = [
    (Status.OPEN, Status.REPORTED),
    (Status.OPEN, Status.VERIFIED_CORRECTED),
    (Status.OPEN, Status.CLOSED),
    (Status.OPEN, Status.OPEN),
    (Status.REPORTED, Status.OPEN),
    (Status.ACKNOWLEDGED, Status.VERIFIED_CORRECTED),
    (Status.DISMISSED, Status.CLOSED),
    (Status.CLOSED, Status.OPEN),
]


@pytest.fixture
def entity():
    return make_entity("lakeside")


@pytest.fixture
def cycle(entity):
    return make_cycle(entity, "2016-03", period_end=dt.date(2016, 2, 29))


_keys = itertools.count(1)


def make_discrepancy(entity, cycle, status=Status.OPEN, at_stake="12.50"):
    return Discrepancy.objects.create(
        entity=entity, finding_type="underbilled", key=f"SS-{next(_keys):04d}",
        status=status, first_cycle=cycle, last_cycle=cycle,
        revenue_at_stake=Decimal(at_stake),
    )


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_staff_may_set(old, new):
    assert staff_may_set(old, new)


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_staff_may_not_set(old, new):
    assert not staff_may_set(old, new)


def test_only_audits_verify_corrections():
    for old in Status.values:
        assert not staff_may_set(old, Status.VERIFIED_CORRECTED), old
    for old in OPEN_LIKE:
        assert audit_may_set(old, Status.VERIFIED_CORRECTED), old
    assert not audit_may_set(Status.DISMISSED, Status.VERIFIED_CORRECTED)
    assert audit_may_set(Status.CLOSED, Status.OPEN)


def test_tables_name_only_known_statuses():
    for table in (STAFF_TRANSITIONS, AUDIT_TRANSITIONS):
        for old, targets in table.items():
            assert old in Status.values
            assert targets <= set(Status.values), old
    assert set(STAFF_TRANSITIONS) == set(Status.values)


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_change_status_writes_event_and_record(entity, cycle, old, new):
    actor = user_with(Role.AUDITOR, "alex")
    item = make_discrepancy(entity, cycle, status=old)

    assert change_status(actor, [item], new, note="checked the meter photo") == 1

    item.refresh_from_db()
    assert item.status == new
    event = DiscrepancyEvent.objects.get(discrepancy=item)
    assert (event.old_status, event.new_status) == (old, new)
    assert event.actor == actor
    assert event.note == "checked the meter photo"
    record = ChangeRecord.objects.get(object_type="discrepancies.discrepancy",
                                      object_id=str(item.pk))
    assert record.actor == actor
    assert record.action == new
    assert record.changes == {"status": [old, new]}
    assert record.note == "checked the meter photo"


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_change_status_rejects(entity, cycle, old, new):
    item = make_discrepancy(entity, cycle, status=old)
    with pytest.raises(InvalidTransition) as raised:
        change_status(None, [item], new)
    message = str(raised.value)
    assert f"discrepancy {item.pk}" in message
    assert f"from {old} to {new}" in message
    item.refresh_from_db()
    assert item.status == old
    assert not DiscrepancyEvent.objects.exists()
    assert not ChangeRecord.objects.exists()


def test_bulk_change_is_all_or_nothing(entity, cycle):
    actor = user_with(Role.BILLING_CLERK, "bo")
    fine = [make_discrepancy(entity, cycle) for _ in range(3)]
    closed = make_discrepancy(entity, cycle, status=Status.CLOSED)

    with pytest.raises(InvalidTransition) as raised:
        change_status(actor, [*fine, closed], Status.CONFIRMED)
    assert [item.pk for item, _, _ in raised.value.rejected] == [closed.pk]
    assert "closed is final" in str(raised.value)
    assert set(Discrepancy.objects.values_list("status", flat=True)) == {
        Status.OPEN, Status.CLOSED
    }
    assert not DiscrepancyEvent.objects.exists()

    changed = change_status(actor, Discrepancy.objects.filter(status=Status.OPEN),
                            Status.CONFIRMED)
    assert changed == 3
    assert DiscrepancyEvent.objects.count() == 3
    assert ChangeRecord.objects.filter(actor=actor).count() == 3


def test_change_status_by_ids(entity, cycle):
    items = [make_discrepancy(entity, cycle) for _ in range(2)]
    assert change_status(None, [item.pk for item in items], Status.DISMISSED) == 2
    assert set(Discrepancy.objects.values_list("status", flat=True)) == {Status.DISMISSED}


def test_change_status_unknown_status(entity, cycle):
    item = make_discrepancy(entity, cycle)
    with pytest.raises(ValueError, match="unknown discrepancy status 'fixed'"):
        change_status(None, [item], "fixed")


def test_change_status_missing_id(entity, cycle):
    with pytest.raises(Discrepancy.DoesNotExist, match="discrepancy 999999 not found"):
        change_status(None, [999999], Status.CONFIRMED)


def test_record_recovery(entity, cycle):
    actor = user_with(Role.AUDITOR, "alex")
    item = make_discrepancy(entity, cycle, status=Status.VERIFIED_CORRECTED)

    updated = record_recovery(actor, item, "1,234.50")

    assert updated.recovered == Decimal("1234.50")
    item.refresh_from_db()
    assert item.recovered == Decimal("1234.50")
    event = DiscrepancyEvent.objects.get(discrepancy=item)
    assert event.note == "recovered $1,234.50"
    assert event.actor == actor
    record = ChangeRecord.objects.get(object_id=str(item.pk))
    assert record.actor == actor
    assert record.action == "recovery_recorded"
    assert record.changes == {"recovered": [None, "1234.50"]}

    record_recovery(actor, item, Decimal("1300"))
    latest = ChangeRecord.objects.filter(object_id=str(item.pk)).first()
    assert latest.changes == {"recovered": ["1234.50", "1300.00"]}


@pytest.mark.parametrize(("amount", "message"), [
    (12.5, "never a float"),
    ("-1.00", "zero or more"),
    ("12.345", "fractions of a cent"),
    ("twelve", "not a number"),
    ("NaN", "zero or more"),
])
def test_record_recovery_rejects(entity, cycle, amount, message):
    item = make_discrepancy(entity, cycle)
    with pytest.raises(ValueError, match=message):
        record_recovery(None, item, amount)
    item.refresh_from_db()
    assert item.recovered is None
    assert not DiscrepancyEvent.objects.exists()


def test_cycle_order(entity):
    january = make_cycle(entity, "2016-01", period_end=dt.date(2016, 1, 31))
    february = make_cycle(entity, "2016-02", period_end=dt.date(2016, 2, 29))
    undated = make_cycle(entity, "2016-03")
    # A code that sorts late but ends early: the period end decides.
    odd = make_cycle(entity, "Z-special", period_end=dt.date(2015, 12, 31))

    assert cycle_is_earlier(january, february)
    assert not cycle_is_earlier(february, january)
    assert not cycle_is_earlier(january, january)
    assert cycle_is_earlier(odd, january)
    assert cycle_is_earlier(february, undated)

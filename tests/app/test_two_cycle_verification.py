"""A discrepancy that the next cycle's data no longer shows is verified corrected.

Cycle 2016-01 bills account SS-A $45.00 and SS-B $30.00 where the rates give $40.00
each ($20.00 + $5.00 x min(4 kgal used, 5 kgal winter average)): A is overbilled by
$5.00 and B underbilled by $10.00. Cycle 2016-02 bills A the correct $40.00 and B
$30.00 again, so A is fixed and B is still wrong.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from audit_data import (
    add_account,
    add_charge,
    make_batch,
    make_cycle,
    make_entity,
    make_rate_version,
    user_with,
)
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sewerline.apps.audits.actions import run_audit, start_audit
from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.discrepancies.actions import change_status, reconcile
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from sewerline.apps.discrepancies.models import DiscrepancyStatus as Status
from sewerline.apps.jobs.models import JobStatus
from sewerline.apps.jobs.runner import run_now
from sewerline.apps.profiles.models import Account

pytestmark = pytest.mark.django_db

JANUARY = (dt.date(2016, 1, 1), dt.date(2016, 1, 31))
FEBRUARY = (dt.date(2016, 2, 1), dt.date(2016, 2, 29))
MARCH = (dt.date(2016, 3, 1), dt.date(2016, 3, 31))


class World:
    """An entity with accounts SS-A (water 1001), SS-B (1002), SS-C (1003), and a rate version."""

    def __init__(self):
        self.entity = make_entity("riverton")
        self.version = make_rate_version()
        self.auditor = user_with(Role.AUDITOR, "alex")
        for account_id, water in (("SS-A", "1001"), ("SS-B", "1002"), ("SS-C", "1003")):
            add_account(self.entity, account_id, water)

    def cycle(self, code: str, period: tuple[dt.date, dt.date],
              amounts: dict[str, str]) -> AuditRun:
        """Store a cycle billing each water account its amount, and audit it through a job."""
        cycle = make_cycle(self.entity, code, period_end=period[1])
        batch = make_batch(self.entity, cycle, name=f"{code}.csv")
        for water, amount in amounts.items():
            add_charge(batch, water, amount, start=period[0], end=period[1])
        return self.audit(cycle)

    def audit(self, cycle) -> AuditRun:
        run = start_audit(self.auditor, cycle=cycle, rate_version=self.version)
        job = run_now(run.job_id)
        assert job.status == JobStatus.DONE, job.error
        return AuditRun.objects.select_related("cycle").get(pk=run.pk)


def discrepancy(account_id: str) -> Discrepancy:
    return Discrepancy.objects.select_related("first_cycle", "last_cycle").get(key=account_id)


@pytest.fixture
def world():
    return World()


@pytest.fixture
def two_cycles(world):
    first = world.cycle("2016-01", JANUARY, {"1001": "45.00", "1002": "30.00", "1003": "40.00"})
    second = world.cycle("2016-02", FEBRUARY, {"1001": "40.00", "1002": "30.00",
                                               "1003": "40.00"})
    return first, second


def test_first_cycle_opens_a_and_b(world):
    run = world.cycle("2016-01", JANUARY, {"1001": "45.00", "1002": "30.00", "1003": "40.00"})

    a, b = discrepancy("SS-A"), discrepancy("SS-B")
    assert (a.finding_type, a.status, a.cycles_seen) == ("overbilled", Status.OPEN, 1)
    assert (b.finding_type, b.status, b.cycles_seen) == ("underbilled", Status.OPEN, 1)
    assert a.revenue_at_stake == Decimal("5.00")
    assert b.revenue_at_stake == Decimal("10.00")
    assert a.first_cycle == a.last_cycle == run.cycle
    assert a.account.account_id == "SS-A"
    assert not Discrepancy.objects.filter(key="SS-C").exists()
    assert a.events.get().note.startswith("first seen in cycle 2016-01")


def test_fixed_discrepancy_is_verified_corrected(two_cycles):
    first, second = two_cycles
    a = discrepancy("SS-A")

    assert a.status == Status.VERIFIED_CORRECTED
    assert a.recovered == Decimal("5.00")
    assert a.last_cycle == first.cycle
    assert a.cycles_seen == 1

    event = a.events.get(new_status=Status.VERIFIED_CORRECTED)
    assert event.old_status == Status.OPEN
    assert event.cycle == second.cycle
    assert "cycle 2016-02 no longer shows it" in event.note
    assert "last seen in cycle 2016-01" in event.note
    assert event.actor is None

    record = ChangeRecord.objects.get(object_type="discrepancies.discrepancy",
                                      object_id=str(a.pk))
    assert record.actor is None
    assert record.action == Status.VERIFIED_CORRECTED
    assert record.changes == {"status": ["open", "verified_corrected"],
                              "recovered": [None, "5.00"]}


def test_persisting_discrepancy_ages(two_cycles):
    first, second = two_cycles
    b = discrepancy("SS-B")

    assert b.status == Status.OPEN
    assert b.cycles_seen == 2
    assert b.first_cycle == first.cycle
    assert b.last_cycle == second.cycle
    assert b.revenue_at_stake == Decimal("10.00")
    assert b.recovered is None
    assert list(b.findings.order_by("run_id").values_list("run_id", flat=True)) == [
        first.pk, second.pk
    ]
    notes = list(b.events.values_list("note", flat=True))
    assert [note.split(" (")[0] for note in notes] == [
        "first seen in cycle 2016-01", "seen in cycle 2016-02"
    ]


def test_rerun_of_cycle_is_idempotent(world, two_cycles):
    _, second = two_cycles
    events_before = DiscrepancyEvent.objects.count()
    records_before = ChangeRecord.objects.filter(
        object_type="discrepancies.discrepancy").count()

    again = world.audit(second.cycle)
    reconcile(again)

    b = discrepancy("SS-B")
    assert b.cycles_seen == 2
    assert b.findings.count() == 3
    a = discrepancy("SS-A")
    assert a.status == Status.VERIFIED_CORRECTED
    assert a.recovered == Decimal("5.00")
    assert DiscrepancyEvent.objects.count() == events_before
    assert ChangeRecord.objects.filter(
        object_type="discrepancies.discrepancy").count() == records_before


def test_reviewed_discrepancy_is_verified_too(world):
    world.cycle("2016-01", JANUARY, {"1001": "45.00", "1002": "30.00", "1003": "40.00"})
    b = discrepancy("SS-B")
    change_status(world.auditor, [b], Status.CONFIRMED)
    change_status(world.auditor, [b], Status.REPORTED, note="sent to the billing supervisor")
    change_status(world.auditor, [b], Status.ACKNOWLEDGED)

    world.cycle("2016-02", FEBRUARY, {"1001": "45.00", "1002": "40.00", "1003": "40.00"})
    b = discrepancy("SS-B")
    assert b.status == Status.VERIFIED_CORRECTED
    assert b.recovered == Decimal("10.00")
    assert discrepancy("SS-A").cycles_seen == 2

    change_status(world.auditor, [b], Status.CLOSED)
    assert discrepancy("SS-B").status == Status.CLOSED


def test_dismissed_discrepancy_stays_dismissed(world):
    world.cycle("2016-01", JANUARY, {"1001": "45.00", "1002": "30.00", "1003": "40.00"})
    change_status(world.auditor, [discrepancy("SS-A")], Status.DISMISSED)

    world.cycle("2016-02", FEBRUARY, {"1001": "40.00", "1002": "30.00", "1003": "40.00"})
    a = discrepancy("SS-A")
    assert a.status == Status.DISMISSED
    assert a.recovered is None


def test_corrected_discrepancy_reopens_when_seen_again(world, two_cycles):
    world.cycle("2016-03", MARCH, {"1001": "47.50", "1002": "30.00", "1003": "40.00"})

    a = discrepancy("SS-A")
    assert a.status == Status.OPEN
    assert a.recovered is None
    assert a.cycles_seen == 2
    assert a.revenue_at_stake == Decimal("7.50")
    assert a.last_cycle.code == "2016-03"
    reopened = a.events.get(old_status=Status.VERIFIED_CORRECTED)
    assert reopened.new_status == Status.OPEN
    assert "seen again in cycle 2016-03" in reopened.note
    assert discrepancy("SS-B").cycles_seen == 3


def test_older_cycle_audited_late_changes_no_status(world, two_cycles):
    # December's data shows A wrong as well; A was corrected in February all the same.
    world.cycle("2015-12", (dt.date(2015, 12, 1), dt.date(2015, 12, 31)),
                {"1001": "45.00", "1002": "30.00", "1003": "40.00"})

    a = discrepancy("SS-A")
    assert a.status == Status.VERIFIED_CORRECTED
    assert a.first_cycle.code == "2015-12"
    assert a.last_cycle.code == "2016-01"
    assert a.cycles_seen == 2
    b = discrepancy("SS-B")
    assert b.first_cycle.code == "2015-12"
    assert b.last_cycle.code == "2016-02"
    assert b.revenue_at_stake == Decimal("10.00")
    assert b.cycles_seen == 3


def test_unknown_customer_is_tracked_by_billed_account(world):
    # The bill of water account 0009-99 matches no profile; the next cycle writes the
    # same account as 999 (no leading zeros, no dash).
    world.cycle("2016-01", JANUARY, {"0009-99": "40.00", "1001": "40.00", "1002": "40.00",
                                     "1003": "40.00"})
    world.cycle("2016-02", FEBRUARY, {"999": "40.00", "1001": "40.00", "1002": "40.00",
                                      "1003": "40.00"})

    unknown = Discrepancy.objects.get(finding_type="unknown_customer")
    assert unknown.key == "999"
    assert unknown.account is None
    assert unknown.cycles_seen == 2
    assert unknown.status == Status.OPEN


def test_run_audit_without_job_reconciles(world):
    cycle = make_cycle(world.entity, "2016-01", period_end=JANUARY[1])
    batch = make_batch(world.entity, cycle)
    for water, amount in (("1001", "45.00"), ("1002", "40.00"), ("1003", "40.00")):
        add_charge(batch, water, amount, start=JANUARY[0], end=JANUARY[1])
    run = AuditRun.objects.create(cycle=cycle, rate_version=world.version)
    run_audit(run.pk)

    finding = Finding.objects.get(run=run)
    assert finding.discrepancy.key == "SS-A"
    assert finding.discrepancy.finding_type == "overbilled"


# --- property: any history of findings -----------------------------------------------

ACCOUNTS = ("SS-A", "SS-B", "SS-C")
# One cycle's findings: account id -> revenue at stake in cents (absent: billed right).
cycle_findings = st.dictionaries(st.sampled_from(ACCOUNTS), st.integers(1, 50_000),
                                 max_size=len(ACCOUNTS))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(cycle_findings, min_size=1, max_size=5))
def test_reconcile_follows_any_history(world, history):
    """Store made-up underbilled findings cycle by cycle and reconcile each run.

    The engine is not involved, so each example takes milliseconds; the database work
    of an example is rolled back at its end.
    """
    with transaction.atomic():
        accounts = {account.account_id: account for account in Account.objects.all()}
        runs = []
        for index, found in enumerate(history):
            cycle = make_cycle(world.entity, f"2017-{index + 1:02d}",
                               period_end=dt.date(2017, index + 1, 28))
            run = AuditRun.objects.create(cycle=cycle, rate_version=world.version)
            Finding.objects.bulk_create(
                Finding(run=run, finding_type="underbilled", account=accounts[account_id],
                        billed_account=accounts[account_id].water_account,
                        revenue_at_stake=Decimal(cents) / 100, match_method="account")
                for account_id, cents in found.items()
            )
            reconcile(run)
            runs.append(run)

        _check_history(history)

        # Reconciling the last run again changes nothing but the update time.
        fields = [field.name for field in Discrepancy._meta.concrete_fields
                  if field.name != "updated_at"]
        before = list(Discrepancy.objects.order_by("pk").values(*fields))
        events = DiscrepancyEvent.objects.count()
        reconcile(runs[-1])
        assert list(Discrepancy.objects.order_by("pk").values(*fields)) == before
        assert DiscrepancyEvent.objects.count() == events

        transaction.set_rollback(True)


def _check_history(history: list[dict[str, int]]) -> None:
    final = len(history) - 1
    for account_id in ACCOUNTS:
        seen = [index for index, found in enumerate(history) if account_id in found]
        if not seen:
            assert not Discrepancy.objects.filter(key=account_id).exists()
            continue
        item = discrepancy(account_id)
        last = seen[-1]
        assert item.cycles_seen == len(seen)
        assert item.first_cycle.code == f"2017-{seen[0] + 1:02d}"
        assert item.last_cycle.code == f"2017-{last + 1:02d}"
        last_at_stake = Decimal(history[last][account_id]) / 100
        assert item.revenue_at_stake == last_at_stake
        if last == final:
            assert item.status == Status.OPEN
            assert item.recovered is None
        else:
            assert item.status == Status.VERIFIED_CORRECTED
            assert item.recovered == last_at_stake

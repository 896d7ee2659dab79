"""A small stored sewer utility for the staff page tests: two cycles audited, findings,
discrepancies, a published rate version and users of every role.

Rates (monthly, kgal): residential $20.00 plus $5.00 per kgal of the lesser of the
month's usage and the winter average. Commercial: $30.00 plus $6.00 per kgal used.

Account SS-010045 (residential, winter average 4.000 kgal) used 6,000 gallons in
2016-02 and was billed $30.00: expected 20.00 + 5.00 * min(6, 4) = $40.00, so it is
underbilled by $10.00. Commercial account SS-020001 used 10,000 gallons and was billed
$95.00 against 30.00 + 6.00 * 10 = $90.00: overbilled by $5.00.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone

from audit_world import RATES as AUDIT_WORLD_RATES
from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from sewerline.apps.entities.models import BillingEntity, Contact, SavedMapping
from sewerline.apps.imports.models import BilledCharge, ImportBatch, ImportKind, ImportStatus
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion

RATES = AUDIT_WORLD_RATES.replace("Test Sewer District", "Westfield Sewer District")

FORMULA_OWNER = '=HYPERLINK("http://example.invalid","click")'
PASSWORD = "correct horse battery"


@dataclass
class World:
    entity: BillingEntity
    cycles: list[BillingCycle]
    version: RateScheduleVersion
    residential: Account
    commercial: Account
    formula_owner: Account
    runs: list[AuditRun]
    underbilled: Discrepancy
    overbilled: Discrepancy
    unknown: Discrepancy


def user_with(role: Role | None, name: str | None = None) -> User:
    """Create a user in the group of `role`; no group when None."""
    username = name or (role.value if role else "nobody")
    user = User.objects.create_user(username, password=PASSWORD)
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def make_version(text: str = RATES, *, published: bool = True,
                 name: str = "Sewer rates (Ordinance 2225)") -> RateScheduleVersion:
    schedule, _ = RateSchedule.objects.get_or_create(name=name)
    return RateScheduleVersion.objects.create(
        schedule=schedule, effective_date=dt.date(2016, 1, 1), text=text,
        file_name="sewer_rates.owrs", published=published)


def make_account(entity: BillingEntity, account_id: str, **fields) -> Account:
    values = {"water_account": "", "owner_name": "", "service_address": "",
              "customer_class": "RESIDENTIAL_SINGLE", "status": "active"}
    values.update(fields)
    return Account.objects.create(entity=entity, account_id=account_id, **values)


def make_batch(entity: BillingEntity, cycle: BillingCycle) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=ImportKind.BILLING, entity=entity, cycle=cycle, original="imports/export.csv",
        file_name=f"export-{cycle.code}.csv", sha256=f"{cycle.pk:064d}", size_bytes=1000,
        status=ImportStatus.DONE)


def make_charge(batch: ImportBatch, row: int, account: str, amount: str,
                usage_gal: str | None, **fields) -> BilledCharge:
    return BilledCharge.objects.create(
        batch=batch, cycle=batch.cycle, source_row=row, billed_account=account,
        billed_amount=Decimal(amount),
        usage_gal=None if usage_gal is None else Decimal(usage_gal), **fields)


def make_run(cycle: BillingCycle, version: RateScheduleVersion, billed: str, expected: str,
             at_stake: str) -> AuditRun:
    return AuditRun.objects.create(
        cycle=cycle, rate_version=version, billed_total=Decimal(billed),
        expected_total=Decimal(expected), at_stake_total=Decimal(at_stake),
        finished_at=timezone.now())


def build_world() -> World:
    """Store the utility described in the module docstring and return its objects."""
    entity = BillingEntity.objects.create(
        name="City of Westfield Water Department", code="westfield",
        collection_fee_percent=Decimal("3.00"))
    Contact.objects.create(entity=entity, name="Dana Ortiz", email="dana@westfield.invalid",
                           role="billing supervisor")
    SavedMapping.objects.create(entity=entity, name="Monthly CIS export",
                                text="layout: per_bill\ncolumns:\n  billed_account: Account\n")
    january = BillingCycle.objects.create(
        entity=entity, code="2016-01", period_start=dt.date(2016, 1, 1),
        period_end=dt.date(2016, 1, 31), bill_date=dt.date(2016, 2, 5),
        budget=Decimal("240000.00"))
    february = BillingCycle.objects.create(
        entity=entity, code="2016-02", period_start=dt.date(2016, 2, 1),
        period_end=dt.date(2016, 2, 29), bill_date=dt.date(2016, 3, 8),
        budget=Decimal("250000.00"))
    version = make_version()

    residential = make_account(
        entity, "SS-010045", water_account="0012345-01", owner_name="PARK, DANIEL E",
        service_address="1234 Ocean Park Blvd", meter_number="48213377",
        parcel_id="4281-012-034", winter_average=Decimal("4.000"), meter_size='5/8"')
    commercial = make_account(
        entity, "SS-020001", water_account="0098765-01", owner_name="HARBOR CAFE LLC",
        service_address="77 Main St", meter_number="51000001", customer_class="COMMERCIAL")
    formula_owner = make_account(
        entity, "SS-030003", water_account="0055555-01", owner_name=FORMULA_OWNER,
        service_address="5 Formula Way", meter_number="60000003", winter_average=Decimal("3"))

    runs, charges = [], {}
    for cycle, residential_usage, residential_billed in (
            (january, "5000", "30.00"), (february, "6000", "30.00")):
        batch = make_batch(entity, cycle)
        charges[cycle.code] = (
            make_charge(batch, 2, "0012345-01", residential_billed, residential_usage,
                        customer_name="PARK, DANIEL E", rate_code="R1",
                        bill_date=cycle.bill_date),
            make_charge(batch, 3, "0098765-01", "95.00", "10000",
                        customer_name="HARBOR CAFE LLC", rate_code="C1",
                        bill_date=cycle.bill_date),
            make_charge(batch, 4, "0077777-01", "45.00", "3000",
                        customer_name="UNKNOWN PERSON", rate_code="R1",
                        bill_date=cycle.bill_date),
        )
        runs.append(make_run(cycle, version, billed="170.00", expected="130.00",
                             at_stake="60.00"))

    underbilled = Discrepancy.objects.create(
        entity=entity, finding_type="underbilled", key="SS-010045", account=residential,
        first_cycle=january, last_cycle=february, cycles_seen=2,
        revenue_at_stake=Decimal("10.00"))
    overbilled = Discrepancy.objects.create(
        entity=entity, finding_type="overbilled", key="SS-020001", account=commercial,
        first_cycle=january, last_cycle=february, cycles_seen=2,
        revenue_at_stake=Decimal("5.00"))
    unknown = Discrepancy.objects.create(
        entity=entity, finding_type="unknown_customer", key="0077777-01", account=None,
        first_cycle=january, last_cycle=february, cycles_seen=2,
        revenue_at_stake=Decimal("45.00"))

    for run in runs:
        resident, cafe, stranger = charges[run.cycle.code]
        Finding.objects.create(
            run=run, finding_type="underbilled", account=residential, charge=resident,
            billed_account="0012345-01", expected_amount=Decimal("40.00"),
            billed_amount=Decimal("30.00"), difference=Decimal("-10.00"),
            revenue_at_stake=Decimal("10.00"), match_method="account",
            detail="RESIDENTIAL_SINGLE: service_charge = 20.00; volume_charge = 20.00",
            discrepancy=underbilled)
        Finding.objects.create(
            run=run, finding_type="overbilled", account=commercial, charge=cafe,
            billed_account="0098765-01", expected_amount=Decimal("90.00"),
            billed_amount=Decimal("95.00"), difference=Decimal("5.00"),
            revenue_at_stake=Decimal("5.00"), match_method="account", discrepancy=overbilled)
        Finding.objects.create(
            run=run, finding_type="unknown_customer", charge=stranger,
            billed_account="0077777-01", billed_amount=Decimal("45.00"),
            revenue_at_stake=Decimal("45.00"), match_method="none", discrepancy=unknown)
        for discrepancy in (underbilled, overbilled, unknown):
            DiscrepancyEvent.objects.create(discrepancy=discrepancy, cycle=run.cycle,
                                            note=f"seen in {run.cycle.code}")

    return World(entity=entity, cycles=[january, february], version=version,
                 residential=residential, commercial=commercial, formula_owner=formula_owner,
                 runs=runs, underbilled=underbilled, overbilled=overbilled, unknown=unknown)


def add_discrepancies(entity: BillingEntity, cycle: BillingCycle, count: int,
                      start: int = 0) -> None:
    """Add `count` open discrepancies, each with its own account, in bulk."""
    accounts = Account.objects.bulk_create([
        Account(entity=entity, account_id=f"BULK-{start + index:06d}",
                owner_name=f"OWNER {start + index}", service_address=f"{index} Bulk St",
                customer_class="RESIDENTIAL_SINGLE")
        for index in range(count)
    ])
    Discrepancy.objects.bulk_create([
        Discrepancy(entity=entity, finding_type="not_billed", key=account.account_id,
                    account=account, first_cycle=cycle, last_cycle=cycle,
                    cycles_seen=1 + index % 8, revenue_at_stake=Decimal(index % 500))
        for index, account in enumerate(accounts)
    ])

"""Database fixtures for audit tests: entities, cycles, rate versions, accounts and bills.

`load_sample` imports the bundled sample's profiles and billing export through the
import actions, so an audit of the stored rows can be compared with an audit of the
files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.files import File

from audit_world import RATES
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.imports.actions import create_import, import_profiles_file, run_import
from sewerline.apps.imports.models import BilledCharge, ImportBatch, ImportKind, ImportStatus
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion
from sewerline.sample import CYCLE, sample_files

# Monthly rates in kgal: residential $20.00 plus $5.00 per kgal of the lesser of the
# month's usage and the winter average, commercial $30.00 plus $6.00 per kgal.
SIMPLE_RATES = RATES

_row_numbers = itertools.count(2)


def user_with(role: Role | None, name: str) -> User:
    """Create a user in the group of `role` (no group when None)."""
    user = User.objects.create_user(name, password="correct horse battery")
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def make_entity(code: str = "westfield") -> BillingEntity:
    """Create a billing entity."""
    return BillingEntity.objects.create(name=f"{code.title()} Water Department", code=code)


def make_cycle(entity: BillingEntity, code: str, period_end: dt.date | None = None,
               budget: str | None = None) -> BillingCycle:
    """Create a billing cycle, with a budget in dollars when given."""
    return BillingCycle.objects.create(
        entity=entity, code=code, period_end=period_end,
        budget=None if budget is None else Decimal(budget),
    )


def make_rate_version(text: str = SIMPLE_RATES, *, published: bool = True,
                      file_name: str = "sewer_rates.owrs",
                      effective: dt.date = dt.date(2016, 1, 1),
                      schedule_name: str = "Sewer rates") -> RateScheduleVersion:
    """Create a rate schedule version with the given OWRS text."""
    schedule, _ = RateSchedule.objects.get_or_create(name=schedule_name)
    return RateScheduleVersion.objects.create(
        schedule=schedule, effective_date=effective, text=text, file_name=file_name,
        published=published,
    )


def make_batch(entity: BillingEntity, cycle: BillingCycle | None,
               kind: str = ImportKind.BILLING, name: str = "export.csv") -> ImportBatch:
    """Create a finished import batch whose original is not stored."""
    return ImportBatch.objects.create(
        kind=kind, entity=entity, cycle=cycle, original=f"imports/{name}", file_name=name,
        sha256=hashlib.sha256(f"{entity.pk}-{name}".encode()).hexdigest(), size_bytes=0,
        status=ImportStatus.DONE,
    )


def add_account(entity: BillingEntity, account_id: str, water_account: str, *,
                customer_class: str = "RESIDENTIAL_SINGLE", status: str = "active",
                winter_average: str = "5", owner: str = "SMITH, JOHN",
                meter: str = "", address: str = "") -> Account:
    """Create an account; `winter_average` is in kgal per month."""
    return Account.objects.create(
        entity=entity, account_id=account_id, water_account=water_account,
        owner_name=owner, service_address=address or f"{account_id[-3:]} MAIN ST",
        meter_number=meter, customer_class=customer_class, status=status,
        winter_average=Decimal(winter_average), dwelling_units=Decimal(1),
    )


def add_charge(batch: ImportBatch, account: str, amount: str, *, gallons: str = "4000",
               rate_class: str = "RESIDENTIAL_SINGLE", name: str = "SMITH, JOHN",
               address: str = "", meter: str = "", row: int | None = None,
               start: dt.date = dt.date(2016, 1, 1),
               end: dt.date = dt.date(2016, 1, 31)) -> BilledCharge:
    """Create one billed sewer charge of the batch's cycle."""
    return BilledCharge.objects.create(
        batch=batch, cycle=batch.cycle, source_row=row or next(_row_numbers),
        billed_account=account, customer_name=name, service_address=address,
        meter_number=meter, rate_code="R1", billed_class=rate_class,
        usage_gal=Decimal(gallons), billed_amount=Decimal(amount), period_start=start,
        period_end=end, sewer_lines=1,
    )


def load_sample(entity: BillingEntity) -> tuple[BillingCycle, RateScheduleVersion]:
    """Import the bundled sample as the entity's accounts and the bills of cycle 2016-03.

    Both files go through the import actions, as an upload would. Returns the cycle
    and a published rate version holding the sample's sewer rates.
    """
    files = sample_files()
    mapping_text = files.mapping.read_text(encoding="utf-8")

    profiles = import_profiles_file(None, entity, files.profiles, mapping_text=mapping_text)
    assert profiles.status == ImportStatus.DONE, profiles.problems

    cycle = make_cycle(entity, CYCLE, period_end=dt.date(2016, 2, 29), budget="240000.00")
    with files.billing.open("rb") as handle:
        batch = create_import(None, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                              uploaded_file=File(handle, name=files.billing.name),
                              mapping_text=mapping_text)
    billing = run_import(batch.pk)
    assert billing.status == ImportStatus.DONE, billing.problems

    version = make_rate_version(files.rates.read_text(encoding="utf-8"),
                                file_name=files.rates.name, effective=dt.date(2016, 1, 1),
                                schedule_name="Sample sewer rates")
    return cycle, version

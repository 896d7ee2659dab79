"""Load the bundled sample into the database as a demo billing entity, and delete it again.

The demo is the billing entity santa-monica with the sample's accounts, its sewer rates
as a published schedule, the cycles 2016-03 and 2016-05 with their billing exports and
an audit of each, and one user per role. Every row is written through the same actions
that the web pages and the API call, so the demo shows what an office's own data
would look like after the same steps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.files import File
from django.db import models, transaction
from django.db.models import ProtectedError, Sum

from sewerline.apps.audits.actions import start_audit
from sewerline.apps.audits.models import AuditRun
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyStatus
from sewerline.apps.discrepancies.transitions import OPEN_LIKE
from sewerline.apps.entities.actions import create_cycle, save_entity
from sewerline.apps.entities.models import BillingEntity, Contact, SavedMapping
from sewerline.apps.imports.actions import (
    create_import,
    import_profiles_file,
    run_import,
    save_mapping,
)
from sewerline.apps.imports.models import ImportBatch, ImportKind, ImportStatus
from sewerline.apps.jobs.models import Job, JobStatus
from sewerline.apps.jobs.runner import run_now
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.actions import create_schedule, publish, upload_version
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion
from sewerline.engine.errors import Problem
from sewerline.sample import CYCLES, SampleFiles, sample_files

logger = logging.getLogger(__name__)

ENTITY_NAME = "City of Santa Monica Water Resources"
ENTITY_CODE = "santa-monica"
SCHEDULE_NAME = "Demo sewer rates (Mulvane, Kansas ordinance)"
MAPPING_NAME = "Sample billing export"
# Budgeted sewer revenue of each cycle, USD. These are illustrative figures near what the
# sample bills, taken from no real budget.
BUDGETS = {CYCLES[0].code: Decimal("240000.00"), CYCLES[1].code: Decimal("245000.00")}

# One demo user per role, in the order the output lists them.
DEMO_USERS = (
    ("demo-admin", Role.ADMINISTRATOR),
    ("demo-auditor", Role.AUDITOR),
    ("demo-clerk", Role.BILLING_CLERK),
    ("demo-service", Role.CUSTOMER_SERVICE),
    ("demo-readonly", Role.READ_ONLY),
)
DEMO_USERNAMES = tuple(username for username, _ in DEMO_USERS)

# Ids per IN (...) list: below SQLite's limit of bound variables.
BATCH_SIZE = 500


class DemoLoadError(Exception):
    """Raised when a step of the demo load fails. The message names the step and the cause."""


@dataclass(frozen=True)
class CycleSummary:
    """Counts and totals of one demo cycle after its audit."""

    code: str
    bills: int
    billed: Decimal
    findings: int
    at_stake: Decimal
    budget: Decimal


@dataclass(frozen=True)
class DemoSummary:
    """Counts of a finished demo load, for the command's output."""

    accounts: int
    cycles: list[CycleSummary]
    corrected: int                  # discrepancies verified corrected
    recovered: Decimal              # their revenue recovered per cycle, USD
    still_open: int                 # discrepancies open, confirmed, reported or acknowledged
    users: list[tuple[str, str]] = field(default_factory=list)    # (username, role)


def demo_leftovers() -> list[str]:
    """Return what an earlier demo load left in the database, described for a message."""
    entities = BillingEntity.objects.filter(
        models.Q(code=ENTITY_CODE) | models.Q(name=ENTITY_NAME)
    ).order_by("code")
    found = [f"billing entity {code}" for code in entities.values_list("code", flat=True)]
    if RateSchedule.objects.filter(name=SCHEDULE_NAME).exists():
        found.append(f"rate schedule {SCHEDULE_NAME!r}")
    users = User.objects.filter(username__in=DEMO_USERNAMES).order_by("username")
    found.extend(f"user {username}" for username in users.values_list("username", flat=True))
    return found


def load_demo(password: str, files: SampleFiles | None = None) -> DemoSummary:
    """Create the demo entity, rates, accounts, both cycles with their audits, and users.

    Call it inside a transaction, so that a failure leaves nothing behind. Raises
    DemoLoadError when an import or an audit fails, with the problems it reported.
    """
    files = files if files is not None else sample_files()
    mapping_text = files.mapping.read_text(encoding="utf-8")
    users = create_demo_users(password)
    admin = users["demo-admin"]

    entity = save_entity(
        admin, name=ENTITY_NAME, code=ENTITY_CODE,
        notes="Demo data of `sewerline manage load_demo`: real Santa Monica water use, "
              "synthetic customers and injected billing errors.",
    )
    version = _publish_rates(admin, files)
    save_mapping(admin, entity, MAPPING_NAME, mapping_text)

    profiles = import_profiles_file(admin, entity, files.profiles, mapping_text=mapping_text)
    _check_import(profiles)

    base = files.billing.parent
    for sample_cycle in CYCLES:
        cycle = create_cycle(
            admin, entity, code=sample_cycle.code, period_start=sample_cycle.period_start,
            period_end=sample_cycle.period_end, bill_date=sample_cycle.first_bill_date,
            budget=BUDGETS[sample_cycle.code],
        )
        with (base / sample_cycle.billing_export).open("rb") as handle:
            batch = create_import(
                admin, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                uploaded_file=File(handle, name=sample_cycle.billing_export),
                mapping_text=mapping_text,
            )
        _check_import(run_import(batch.pk))
        _audit(admin, cycle, version)

    return summarize(entity, users)


def create_demo_users(password: str) -> dict[str, User]:
    """Create one active user per role, all with `password`, in the role's group."""
    # One hash for all, because the users share the password and Django 5.2's default
    # hasher (PBKDF2, 1,000,000 iterations) takes about 0.2 s per hash on a 2-core machine.
    hashed = make_password(password)
    users = {}
    for username, role in DEMO_USERS:
        user = User.objects.create(username=username, password=hashed,
                                   first_name="Demo", last_name=role.value.replace("_", " "))
        group, _ = Group.objects.get_or_create(name=role.value)
        user.groups.add(group)
        users[username] = user
    logger.info("created %d demo users", len(users))
    return users


def summarize(entity: BillingEntity, users: dict[str, User]) -> DemoSummary:
    """Count the demo entity's accounts, each cycle's latest audit and the discrepancies."""
    cycles = []
    for cycle in BillingCycle.objects.filter(entity=entity).order_by("period_end", "code"):
        run = (AuditRun.objects.filter(cycle=cycle, finished_at__isnull=False)
               .order_by("-created_at", "-pk").first())
        cycles.append(CycleSummary(
            code=cycle.code,
            bills=run.bills if run else 0,
            billed=run.billed_total if run else Decimal("0.00"),
            findings=run.findings.count() if run else 0,
            at_stake=run.at_stake_total if run else Decimal("0.00"),
            budget=cycle.budget,
        ))

    discrepancies = Discrepancy.objects.filter(entity=entity)
    corrected = discrepancies.filter(status=DiscrepancyStatus.VERIFIED_CORRECTED)
    recovered = corrected.aggregate(total=Sum("recovered"))["total"] or Decimal("0.00")
    return DemoSummary(
        accounts=Account.objects.filter(entity=entity).count(),
        cycles=cycles,
        corrected=corrected.count(),
        recovered=recovered,
        still_open=discrepancies.filter(status__in=OPEN_LIKE).count(),
        users=[(username, role.value) for username, role in DEMO_USERS if username in users],
    )


def delete_demo() -> dict[str, int]:
    """Delete the demo entity with everything stored for it, the demo rates and the users.

    Only the demo's own rows go. These are the entity santa-monica with its accounts,
    cycles, imports, audit runs, findings, jobs and discrepancies, and the change
    records of all of them. The stored originals of the imports go once the transaction
    commits. Then the rate schedule named SCHEDULE_NAME and the users of DEMO_USERS go.
    Returns the number of rows deleted by kind.
    """
    deleted: dict[str, int] = {}
    entity = BillingEntity.objects.filter(code=ENTITY_CODE).first()
    if entity is not None:
        deleted.update(_delete_entity_data(entity))

    schedules = RateSchedule.objects.filter(name=SCHEDULE_NAME)
    versions = RateScheduleVersion.objects.filter(schedule__in=schedules)
    _delete_change_records(RateScheduleVersion, versions.values_list("pk", flat=True))
    _delete_change_records(RateSchedule, schedules.values_list("pk", flat=True))
    # Versions go with their schedule, unless an audit run of another entity used them.
    try:
        deleted["rate schedules"] = schedules.delete()[1].get(RateSchedule._meta.label, 0)
    except ProtectedError:
        raise DemoLoadError(
            f"rate schedule {SCHEDULE_NAME!r} is used by audit runs of another billing "
            "entity. Rename the schedule, then run the reset again."
        ) from None

    deleted["users"] = User.objects.filter(username__in=DEMO_USERNAMES).delete()[1].get(
        User._meta.label, 0)
    logger.info("deleted the demo: %s", deleted)
    return deleted


def _delete_entity_data(entity: BillingEntity) -> dict[str, int]:
    """Delete the rows of one entity in an order that no PROTECT reference blocks."""
    runs = AuditRun.objects.filter(cycle__entity=entity)
    batches = ImportBatch.objects.filter(entity=entity)
    discrepancies = Discrepancy.objects.filter(entity=entity)
    accounts = Account.objects.filter(entity=entity)
    cycles = BillingCycle.objects.filter(entity=entity)

    run_ids = list(runs.values_list("pk", flat=True))
    batch_ids = list(batches.values_list("pk", flat=True))
    for model, ids in (
        (AuditRun, run_ids),
        (ImportBatch, batch_ids),
        (Discrepancy, discrepancies.values_list("pk", flat=True)),
        (Account, accounts.values_list("pk", flat=True)),
        (BillingCycle, cycles.values_list("pk", flat=True)),
        (SavedMapping, SavedMapping.objects.filter(entity=entity).values_list("pk", flat=True)),
        (Contact, Contact.objects.filter(entity=entity).values_list("pk", flat=True)),
        (BillingEntity, [entity.pk]),
    ):
        _delete_change_records(model, ids)
    _delete_jobs(AuditRun, run_ids)
    _delete_jobs(ImportBatch, batch_ids)

    # The stored originals are removed only if the deletion commits.
    for name in batches.exclude(original="").values_list("original", flat=True):
        transaction.on_commit(partial(_delete_original, name))

    counts = {
        "audit runs": runs.delete()[1].get(AuditRun._meta.label, 0),
        "discrepancies": discrepancies.delete()[1].get(Discrepancy._meta.label, 0),
        "imports": batches.delete()[1].get(ImportBatch._meta.label, 0),
        "accounts": accounts.delete()[1].get(Account._meta.label, 0),
        "cycles": cycles.delete()[1].get(BillingCycle._meta.label, 0),
    }
    entity.delete()
    counts["billing entities"] = 1
    return counts


def _delete_change_records(model: type[models.Model], ids: Iterable[int]) -> None:
    object_ids = [str(pk) for pk in ids]
    for start in range(0, len(object_ids), BATCH_SIZE):
        ChangeRecord.objects.filter(
            object_type=model._meta.label_lower,
            object_id__in=object_ids[start:start + BATCH_SIZE],
        ).delete()


def _delete_jobs(model: type[models.Model], ids: list[int]) -> None:
    object_ids = [str(pk) for pk in ids]
    for start in range(0, len(object_ids), BATCH_SIZE):
        Job.objects.filter(
            object_type=model._meta.label_lower,
            object_id__in=object_ids[start:start + BATCH_SIZE],
        ).delete()


def _delete_original(name: str) -> None:
    storage = ImportBatch._meta.get_field("original").storage
    try:
        storage.delete(name)
    except OSError as error:
        logger.warning("could not delete the stored original %s: %s", name, error)


def _publish_rates(actor, files: SampleFiles) -> RateScheduleVersion:
    schedule = create_schedule(
        actor, name=SCHEDULE_NAME,
        description="The sample's sewer rates: the residential charge of Mulvane, Kansas, "
                    "with the sample's own commercial and multi-family assumptions.",
    )
    with files.rates.open("rb") as handle:
        version = upload_version(actor, schedule, File(handle, name=files.rates.name))
    return publish(actor, version)


def _check_import(batch: ImportBatch) -> None:
    if batch.status == ImportStatus.DONE:
        return
    problems = "; ".join(str(Problem(**record)) for record in batch.problems[:5])
    raise DemoLoadError(f"importing {batch.file_name} failed: {problems}")


def _audit(actor, cycle: BillingCycle, version: RateScheduleVersion) -> AuditRun:
    """Start the cycle's audit and run its job here, before the transaction commits."""
    run = start_audit(actor, cycle=cycle, rate_version=version)
    job = run_now(run.job_id)
    if job.status != JobStatus.DONE:
        raise DemoLoadError(f"the audit of cycle {cycle.code} failed: {job.error}")
    logger.info("demo audit run %s of cycle %s done", run.pk, cycle.code)
    return run

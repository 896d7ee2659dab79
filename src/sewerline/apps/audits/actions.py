"""Start an audit run as a background job, and run it: engine, findings, discrepancies."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from django.db import transaction

from sewerline.apps.audits.inputs import build_inputs, load_rate_version
from sewerline.apps.audits.models import AuditRun
from sewerline.apps.audits.store import store_result
from sewerline.apps.core.changes import record_change
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.actions import reconcile
from sewerline.apps.imports.actions import billed_frame, profiles_frame
from sewerline.apps.imports.models import BilledCharge, ImportStatus
from sewerline.apps.jobs import runner
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.engine.audit import AuditInputs, audit
from sewerline.engine.errors import InputError
from sewerline.engine.findings import AuditConfig, Tolerance

logger = logging.getLogger(__name__)

RUN_AUDIT_TASK = "sewerline.apps.audits.actions.run_audit"

# Percent of the job done when each step starts. The engine's steps (link, rate,
# classify) come from engine.audit; the others are this module's.
STEP_PERCENT = {
    "read rates": 2,
    "read profiles": 8,
    "read billing": 20,
    "link": 35,
    "rate": 55,
    "classify": 70,
    "store findings": 85,
}


# Largest absolute tolerance in dollars: AuditRun.tolerance has 10 digits, 2 decimals.
MAX_TOLERANCE = Decimal("99999999.99")


class CannotStartAudit(ValueError):
    """Raised when an audit run cannot start. The message names what to fix."""


def start_audit(
    actor,
    *,
    cycle: BillingCycle,
    rate_version: RateScheduleVersion,
    tolerance: Decimal | str = Decimal("0.01"),
    tolerance_percent: Decimal | str | None = None,
) -> AuditRun:
    """Create an audit run of `cycle` with a published rate version and queue its job.

    `tolerance` is the largest difference in dollars still taken as rounding. When
    `tolerance_percent` is set, a difference up to that percent of the expected amount
    is taken as rounding too. Raises CannotStartAudit when the rate version is not
    published, a tolerance is negative or not a number, or the cycle has no billed
    charges or its entity no accounts.
    """
    absolute = _tolerance(tolerance, "tolerance", places=2, maximum=MAX_TOLERANCE)
    percent = None if tolerance_percent in (None, "") else _tolerance(
        tolerance_percent, "tolerance percent", places=3, maximum=Decimal(100)
    )
    _check_ready(cycle, rate_version)

    with transaction.atomic():
        run = AuditRun.objects.create(
            cycle=cycle, rate_version=rate_version, tolerance=absolute,
            tolerance_percent=percent, created_by=_user(actor),
        )
        record_change(actor, run, "created", {
            "cycle": [None, cycle.code],
            "rate_version": [None, str(rate_version.pk)],
            "tolerance": [None, format(absolute, "f")],
            "tolerance_percent": [None, None if percent is None else format(percent, "f")],
        })

    job = runner.submit(
        "audit", RUN_AUDIT_TASK, actor=actor, object_type="audits.auditrun",
        object_id=str(run.pk), run_id=run.pk,
    )
    AuditRun.objects.filter(pk=run.pk).update(job=job)
    run.job = job
    logger.info("audit run %s of cycle %s queued as job %s", run.pk, cycle.pk, job.pk)
    return run


def run_audit(run_id: int, job_id: int | None = None) -> AuditRun:
    """Audit the run's cycle and store its findings, totals and discrepancies.

    Findings, totals and the reconciled discrepancies are written in one transaction,
    so a failure stores none of them. On failure the job is marked failed with the
    error's text (for input problems, each problem and what to do about it), and the
    error is raised again.
    """
    run = AuditRun.objects.select_related("cycle__entity", "rate_version__schedule").get(
        pk=run_id
    )
    job_id = job_id if job_id is not None else run.job_id
    progress = _ProgressReporter(job_id)
    try:
        inputs = _read_inputs(run, progress)
        config = AuditConfig(
            cycle=run.cycle.code,
            tolerance=Tolerance(absolute=run.tolerance, percent=run.tolerance_percent),
        )
        result = audit(inputs, config, progress=progress)

        progress("store findings")
        with transaction.atomic():
            store_result(run, result)
            reconcile(run)
    except Exception as error:
        _fail(job_id, run, error)
        raise

    runner.finish(job_id)
    logger.info("audit run %s finished: %d findings", run.pk, result.findings.height)
    return run


def _read_inputs(run: AuditRun, progress: _ProgressReporter) -> AuditInputs:
    cycle = run.cycle
    entity = cycle.entity

    # NOTE: the chosen version alone rates the cycle, so a billing period that spans a
    # rate change is not split by days. A winter-average rule that reads a usage
    # history fails with the engine's history_missing problem: no history is stored.
    progress("read rates")
    rater = load_rate_version(run.rate_version)

    progress("read profiles")
    profiles = profiles_frame(entity)

    progress("read billing")
    bills = billed_frame(cycle)
    logger.info("audit run %s: %d profiles and %d bills read from the database",
                run.pk, profiles.height, bills.height)
    return build_inputs(
        rater=rater,
        profiles=profiles,
        bills=bills,
        profiles_label=f"accounts of {entity.code}",
        billing_label=f"billed charges of {entity.code} {cycle.code}",
    )


class _ProgressReporter:
    """Report each audit step to the job (nothing when the run has no job)."""

    def __init__(self, job_id: int | None):
        self.job_id = job_id

    def __call__(self, step: str) -> None:
        runner.report_progress(self.job_id, step, STEP_PERCENT.get(step, 0))


def _fail(job_id: int | None, run: AuditRun, error: Exception) -> None:
    """Mark the job failed with the error's text, as the job runner would for any task.

    An InputError's text lists every problem with its file, column and hint.
    """
    if isinstance(error, InputError):
        logger.warning("audit run %s stopped on input problems: %d problem(s)",
                       run.pk, len(error.problems))
    else:
        logger.exception("audit run %s failed", run.pk)
    runner.fail(job_id, str(error).strip() or type(error).__name__)


def _check_ready(cycle: BillingCycle, rate_version: RateScheduleVersion) -> None:
    if not rate_version.published:
        raise CannotStartAudit(
            f"rate version {rate_version} is not published; publish it or choose a "
            "published version"
        )
    # The same charges billed_frame reads: those of completed imports.
    if not BilledCharge.objects.filter(cycle=cycle, batch__status=ImportStatus.DONE).exists():
        raise CannotStartAudit(
            f"cycle {cycle.code} has no billed charges; import its billing export first"
        )
    if not Account.objects.filter(entity_id=cycle.entity_id).exists():
        raise CannotStartAudit(
            f"billing entity {cycle.entity.code} has no accounts; import the profile "
            "file first"
        )


def _tolerance(value: Decimal | str, name: str, *, places: int, maximum: Decimal) -> Decimal:
    """Parse a tolerance from 0 to `maximum` with at most `places` decimals."""
    if isinstance(value, float):
        raise CannotStartAudit(f"{name} must be a Decimal or text, never a float")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise CannotStartAudit(f"{name} {value!r} is not a number; enter e.g. 0.01") from None
    if not amount.is_finite() or amount < 0 or amount > maximum:
        raise CannotStartAudit(f"{name} {value!r} is out of range; enter 0 to {maximum}")
    step = Decimal(1).scaleb(-places)
    if amount != amount.quantize(step):
        raise CannotStartAudit(f"{name} {value!r} has more than {places} decimals")
    return amount.quantize(step)


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None

"""`sewerline manage load_demo [--reset]`: load the bundled sample as demo data with logins.

The load runs in one transaction, so it stores everything or nothing. It rejects a
second load unless --reset is given, which first deletes the demo entity's data and
the demo users (management/demo.py lists exactly what goes). Each load gives the demo
users a new random password and prints it once.
"""

from __future__ import annotations

import logging
import secrets
import threading
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from sewerline.apps.core.management.demo import (
    ENTITY_CODE,
    ENTITY_NAME,
    DemoLoadError,
    DemoSummary,
    delete_demo,
    demo_leftovers,
    load_demo,
)
from sewerline.apps.jobs.models import Job
from sewerline.engine.report.formatting import format_usd

RUNNER_LOGGER = "sewerline.apps.jobs.runner"
# Seconds to wait for each runner thread that the commit starts.
THREAD_WAIT_SECONDS = 10.0
# Bytes of randomness in the password (token_urlsafe writes about 1.3 characters each).
PASSWORD_BYTES = 12


class Command(BaseCommand):
    help = (
        "Load the bundled sample as the billing entity santa-monica: accounts, sewer rates, "
        "cycles 2016-03 and 2016-05 with their audits, and one demo user per role."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true",
            help="First delete the demo entity's data and the demo users, then load again.",
        )

    def handle(self, *args, reset: bool = False, verbosity: int = 1, **options):
        leftovers = demo_leftovers()
        if leftovers and not reset:
            raise CommandError(
                f"The demo is already loaded ({', '.join(leftovers)}). Run "
                "`sewerline manage load_demo --reset` to delete it and load it again."
            )

        password = secrets.token_urlsafe(PASSWORD_BYTES)
        sewerline_level = logging.INFO if verbosity >= 2 else logging.WARNING
        with _log_level("sewerline", sewerline_level):
            summary, deleted = self._load(password, reset=reset)

        parts = [f"{kind} {count:,}" for kind, count in deleted.items() if count]
        if parts:
            self.stdout.write(f"Deleted the earlier demo: {', '.join(parts)}.")
        self.stdout.write(render_summary(summary, password))

    def _load(self, password: str, *, reset: bool) -> tuple[DemoSummary, dict[str, int]]:
        """Delete and load in one transaction, then wait for the job threads it starts."""
        first_job = Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        deleted: dict[str, int] = {}
        # NOTE: the job runner starts every submitted job in a thread once the transaction
        # commits, and has no option to leave the job to its caller. The audits already
        # ran here through run_now, so those threads find their jobs done and log a
        # warning that would read like a problem. The warning is silenced until they end.
        with _log_level(RUNNER_LOGGER, logging.ERROR):
            try:
                with transaction.atomic():
                    if reset:
                        deleted = delete_demo()
                    summary = load_demo(password)
            except (DemoLoadError, ValidationError, ProtectedError) as error:
                raise CommandError(f"The demo was not loaded: {_message(error)}") from error
            _wait_for_job_threads(first_job)
        return summary, deleted


def render_summary(summary: DemoSummary, password: str) -> str:
    """Return the text printed after a load: what was loaded, the users and how to sign in."""
    lines = [
        f"Loaded the billing entity {ENTITY_NAME!r} ({ENTITY_CODE}) with "
        f"{summary.accounts:,} accounts.",
    ]
    for cycle in summary.cycles:
        lines.append(
            f"  cycle {cycle.code}: {cycle.bills:,} bills, billed {format_usd(cycle.billed)}, "
            f"{cycle.findings} findings with {format_usd(cycle.at_stake)} at stake; "
            f"budget {format_usd(cycle.budget)} (an illustrative figure)"
        )
    lines.append(
        f"  discrepancies: {summary.corrected} verified corrected "
        f"({format_usd(summary.recovered)} recovered per cycle), {summary.still_open} still open"
    )
    lines.append("Demo users, one per role, all with the password below:")
    lines.extend(f"  {username:<15} {role}" for username, role in summary.users)
    lines.append("")
    lines.append(
        "Start the web app with .venv/bin/sewerline serve, then open "
        f"http://127.0.0.1:8000/ and sign in as demo-admin with password {password}"
    )
    return "\n".join(lines)


@contextmanager
def _log_level(name: str, level: int):
    """Set a logger's level for the duration of the block, then restore it."""
    log = logging.getLogger(name)
    previous = log.level
    log.setLevel(level)
    try:
        yield
    finally:
        log.setLevel(previous)


def _wait_for_job_threads(after_job: int) -> None:
    """Join the runner threads of the jobs created after `after_job`, if any were started.

    The runner (apps/jobs/runner.py) names each thread sewerline-job-<job id>.
    """
    names = {
        f"sewerline-job-{pk}"
        for pk in Job.objects.filter(pk__gt=after_job).values_list("pk", flat=True)
    }
    for thread in threading.enumerate():
        if thread.name in names:
            thread.join(THREAD_WAIT_SECONDS)


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)

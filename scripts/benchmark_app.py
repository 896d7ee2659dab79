"""Time a 1,000,000-account billing import and audit through the web application's actions.

    python scripts/benchmark_app.py --accounts 1000000

Runs on PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/sewerline_bench; the database is dropped and created
anew). The data is the one scripts/benchmark.py generates. Setup, not timed: the
profiles are imported as the entity's accounts and the sample's sewer rates are
published. Timed, as a user's import and audit would run as jobs: storing the upload,
reading and storing the export (COPY), and the audit run with its findings and
discrepancies stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sewerline_bench"


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database named in url."""
    import psycopg

    admin_url, name = url.rsplit("/", 1)
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000,
                        help="number of accounts to generate (default 1,000,000)")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    folder = Path(tempfile.mkdtemp(prefix="sewerline-app-bench-"))
    os.environ.update({
        "DATABASE_URL": url,
        "SEWERLINE_DATA_DIR": str(folder / "var"),
        "SEWERLINE_SECRET_KEY": "benchmark-only",
        "SEWERLINE_UPLOAD_MAX_MB": "2000",
        "DJANGO_SETTINGS_MODULE": "sewerline.web.settings",
    })
    import django

    django.setup()
    from benchmark import generate
    from django.core.files import File
    from django.core.management import call_command

    from sewerline.apps.audits.actions import start_audit
    from sewerline.apps.cycles.models import BillingCycle
    from sewerline.apps.entities.models import BillingEntity
    from sewerline.apps.imports.actions import create_import, import_profiles_file, run_import
    from sewerline.apps.imports.models import ImportKind
    from sewerline.apps.jobs.models import Job, JobStatus
    from sewerline.apps.rates.actions import create_schedule, publish, upload_version
    from sewerline.sample import sample_files

    call_command("migrate", verbosity=0)
    files = generate(args.accounts, folder)
    mapping_text = files["mapping"].read_text()

    start = time.perf_counter()
    entity = BillingEntity.objects.create(name="Benchmark Water", code="bench")
    profiles = import_profiles_file(None, entity, files["profiles"], mapping_text=mapping_text)
    if profiles.status != "done":
        sys.exit(f"profile import failed: {profiles.problems[:3]}")
    schedule = create_schedule(None, name="Sample sewer rates")
    with sample_files().rates.open("rb") as handle:
        version = upload_version(None, schedule, File(handle, name="sewer_rates.owrs"))
    version = publish(None, version)
    cycle = BillingCycle.objects.create(entity=entity, code="2016-03",
                                        period_end=dt.date(2016, 2, 29))
    print(f"setup: {args.accounts:,} accounts imported in {time.perf_counter() - start:.1f} s")

    timings = {}
    start = time.perf_counter()
    with files["billing"].open("rb") as handle:
        batch = create_import(None, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                              uploaded_file=File(handle, name="export.csv"),
                              mapping_text=mapping_text)
    timings["store the upload"] = time.perf_counter() - start

    start = time.perf_counter()
    batch = run_import(batch.pk)
    timings["read and store the export (COPY)"] = time.perf_counter() - start
    if batch.status != "done":
        sys.exit(f"billing import failed: {batch.problems[:3]}")

    # The audit runs as a background job in this process, as it does for a user.
    start = time.perf_counter()
    run = start_audit(None, cycle=cycle, rate_version=version)
    while (job := Job.objects.get(pk=run.job_id)).status in (JobStatus.QUEUED,
                                                             JobStatus.RUNNING):
        time.sleep(0.2)
    timings["audit run, findings and discrepancies stored"] = time.perf_counter() - start
    if job.status != JobStatus.DONE:
        sys.exit(f"the audit job failed: {job.error}")

    for step, seconds in timings.items():
        print(f"{step:<48} {seconds:6.1f} s")
    print(f"{'total':<48} {sum(timings.values()):6.1f} s")
    print(f"bills stored: {batch.rows_stored:,}; findings: {run.findings.count():,}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()

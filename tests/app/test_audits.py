"""Audit runs stored in the database: the sample's findings, totals, jobs and pages."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from audit_data import (
    SIMPLE_RATES,
    add_account,
    add_charge,
    load_sample,
    make_batch,
    make_cycle,
    make_entity,
    make_rate_version,
    user_with,
)
from django.urls import reverse

from sewerline.apps.audits import actions
from sewerline.apps.audits.actions import CannotStartAudit, run_audit, start_audit
from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.discrepancies.models import Discrepancy
from sewerline.apps.jobs.models import JobStatus
from sewerline.apps.jobs.runner import run_now
from sewerline.engine.audit import run_audit as run_file_audit
from sewerline.engine.findings import AuditConfig
from sewerline.engine.report.formatting import format_usd
from sewerline.sample import CYCLE, sample_files

pytestmark = pytest.mark.django_db

# Effective date of a second version of the "Sewer rates" schedule; the first one, from
# make_rate_version, is in force from 2016-01-01.
LATER_VERSION = dt.date(2016, 2, 1)


@pytest.fixture(scope="module")
def file_result():
    """The engine's audit of the bundled sample files, the reference for the database run."""
    files = sample_files()
    return run_file_audit(
        profiles_path=files.profiles, billing_path=files.billing, rates_path=files.rates,
        mapping_path=files.mapping, config=AuditConfig(cycle=CYCLE),
    )


@pytest.fixture
def auditor():
    return user_with(Role.AUDITOR, "alex")


@pytest.fixture
def sample_run(auditor):
    """The bundled sample stored in the database and audited through a job."""
    entity = make_entity()
    cycle, version = load_sample(entity)
    run = start_audit(auditor, cycle=cycle, rate_version=version)
    job = run_now(run.job_id)
    assert job.status == JobStatus.DONE, job.error
    return AuditRun.objects.get(pk=run.pk)


def finding_key(finding_type, account_id, billed_account, method, expected, billed):
    return (finding_type, account_id or "", billed_account or "", method or "",
            None if expected in (None, "") else Decimal(expected),
            None if billed in (None, "") else Decimal(billed))


def stored_keys(run):
    rows = Finding.objects.filter(run=run).values_list(
        "finding_type", "account__account_id", "billed_account", "match_method",
        "expected_amount", "billed_amount",
    )
    return sorted(finding_key(*row) for row in rows)


def test_sample_run_stores_the_injected_findings(sample_run):
    with sample_files().expected_findings.open(encoding="utf-8", newline="") as handle:
        manifest = list(csv.DictReader(handle))
    expected = sorted(
        finding_key(row["finding_type"], row["account_id"], row["billed_account"],
                    row["match_method"], row["expected_amount"], row["billed_amount"])
        for row in manifest
    )
    assert len(expected) == 64
    assert stored_keys(sample_run) == expected


def test_sample_run_matches_the_file_audit(sample_run, file_result):
    engine = sorted(
        finding_key(*row) for row in file_result.findings.select(
            "finding_type", "account_id", "billed_account", "match_method",
            "expected_amount", "billed_amount",
        ).iter_rows()
    )
    assert stored_keys(sample_run) == engine

    stored_details = sorted(Finding.objects.filter(run=sample_run).values_list("detail", flat=True))
    assert stored_details == sorted(file_result.findings.get_column("detail").to_list())

    stored_at_stake = sorted(
        Finding.objects.filter(run=sample_run).values_list("revenue_at_stake", flat=True)
    )
    assert stored_at_stake == sorted(file_result.findings.get_column("revenue_at_stake"))


def test_sample_run_totals(sample_run, file_result):
    totals = file_result.totals
    assert sample_run.billed_total == totals.billed
    assert sample_run.expected_total == totals.expected
    assert sample_run.at_stake_total == sum(totals.at_stake_by_type.values())
    assert sample_run.totals["at_stake_by_type"] == {
        ftype: format(amount, "f") for ftype, amount in totals.at_stake_by_type.items()
    }
    assert sample_run.totals["count_by_type"] == totals.count_by_type
    assert sample_run.totals["findings"] == 64
    assert sample_run.bills == file_result.bills
    assert sample_run.profiles == file_result.profiles
    assert sample_run.matched == file_result.matched
    assert sample_run.finished_at is not None


def test_sample_findings_link_account_and_charge(sample_run):
    findings = Finding.objects.filter(run=sample_run).select_related("account", "charge")
    for finding in findings:
        if finding.finding_type == "not_billed":
            assert finding.charge is None
            assert finding.account is not None
        elif finding.finding_type == "unknown_customer":
            assert finding.account is None
            assert finding.charge.billed_account == finding.billed_account
        else:
            assert finding.account is not None, finding.pk
            assert finding.charge.billed_account == finding.billed_account, finding.pk


def test_sample_run_creates_one_discrepancy_per_finding(sample_run):
    # Every injected case has its own account and finding type, so no two findings
    # of the sample share a discrepancy.
    assert Discrepancy.objects.count() == 64
    assert Finding.objects.filter(run=sample_run, discrepancy__isnull=True).count() == 0
    assert set(Discrepancy.objects.values_list("cycles_seen", flat=True)) == {1}


def test_start_audit_records_change_and_job(sample_run, auditor):
    assert sample_run.created_by == auditor
    assert sample_run.job.kind == "audit"
    assert sample_run.job.progress == 100
    record = ChangeRecord.objects.get(object_type="audits.auditrun",
                                      object_id=str(sample_run.pk))
    assert record.actor == auditor
    assert record.action == "created"
    assert record.changes["cycle"] == [None, CYCLE]
    assert record.changes["tolerance"] == [None, "0.01"]


@pytest.fixture
def small_world():
    """Two active residential accounts and one cycle; the simple rates give $40.00."""
    entity = make_entity("eastbrook")
    cycle = make_cycle(entity, "2016-01")
    batch = make_batch(entity, cycle)
    add_account(entity, "SS-001", "1001")
    add_account(entity, "SS-002", "1002")
    # $20.00 + $5.00 x min(4 kgal used, 5 kgal winter average) = $40.00 each.
    add_charge(batch, "1001", "45.00")
    add_charge(batch, "1002", "40.00")
    return entity, cycle, make_rate_version()


def test_progress_reports_every_step(small_world, monkeypatch):
    _, cycle, version = small_world
    steps = []
    monkeypatch.setattr("sewerline.apps.jobs.runner.report_progress",
                        lambda job_id, step, percent: steps.append((step, percent)))
    run = start_audit(None, cycle=cycle, rate_version=version)
    run_now(run.job_id)

    assert [step for step, _ in steps] == [
        "read rates", "read profiles", "read billing", "link", "rate", "classify",
        "store findings",
    ]
    percents = [percent for _, percent in steps]
    assert percents == sorted(percents)
    assert AuditRun.objects.get(pk=run.pk).job.status == JobStatus.DONE


def test_failure_stores_nothing(small_world, monkeypatch):
    _, cycle, version = small_world

    def broken(run):
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "reconcile", broken)
    run = start_audit(None, cycle=cycle, rate_version=version)
    job = run_now(run.job_id)

    assert job.status == JobStatus.FAILED
    assert "disk full" in job.error
    assert Finding.objects.count() == 0
    assert Discrepancy.objects.count() == 0
    stored = AuditRun.objects.get(pk=run.pk)
    assert stored.billed_total is None
    assert stored.finished_at is None


def test_input_problems_fail_the_job(small_world):
    _, cycle, _ = small_world
    # The rates lack the accounts' RESIDENTIAL_SINGLE class.
    commercial_only = SIMPLE_RATES.split("  RESIDENTIAL_SINGLE:")[0] + (
        "  COMMERCIAL:\n    bill: 30.00\n"
    )
    version = make_rate_version(commercial_only, file_name="commercial.owrs",
                                effective=LATER_VERSION)
    run = start_audit(None, cycle=cycle, rate_version=version)
    job = run_now(run.job_id)

    assert job.status == JobStatus.FAILED
    assert "RESIDENTIAL_SINGLE" in job.error
    assert "commercial.owrs" in job.error
    assert "/tmp" not in job.error
    assert Finding.objects.count() == 0


def test_misspelled_bill_class_fails(small_world):
    entity, cycle, version = small_world
    batch = make_batch(entity, cycle, name="typo.csv")
    add_account(entity, "SS-003", "1003")
    add_charge(batch, "1003", "40.00", rate_class="RESIDENTIAL_SINGL")
    run = start_audit(None, cycle=cycle, rate_version=version)
    job = run_now(run.job_id)

    assert job.status == JobStatus.FAILED
    assert "'RESIDENTIAL_SINGL'" in job.error
    assert "Did you mean 'RESIDENTIAL_SINGLE'?" in job.error
    assert Finding.objects.count() == 0


def test_unrated_bill_class_is_audited(small_world):
    # A class the sewer rates do not cover at all is allowed, as in a file audit.
    entity, cycle, version = small_world
    batch = make_batch(entity, cycle, name="irrigation.csv")
    add_account(entity, "SS-003", "1003")
    add_charge(batch, "1003", "40.00", rate_class="IRRIGATION")
    run = start_audit(None, cycle=cycle, rate_version=version)
    job = run_now(run.job_id)

    assert job.status == JobStatus.DONE, job.error
    mismatch = Finding.objects.get(finding_type="class_mismatch")
    assert mismatch.account.account_id == "SS-003"
    assert "bills as IRRIGATION" in mismatch.detail


def test_rerun_of_same_run_replaces_findings(small_world):
    _, cycle, version = small_world
    run = AuditRun.objects.create(cycle=cycle, rate_version=version)
    run_audit(run.pk)
    run_audit(run.pk)

    findings = Finding.objects.filter(run=run)
    assert list(findings.values_list("finding_type", "billed_account")) == [
        ("overbilled", "1001")
    ]
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.cycles_seen == 1
    assert discrepancy.revenue_at_stake == Decimal("5.00")
    assert discrepancy.events.count() == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"tolerance": "-0.01"}, "out of range"),
    ({"tolerance": "0.005"}, "more than 2 decimals"),
    ({"tolerance": "ten"}, "not a number"),
    ({"tolerance": 0.01}, "never a float"),
    ({"tolerance_percent": "101"}, "out of range"),
])
def test_start_audit_rejects_bad_tolerance(small_world, changes, message):
    _, cycle, version = small_world
    with pytest.raises(CannotStartAudit, match=message):
        start_audit(None, cycle=cycle, rate_version=version, **changes)
    assert AuditRun.objects.count() == 0


def test_start_audit_needs_published_version(small_world):
    _, cycle, _ = small_world
    draft = make_rate_version(published=False, effective=LATER_VERSION)
    with pytest.raises(CannotStartAudit, match="not published"):
        start_audit(None, cycle=cycle, rate_version=draft)


def test_start_audit_needs_bills_and_accounts(small_world):
    entity, _, version = small_world
    empty_cycle = make_cycle(entity, "2016-02")
    with pytest.raises(CannotStartAudit, match="no billed charges"):
        start_audit(None, cycle=empty_cycle, rate_version=version)

    other = make_entity("northgate")
    other_cycle = make_cycle(other, "2016-01")
    add_charge(make_batch(other, other_cycle, name="north.csv"), "77", "40.00")
    with pytest.raises(CannotStartAudit, match="no accounts"):
        start_audit(None, cycle=other_cycle, rate_version=version)


# --- pages ----------------------------------------------------------------------------


def test_run_page_shows_totals_and_chart(client, sample_run, file_result, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audits:run", args=[sample_run.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    totals = file_result.totals
    assert format_usd(totals.billed) in page
    assert format_usd(totals.expected) in page
    assert format_usd(Decimal("240000.00")) in page
    assert format_usd(totals.billed - totals.expected) in page
    assert format_usd(totals.at_stake_by_type["overbilled"]) in page
    assert page.count('<svg class="bar-chart"') == 2
    assert "hx-trigger" not in page
    assert reverse("audits:findings", args=[sample_run.pk]) + "?type=overbilled" in page
    discrepancies = (f'{reverse("discrepancies:list")}?entity={sample_run.cycle.entity_id}'
                     f'&amp;cycle={sample_run.cycle_id}')
    assert discrepancies in page


def test_run_page_polls_while_running(client, small_world, auditor):
    _, cycle, version = small_world
    run = start_audit(auditor, cycle=cycle, rate_version=version)
    client.force_login(auditor)

    page = client.get(reverse("audits:run", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert reverse("audits:progress", args=[run.pk]) in page

    polling = client.get(reverse("audits:progress", args=[run.pk]))
    assert "HX-Refresh" not in polling.headers
    assert 'hx-trigger="every 1s"' in polling.content.decode()

    run_now(run.job_id)
    finished = client.get(reverse("audits:progress", args=[run.pk]))
    assert finished.headers["HX-Refresh"] == "true"
    assert "hx-trigger" not in finished.content.decode()


def test_failed_run_page_shows_error(client, small_world, auditor, monkeypatch):
    _, cycle, version = small_world
    monkeypatch.setattr(actions, "reconcile", lambda run: 1 / 0)
    run = start_audit(auditor, cycle=cycle, rate_version=version)
    run_now(run.job_id)
    client.force_login(auditor)
    page = client.get(reverse("audits:run", args=[run.pk])).content.decode()
    assert "The audit failed" in page
    assert "division by zero" in page


def test_start_form_starts_a_run(client, small_world, auditor):
    _, cycle, version = small_world
    client.force_login(auditor)
    assert client.get(reverse("audits:start")).status_code == 200
    response = client.post(reverse("audits:start"), {
        "cycle": cycle.pk, "rate_version": version.pk, "tolerance": "0.05",
        "tolerance_percent": "",
    })
    run = AuditRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("audits:run", args=[run.pk])
    assert run.tolerance == Decimal("0.05")
    assert run.tolerance_percent is None
    assert run.job.status == JobStatus.QUEUED


def test_start_form_shows_action_errors(client, small_world, auditor):
    entity, _, version = small_world
    empty_cycle = make_cycle(entity, "2016-02")
    client.force_login(auditor)
    response = client.post(reverse("audits:start"), {
        "cycle": empty_cycle.pk, "rate_version": version.pk, "tolerance": "0.01",
    })
    assert response.status_code == 200
    assert "has no billed charges" in response.content.decode()
    assert AuditRun.objects.count() == 0


def test_start_form_offers_published_versions_only(client, small_world, auditor):
    make_rate_version(published=False, effective=LATER_VERSION,
                      schedule_name="Draft rates")
    client.force_login(auditor)
    page = client.get(reverse("audits:start")).content.decode()
    assert "Sewer rates from 2016-01-01" in page
    assert "Draft rates" not in page


@pytest.mark.parametrize(("role", "status"), [
    (Role.AUDITOR, 200), (Role.ADMINISTRATOR, 200), (Role.BILLING_CLERK, 403),
    (Role.READ_ONLY, 403), (Role.CUSTOMER_SERVICE, 403),
])
def test_start_needs_run_audit(client, role, status):
    client.force_login(user_with(role, "pat"))
    assert client.get(reverse("audits:start")).status_code == status


def test_pages_need_login(client, small_world):
    _, cycle, version = small_world
    run = AuditRun.objects.create(cycle=cycle, rate_version=version)
    for url in (reverse("audits:run_list"), reverse("audits:run", args=[run.pk]),
                reverse("audits:progress", args=[run.pk]),
                reverse("audits:findings", args=[run.pk]), reverse("audits:start")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_read_only_sees_runs(client, sample_run):
    client.force_login(user_with(Role.READ_ONLY, "rita"))
    assert client.get(reverse("audits:run_list")).status_code == 200
    assert client.get(reverse("audits:run", args=[sample_run.pk])).status_code == 200
    assert client.get(reverse("audits:findings", args=[sample_run.pk])).status_code == 200


def test_run_list_query_count_is_flat(client, small_world, auditor,
                                      django_assert_num_queries):
    _, cycle, version = small_world
    client.force_login(auditor)
    AuditRun.objects.create(cycle=cycle, rate_version=version, created_by=auditor)
    with django_assert_num_queries(QUERIES_RUN_LIST):
        assert client.get(reverse("audits:run_list")).status_code == 200

    for _ in range(6):
        start_audit(auditor, cycle=cycle, rate_version=version)
    with django_assert_num_queries(QUERIES_RUN_LIST):
        page = client.get(reverse("audits:run_list")).content.decode()
    assert page.count("<tr>") == 1 + 7


def test_findings_list_filters_by_type(client, sample_run, auditor,
                                       django_assert_num_queries):
    client.force_login(auditor)
    url = reverse("audits:findings", args=[sample_run.pk])
    with django_assert_num_queries(QUERIES_FINDING_LIST):
        page = client.get(url, {"type": "not_billed"}).content.decode()
    assert page.count("<tr>") == 1 + 4
    assert "has no bill in the cycle" in page
    not_billed = Finding.objects.filter(run=sample_run, finding_type="not_billed").first()
    assert reverse("profiles:detail", args=[not_billed.account_id]) in page
    assert reverse("discrepancies:detail", args=[not_billed.discrepancy_id]) in page

    with django_assert_num_queries(QUERIES_FINDING_LIST):
        page = client.get(url).content.decode()
    assert page.count("<tr>") == 1 + 50
    assert "Page 1 of 2" in page


# Every page: session, user, and the user's groups, read once per request for the
# capability checks of the view and of the menu.
QUERIES_PER_PAGE = 3
# The run list adds a count and one joined select.
QUERIES_RUN_LIST = QUERIES_PER_PAGE + 2
# The findings list adds the run, a count and one joined select.
QUERIES_FINDING_LIST = QUERIES_PER_PAGE + 3

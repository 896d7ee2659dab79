"""The staff pages in headless Chromium: a billing clerk and an auditor audit one cycle.

Carla, a billing clerk, imports the sample's billing export for cycle 2016-03 through
the import wizard. Arturo, an auditor, audits the cycle, reviews an underbilled
discrepancy and exports the list. Every step goes through the pages, with the jobs
running in threads of the live server. Screenshots of each page go to the folder in
SEWERLINE_SCREENSHOTS, else to a folder under pytest's temporary directory.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyStatus
from sewerline.apps.imports.mappings import load_billing_mapping
from sewerline.apps.imports.models import BilledCharge, ImportBatch, ImportKind, ImportStatus
from sewerline.engine.audit import run_audit as audit_files
from sewerline.engine.findings import AuditConfig
from sewerline.engine.report.formatting import format_usd
from sewerline.sample import CYCLE, sample_files
from ui_world import build_world

pytestmark = pytest.mark.browser

# Totals of the sample's cycle 2016-03: the sewer lines of billing_export.csv add up to
# the billed amount, and the sample's rates give the expected amount.
SAMPLE_BILLED = Decimal("231939.16")
SAMPLE_EXPECTED = Decimal("228774.73")

# Columns of the discrepancy CSV export, in order.
EXPORT_HEADER = [
    "id", "entity", "finding_type", "status", "key", "account_id", "water_account",
    "owner_name", "service_address", "meter_number", "first_cycle", "last_cycle",
    "cycles_seen", "revenue_at_stake", "recovered",
]


def sewer_lines_of_export() -> tuple[int, Decimal]:
    """Return the number of bills and the sum of the sewer lines of the sample export."""
    with sample_files().billing.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.DictReader(handle))
    bills = {row["Bill No"] for row in rows}
    sewer_total = sum((Decimal(row["Amount"]) for row in rows if row["Svc"] == "SW"),
                      Decimal(0))
    return len(bills), sewer_total


def figure_value(page, label: str):
    """Return the value element of the figure with exactly this label."""
    figure = page.locator(".figure").filter(
        has=page.locator(".label", has_text=re.compile(f"^{re.escape(label)}$")))
    return figure.locator(".value")


def import_export_in_wizard(page, utility, shoot) -> ImportBatch:
    """Upload, map, check and store the sample export as the signed-in clerk."""
    files = sample_files()
    page.get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="Import a file").click()

    # Step 1: upload.
    page.locator("#id_entity").select_option(label=utility.entity.name)
    page.locator("#id_kind").select_option(label="Billing export")
    page.locator("#id_cycle").select_option(label=str(utility.cycle))
    page.locator("#id_file").set_input_files(str(files.billing))
    page.get_by_role("button", name="Upload and map the columns").click()

    # Step 2: the mapping, started from the mapping saved for the entity.
    expect(page.get_by_role("heading", name=f"Map the columns of {files.billing.name}")) \
        .to_be_visible()
    page.locator("#saved-mapping").select_option(label=utility.saved_mapping.name)
    page.get_by_role("button", name="Use it").click()
    page.wait_for_url(f"**/map/?saved={utility.saved_mapping.pk}")
    expect(page.get_by_text(f"come from the saved mapping '{utility.saved_mapping.name}'")) \
        .to_be_visible()
    expect(page.locator("#id_column_billed_account")).to_have_value("Acct No")
    expect(page.locator("#id_column_billed_amount")).to_have_value("Amount")
    expect(page.locator("#id_layout")).to_have_value("per_line")
    saved_rate_codes = load_billing_mapping(utility.saved_mapping.text).rate_codes
    expect(page.locator("input[name^='rate_class_']")).to_have_count(len(saved_rate_codes))
    # The export is Windows-1252, so the clerk names the encoding instead of detecting it.
    page.locator("#id_encoding").select_option(label="Windows-1252")
    shoot(page, "2-import-mapping")
    page.get_by_role("button", name="Save the mapping and check the file").click()

    # Step 3: the check runs as a job, and the page reloads itself when it ends.
    bills, sewer_total = sewer_lines_of_export()
    store = page.get_by_role("button", name=f"Store {bills:,} bills")
    expect(store).to_be_visible()
    expect(figure_value(page, "Sewer amount billed")).to_have_text(format_usd(sewer_total))

    # Step 4: store.
    store.click()
    expect(page.get_by_role("heading", name="Stored", exact=True)).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Imported")
    return ImportBatch.objects.get(kind=ImportKind.BILLING, cycle=utility.cycle)


def audit_cycle(page, utility, shoot) -> None:
    """Start an audit of the cycle as the signed-in auditor and wait for its totals."""
    page.get_by_role("link", name="Audits").click()
    page.get_by_role("link", name="Start an audit").click()
    page.locator("#id_cycle").select_option(label=str(utility.cycle))
    page.locator("#id_rate_version").select_option(label=str(utility.rate_version))
    page.get_by_role("button", name="Start the audit").click()

    expect(page.get_by_role("heading", name=f"Audit of {utility.entity.name}, cycle "
                                            f"{utility.cycle.code}")).to_be_visible()
    # The progress card polls every second and reloads the page once the job ends.
    expect(figure_value(page, "Findings")).to_be_visible()
    shoot(page, "3-audit-run")


def review_one_underbilled(page, shoot) -> tuple[str, Discrepancy]:
    """Confirm the largest underbilled discrepancy through the filtered list.

    Returns the URL of the filtered list and the confirmed discrepancy.
    """
    page.get_by_role("link", name="Discrepancies").click()
    page.locator("#id_finding_type").select_option(label="Underbilled")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"finding_type=underbilled"))
    list_url = page.url

    underbilled = Discrepancy.objects.filter(finding_type="underbilled")
    expect(page.locator(".page-head")).to_contain_text(f"{underbilled.count()} found")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(underbilled.count())
    expect(rows.locator("td:nth-child(2)")).to_have_text(["Underbilled"] * underbilled.count())
    shoot(page, "5-discrepancy-list")

    # The list is sorted by revenue at stake, largest first.
    largest = underbilled.order_by("-revenue_at_stake", "-id").first()
    rows.first.get_by_role("link", name="Underbilled").click()
    page.wait_for_url(f"**/discrepancies/{largest.pk}/")
    expect(page.locator(".page-head .badge")).to_have_text("Open")

    page.locator("#new-status").select_option(label="Confirmed")
    page.locator("#status-note").fill("Checked the bill against the profile and the meter read.")
    page.get_by_role("button", name="Change status").click()

    expect(page.locator(".page-head .badge")).to_have_text("Confirmed")
    expect(page.locator("ul.messages")).to_contain_text("1 discrepancy set to “Confirmed”.")
    history = page.locator("section").filter(
        has=page.get_by_role("heading", name="History")).locator("tbody tr")
    change = history.filter(has_text="arturo-auditor")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("Open → Confirmed")
    expect(change).to_contain_text("Checked the bill against the profile")
    shoot(page, "6-discrepancy-detail")

    largest.refresh_from_db()
    return list_url, largest


def download_csv(page, link_name: str, folder) -> list[list[str]]:
    """Click a download link and return the rows of the CSV file it saves."""
    with page.expect_download() as download_info:
        page.get_by_role("link", name=link_name).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = folder / download.suggested_filename
    download.save_as(path)
    # The export starts with a byte order mark so that Excel reads it as UTF-8.
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def file_audit():
    """Return the engine's audit of the sample files, the reference for the pages."""
    files = sample_files()
    return audit_files(profiles_path=files.profiles, billing_path=files.billing,
                       rates_path=files.rates, mapping_path=files.mapping,
                       config=AuditConfig(cycle=CYCLE))


@pytest.mark.slow
def test_clerk_imports_auditor_reviews(open_page, sign_in, shoot, sample_utility, file_audit,
                                       tmp_path):
    utility = sample_utility
    bills, sewer_total = sewer_lines_of_export()
    assert sewer_total == SAMPLE_BILLED
    assert file_audit.totals.expected == SAMPLE_EXPECTED

    # The clerk signs in and imports the export through the wizard.
    clerk = open_page()
    clerk.goto("/accounts/login/")
    shoot(clerk, "1-login")
    sign_in(clerk, utility.clerk.username)
    expect(clerk.locator("header.top .user")).to_contain_text(utility.clerk.username)
    batch = import_export_in_wizard(clerk, utility, shoot)

    assert batch.status == ImportStatus.DONE
    assert load_billing_mapping(batch.mapping_text).csv.encoding == "cp1252"
    assert BilledCharge.objects.filter(cycle=utility.cycle).count() == bills
    # Read as Windows-1252, the first bill's name keeps its Ñ.
    assert BilledCharge.objects.filter(customer_name="MUÑOZ, ROBERT G").exists()

    # The auditor audits the cycle and checks its totals.
    auditor = open_page()
    sign_in(auditor, utility.auditor.username)
    audit_cycle(auditor, utility, shoot)
    budget = utility.cycle.budget
    expect(figure_value(auditor, "Billed")).to_have_text(format_usd(SAMPLE_BILLED))
    expect(figure_value(auditor, "Expected from the rates")) \
        .to_have_text(format_usd(SAMPLE_EXPECTED))
    expect(figure_value(auditor, "Billed minus expected")) \
        .to_have_text(format_usd(SAMPLE_BILLED - SAMPLE_EXPECTED))
    expect(figure_value(auditor, "Findings")).to_have_text(f"{file_audit.findings.height:,}")
    expect(figure_value(auditor, "Budget of the cycle")).to_have_text(format_usd(budget))
    expect(auditor.get_by_text("Billed minus budget:")) \
        .to_contain_text(format_usd(SAMPLE_BILLED - budget))

    auditor.get_by_role("link", name="Dashboard").click()
    auditor.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(auditor.get_by_role("heading", name=utility.entity.name, exact=True)) \
        .to_be_visible()
    shoot(auditor, "4-dashboard")

    # The auditor confirms the largest underbilled discrepancy.
    list_url, confirmed = review_one_underbilled(auditor, shoot)
    assert confirmed.status == DiscrepancyStatus.CONFIRMED
    assert confirmed.events.filter(new_status=DiscrepancyStatus.CONFIRMED,
                                   actor=utility.auditor).count() == 1

    # The filtered list downloads as CSV: one row per underbilled discrepancy.
    auditor.goto(list_url)
    header, *rows = download_csv(auditor, "Export CSV", tmp_path)
    assert header == EXPORT_HEADER
    underbilled = Discrepancy.objects.filter(finding_type="underbilled").count()
    assert underbilled == file_audit.findings.filter(finding_type="underbilled").height
    assert len(rows) == underbilled
    assert {row[2] for row in rows} == {"underbilled"}
    statuses = {row[0]: row[3] for row in rows}
    assert statuses[str(confirmed.pk)] == "confirmed"
    assert list(statuses.values()).count("confirmed") == 1

    # The account page of the confirmed discrepancy.
    auditor.goto(f"/discrepancies/{confirmed.pk}/")
    auditor.get_by_role("link", name=confirmed.account.account_id, exact=True).click()
    auditor.wait_for_url(f"**/profiles/{confirmed.account.pk}/")
    expect(auditor.get_by_role("heading", level=1)) \
        .to_have_text(f"Account {confirmed.account.account_id}")
    shoot(auditor, "7-account")


def test_anonymous_and_read_only_access(open_page, sign_in, read_only_user):
    world = build_world()

    page = open_page()
    page.goto("/discrepancies/?status=open")
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert "next=/discrepancies/%3Fstatus%3Dopen" in page.url
    expect(page.locator("header.top")).to_have_count(0)

    # Signing in returns to the requested page.
    sign_in(page, read_only_user.username, landing="/discrepancies/?status=open")

    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#bulk-status")).to_have_count(0)
    expect(page.locator("input[name='ids']")).to_have_count(0)
    expect(page.get_by_role("button", name="Change status")).to_have_count(0)
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()

    page.goto(f"/discrepancies/{world.underbilled.pk}/")
    expect(page.get_by_text("Your role may not change discrepancy statuses.")).to_be_visible()
    expect(page.locator("#new-status")).to_have_count(0)


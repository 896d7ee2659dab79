"""Writers of the generated sample files, each byte-for-byte reproducible.

Rows are written in explicit sort orders and amounts with fixed decimals, so the same
book always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from sewerline.sample.book import BillRow, Control, ExpectedFinding, ProfileRow
from sewerline.sample.next_cycle import CorrectedDiscrepancy

PROFILE_COLUMNS = (
    "account_id", "water_account", "owner_name", "service_address", "parcel_id",
    "meter_number", "customer_class", "meter_size", "status", "winter_average",
    "dwelling_units",
)
EXPORT_COLUMNS = (
    "Acct No", "Customer Name", "Service Address", "APN", "Meter #", "Rate Code", "Svc",
    "Consumption", "Amount", "From", "To", "Bill Date", "Bill No",
)
FINDING_COLUMNS = (
    "case_id", "finding_type", "account_id", "billed_account", "match_method",
    "expected_amount", "billed_amount", "description",
)
CONTROL_COLUMNS = ("case_id", "account_id", "billed_account", "description")
CORRECTED_COLUMNS = (
    "case_id", "finding_type", "account_id", "billed_account", "recovered_amount",
    "description",
)

WATER_SERVICE = "WA"
SEWER_SERVICE = "SW"
EXPORT_ENCODING = "cp1252"
EXPORT_DATE_FORMAT = "%m/%d/%Y"


def write_profiles(profiles: list[ProfileRow], path: Path) -> None:
    """Write profiles.csv (UTF-8) sorted by account id."""
    rows = [
        (
            profile.account_id, profile.water_account, profile.owner_name,
            profile.service_address, profile.parcel_id, profile.meter_number,
            profile.customer_class, profile.meter_size, profile.status,
            f"{profile.winter_average:.3f}",
            "" if profile.dwelling_units is None else str(profile.dwelling_units),
        )
        for profile in sorted(profiles, key=lambda profile: profile.account_id)
    ]
    _write_csv(path, PROFILE_COLUMNS, rows, encoding="utf-8", line_end="\n")


def number_bills(bills: list[BillRow], cycle_prefix: str) -> list[tuple[str, BillRow]]:
    """Give every bill its bill number, in the order the export lists them.

    Regular bills are numbered in account order, comparing the account's digits as a
    number so that an account written without zeros sorts with its padded form. Repeat
    bills come from a later bill run and are numbered after them.
    """
    ordered = sorted(bills, key=lambda bill: (bill.repeat, _account_number(bill.account)))
    return [
        (f"{cycle_prefix}{sequence:05d}", bill)
        for sequence, bill in enumerate(ordered, start=1)
    ]


def write_export(
    numbered: list[tuple[str, BillRow]],
    path: Path,
    *,
    period: tuple[str, str],
) -> None:
    """Write billing_export.csv in Windows-1252 with CRLF line ends, one row per service line.

    Each bill has its water line first, then its sewer lines.
    """
    period_start, period_end = period
    rows = []
    for bill_number, bill in numbered:
        lines = [(WATER_SERVICE, bill.water_amount)]
        lines += [(SEWER_SERVICE, amount) for amount in bill.sewer_amounts]
        for service, amount in lines:
            rows.append((
                bill.account, bill.customer_name, bill.service_address, bill.parcel_id,
                bill.meter_number, bill.rate_code, service, str(bill.usage_ccf),
                _amount(amount), period_start, period_end,
                bill.bill_date.strftime(EXPORT_DATE_FORMAT), bill_number,
            ))
    _write_csv(path, EXPORT_COLUMNS, rows, encoding=EXPORT_ENCODING, line_end="\r\n")


def write_findings(findings: list[ExpectedFinding], path: Path) -> None:
    """Write expected_findings.csv (UTF-8) in the order the cases recorded them."""
    rows = [
        (
            finding.case_id, finding.finding_type, finding.account_id, finding.billed_account,
            finding.match_method, _amount(finding.expected_amount),
            _amount(finding.billed_amount), finding.description,
        )
        for finding in findings
    ]
    _write_csv(path, FINDING_COLUMNS, rows, encoding="utf-8", line_end="\n")


def write_controls(controls: list[Control], path: Path) -> None:
    """Write controls.csv (UTF-8) sorted by case id."""
    rows = [
        (control.case_id, control.account_id, control.billed_account, control.description)
        for control in sorted(controls, key=lambda control: control.case_id)
    ]
    _write_csv(path, CONTROL_COLUMNS, rows, encoding="utf-8", line_end="\n")


def write_corrected(corrected: list[CorrectedDiscrepancy], path: Path) -> None:
    """Write corrected_2016-05.csv (UTF-8) in the order the first cycle's findings have."""
    rows = [
        (
            item.case_id, item.finding_type, item.account_id, item.billed_account,
            _amount(item.recovered_amount), item.description,
        )
        for item in corrected
    ]
    _write_csv(path, CORRECTED_COLUMNS, rows, encoding="utf-8", line_end="\n")


MAPPING_TEMPLATE = """\
# Mapping of the sample billing exports (billing_export.csv of cycle 2016-03 and
# billing_export_2016-05.csv) to Sewerline's fields.
# Written by `python -m sewerline.sample.builder`: change the builder, then rebuild.

# One row per service line: every bill has a water line and zero or more sewer lines.
# The reader folds the lines of one bill back into one bill.
layout: per_line

# Canonical field: column header of the export, exactly as written there.
columns:
  billed_account: "Acct No"          # water utility account number
  customer_name: "Customer Name"
  service_address: "Service Address"
  parcel_id: "APN"                   # Assessor parcel number; empty on some bills
  meter_number: "Meter #"
  rate_code: "Rate Code"             # the water utility's rate code, mapped below
  usage: "Consumption"               # metered use of the period, in usage_unit
  billed_amount: "Amount"            # USD charged on the line
  period_start: "From"
  period_end: "To"
  bill_date: "Bill Date"
  bill_number: "Bill No"             # groups the lines of one bill
  service_code: "Svc"                # which service the line bills: WA water, SW sewer

# Consumption is in ccf (hundred cubic feet, 748.052 gallons).
usage_unit: ccf

# strftime pattern of the dates, e.g. 02/29/2016.
date_format: "%m/%d/%Y"

# Lines with these service codes are sewer lines; a bill's sewer amount is their sum.
sewer_service_codes: [SW]

# Rate code in the exports -> customer class in sewer_rates.owrs. Every code of both
# exports is listed. Santa Monica's prefixes: WASF single family, WAMF multi-family,
# WANR non-residential.
rate_codes:
{rate_codes}
csv:
  # The export is Windows-1252; auto tries UTF-8 first and falls back to it.
  encoding: auto

profiles:
  # profiles.csv gives winter_average as average monthly use in kgal (1,000 gallons).
  winter_average_unit: kgal
"""


def write_mapping(rate_codes: dict[str, str], path: Path) -> None:
    """Write mapping.yaml with one rate_codes line per code, in code order."""
    lines = "\n".join(f"  {code}: {rate_codes[code]}" for code in sorted(rate_codes))
    text = MAPPING_TEMPLATE.format(rate_codes=lines)
    path.write_bytes(text.encode("utf-8"))


def _account_number(account: str) -> int:
    return int("".join(char for char in account if char.isdigit()))


def _amount(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def _write_csv(
    path: Path,
    header: tuple[str, ...],
    rows: list[tuple[str, ...]],
    *,
    encoding: str,
    line_end: str,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))

"""audit.xlsx read back with openpyxl: sheets, number formats, panes, safe text."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest

from sewerline.engine.report import write_audit_xlsx
from sewerline.engine.report.xlsx import MONEY_FORMAT, SHEET_COLUMNS
from test_report_support import finding, make_result


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    rows = [
        finding("underbilled", "S-1", "W-1", "100.00", "80.00", source_row=7,
                owner_name='=HYPERLINK("x","click")', service_address="12 Elm St"),
        finding("underbilled", "+1", "W-2", "30.00", "25.00", source_row=9),
        finding("overbilled", "S-3", "W-3", "10.00", "12.50", detail="@SUM(A1:A9)"),
        finding("account_changed", "S-4", "W-4x", "45.00", "45.00", match_method="meter",
                revenue_at_stake=Decimal("0")),
    ]
    result = make_result(rows, months_per_cycle="3")
    path = write_audit_xlsx(result, tmp_path_factory.mktemp("xlsx") / "audit.xlsx")
    return openpyxl.load_workbook(path)


def header_index(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def test_xlsx_sheets_present(workbook):
    assert workbook.sheetnames == ["Summary", "Overbilled", "Underbilled", "Account changed"]


def test_xlsx_finding_sheet_columns(workbook):
    headers = [cell.value for cell in workbook["Underbilled"][1]]

    assert headers == list(SHEET_COLUMNS)


def test_xlsx_rows_sorted_like_csv(workbook):
    sheet = workbook["Underbilled"]
    column = header_index(sheet)["account_id"]

    accounts = [sheet.cell(row, column).value for row in range(2, sheet.max_row + 1)]

    assert accounts == ["S-1", "'+1"]


def test_xlsx_money_cells_are_formatted_numbers(workbook):
    sheet = workbook["Underbilled"]
    columns = header_index(sheet)

    expected = sheet.cell(2, columns["expected_amount"])
    difference = sheet.cell(2, columns["difference"])

    assert expected.value == 100
    assert expected.number_format == MONEY_FORMAT
    assert difference.value == -20
    assert difference.data_type == "n"
    assert difference.number_format == MONEY_FORMAT


def test_xlsx_source_row_is_number(workbook):
    sheet = workbook["Underbilled"]

    assert sheet.cell(2, header_index(sheet)["source_row"]).value == 7


def test_xlsx_frozen_header_and_autofilter(workbook):
    for name in ("Overbilled", "Underbilled", "Account changed"):
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:M{sheet.max_row}"


def test_xlsx_column_width_capped(workbook):
    sheet = workbook["Underbilled"]

    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKLM"]

    assert all(0 < width <= 61 for width in widths)


def test_xlsx_injection_written_as_text(workbook):
    under = workbook["Underbilled"]
    over = workbook["Overbilled"]
    owner = under.cell(2, header_index(under)["owner_name"])
    account = under.cell(3, header_index(under)["account_id"])
    detail = over.cell(2, header_index(over)["detail"])

    assert owner.data_type == "s"
    assert owner.value == "'=HYPERLINK(\"x\",\"click\")"
    assert account.value == "'+1"
    assert detail.data_type == "s"
    assert detail.value == "'@SUM(A1:A9)"


def summary_row(sheet, label: str) -> tuple:
    for row in sheet.iter_rows(values_only=True):
        if row[0] == label:
            return row
    raise AssertionError(f"no summary row labeled {label!r}")


def test_xlsx_summary_annualized_by_hand(workbook):
    sheet = workbook["Summary"]

    # Underbilled: $20.00 + $5.00 = $25.00 per quarterly cycle, so $8.33 a month
    # (8.333... rounded) and $25.00 x 12 / 3 = $100.00 a year.
    label, count, per_cycle, per_month, per_year = summary_row(sheet, "Underbilled")[:5]

    assert count == 2
    assert per_cycle == 25
    assert per_month == 8.33
    assert per_year == 100


def test_xlsx_summary_totals(workbook):
    sheet = workbook["Summary"]

    assert summary_row(sheet, "Cycle")[1] == "2016-03"
    assert summary_row(sheet, "Utility")[1] == "Springfield Water"
    assert summary_row(sheet, "Billed total")[1] == 10250.75
    assert summary_row(sheet, "Difference (billed minus expected)")[1] == -749.25
    assert summary_row(sheet, "Total")[1:5] == (4, 27.5, 9.17, 110)
    assert summary_row(sheet, "Meter")[1] == 30


def test_xlsx_summary_money_format(workbook):
    sheet = workbook["Summary"]

    for row in sheet.iter_rows():
        if row[0].value == "Billed total":
            assert row[1].number_format == MONEY_FORMAT
            break
    else:
        raise AssertionError("no Billed total row")


def test_xlsx_no_findings_has_summary_only(tmp_path):
    path = write_audit_xlsx(make_result([]), tmp_path / "audit.xlsx")

    assert openpyxl.load_workbook(path).sheetnames == ["Summary"]


def test_xlsx_unknown_type_gets_valid_sheet_name(tmp_path):
    rows = [finding("late/fee:check", "S-1", "W-1", "1", "2")]

    path = write_audit_xlsx(make_result(rows), tmp_path / "audit.xlsx")

    assert openpyxl.load_workbook(path).sheetnames == ["Summary", "Late fee check"]


def test_xlsx_utility_name_injection_is_text(tmp_path):
    result = make_result([], utility_name="=cmd|' /C calc'!A0")

    path = write_audit_xlsx(result, tmp_path / "audit.xlsx")
    cell = openpyxl.load_workbook(path)["Summary"]["B3"]

    assert cell.data_type == "s"
    assert cell.value == "'=cmd|' /C calc'!A0"

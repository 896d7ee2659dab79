"""read_billing: per_bill and per_line exports, with value and header problems."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter

from sewerline.engine.errors import InputError
from sewerline.engine.ingest import Layout, Mapping, load_mapping, read_billing
from sewerline.engine.schema import Billed
from sewerline.engine.units import UsageUnit

DATA = Path(__file__).parent / "data" / "ingest"


@pytest.fixture
def per_bill() -> Mapping:
    return load_mapping(DATA / "mapping_per_bill.yaml")


@pytest.fixture
def per_line() -> Mapping:
    return load_mapping(DATA / "mapping_per_line.yaml")


def problems_of(path: Path, mapping: Mapping, **options):
    with pytest.raises(InputError) as error:
        read_billing(path, mapping, **options)
    return error.value


def write_csv(directory: Path, text: str) -> Path:
    path = directory / "export.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_per_bill_schema_and_order(per_bill):
    bills = read_billing(DATA / "billing_per_bill.csv", per_bill)

    assert bills.schema == Billed.SCHEMA
    assert bills.get_column(Billed.ACCOUNT).to_list() == ["000123", "000124", "000125", "000126"]
    assert bills.get_column("source_row").to_list() == [2, 3, 4, 5]


def test_per_bill_amounts_and_credits(per_bill):
    bills = read_billing(DATA / "billing_per_bill.csv", per_bill)

    # $45.10, "$1,234.50", (12.50) and 12.50- as written in the file.
    assert bills.get_column(Billed.AMOUNT).to_list() == [
        Decimal("45.10"), Decimal("1234.50"), Decimal("-12.50"), Decimal("-12.50"),
    ]


def test_per_bill_usage_in_gallons(per_bill):
    bills = read_billing(DATA / "billing_per_bill.csv", per_bill)

    # 7, "1,250.5", 0 and 3.25 ccf at 748.052 gallons per ccf.
    assert bills.get_column(Billed.USAGE_GAL).to_list() == [
        Decimal("5236.364"), Decimal("935439.026"), Decimal("0"), Decimal("2431.169"),
    ]


def test_per_bill_text_dates_and_classes(per_bill):
    first = read_billing(DATA / "billing_per_bill.csv", per_bill).row(0, named=True)
    last = read_billing(DATA / "billing_per_bill.csv", per_bill).row(3, named=True)

    assert first[Billed.CUSTOMER_NAME] == "SMITH, JOHN"
    assert first[Billed.METER] == "004412345678901"
    assert first[Billed.PARCEL] == "001-234-56"
    assert first[Billed.CLASS] == "RESIDENTIAL_SINGLE"
    assert first[Billed.PERIOD_START] == dt.date(2024, 1, 1)
    assert first[Billed.PERIOD_END] == dt.date(2024, 1, 31)
    assert first[Billed.BILL_DATE] == dt.date(2024, 2, 5)
    assert first[Billed.SEWER_LINES] == 1
    assert first[Billed.BILL_NUMBER] is None
    # No rate code: no class, and no problem.
    assert last[Billed.RATE_CODE] is None
    assert last[Billed.CLASS] is None


def test_unmapped_fields_are_typed_nulls(tmp_path):
    mapping = Mapping(layout=Layout.PER_BILL,
                      columns={"billed_account": "Acct", "billed_amount": "Amt"})
    path = write_csv(tmp_path, "Acct,Amt,Other\n0042,10\n")

    bills = read_billing(path, mapping)

    assert bills.schema == Billed.SCHEMA
    assert bills.row(0) == (2, "0042", None, None, None, None, None, None, None,
                            Decimal("10"), None, None, None, None, 1, None, None)


def test_missing_column_suggests_header(tmp_path, per_bill):
    mapping = dataclasses.replace(
        per_bill, columns={**per_bill.columns, "billed_account": "Acct Number",
                           "customer_name": "Customer"},
    )

    error = problems_of(DATA / "billing_per_bill.csv", mapping)

    # Both header problems come at once, before any row is read.
    assert [problem.code for problem in error.problems] == ["missing_column"] * 2
    account = error.problems[0]
    assert account.column == "Acct Number"
    assert account.row == 1
    assert "Did you mean 'Acct No'?" in account.hint
    assert "mapping_per_bill.yaml" in account.hint
    assert "'Customer Name'" in error.problems[1].hint


def test_header_match_ignores_case_and_spacing(tmp_path):
    mapping = Mapping(layout=Layout.PER_BILL,
                      columns={"billed_account": "acct  no", "billed_amount": "AMOUNT"})
    path = write_csv(tmp_path, "Acct No,Amount\n1,2\n")

    assert read_billing(path, mapping).get_column(Billed.AMOUNT).to_list() == [Decimal("2")]


def test_bad_values_name_row_column_and_value(per_bill):
    error = problems_of(DATA / "billing_bad_values.csv", per_bill)
    found = [(problem.row, problem.column, problem.code, problem.value)
             for problem in error.problems]

    # Row order, then the file's column order within a row.
    assert found == [
        (2, "Sewer Amount", "invalid_value", "45.1O"),
        (3, "Acct No", "missing_value", None),
        (4, "Rate Code", "unknown_rate_code", "WASF9"),
        (4, "Consumption", "invalid_value", "seven"),
        (4, "To", "invalid_value", "31/01/2024"),
        (5, "Sewer Amount", "missing_value", None),
    ]
    assert not error.truncated


def test_bad_value_problem_texts(per_bill):
    problems = problems_of(DATA / "billing_bad_values.csv", per_bill).problems
    amount, _, rate, usage, date, _ = problems

    assert amount.file == str(DATA / "billing_bad_values.csv")
    assert "an amount such as 45.10" in amount.expected
    assert "ccf" in usage.expected
    assert "01/31/2024" in date.expected
    assert "2 bills, rows 4, 5" in rate.message
    assert "under rate_codes in mapping_per_bill.yaml" in rate.hint


def test_error_cap_truncates(tmp_path):
    mapping = Mapping(layout=Layout.PER_BILL,
                      columns={"billed_account": "Acct", "billed_amount": "Amt"})
    rows = "".join(f"{index},bad{index}\n" for index in range(30))
    path = write_csv(tmp_path, "Acct,Amt\n" + rows)

    error = problems_of(path, mapping, max_errors=5)

    assert len(error.problems) == 5
    assert error.truncated
    assert [problem.row for problem in error.problems] == [2, 3, 4, 5, 6]


def test_scientific_meter_numbers_kept_and_logged(tmp_path, caplog):
    mapping = Mapping(layout=Layout.PER_BILL, columns={
        "billed_account": "Acct", "billed_amount": "Amt", "meter_number": "Meter",
    })
    path = write_csv(tmp_path, "Acct,Amt,Meter\n1,2,1.23457E+11\n2,3,1.23457E+11\n3,4,42\n")

    with caplog.at_level(logging.WARNING):
        bills = read_billing(path, mapping)

    assert bills.get_column(Billed.METER).to_list() == ["1.23457E+11", "1.23457E+11", "42"]
    warnings = [record.getMessage() for record in caplog.records]
    assert any("2 meter numbers are in scientific notation" in text for text in warnings)


def test_per_line_folds_lines_into_bills(per_line):
    bills = read_billing(DATA / "billing_per_line.csv", per_line)

    assert bills.get_column(Billed.BILL_NUMBER).to_list() == ["B1", "B2", "B3", "B4"]
    assert bills.get_column("source_row").to_list() == [2, 4, 6, 9]
    assert bills.get_column(Billed.SEWER_LINES).to_list() == [1, 0, 2, 1]


def test_per_line_amount_sums_sewer_lines(per_line):
    bills = read_billing(DATA / "billing_per_line.csv", per_line)

    # B1: 45.10 on SW. B2: water and trash only, so 0. B3: (12.50) + 10.00 on SW and SWC.
    # B4: "1,000.00" on its only line.
    assert bills.get_column(Billed.AMOUNT).to_list() == [
        Decimal("45.10"), Decimal("0"), Decimal("-2.50"), Decimal("1000.00"),
    ]


def test_per_line_usage_from_sewer_line(per_line):
    bills = read_billing(DATA / "billing_per_line.csv", per_line)

    # kgal to gallons. B1's sewer line has no usage, so the largest line's 10 counts.
    # B2 has no sewer line (12 and empty). B3 takes its first sewer line's 6, not 7.
    assert bills.get_column(Billed.USAGE_GAL).to_list() == [
        Decimal("10000"), Decimal("12000"), Decimal("6000"), Decimal("4000"),
    ]


def test_per_line_text_fields_prefer_sewer_line(per_line):
    bills = read_billing(DATA / "billing_per_line.csv", per_line)

    assert bills.get_column(Billed.RATE_CODE).to_list() == ["SWR", "WANR5", "SWR", "SWR"]
    assert bills.get_column(Billed.CLASS).to_list() == [
        "RESIDENTIAL_SINGLE", "COMMERCIAL", "RESIDENTIAL_SINGLE", "RESIDENTIAL_SINGLE",
    ]
    assert bills.get_column(Billed.ACCOUNT).to_list() == ["0001", "0002", "0003", "0004"]


def test_per_line_groups_by_account_and_period(tmp_path, per_line):
    # Without a bill number, a bill is the lines of one account and period.
    path = write_csv(tmp_path, (
        "Acct No,Svc,Amount,From,To\n"
        "7,WA,1.00,01/01/2024,01/31/2024\n"
        "8,SW,5.00,01/01/2024,01/31/2024\n"
        "7,SW,2.00,01/01/2024,01/31/2024\n"
        "7,SW,3.00,02/01/2024,02/29/2024\n"
    ))
    mapping = dataclasses.replace(per_line, columns={
        "billed_account": "Acct No", "service_code": "Svc", "billed_amount": "Amount",
        "period_start": "From", "period_end": "To",
    })

    bills = read_billing(path, mapping)

    assert bills.get_column(Billed.ACCOUNT).to_list() == ["7", "8", "7"]
    assert bills.get_column(Billed.AMOUNT).to_list() == [
        Decimal("2.00"), Decimal("5.00"), Decimal("3.00"),
    ]
    assert bills.get_column("source_row").to_list() == [2, 3, 5]


def test_per_line_empty_service_code_and_sewer_amount(tmp_path, per_line):
    mapping = dataclasses.replace(per_line, columns={
        "billed_account": "Acct", "service_code": "Svc", "billed_amount": "Amount",
    })
    path = write_csv(tmp_path, "Acct,Svc,Amount\n1,WA,\n1,SW,\n2,,3\n")

    problems = problems_of(path, mapping).problems

    # An empty amount on a water line is fine, but on a sewer line it is not.
    assert [(problem.row, problem.column) for problem in problems] == [
        (3, "Amount"), (4, "Svc"),
    ]


def test_per_line_unknown_rate_code_names_line_row(tmp_path, per_line):
    mapping = dataclasses.replace(per_line, columns={
        "billed_account": "Acct", "service_code": "Svc", "billed_amount": "Amount",
        "rate_code": "Rate", "bill_number": "Bill",
    })
    path = write_csv(tmp_path, "Bill,Acct,Svc,Rate,Amount\nB1,1,WA,WASF1,1\nB1,1,SW,SWX,2\n")

    problems = problems_of(path, mapping).problems

    assert [(problem.code, problem.row, problem.value) for problem in problems] == [
        ("unknown_rate_code", 3, "SWX"),
    ]


def test_cp1252_export_with_mapping_options():
    mapping = Mapping(layout=Layout.PER_BILL, columns={
        "billed_account": "Acct No", "customer_name": "Customer Name",
        "billed_amount": "Sewer Amount",
    })

    bills = read_billing(DATA / "billing_cp1252_semicolon.csv", mapping)

    assert bills.get_column(Billed.CUSTOMER_NAME).to_list() == ["PEÑA, JOSÉ", "MÜLLER; ANNA"]
    assert bills.get_column(Billed.AMOUNT).to_list() == [Decimal("45.10"), Decimal("12.00")]


def test_incomplete_mapping_in_code_rejected(tmp_path):
    mapping = Mapping(layout=Layout.PER_LINE, columns={
        "billed_account": "Acct", "billed_amount": "Amt", "usage": "Use", "bill_date": "Date",
    })
    path = write_csv(tmp_path, "Acct,Amt,Use,Date\n1,2,3,01/01/2024\n")

    problems = problems_of(path, mapping).problems

    assert [problem.message for problem in problems] == [
        "the mapping has no usage_unit",
        "the mapping has no date_format",
        "the mapping has no service_code",
        "the mapping has no sewer_service_codes",
    ]


def test_xlsx_export_with_number_and_date_cells(tmp_path):
    path = tmp_path / "export.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    date_cell = workbook.add_format({"num_format": "mm/dd/yyyy"})
    sheet.write_row(0, 0, ["Acct No", "Sewer Amount", "Consumption", "Bill Date"])
    sheet.write_string(1, 0, "000123")
    sheet.write_number(1, 1, 45.1)
    sheet.write_number(1, 2, 7)
    sheet.write_datetime(1, 3, dt.datetime(2024, 2, 5), date_cell)
    sheet.write_number(2, 0, 124)
    sheet.write_number(2, 1, -12.5)
    sheet.write_string(2, 2, "1,250")
    sheet.write_string(2, 3, "02/06/2024")
    workbook.close()
    mapping = Mapping(
        layout=Layout.PER_BILL,
        columns={"billed_account": "Acct No", "billed_amount": "Sewer Amount",
                 "usage": "Consumption", "bill_date": "Bill Date"},
        usage_unit=UsageUnit.GALLONS, date_format="%m/%d/%Y",
    )

    bills = read_billing(path, mapping)

    assert bills.get_column(Billed.ACCOUNT).to_list() == ["000123", "124"]
    assert bills.get_column(Billed.AMOUNT).to_list() == [Decimal("45.1"), Decimal("-12.5")]
    assert bills.get_column(Billed.USAGE_GAL).to_list() == [Decimal("7"), Decimal("1250")]
    assert bills.get_column(Billed.BILL_DATE).to_list() == [
        dt.date(2024, 2, 5), dt.date(2024, 2, 6),
    ]

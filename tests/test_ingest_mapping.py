"""load_mapping: the documented format, and every kind of mistake with its YAML line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.ingest import Layout, ProfileMapping, load_mapping
from sewerline.engine.units import UsageUnit

DATA = Path(__file__).parent / "data" / "ingest"

MINIMAL = """\
layout: per_bill
columns:
  billed_account: Acct No
  billed_amount: Amount
"""


def write_mapping(directory: Path, text: str) -> Path:
    path = directory / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path):
    with pytest.raises(InputError) as error:
        load_mapping(path)
    return error.value.problems


def test_per_bill_mapping_loads():
    mapping = load_mapping(DATA / "mapping_per_bill.yaml")

    assert mapping.layout is Layout.PER_BILL
    assert mapping.columns["billed_account"] == "Acct No"
    assert mapping.columns["meter_number"] == "Meter #"
    assert mapping.usage_unit is UsageUnit.CCF
    assert mapping.date_format == "%m/%d/%Y"
    assert mapping.rate_codes == {"WASF1": "RESIDENTIAL_SINGLE", "WANR5": "COMMERCIAL"}
    assert mapping.profiles is None
    assert mapping.path == str(DATA / "mapping_per_bill.yaml")


def test_mapping_is_frozen():
    mapping = load_mapping(DATA / "mapping_per_bill.yaml")

    with pytest.raises(dataclasses.FrozenInstanceError):
        mapping.layout = Layout.PER_LINE


def test_per_line_mapping_loads():
    mapping = load_mapping(DATA / "mapping_per_line.yaml")

    assert mapping.layout is Layout.PER_LINE
    assert mapping.sewer_service_codes == frozenset({"SW", "SWC"})
    assert mapping.columns["service_code"] == "Svc"


def test_minimal_mapping_defaults(tmp_path):
    mapping = load_mapping(write_mapping(tmp_path, MINIMAL))

    assert mapping.usage_unit is None
    assert mapping.date_format is None
    assert mapping.rate_codes == {}
    assert mapping.csv.encoding is None
    assert mapping.csv.delimiter is None


def test_codes_keep_their_text(tmp_path):
    # YAML would read 01 as the integer 1, 010 as 8 and NO as False.
    text = MINIMAL.replace("per_bill", "per_line") + """\
  service_code: Svc
  rate_code: "2024"
sewer_service_codes: [01, 010, NO]
rate_codes:
  01: RESIDENTIAL_SINGLE
  NO: COMMERCIAL
"""
    mapping = load_mapping(write_mapping(tmp_path, text))

    assert mapping.sewer_service_codes == frozenset({"01", "010", "NO"})
    assert mapping.rate_codes == {"01": "RESIDENTIAL_SINGLE", "NO": "COMMERCIAL"}
    assert mapping.columns["rate_code"] == "2024"


@pytest.mark.parametrize(("written", "expected"), [
    ('"\\t"', "\t"), ("tab", "\t"), ('";"', ";"), ('"|"', "|"), ('","', ","), ("auto", None),
])
def test_csv_delimiter_spellings(tmp_path, written, expected):
    text = MINIMAL + f"csv:\n  encoding: cp1252\n  delimiter: {written}\n"

    mapping = load_mapping(write_mapping(tmp_path, text))

    assert mapping.csv.delimiter == expected
    assert mapping.csv.encoding == "cp1252"


def test_profiles_section(tmp_path):
    text = MINIMAL + """\
profiles:
  columns: {account_id: "Acct ID", customer_class: Class}
  winter_average_unit: ccf
  csv: {delimiter: ";"}
"""
    profiles = load_mapping(write_mapping(tmp_path, text)).profiles

    assert isinstance(profiles, ProfileMapping)
    assert profiles.header_for("account_id") == "Acct ID"
    assert profiles.header_for("status") == "status"
    assert profiles.winter_average_unit is UsageUnit.CCF
    assert profiles.csv.delimiter == ";"


def test_unknown_keys_with_suggestions_and_lines():
    problems = problems_of(DATA / "mapping_typos.yaml")
    by_value = {problem.value: problem for problem in problems if problem.value}

    assert by_value["billed_amont"].code == "unknown_field"
    assert by_value["billed_amont"].line == 4
    assert "Did you mean 'billed_amount'?" in by_value["billed_amont"].hint
    assert by_value["date_fromat"].code == "unknown_key"
    assert by_value["date_fromat"].line == 6
    assert "Did you mean 'date_format'?" in by_value["date_fromat"].hint


def test_required_amount_column_reported():
    problems = problems_of(DATA / "mapping_typos.yaml")
    messages = [problem.message for problem in problems]

    assert "columns must map billed_amount" in messages


def test_problems_sorted_by_line():
    lines = [problem.line for problem in problems_of(DATA / "mapping_typos.yaml")]

    assert lines == sorted(lines)


def test_missing_layout_and_columns(tmp_path):
    problems = problems_of(write_mapping(tmp_path, "usage_unit: ccf\n"))
    messages = {problem.message for problem in problems}

    assert "layout is missing" in messages
    assert "columns is missing" in messages


def test_per_line_needs_service_code_and_sewer_codes(tmp_path):
    problems = problems_of(write_mapping(tmp_path, MINIMAL.replace("per_bill", "per_line")))
    messages = " / ".join(problem.message for problem in problems)

    assert "service_code" in messages
    assert "sewer_service_codes" in messages


def test_per_bill_rejects_per_line_fields(tmp_path):
    text = MINIMAL + "  service_code: Svc\nsewer_service_codes: [SW]\n"

    problems = problems_of(write_mapping(tmp_path, text))

    assert len(problems) == 2
    assert all("per_line" in problem.message for problem in problems)


def test_usage_needs_unit_and_dates_need_format(tmp_path):
    text = MINIMAL + "  usage: Consumption\n  bill_date: Bill Date\n"

    problems = problems_of(write_mapping(tmp_path, text))
    messages = " / ".join(problem.message for problem in problems)

    assert "usage_unit is required" in messages
    assert "date_format is required" in messages


def test_rate_code_needs_rate_codes(tmp_path):
    problems = problems_of(write_mapping(tmp_path, MINIMAL + "  rate_code: Rate\n"))

    assert [problem.message for problem in problems] == [
        "rate_codes is required when columns maps rate_code"
    ]


@pytest.mark.parametrize("date_format", ['"%m/%d"', '"MM/DD/YYYY"', '"%Q/%d/%Y"'])
def test_unusable_date_format(tmp_path, date_format):
    text = MINIMAL + f"date_format: {date_format}\n"

    problems = problems_of(write_mapping(tmp_path, text))

    assert [problem.line for problem in problems] == [5]
    assert problems[0].code == "invalid_value"


def test_unknown_unit_layout_and_encoding(tmp_path):
    text = MINIMAL.replace("per_bill", "per_row") + (
        "usage_unit: liters\ncsv:\n  encoding: klingon\n  delimiter: ':'\n"
    )

    problems = problems_of(write_mapping(tmp_path, text))

    assert [problem.line for problem in problems] == [1, 5, 7, 8]
    assert problems[0].expected == "per_bill or per_line"


def test_duplicate_key(tmp_path):
    text = MINIMAL + "  billed_amount: Total\n"

    problems = problems_of(write_mapping(tmp_path, text))

    assert problems[0].code == "duplicate_key"
    assert problems[0].line == 5
    assert "first on line 4" in problems[0].message


def test_empty_value(tmp_path):
    problems = problems_of(write_mapping(tmp_path, MINIMAL + "  parcel_id:\n"))

    assert problems[0].code == "missing_value"
    assert problems[0].line == 5


def test_yaml_syntax_error_has_line(tmp_path):
    problems = problems_of(write_mapping(tmp_path, MINIMAL + "rate_codes: [a, b\n"))

    assert problems[0].code == "invalid_yaml"
    assert problems[0].line is not None


def test_empty_and_missing_file(tmp_path):
    assert problems_of(write_mapping(tmp_path, "# nothing yet\n"))[0].code == "empty_file"
    assert problems_of(tmp_path / "absent.yaml")[0].code == "unreadable_file"

"""findings.csv: header, cell format, row order and formula neutralization."""

from __future__ import annotations

import csv
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sewerline.engine.report import write_findings_csv
from test_report_support import finding, make_result

HEADER = ("cycle,finding_type,account_id,billed_account,expected_amount,billed_amount,"
          "difference,match_method,detail")


def written_lines(tmp_path: Path, rows: list[dict]) -> list[str]:
    path = write_findings_csv(make_result(rows), tmp_path / "findings.csv")
    return path.read_bytes().decode("utf-8").split("\r\n")


def written_records(tmp_path: Path, rows: list[dict]) -> list[dict[str, str]]:
    path = write_findings_csv(make_result(rows), tmp_path / "findings.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_header_exact(tmp_path):
    lines = written_lines(tmp_path, [])

    assert lines[0] == HEADER
    assert lines[1:] == [""]


def test_csv_row_exact(tmp_path):
    rows = [finding("underbilled", "S-1", "W-1", "100", "80.5", detail="winter average 4 kgal")]

    lines = written_lines(tmp_path, rows)

    assert lines[1] == ("2016-03,underbilled,S-1,W-1,100.00,80.50,-19.50,account,"
                        "winter average 4 kgal")


def test_csv_amounts_two_decimals_no_separator(tmp_path):
    rows = [finding("overbilled", "S-1", "W-1", "1234567.5", "1234568")]

    record = written_records(tmp_path, rows)[0]

    assert record["expected_amount"] == "1234567.50"
    assert record["billed_amount"] == "1234568.00"
    assert record["difference"] == "0.50"


def test_csv_nulls_are_empty_cells(tmp_path):
    rows = [finding("unknown_customer", None, "W-77", None, "42.10", match_method="none")]

    lines = written_lines(tmp_path, rows)

    assert lines[1] == "2016-03,unknown_customer,,W-77,,42.10,,none,"


def test_csv_quotes_commas_and_line_breaks(tmp_path):
    rows = [finding("class_mismatch", "S-1", "W-1", "10", "12",
                    detail='rate code "C2", expected R1\nsee profile')]

    record = written_records(tmp_path, rows)[0]

    assert record["detail"] == 'rate code "C2", expected R1\nsee profile'


def test_csv_sort_order(tmp_path):
    rows = [
        finding("duplicate_bill", "S-7", "W-7", "20", "25"),
        finding("underbilled", "S-3", "W-3", "50", "20"),
        finding("zz_local_check", "S-8", "W-8", "1", "2"),
        finding("overbilled", "S-2", "W-2", "10", "20"),
        finding("underbilled", None, "W-0", None, "3"),
        finding("underbilled", "S-1", "W-1", "40", "10"),
        finding("unknown_customer", None, "W-9", None, "15"),
        finding("underbilled", "S-4", "W-4", "10", "5"),
        finding("overbilled", "S-5", "W-5", "10", "50"),
    ]

    order = [(record["finding_type"], record["billed_account"])
             for record in written_records(tmp_path, rows)]

    # Type in FindingType order, then |difference| largest first (S-1 and S-3 tie at 30
    # and go by account), a missing difference last, unknown types after known ones.
    assert order == [
        ("overbilled", "W-5"),
        ("overbilled", "W-2"),
        ("underbilled", "W-1"),
        ("underbilled", "W-3"),
        ("underbilled", "W-4"),
        ("underbilled", "W-0"),
        ("unknown_customer", "W-9"),
        ("duplicate_bill", "W-7"),
        ("zz_local_check", "W-8"),
    ]


def test_csv_neutralizes_formula_text(tmp_path):
    rows = [
        finding("underbilled", "+1", "-x", "100", "80", detail='=HYPERLINK("x","click")'),
        finding("overbilled", "@SUM(A1)", "W-2", "10", "12", detail="\tcmd"),
        finding("overbilled", "S-3", "W-3", "10", "11", detail="\r=1+1"),
    ]

    records = {record["finding_type"] + record["billed_account"]: record
               for record in written_records(tmp_path, rows)}

    under = records["underbilled'-x"]
    assert under["account_id"] == "'+1"
    assert under["detail"] == "'=HYPERLINK(\"x\",\"click\")"
    assert records["overbilledW-2"]["account_id"] == "'@SUM(A1)"
    assert records["overbilledW-2"]["detail"] == "'\tcmd"
    assert records["overbilledW-3"]["detail"] == "'\r=1+1"


def test_csv_negative_amounts_stay_numbers(tmp_path):
    rows = [finding("underbilled", "S-1", "W-1", "100", "-80")]

    record = written_records(tmp_path, rows)[0]

    assert record["billed_amount"] == "-80.00"
    assert record["difference"] == "-180.00"


def test_csv_leaves_inner_signs_alone(tmp_path):
    rows = [finding("owner_changed", "S-1", "W-1", "10", "10", detail="SMITH-JONES, A=B")]

    record = written_records(tmp_path, rows)[0]

    assert record["detail"] == "SMITH-JONES, A=B"


def test_csv_negative_zero_written_as_zero(tmp_path):
    rows = [finding("overbilled", "S-1", "W-1", "-0.00", "0.00")]

    record = written_records(tmp_path, rows)[0]

    assert record["expected_amount"] == "0.00"


# Decimal(38, 12) has room for 26 digits before the point.
cent_amounts = st.decimals(
    min_value=Decimal("-1e24"), max_value=Decimal("1e24"), places=2,
    allow_nan=False, allow_infinity=False,
)


@settings(max_examples=150, deadline=None)
@given(amount=cent_amounts)
def test_csv_amount_text_matches_format(amount):
    assume(not (amount == 0 and amount.is_signed()))
    row = finding("overbilled", "S-1", "W-1", str(amount), str(amount), difference=amount)

    with tempfile.TemporaryDirectory() as folder:
        path = write_findings_csv(make_result([row]), Path(folder) / "findings.csv")
        with path.open(encoding="utf-8", newline="") as handle:
            record = next(csv.DictReader(handle))

    expected = f"{amount:.2f}"
    assert record["expected_amount"] == expected
    assert record["billed_amount"] == expected
    assert record["difference"] == expected

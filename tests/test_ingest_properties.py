"""Generated files: what the csv module writes, read_table reads back cell for cell."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from sewerline.engine.errors import InputError
from sewerline.engine.ingest import Layout, Mapping, read_billing, read_table
from sewerline.engine.schema import SOURCE_ROW, Billed

# Any character except surrogates and control characters, plus the ones that make CSV
# hard: quotes, every delimiter, line breaks and non-ASCII letters.
cell_text = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc")),
        st.sampled_from(['"', ",", ";", "|", "\t", "\n", "\r", " ", "Ñ", "é", "0"]),
    ),
    max_size=12,
)
header_name = st.text(alphabet="ABCDEFGHIJ abcdefghij0123456789", min_size=1, max_size=8).filter(
    lambda name: name.strip()
)
leading_zero_numbers = st.from_regex(r"\A0[0-9]{0,17}\Z")

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def unique_headers(names: list[str]) -> bool:
    keys = [" ".join(name.split()).casefold() for name in names]
    return len(set(keys)) == len(keys) and SOURCE_ROW not in keys


@st.composite
def tables(draw):
    headers = draw(st.lists(header_name, min_size=2, max_size=5).filter(unique_headers))
    rows = draw(st.lists(
        st.lists(cell_text, min_size=len(headers), max_size=len(headers)),
        min_size=1, max_size=8,
    ))
    return headers, rows


@SETTINGS
@given(table=tables(), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_csv_cells_and_rows_round_trip(table, delimiter):
    headers, rows = table
    expected = [
        (row_number, *[cell.strip() or None for cell in row])
        for row_number, row in enumerate(rows, start=2)
        if any(cell.strip() for cell in row)
    ]

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "generated.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, delimiter=delimiter)
            writer.writerow(headers)
            writer.writerows(rows)

        if not expected:
            # Every row is blank, so the file has a header but no rows.
            with pytest.raises(InputError) as error:
                read_table(path)
            assert error.value.problems[0].code == "no_rows"
            return
        result = read_table(path)

    assert result.delimiter == delimiter
    assert result.header == [name.strip() for name in headers]
    assert result.frame.rows() == expected


@SETTINGS
@given(accounts=st.lists(leading_zero_numbers, min_size=1, max_size=10))
def test_csv_leading_zeros_kept_through_billing(accounts):
    mapping = Mapping(layout=Layout.PER_BILL,
                      columns={"billed_account": "Acct", "billed_amount": "Amt"})

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.csv"
        lines = ["Acct,Amt", *[f"{account},1.00" for account in accounts]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        bills = read_billing(path, mapping)

    assert bills.get_column(Billed.ACCOUNT).to_list() == accounts


@settings(max_examples=15, deadline=None, derandomize=True)
@given(accounts=st.lists(leading_zero_numbers, min_size=1, max_size=10))
def test_xlsx_leading_zeros_kept(accounts):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.xlsx"
        workbook = xlsxwriter.Workbook(path, {"strings_to_numbers": False})
        sheet = workbook.add_worksheet()
        sheet.write_string(0, 0, "Acct")
        for row, account in enumerate(accounts, start=1):
            sheet.write_string(row, 0, account)
        workbook.close()
        table = read_table(path)

    assert table.frame.get_column("Acct").to_list() == accounts

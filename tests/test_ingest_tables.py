"""read_table: encodings, delimiters, quoting, workbooks and unreadable files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from sewerline.engine.errors import InputError
from sewerline.engine.ingest import read_table
from sewerline.engine.schema import SOURCE_ROW

DATA = Path(__file__).parent / "data" / "ingest"


def write_bytes(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def problem_codes(error: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [problem.code for problem in error.value.problems]


def test_utf8_cells_are_text_and_stripped(tmp_path):
    path = write_bytes(tmp_path, "bills.csv", b"Acct No, Name ,Amount\n 00123 ,  Ann ,  \n")

    table = read_table(path)

    assert table.header == ["Acct No", "Name", "Amount"]
    assert table.frame.columns == [SOURCE_ROW, "Acct No", "Name", "Amount"]
    assert table.frame.schema["Acct No"] == pl.String()
    assert table.frame.row(0) == (2, "00123", "Ann", None)
    assert table.encoding == "utf-8"
    assert table.delimiter == ","


def test_utf8_bom_is_removed_from_first_header(tmp_path):
    content = "\ufeffAcct No,Name\n1,ÅSA\n".encode()
    path = write_bytes(tmp_path, "bom.csv", content)

    table = read_table(path)

    assert table.header == ["Acct No", "Name"]
    assert table.frame.get_column("Name").to_list() == ["ÅSA"]
    assert table.encoding == "utf-8-sig"


def test_cp1252_file_with_semicolons():
    table = read_table(DATA / "billing_cp1252_semicolon.csv")

    assert table.encoding == "cp1252"
    assert table.delimiter == ";"
    assert table.frame.get_column("Customer Name").to_list() == ["PEÑA, JOSÉ", "MÜLLER; ANNA"]
    assert table.frame.get_column("Acct No").to_list() == ["000777", "000778"]


def test_utf16_with_bom_is_decoded(tmp_path):
    content = "Acct\tName\r\n0042\tPEÑA\r\n".encode("utf-16")
    path = write_bytes(tmp_path, "unicode.txt", content)

    table = read_table(path)

    assert table.delimiter == "\t"
    assert table.frame.row(0) == (2, "0042", "PEÑA")


@pytest.mark.parametrize(("delimiter", "content"), [
    (";", "Acct;Name;Amount\n1;A, B;2,50\n"),
    ("\t", "Acct\tName\tAmount\n1\tA, B\t2,50\n"),
    ("|", "Acct|Name|Amount\n1|A, B|2,50\n"),
    (",", 'Acct,Name,Amount\n1,"A, B","2,50"\n'),
])
def test_delimiter_detected_from_header(tmp_path, delimiter, content):
    # Commas in the data must not win over the header's delimiter.
    path = write_bytes(tmp_path, "bills.csv", content.encode())

    table = read_table(path)

    assert table.delimiter == delimiter
    assert table.frame.row(0) == (2, "1", "A, B", "2,50")


def test_given_delimiter_overrides_detection(tmp_path):
    path = write_bytes(tmp_path, "bills.csv", b"a;b,c\n1;2,3\n")

    table = read_table(path, delimiter=",")

    assert table.header == ["a;b", "c"]


def test_quoted_delimiters_quotes_and_newlines():
    table = read_table(DATA / "billing_per_bill.csv")
    names = table.frame.get_column("Customer Name").to_list()

    assert names[0] == "SMITH, JOHN"
    assert names[1] == 'O\'BRIEN, "PAT"'
    assert names[3] == "MULTI\nLINE NAME"
    # The record with a line break in a quoted cell is still one spreadsheet row.
    assert table.frame.get_column(SOURCE_ROW).to_list() == [2, 3, 4, 5]


def test_leading_zeros_and_long_meters_kept():
    table = read_table(DATA / "billing_per_bill.csv")

    assert table.frame.get_column("Acct No").to_list()[:2] == ["000123", "000124"]
    assert table.frame.get_column("Meter #").to_list()[0] == "004412345678901"


def test_blank_lines_keep_row_numbers(tmp_path):
    path = write_bytes(tmp_path, "gaps.csv", b"\n\nAcct,Name\n1,A\n\n ,  \n2,B\n\n")

    table = read_table(path)

    assert table.header_row == 3
    assert table.frame.get_column(SOURCE_ROW).to_list() == [4, 7]
    assert table.frame.get_column("Acct").to_list() == ["1", "2"]


def test_crlf_line_endings(tmp_path):
    path = write_bytes(tmp_path, "crlf.csv", b"Acct,Name\r\n1,A\r\n2,B\r\n")

    table = read_table(path)

    assert table.frame.get_column("Name").to_list() == ["A", "B"]


def test_trailing_empty_fields_are_tolerated(tmp_path):
    path = write_bytes(tmp_path, "trailing.csv", b"Acct,Name\n1,A,\n2,B,,\n")

    table = read_table(path)

    assert table.frame.get_column("Name").to_list() == ["A", "B"]


def test_extra_field_with_value_is_rejected(tmp_path):
    path = write_bytes(tmp_path, "ragged.csv", b"Acct,Name\n1,A\n2,B,oops\n")

    with pytest.raises(InputError) as error:
        read_table(path)

    problem = error.value.problems[0]
    assert problem.code == "too_many_fields"
    assert problem.row == 3


def test_unclosed_quote_is_rejected_with_row(tmp_path):
    path = write_bytes(tmp_path, "quote.csv", b'Acct,Name\n1,A\n2,"B"x\n')

    with pytest.raises(InputError) as error:
        read_table(path)

    problem = error.value.problems[0]
    assert problem.code == "malformed_csv"
    assert problem.row == 3


def test_blank_header_column_is_dropped(tmp_path):
    path = write_bytes(tmp_path, "unnamed.csv", b"Acct,,Name\n1,x,A\n")

    table = read_table(path)

    assert table.header == ["Acct", "Name"]
    assert table.frame.row(0) == (2, "1", "A")


def test_empty_file_is_rejected(tmp_path):
    path = write_bytes(tmp_path, "empty.csv", b"")

    with pytest.raises(InputError) as error:
        read_table(path)

    assert problem_codes(error) == ["empty_file"]
    assert error.value.problems[0].file == str(path)


def test_whitespace_only_file_is_empty(tmp_path):
    path = write_bytes(tmp_path, "blank.csv", b"\n  \n\n")

    with pytest.raises(InputError) as error:
        read_table(path)

    assert problem_codes(error) == ["empty_file"]


def test_header_only_is_rejected(tmp_path):
    path = write_bytes(tmp_path, "header.csv", b"Acct No,Amount\n")

    with pytest.raises(InputError) as error:
        read_table(path)

    assert problem_codes(error) == ["no_rows"]
    assert "header but no rows" in str(error.value)


def test_duplicate_header_names_both_columns(tmp_path):
    path = write_bytes(tmp_path, "dupe.csv", b"Acct No,Amount, acct  no ,Amount\n1,2,3,4\n")

    with pytest.raises(InputError) as error:
        read_table(path)

    messages = [problem.message for problem in error.value.problems]
    assert problem_codes(error) == ["duplicate_column", "duplicate_column"]
    assert "columns A (#1) and C (#3)" in messages[0]
    assert "columns B (#2) and D (#4)" in messages[1]


def test_utf16_without_bom_is_wrong_encoding():
    path = DATA / "billing_utf16_no_bom.csv"

    with pytest.raises(InputError) as error:
        read_table(path)

    problem = error.value.problems[0]
    assert problem.code == "wrong_encoding"
    assert problem.file == str(path)
    assert "byte offset 1" in problem.message
    assert "UTF-8" in problem.hint
    assert "csv: encoding" in problem.hint


def test_binary_junk_is_wrong_encoding(tmp_path):
    # 0x81 is undefined in cp1252 and invalid as a UTF-8 start byte.
    path = write_bytes(tmp_path, "junk.csv", b"Acct,Name\n1,\x81\x8d\x02\x03\x04\xff\xfe\n")

    with pytest.raises(InputError) as error:
        read_table(path)

    problem = error.value.problems[0]
    assert problem.code == "wrong_encoding"
    assert "byte offset 12" in problem.message
    assert "line 2" in problem.message


def test_given_encoding_that_does_not_fit(tmp_path):
    path = write_bytes(tmp_path, "latin.csv", "Acct,Name\n1,PEÑA\n".encode("cp1252"))

    with pytest.raises(InputError) as error:
        read_table(path, encoding="utf-8")

    assert problem_codes(error) == ["wrong_encoding"]


def test_given_encoding_is_used(tmp_path):
    path = write_bytes(tmp_path, "latin.csv", "Acct,Name\n1,PEÑA\n".encode("latin-1"))

    table = read_table(path, encoding="latin-1")

    assert table.frame.row(0) == (2, "1", "PEÑA")


def test_unknown_encoding_name(tmp_path):
    path = write_bytes(tmp_path, "bills.csv", b"Acct\n1\n")

    with pytest.raises(InputError) as error:
        read_table(path, encoding="klingon")

    assert problem_codes(error) == ["unknown_encoding"]


def test_unsupported_extension(tmp_path):
    path = write_bytes(tmp_path, "bills.pdf", b"%PDF")

    with pytest.raises(InputError) as error:
        read_table(path)

    assert problem_codes(error) == ["unsupported_file"]
    assert ".xlsx" in error.value.problems[0].expected


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as error:
        read_table(tmp_path / "nowhere.csv")

    assert problem_codes(error) == ["unreadable_file"]


def write_workbook(path: Path, rows: dict[int, list], sheet: str = "Bills") -> Path:
    workbook = xlsxwriter.Workbook(path)
    worksheet = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "mm/dd/yyyy"})
    for row, cells in rows.items():
        for column, value in enumerate(cells):
            if isinstance(value, dt.datetime):
                worksheet.write_datetime(row, column, value, date_format)
            elif value is not None:
                worksheet.write(row, column, value)
    workbook.close()
    return path


def test_xlsx_numbers_read_as_text(tmp_path):
    path = write_workbook(tmp_path / "bills.xlsx", {
        0: ["Acct No", "Amount", "Meter #", "Bill Date", "Text Acct"],
        1: [12345, 45.1, 123456789012, dt.datetime(2024, 1, 31), "00123"],
        2: [7, 1234567.5, 42, None, " 0045 "],
    })

    table = read_table(path)

    assert table.encoding is None
    assert table.delimiter is None
    assert table.frame.row(0) == (2, "12345", "45.1", "123456789012", "2024-01-31 00:00:00",
                                  "00123")
    assert table.frame.row(1) == (3, "7", "1234567.5", "42", None, "0045")


def test_xlsx_rows_count_from_sheet_top(tmp_path):
    path = write_workbook(tmp_path / "offset.xlsx", {
        2: ["Acct", "Amount"],
        3: ["1", "2"],
        6: ["3", "4"],
    })

    table = read_table(path)

    assert table.header_row == 3
    assert table.frame.get_column(SOURCE_ROW).to_list() == [4, 7]


def test_xlsx_sheet_by_name_and_missing_sheet(tmp_path):
    path = write_workbook(tmp_path / "named.xlsx", {0: ["Acct"], 1: ["9"]}, sheet="Export")

    assert read_table(path, sheet="Export").frame.row(0) == (2, "9")
    with pytest.raises(InputError) as error:
        read_table(path, sheet="Other")
    assert problem_codes(error) == ["sheet_not_found"]
    assert "Export" in error.value.problems[0].expected


def test_xlsx_duplicate_header(tmp_path):
    path = write_workbook(tmp_path / "dupe.xlsx", {0: ["Acct", "ACCT"], 1: ["1", "2"]})

    with pytest.raises(InputError) as error:
        read_table(path)

    assert problem_codes(error) == ["duplicate_column"]


def test_xlsx_empty_sheet_and_header_only(tmp_path):
    empty = write_workbook(tmp_path / "empty.xlsx", {})
    header_only = write_workbook(tmp_path / "header.xlsx", {0: ["Acct", "Amount"]})

    with pytest.raises(InputError) as error:
        read_table(empty)
    assert problem_codes(error) == ["empty_file"]

    with pytest.raises(InputError) as error:
        read_table(header_only)
    assert problem_codes(error) == ["no_rows"]


def test_not_a_workbook(tmp_path):
    path = write_bytes(tmp_path, "fake.xlsx", b"Acct,Amount\n1,2\n")

    with pytest.raises(InputError) as error:
        read_table(path)

    assert problem_codes(error) == ["unreadable_file"]


def test_partly_utf8_file_is_wrong_encoding(tmp_path):
    # "JOSÉ" in UTF-8, then "PEÑA" in cp1252: no single encoding reads both.
    content = "Acct,Name\n1,JOSÉ\n2,".encode() + "PEÑA\n".encode("cp1252")
    path = write_bytes(tmp_path, "mixed.csv", content)

    with pytest.raises(InputError) as error:
        read_table(path)

    problem = error.value.problems[0]
    assert problem.code == "wrong_encoding"
    assert "line 3" in problem.message
    assert problem.value.startswith("d1")


def test_other_single_byte_encoding_detected(tmp_path):
    # 0x8F ("Џ" in cp1251) is undefined in cp1252, so charset-normalizer decides.
    rows = "".join(f"{index:04d},Џорџе Петровић,12.50\n" for index in range(30))
    content = ("Счет,Имя,Сумма\n" + rows).encode("cp1251")
    path = write_bytes(tmp_path, "cyrillic.csv", content)

    table = read_table(path)

    assert table.encoding == "cp1251"
    assert table.header == ["Счет", "Имя", "Сумма"]
    assert table.frame.row(0) == (2, "0000", "Џорџе Петровић", "12.50")


def test_quote_inside_unquoted_field_is_literal(tmp_path):
    # Polars rejects this line; Excel and the csv module read the inch mark as text.
    path = write_bytes(tmp_path, "sizes.csv", b'Acct,Meter Size\n1,5/8"\n\n2,1 1/2" x 3/4"\n')

    table = read_table(path)

    assert table.frame.rows() == [(2, "1", '5/8"'), (4, "2", '1 1/2" x 3/4"')]

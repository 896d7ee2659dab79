"""Read a CSV or Excel file into a table of text cells with spreadsheet row numbers.

Every cell is read as text, so account numbers keep their leading zeros and meter
numbers in text cells keep every digit. A number cell of a workbook is a double in the
file itself, so it has at most 15 significant digits. Cells are stripped of surrounding
whitespace and an empty cell becomes null. Typed parsing happens later, in the billing
and profile readers, where a bad value can be reported with its row and column.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.csv_reader import open_csv, read_csv_rows
from sewerline.engine.ingest.xlsx_reader import read_sheet
from sewerline.engine.schema import SOURCE_ROW

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class SourceTable:
    """The cells of one input file as text, with the spreadsheet row of each record.

    `frame` has SOURCE_ROW first, then one pl.String column per named header cell,
    named by the trimmed header text. Rows whose cells are all empty are dropped.
    `encoding` and `delimiter` are None for a workbook. `header_row` is the
    spreadsheet row of the header: 1 unless blank rows precede it.
    """

    frame: pl.DataFrame
    path: str
    encoding: str | None
    delimiter: str | None
    header: list[str]
    header_row: int = 1


def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> SourceTable:
    """Read a .csv/.txt/.tsv or .xlsx/.xlsm file with every cell as text.

    `encoding` and `delimiter` apply to delimited text and are detected when None.
    `sheet` picks a workbook sheet by name or by position from 0 (default the first).
    Raises InputError for an unreadable, empty or header-only file, a wrong encoding,
    malformed quoting, or a duplicate column name.
    """
    path_text = str(path)
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        source = open_csv(_read_bytes(path, path_text), path_text, encoding, delimiter)
        names = check_header(source.header, path_text, source.header_row)
        cells = read_csv_rows(source)
        header_row = source.header_row
        encoding, delimiter = source.encoding, source.delimiter
    elif suffix in EXCEL_SUFFIXES:
        if not Path(path).is_file():
            raise InputError([_unreadable(path_text, "the file does not exist")])
        sheet_rows = read_sheet(path_text, sheet)
        names = check_header(sheet_rows.header, path_text, sheet_rows.header_row)
        cells = sheet_rows.frame
        header_row = sheet_rows.header_row
        encoding = delimiter = None
    else:
        supported = ", ".join(CSV_SUFFIXES + EXCEL_SUFFIXES)
        raise InputError([Problem(
            code="unsupported_file",
            message=f"unsupported file type {suffix or '(no extension)'!r}",
            file=path_text,
            expected=f"a file ending in {supported}",
            hint="Export the data as CSV or as an Excel workbook (.xlsx).",
        )])

    frame = _name_and_clean(cells, names, header_row, path_text)
    if frame.height == 0:
        raise InputError([Problem(
            code="no_rows",
            message="the file has a header but no rows",
            file=path_text,
            row=header_row + 1,
            hint="Export the data again, including the records of the cycle.",
        )])
    header = [name for name in names if name is not None]
    logger.debug("%s: read %d rows and %d columns", path_text, frame.height, len(header))
    return SourceTable(
        frame=frame, path=path_text, encoding=encoding, delimiter=delimiter, header=header,
        header_row=header_row,
    )


def check_header(cells: list[str], path: str, header_row: int) -> list[str | None]:
    """Trim the header cells and reject duplicate names, compared case-insensitively.

    Returns one name per column, None for a blank header cell. Raises InputError
    listing every duplicate with both column positions.
    """
    names: list[str | None] = []
    first_position: dict[str, int] = {}
    problems = []
    for position, cell in enumerate(cells, start=1):
        name = (cell or "").strip()
        if not name:
            names.append(None)
            continue
        names.append(name)

        key = header_key(name)
        if key == SOURCE_ROW:
            problems.append(Problem(
                code="reserved_column",
                message=f"column {column_letter(position)} uses the reserved name {name!r}",
                file=path, row=header_row, column=name,
                hint="Rename the column; the reader adds a column of that name itself.",
            ))
        elif key in first_position:
            earlier = first_position[key]
            problems.append(Problem(
                code="duplicate_column",
                message=(
                    f"duplicate column name {name!r} in columns {column_letter(earlier)} "
                    f"(#{earlier}) and {column_letter(position)} (#{position})"
                ),
                file=path, row=header_row, column=name,
                hint="Rename or delete one of the two columns.",
            ))
        else:
            first_position[key] = position
    if problems:
        raise InputError(problems)
    return names


def header_key(name: str) -> str:
    """Return the form in which two header names compare equal: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def column_letter(position: int) -> str:
    """Return the spreadsheet letter of a 1-based column position (1 -> A, 27 -> AA)."""
    letters = ""
    while position > 0:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _name_and_clean(
    cells: pl.DataFrame, names: list[str | None], header_row: int, path: str
) -> pl.DataFrame:
    """Rename the positional columns, drop unnamed ones, strip cells, number the rows."""
    for position, name in enumerate(names, start=1):
        if name is None:
            column = f"c{position - 1}"
            filled = cells.get_column(column).str.strip_chars().str.len_chars().gt(0).sum()
            if filled:
                logger.warning(
                    "%s: column %s has no header; its %d values are ignored",
                    path, column_letter(position), filled,
                )

    renames = {f"c{index}": name for index, name in enumerate(names) if name is not None}
    # A record may have fewer fields than the header; Polars fills the rest with nulls.
    frame = cells.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + (header_row + 1)).alias(SOURCE_ROW),
        *[_clean(pl.col(column)).alias(name) for column, name in renames.items()],
    )
    if not renames:
        return frame.clear()
    return frame.filter(pl.any_horizontal(pl.col(list(renames.values())).is_not_null()))


def _clean(cell: pl.Expr) -> pl.Expr:
    stripped = cell.str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def _read_bytes(path: str | os.PathLike[str], path_text: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError([_unreadable(path_text, "the file does not exist")]) from None
    except OSError as error:
        reason = f"the file could not be read: {error.strerror or error}"
        raise InputError([_unreadable(path_text, reason)]) from None


def _unreadable(path: str, reason: str) -> Problem:
    return Problem(
        code="unreadable_file",
        message=reason,
        file=path,
        hint="Check the file name and that the file can be opened.",
    )

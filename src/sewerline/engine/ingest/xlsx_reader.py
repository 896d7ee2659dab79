"""Excel workbooks: read one sheet with every cell as text through fastexcel.

fastexcel (0.21) turns a number cell into its shortest text (12345 -> "12345",
45.1 -> "45.1"), a date cell into ISO text ("2024-01-31 00:00:00") and an error
cell such as #N/A into an empty cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import fastexcel
import polars as pl

from sewerline.engine.errors import InputError, Problem


@dataclass(frozen=True)
class SheetRows:
    """The header and records of one sheet, columns named c0, c1, ... by position."""

    header: list[str]
    frame: pl.DataFrame
    header_row: int      # spreadsheet row of the header; the first record is the next row


def read_sheet(path: str, sheet: str | int | None) -> SheetRows:
    """Read a sheet (by name, or by position counting from 0; default the first).

    The header is the first row with a non-blank cell. Raises InputError when the
    workbook cannot be opened, the sheet does not exist, or the sheet is empty.
    """
    try:
        reader = fastexcel.read_excel(path)
    except (fastexcel.FastExcelError, OSError) as error:
        raise InputError([Problem(
            code="unreadable_file",
            message=f"the workbook could not be opened: {error}",
            file=path,
            hint="Check that the file is an Excel workbook (.xlsx) and is not open "
                 "with a lock or password.",
        )]) from None

    selector = 0 if sheet is None else sheet
    try:
        # Without a header row and with skip_rows=0, fastexcel keeps the blank rows
        # above the data, so frame row i is spreadsheet row i + 1.
        loaded = reader.load_sheet(selector, header_row=None, skip_rows=0, dtypes="string")
        cells = loaded.to_polars()
    except (fastexcel.SheetNotFoundError, fastexcel.InvalidParametersError):
        names = ", ".join(reader.sheet_names)
        raise InputError([Problem(
            code="sheet_not_found",
            message=f"the workbook has no sheet {sheet!r}",
            file=path,
            value=str(sheet),
            expected=f"one of the sheets {names}",
            hint="Give a sheet name from the list, or the sheet's position counting from 0.",
        )]) from None
    except fastexcel.FastExcelError as error:
        raise InputError([Problem(
            code="unreadable_file",
            message=f"the sheet could not be read: {error}",
            file=path,
        )]) from None

    names = [f"c{index}" for index in range(cells.width)]
    cells = cells.rename(dict(zip(cells.columns, names, strict=True)))
    header_index = _first_filled_row(cells)
    if header_index is None:
        raise InputError([Problem(
            code="empty_file",
            message="the sheet is empty",
            file=path,
            hint="Choose the sheet that holds the data, or export the data again.",
        )])

    header = [cell or "" for cell in cells.row(header_index)]
    return SheetRows(
        header=header,
        frame=cells.slice(header_index + 1),
        header_row=header_index + 1,
    )


def _first_filled_row(cells: pl.DataFrame) -> int | None:
    if cells.width == 0 or cells.height == 0:
        return None
    filled = cells.select(
        pl.any_horizontal(pl.all().str.strip_chars().str.len_chars() > 0).fill_null(False)
    ).to_series()
    indexes = filled.arg_true()
    return int(indexes[0]) if indexes.len() else None

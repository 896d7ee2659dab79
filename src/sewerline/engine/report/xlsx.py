"""audit.xlsx: a summary sheet and one sheet of findings per finding type."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from sewerline.engine.findings import FINDING_COLUMNS, AuditResult
from sewerline.engine.money import CENT
from sewerline.engine.report.figures import (
    MONEY_COLUMNS,
    at_stake_rows,
    at_stake_total,
    check_findings_table,
    input_count_rows,
    match_count_rows,
    sort_findings,
)
from sewerline.engine.report.formatting import (
    describe_tolerance,
    format_plain_number,
    format_timestamp,
    format_usd,
    humanize_code,
    neutralize_formula,
)

logger = logging.getLogger(__name__)

MONEY_FORMAT = "$#,##0.00;[Red]-$#,##0.00"
SHEET_COLUMNS = (
    *FINDING_COLUMNS, "revenue_at_stake", "owner_name", "service_address", "source_row",
)
MAX_COLUMN_WIDTH = 60
MAX_SHEET_NAME = 31                                   # Excel's limit
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")    # characters Excel rejects

# A cell of the summary sheet: text, a count, an amount in dollars, or nothing.
Cell = str | int | Decimal | None


@dataclass(frozen=True)
class _Formats:
    bold: Format
    money: Format
    bold_money: Format


def _money_value(amount: Decimal) -> float:
    # Excel stores every number as a binary double, so the exact cent amount becomes a
    # float only here, at the last step, after rounding to the cent. A double represents
    # every amount below $10 trillion closely enough to round back to the same cent.
    return float(amount.quantize(CENT))


def _write_cell(sheet: Worksheet, row: int, col: int, value: Cell, money: Format) -> None:
    # Every text goes through write_string, so no text is ever stored as a formula.
    if value is None:
        return
    if isinstance(value, Decimal):
        sheet.write_number(row, col, _money_value(value), money)
    elif isinstance(value, int):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, neutralize_formula(value))


def _summary_rows(result: AuditResult) -> list[tuple[str, list[Cell]]]:
    """List the summary sheet's rows as (style, cells), where style is "", "heading" or "total"."""
    config = result.config
    rows: list[tuple[str, list[Cell]]] = [
        ("heading", ["Sewer billing audit"]),
        ("", ["Cycle", config.cycle]),
        ("", ["Utility", result.utility_name]),
        ("", ["Rate schedule", result.rate_schedule]),
        ("", ["Generated at", format_timestamp(result.generated_at)]),
        ("", ["Tolerance", describe_tolerance(config.tolerance)]),
        ("", []),
        ("heading", ["Inputs", "Count"]),
    ]
    rows += [("", [label, count]) for label, count in input_count_rows(result)]

    rows += [("", []), ("heading", ["Matches by method", "Links"])]
    rows += [("", [label, count]) for label, count in match_count_rows(result)]

    totals = result.totals
    rows += [
        ("", []),
        ("heading", ["Billed vs expected", "Amount"]),
        ("", ["Billed total", totals.billed]),
        ("", ["Expected total", totals.expected]),
        ("", ["Difference (billed minus expected)", totals.billed - totals.expected]),
        ("", []),
        ("heading", ["Revenue at stake", "Findings", "Per cycle", "Per month", "Per year"]),
    ]
    for line in at_stake_rows(result):
        rows.append(("", [line.label, line.count, line.per_cycle, line.per_month,
                          line.per_year]))
    total = at_stake_total(result)
    rows.append(("total", [total.label, total.count, total.per_cycle, total.per_month,
                           total.per_year]))
    months = format_plain_number(totals.months_per_cycle)
    unit = "month" if months == "1" else "months"
    rows.append(("", [f"Per year = per cycle x 12 months / {months} {unit} per cycle, "
                      "rounded half up to the cent."]))
    return rows


def _write_summary(sheet: Worksheet, result: AuditResult, formats: _Formats) -> None:
    for row_index, (style, cells) in enumerate(_summary_rows(result)):
        plain = style == ""
        for col_index, value in enumerate(cells):
            if not plain and isinstance(value, str):
                sheet.write_string(row_index, col_index, neutralize_formula(value),
                                   formats.bold)
            else:
                money = formats.money if plain else formats.bold_money
                _write_cell(sheet, row_index, col_index, value, money)
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 4, 18)


def _column_widths(findings: pl.DataFrame) -> list[int]:
    """Estimate each column's width in characters from its longest value, capped."""
    widths = []
    for column in SHEET_COLUMNS:
        series = findings[column]
        if column in MONEY_COLUMNS:
            largest = series.abs().max()
            longest = len(format_usd(largest)) + 1 if largest is not None else 0
        elif series.dtype == pl.String:
            longest = (series.str.len_chars().max() or 0) + 1     # room for a quote prefix
        else:
            longest = len(str(series.max() or ""))
        widths.append(min(max(longest, len(column)) + 2, MAX_COLUMN_WIDTH))
    return widths


def _cell_columns(findings: pl.DataFrame, sheet: Worksheet, formats: _Formats) -> list:
    """Prepare (write method, cell values, format) per sheet column, typed by the schema."""
    columns = []
    for column in SHEET_COLUMNS:
        values = findings[column].to_list()
        if column in MONEY_COLUMNS:
            money = [None if value is None else _money_value(value) for value in values]
            columns.append((sheet.write_number, money, formats.money))
        elif findings.schema[column] == pl.String:
            text = [None if value is None else neutralize_formula(value) for value in values]
            columns.append((sheet.write_string, text, None))
        else:
            columns.append((sheet.write_number, values, None))
    return columns


def _write_findings_sheet(sheet: Worksheet, findings: pl.DataFrame, formats: _Formats) -> None:
    for col_index, (column, width) in enumerate(zip(SHEET_COLUMNS, _column_widths(findings),
                                                    strict=True)):
        sheet.set_column(col_index, col_index, width)
        sheet.write_string(0, col_index, column, formats.bold)

    # Rows are written top to bottom, as constant_memory mode requires, and text goes
    # through write_string only, so no cell is ever stored as a formula.
    columns = _cell_columns(findings, sheet, formats)
    for row_index in range(findings.height):
        for col_index, (write, values, cell_format) in enumerate(columns):
            value = values[row_index]
            if value is not None:
                write(row_index + 1, col_index, value, cell_format)

    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, findings.height, len(SHEET_COLUMNS) - 1)


def _sheet_name(finding_type: str, used_names: set[str]) -> str:
    """Make a unique, valid Excel sheet name from a finding type code."""
    base = SHEET_NAME_FORBIDDEN.sub(" ", humanize_code(finding_type))[:MAX_SHEET_NAME]
    base = base.strip("'") or "Findings"
    name, number = base, 2
    while name.lower() in used_names:
        suffix = f" {number}"
        name = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        number += 1
    used_names.add(name.lower())
    return name


def write_audit_xlsx(result: AuditResult, path: Path | str) -> Path:
    """Write the audit workbook and return its path.

    The "Summary" sheet is followed by one sheet per finding type that occurs, in
    FindingType order, with the findings.csv columns plus revenue at stake, owner name,
    service address and source row. Amount cells are numbers in dollar format.
    """
    path = Path(path)
    check_findings_table(result.findings)
    started = time.perf_counter()
    findings = sort_findings(result.findings)

    options = {
        "constant_memory": True,    # stream rows to a temporary file instead of memory
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(str(path), options) as workbook:
        bold = workbook.add_format({"bold": True})
        formats = _Formats(
            bold=bold,
            money=workbook.add_format({"num_format": MONEY_FORMAT}),
            bold_money=workbook.add_format({"num_format": MONEY_FORMAT, "bold": True}),
        )
        _write_summary(workbook.add_worksheet("Summary"), result, formats)

        used_names = {"summary"}
        groups = findings.partition_by("finding_type", maintain_order=True, as_dict=True)
        for (finding_type,), group in groups.items():
            sheet = workbook.add_worksheet(_sheet_name(str(finding_type), used_names))
            _write_findings_sheet(sheet, group, formats)

    logger.info("Wrote %d findings to %s in %.1f s", findings.height, path,
                time.perf_counter() - started)
    return path

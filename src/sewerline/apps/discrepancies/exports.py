"""The filtered discrepancy list as CSV (exact amounts as text) or XLSX (dollar numbers).

Text that a spreadsheet would run as a formula (an owner named "=HYPERLINK(...)")
gets a leading single quote in both formats. Rows are read in chunks, so an export of
100,000 discrepancies never keeps them all in memory at once.
"""

from __future__ import annotations

import csv
import logging
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

import xlsxwriter
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from sewerline.apps.discrepancies.models import Discrepancy
from sewerline.engine.money import CENT
from sewerline.engine.report.formatting import format_amount, neutralize_formula

logger = logging.getLogger(__name__)

CHUNK = 2000
MONEY_FORMAT = "$#,##0.00;[Red]-$#,##0.00"
HEADERS = (
    "id", "entity", "finding_type", "status", "key", "account_id", "water_account",
    "owner_name", "service_address", "meter_number", "first_cycle", "last_cycle",
    "cycles_seen", "revenue_at_stake", "recovered",
)
MONEY_HEADERS = {"revenue_at_stake", "recovered"}

# A cell of an export row: text, a count, or an amount in dollars.
Cell = str | int | Decimal | None


def export_rows(discrepancies: QuerySet[Discrepancy]) -> Iterator[tuple[Cell, ...]]:
    """Yield one row of HEADERS cells per discrepancy, in the queryset's order."""
    for item in discrepancies.iterator(chunk_size=CHUNK):
        account = item.account
        yield (
            item.pk, item.entity.code, item.finding_type, item.status, item.key,
            account.account_id if account else "",
            account.water_account if account else "",
            account.owner_name if account else "",
            account.service_address if account else "",
            account.meter_number if account else "",
            item.first_cycle.code, item.last_cycle.code, item.cycles_seen,
            item.revenue_at_stake, item.recovered,
        )


def csv_cell(value: Cell, money: bool = False) -> str:
    """Return a CSV cell: amounts as exact text ("1234.50"), text neutralized.

    A Decimal in a money column has two decimals; any other Decimal (a winter average
    of 4.488 kgal) keeps all its stored digits.
    """
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value) if money else format(value, "f")
    if isinstance(value, int):
        return str(value)
    return neutralize_formula(value)


class _Echo:
    """A file-like object whose write returns the line, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[tuple[Cell, ...]], file_stem: str, *,
                 headers: tuple[str, ...] = HEADERS,
                 money_headers: set[str] = MONEY_HEADERS) -> StreamingHttpResponse:
    """Stream rows as UTF-8 CSV with a header row, downloaded as `file_stem`.csv."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"   # the byte order mark makes Excel read the file as UTF-8
        yield writer.writerow(headers)
        money = [name in money_headers for name in headers]
        for row in rows:
            yield writer.writerow([csv_cell(value, is_money)
                                   for value, is_money in zip(row, money, strict=True)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_stem}.csv"'
    return response


def xlsx_response(rows: Iterable[tuple[Cell, ...]], file_stem: str, *,
                  headers: tuple[str, ...] = HEADERS,
                  money_headers: set[str] = MONEY_HEADERS,
                  sheet_name: str = "Discrepancies") -> FileResponse:
    """Write rows to an XLSX sheet (amounts as $ numbers) and return it as a download."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    write_xlsx(rows, handle, headers=headers, money_headers=money_headers,
               sheet_name=sheet_name)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=f"{file_stem}.xlsx")


def write_xlsx(rows: Iterable[tuple[Cell, ...]], handle, *, headers: tuple[str, ...],
               money_headers: set[str], sheet_name: str) -> int:
    """Write a header row and `rows` into one sheet of a new workbook; return the row count.

    Text is written with write_string after neutralize_formula, so no cell is ever a
    formula. Amounts become numbers with a dollar format. Excel stores every number as
    a double, so the exact cent amount becomes a float only here, after rounding to the
    cent. A double keeps every amount below $10 trillion close enough to its cent.
    """
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": MONEY_FORMAT})
    money_columns = {index for index, name in enumerate(headers) if name in money_headers}

    for column, name in enumerate(headers):
        sheet.write_string(0, column, name, bold)
        sheet.set_column(column, column, 16 if column in money_columns else max(10, len(name)))

    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, Decimal) and column in money_columns:
                sheet.write_number(count, column, float(value.quantize(CENT)), money)
            elif isinstance(value, Decimal):
                sheet.write_number(count, column, float(value))
            elif isinstance(value, int):
                sheet.write_number(count, column, value)
            else:
                sheet.write_string(count, column, neutralize_formula(str(value)))
    sheet.freeze_panes(1, 0)
    workbook.close()
    logger.info("wrote %d rows to an XLSX export of %s", count, sheet_name)
    return count


def export_file_stem(prefix: str) -> str:
    """Return a download name with the local date and time: discrepancies-2016-03-08-1405."""
    now = timezone.localtime()
    return f"{prefix}-{now:%Y-%m-%d-%H%M}"

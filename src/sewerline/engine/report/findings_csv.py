"""findings.csv: one row per finding, for the billing entity to open in Excel or load.

The format is described column by column in docs/findings-export.md.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from sewerline.engine.findings import FINDING_COLUMNS, AuditResult
from sewerline.engine.report.figures import MONEY_COLUMNS, check_findings_table, sort_findings
from sewerline.engine.report.formatting import format_amount, neutralize_formula

logger = logging.getLogger(__name__)


def _render_cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if column in MONEY_COLUMNS:
        return format_amount(value)
    return neutralize_formula(str(value))


def write_findings_csv(result: AuditResult, path: Path | str) -> Path:
    """Write the findings as UTF-8 CSV (comma, CRLF line ends) and return the path.

    Amounts have exactly two decimals and no thousands separator. A missing value is an
    empty cell. Text that a spreadsheet would run as a formula gets a leading single
    quote, while amounts are never prefixed, so a negative amount stays a number.
    """
    path = Path(path)
    check_findings_table(result.findings)
    findings = sort_findings(result.findings).select(FINDING_COLUMNS)

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(FINDING_COLUMNS)
        for row in findings.iter_rows():
            cells = zip(FINDING_COLUMNS, row, strict=True)
            writer.writerow([_render_cell(column, value) for column, value in cells])

    logger.info("Wrote %d findings to %s", findings.height, path)
    return path

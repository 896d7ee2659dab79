"""Report writers: findings.csv, audit.xlsx and summary.html, all from one AuditResult."""

from __future__ import annotations

import logging
from pathlib import Path

from sewerline.engine.findings import AuditResult
from sewerline.engine.report.atomic import write_files_atomically
from sewerline.engine.report.findings_csv import write_findings_csv
from sewerline.engine.report.formatting import format_usd
from sewerline.engine.report.html import render_summary_html, write_summary_html
from sewerline.engine.report.xlsx import write_audit_xlsx

__all__ = [
    "FINDINGS_CSV",
    "AUDIT_XLSX",
    "SUMMARY_HTML",
    "format_usd",
    "render_summary_html",
    "write_audit_xlsx",
    "write_findings_csv",
    "write_reports",
    "write_summary_html",
]

logger = logging.getLogger(__name__)

FINDINGS_CSV = "findings.csv"
AUDIT_XLSX = "audit.xlsx"
SUMMARY_HTML = "summary.html"


def write_reports(result: AuditResult, out_dir: Path | str) -> list[Path]:
    """Write findings.csv, audit.xlsx and summary.html into `out_dir` all or nothing.

    `out_dir` is created when missing. Returns the three final paths in that order.
    Existing files of the same names are replaced only when all three were written.
    """
    paths = write_files_atomically(out_dir, {
        FINDINGS_CSV: lambda path: write_findings_csv(result, path),
        AUDIT_XLSX: lambda path: write_audit_xlsx(result, path),
        SUMMARY_HTML: lambda path: write_summary_html(result, path),
    })
    logger.info("Wrote the %s reports to %s", result.config.cycle, Path(out_dir))
    return paths

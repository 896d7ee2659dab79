"""summary.html: one self-contained page with the audit's key figures, for print or screen.

The page loads nothing: styles are inline, the chart is inline SVG, there is no script,
and a Content-Security-Policy forbids every fetch as a second safeguard.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from sewerline.engine.findings import AuditResult
from sewerline.engine.report.chart import render_bar_chart
from sewerline.engine.report.figures import (
    at_stake_rows,
    at_stake_total,
    check_findings_table,
    input_count_rows,
    largest_findings,
    match_count_rows,
)
from sewerline.engine.report.formatting import (
    describe_tolerance,
    format_count,
    format_plain_number,
    format_timestamp,
    format_usd,
    humanize_code,
)

logger = logging.getLogger(__name__)

LARGEST_FINDINGS_SHOWN = 20

STYLE = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; margin: 2rem auto;
       max-width: 70rem; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.subtitle { color: #555; margin-top: 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
           gap: 0.8rem; margin: 1rem 0; }
.figures div { border: 1px solid #ccc; border-radius: 4px; padding: 0.6rem; }
.figures dt { font-size: 0.85rem; color: #555; }
.figures dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #999; }
.chart-and-table { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
.bar-chart { width: 100%; max-width: 40rem; height: auto; font-size: 13px; }
.bar { fill: #2b6cb0; }
.bar-label, .bar-value { fill: #1a1a1a; }
footer { margin-top: 2.5rem; font-size: 0.85rem; color: #555; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section, table, .bar-chart { break-inside: avoid; }
  .bar { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .figures div { border-color: #999; }
}
"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int],
           total_last: bool = False) -> str:
    """Render text rows as a table, escaping every cell and right-aligning `numeric` columns."""
    def cell(tag: str, index: int, text: str) -> str:
        css = ' class="num"' if index in numeric else ""
        return f"<{tag}{css}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, text) for i, text in enumerate(headers))
    body = []
    rows = list(rows)
    for number, row in enumerate(rows, start=1):
        css = ' class="total"' if total_last and number == len(rows) else ""
        body.append(f"<tr{css}>" + "".join(cell("td", i, t) for i, t in enumerate(row))
                    + "</tr>")
    return (f"<table><thead><tr>{head}</tr></thead><tbody>" + "\n".join(body)
            + "</tbody></table>")


def _key_figures(result: AuditResult) -> str:
    totals = result.totals
    at_stake = at_stake_total(result)
    figures = [
        ("Billed total", format_usd(totals.billed)),
        ("Expected total", format_usd(totals.expected)),
        ("Difference (billed minus expected)", format_usd(totals.billed - totals.expected)),
        ("Revenue at stake per cycle", format_usd(at_stake.per_cycle)),
        ("Revenue at stake per month", format_usd(at_stake.per_month)),
        ("Revenue at stake per year", format_usd(at_stake.per_year)),
    ]
    items = "".join(f"<div><dt>{escape(name)}</dt><dd>{escape(value)}</dd></div>"
                    for name, value in figures)
    return f'<dl class="figures">{items}</dl>'


def _at_stake_section(result: AuditResult) -> str:
    lines = at_stake_rows(result)
    bars = [(line.label, line.per_cycle) for line in lines]
    chart = render_bar_chart(
        bars,
        title="Revenue at stake per cycle by finding type",
        description="Bar length is the revenue at stake in one billing cycle. The table "
                    "next to the chart lists the same amounts.",
        chart_id="at-stake-chart",
    )
    rows = [[line.label, format_count(line.count), format_usd(line.per_cycle),
             format_usd(line.per_month), format_usd(line.per_year)]
            for line in [*lines, at_stake_total(result)]]
    table = _table(["Finding type", "Findings", "Per cycle", "Per month", "Per year"],
                   rows, numeric={1, 2, 3, 4}, total_last=True)
    months = format_plain_number(result.totals.months_per_cycle)
    return ("<section><h2>Revenue at stake by finding type</h2>"
            f'<div class="chart-and-table">{chart}{table}</div>'
            f"<p>Per year = per cycle &times; 12 months / {escape(months)} "
            f"{'month' if months == '1' else 'months'} per cycle, "
            "rounded half up to the cent.</p></section>")


def _largest_section(result: AuditResult) -> str:
    largest = largest_findings(result, LARGEST_FINDINGS_SHOWN)
    heading = ("<h2>Largest findings by revenue at stake "
               f"(up to {LARGEST_FINDINGS_SHOWN})</h2>")
    if largest.height == 0:
        return f"<section>{heading}<p>No finding puts revenue at stake.</p></section>"

    rows = []
    for finding in largest.iter_rows(named=True):
        rows.append([
            finding["account_id"] or finding["billed_account"] or "",
            finding["owner_name"] or "",
            finding["service_address"] or "",
            humanize_code(finding["finding_type"]),
            format_usd(finding["billed_amount"]),
            format_usd(finding["expected_amount"]),
            format_usd(finding["difference"]),
            format_usd(finding["revenue_at_stake"]),
        ])
    table = _table(["Account", "Owner", "Service address", "Finding type", "Billed",
                    "Expected", "Difference", "At stake"], rows, numeric={4, 5, 6, 7})
    return f"<section>{heading}{table}</section>"


def _footer(result: AuditResult) -> str:
    generated = format_timestamp(result.generated_at)
    tolerance = describe_tolerance(result.config.tolerance)
    # NOTE: AuditResult does not carry the rate schedule's rounding rule, so the footer
    # names the schedule instead of stating the rule.
    return (
        f"<footer><p>Generated {escape(generated)}. Tolerance: {escape(tolerance)}. "
        "Amounts are in US dollars. Expected charges are rounded to the cent by the rule "
        f"of the rate schedule {escape(result.rate_schedule)}. Monthly and yearly amounts "
        "are rounded half up to the cent.</p></footer>"
    )


def render_summary_html(result: AuditResult) -> str:
    """Render the summary page of an audit result as one HTML document."""
    check_findings_table(result.findings)
    cycle, utility = result.config.cycle, result.utility_name
    counts = [[label, format_count(count)] for label, count in match_count_rows(result)]
    inputs = [[label, format_count(count)] for label, count in input_count_rows(result)]

    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Sewer billing audit, {escape(utility)}, cycle {escape(cycle)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<header><h1>Sewer billing audit: {escape(utility)}, cycle {escape(cycle)}</h1>",
        f'<p class="subtitle">Rate schedule: {escape(result.rate_schedule)}</p></header>',
        _key_figures(result),
        _at_stake_section(result),
        _largest_section(result),
        "<section><h2>Matches by method</h2>"
        + _table(["Match method", "Links"], counts, numeric={1}) + "</section>",
        "<section><h2>Inputs</h2>"
        + _table(["Input", "Count"], inputs, numeric={1}) + "</section>",
        _footer(result),
        "</body></html>",
        "",
    ])


def write_summary_html(result: AuditResult, path: Path | str) -> Path:
    """Write the summary page as UTF-8 HTML and return its path."""
    path = Path(path)
    path.write_text(render_summary_html(result), encoding="utf-8")
    logger.info("Wrote the audit summary to %s", path)
    return path

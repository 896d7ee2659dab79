"""Dollar formatting, annualized amounts, formula neutralization and the bar chart."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import polars as pl
import pytest

from sewerline.engine.report import format_usd
from sewerline.engine.report.chart import BAR_AREA, render_bar_chart
from sewerline.engine.report.figures import (
    at_stake_rows,
    at_stake_total,
    check_findings_table,
    match_count_rows,
    per_month,
    per_year,
)
from sewerline.engine.report.formatting import format_timestamp, neutralize_formula
from test_report_support import finding, findings_frame, make_result


@pytest.mark.parametrize(("amount", "text"), [
    ("1234.56", "$1,234.56"),
    ("-1234.5", "-$1,234.50"),
    ("0", "$0.00"),
    ("-0.001", "$0.00"),
    ("1234567.891", "$1,234,567.89"),
    ("0.005", "$0.01"),
    ("-0.005", "-$0.01"),
])
def test_format_usd(amount, text):
    assert format_usd(Decimal(amount)) == text


def test_format_usd_missing_is_empty():
    assert format_usd(None) == ""


def test_per_year_quarterly_by_hand():
    # $100.00 a quarter: $33.333... a month rounds to $33.33, and the year is
    # 100.00 x 12 / 3 = $400.00, not 12 x $33.33 = $399.96.
    assert per_month(Decimal("100.00"), Decimal(3)) == Decimal("33.33")
    assert per_year(Decimal("100.00"), Decimal(3)) == Decimal("400.00")


def test_per_year_bimonthly_by_hand():
    # 61.37 / 2 = 30.685 rounds half up to 30.69, and 61.37 x 12 / 2 = 368.22.
    assert per_month(Decimal("61.37"), Decimal(2)) == Decimal("30.69")
    assert per_year(Decimal("61.37"), Decimal(2)) == Decimal("368.22")


def test_at_stake_rows_follow_finding_type_order():
    rows = [finding("duplicate_bill", "S-1", "W-1", "5", "10"),
            finding("overbilled", "S-2", "W-2", "5", "6")]

    lines = at_stake_rows(make_result(rows, months_per_cycle="1"))

    assert [line.label for line in lines] == ["Overbilled", "Duplicate bill"]
    assert lines[1].per_year == Decimal("60.00")


def test_at_stake_total_monthly_cycle():
    rows = [finding("underbilled", "S-1", "W-1", "50", "20"),
            finding("overbilled", "S-2", "W-2", "5", "6.25")]

    total = at_stake_total(make_result(rows, months_per_cycle="1"))

    assert total.count == 2
    assert total.per_cycle == Decimal("31.25")
    assert total.per_year == Decimal("375.00")


def test_at_stake_rejects_zero_months():
    with pytest.raises(ValueError, match="months_per_cycle"):
        at_stake_rows(make_result([], months_per_cycle="0"))


def test_at_stake_total_rejects_negative_months():
    with pytest.raises(ValueError, match="months_per_cycle"):
        at_stake_total(make_result([], months_per_cycle="-1"))


def test_match_methods_in_matcher_order():
    labels = [label for label, _ in match_count_rows(make_result([]))]

    assert labels == ["Account", "Meter", "Fuzzy address", "No match"]


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"),
    ("+1", "'+1"),
    ("-x", "'-x"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("O'Brien", "O'Brien"),
    ("a-b", "a-b"),
    ("", ""),
])
def test_neutralize_formula(text, written):
    assert neutralize_formula(text) == written


def test_format_timestamp_us_style():
    moment = dt.datetime(2016, 3, 1, 9, 7, tzinfo=dt.UTC)

    assert format_timestamp(moment) == "Mar 1, 2016 09:07 UTC"
    assert format_timestamp(moment.replace(tzinfo=None)) == "Mar 1, 2016 09:07"


def test_check_findings_table_names_missing_column():
    findings = findings_frame([]).drop("owner_name")

    with pytest.raises(ValueError, match="owner_name"):
        check_findings_table(findings)


def test_check_findings_table_rejects_float_amounts():
    findings = findings_frame([]).with_columns(pl.col("difference").cast(pl.Float64))

    with pytest.raises(ValueError, match="difference"):
        check_findings_table(findings)


def bar_widths(svg: str) -> list[Decimal]:
    return [Decimal(width) for width in re.findall(r'<rect class="bar"[^>]* width="([^"]+)"', svg)]


def test_chart_bars_scale_to_largest():
    svg = render_bar_chart(
        [("Underbilled", Decimal("200.00")), ("Overbilled", Decimal("50.00")),
         ("Not billed", Decimal("0"))],
        title="At stake", description="Bars", chart_id="chart",
    )

    assert bar_widths(svg) == [Decimal(BAR_AREA), Decimal(BAR_AREA) / 4, Decimal(0)]
    assert "$200.00</text>" in svg
    assert "<title>Overbilled: $50.00</title>" in svg


def test_chart_all_zero_has_empty_bars():
    svg = render_bar_chart([("Underbilled", Decimal(0))], title="t", description="d",
                           chart_id="c")

    assert bar_widths(svg) == [Decimal(0)]


def test_chart_escapes_labels():
    svg = render_bar_chart([("<b>&", Decimal(1))], title="<t>", description="d",
                           chart_id="c")

    assert "<b>" not in svg
    assert "&lt;b&gt;&amp;" in svg
    assert "&lt;t&gt;" in svg

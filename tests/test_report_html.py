"""summary.html: well-formed, self-contained, escaped, with the totals and chart."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from sewerline.engine.report import render_summary_html, write_summary_html
from test_report_support import finding, make_result

VOID_ELEMENTS = {"meta", "br", "hr", "img", "input", "link"}


class StrictParser(HTMLParser):
    """Collect every tag and fail on a closing tag that does not match its opening tag."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.title = ""
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open, f"</{tag}> closes nothing"
        opened = self.open.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"

    def handle_data(self, data):
        self.text.append(data)
        if self.open and self.open[-1] == "title" and "head" in self.open:
            self.title += data


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    rows = [
        finding("underbilled", "S-1", "W-1", "100.00", "80.00",
                owner_name="<script>alert('x')</script>", service_address="12 Elm St & Co"),
        finding("overbilled", "S-2", "W-2", "10.00", "35.00", owner_name="Ada Park"),
        finding("not_billed", "S-3", None, "61.37", None,
                revenue_at_stake=Decimal("61.37"), difference=Decimal("-61.37")),
    ]
    return render_summary_html(make_result(rows, months_per_cycle="2"))


def test_html_is_well_formed(page):
    parser = parse(page)

    assert parser.open == []
    assert parser.tags[0] == "html"
    assert "svg" in parser.tags


def test_html_title_names_cycle_and_utility(page):
    title = parse(page).title

    assert "2016-03" in title
    assert "Springfield Water" in title


def test_html_loads_nothing(page):
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "src=" not in page
    assert "default-src 'none'" in page


def test_html_escapes_owner_name(page):
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "12 Elm St &amp; Co" in page


def test_html_shows_totals(page):
    # Billed $10,250.75 minus expected $11,000.00; at stake 20.00 + 25.00 + 61.37 =
    # $106.37 per two-month cycle, $53.185 -> $53.19 a month, $638.22 a year.
    for text in ("$10,250.75", "$11,000.00", "-$749.25", "$106.37", "$53.19", "$638.22"):
        assert text in page, text


def test_html_chart_bars_labeled(page):
    assert "<title>Underbilled: $20.00</title>" in page
    assert "<title>Overbilled: $25.00</title>" in page
    assert "<title>Not billed: $61.37</title>" in page
    assert 'role="img"' in page


def test_html_footer_states_tolerance(page):
    footer = page[page.index("<footer>"):]

    assert "Mar 1, 2016 14:05 UTC" in footer
    assert "differences up to $0.01" in footer


def test_html_lists_twenty_largest(tmp_path):
    rows = [finding("underbilled", f"A-{number:02d}", f"W-{number:02d}", str(number), "0")
            for number in range(1, 26)]

    path = write_summary_html(make_result(rows), tmp_path / "summary.html")
    page = path.read_text(encoding="utf-8")

    # At stake is $1 for A-01 up to $25 for A-25, so are listed, largest first.
    assert "A-05" not in page
    assert "A-06" in page
    assert page.index("A-25") < page.index("A-24") < page.index("A-06")


def test_html_without_findings(tmp_path):
    page = render_summary_html(make_result([]))

    assert "No finding puts revenue at stake." in page
    assert parse(page).open == []

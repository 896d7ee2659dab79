"""Horizontal bar chart as inline SVG, for a page that must load nothing from a network."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from sewerline.engine.report.formatting import format_usd

# Geometry in SVG user units. The chart scales to its container through the viewBox.
WIDTH = 640
LABEL_WIDTH = 150        # left column with the bar labels
VALUE_WIDTH = 120        # right margin for the dollar amount after the longest bar
ROW_HEIGHT = 28
BAR_HEIGHT = 18
BAR_AREA = WIDTH - LABEL_WIDTH - VALUE_WIDTH
TENTH = Decimal("0.1")


def _bar_length(amount: Decimal, largest: Decimal) -> Decimal:
    """Scale an amount to a bar length. Negative amounts and an all-zero chart get no bar."""
    if largest <= 0 or amount <= 0:
        return Decimal(0)
    return (amount / largest * BAR_AREA).quantize(TENTH, rounding=ROUND_HALF_UP)


def render_bar_chart(
    bars: Sequence[tuple[str, Decimal]], *, title: str, description: str, chart_id: str
) -> str:
    """Render (label, dollar amount) pairs as an SVG bar chart, each bar labeled in dollars.

    The SVG has a <title> and <desc> that screen readers announce, and every bar has its
    own <title> with its label and amount. All text is HTML-escaped. `chart_id` must be
    unique on the page, because the title and description ids derive from it.
    """
    largest = max((amount for _, amount in bars), default=Decimal(0))
    height = max(len(bars), 1) * ROW_HEIGHT + 8
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"

    parts = [
        f'<svg class="bar-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    for index, (label, amount) in enumerate(bars):
        top = 4 + index * ROW_HEIGHT
        middle = top + ROW_HEIGHT // 2
        length = _bar_length(amount, largest)
        dollars = format_usd(amount)
        parts += [
            "<g>",
            f"<title>{escape(label)}: {escape(dollars)}</title>",
            f'<text class="bar-label" x="{LABEL_WIDTH - 8}" y="{middle}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(label)}</text>',
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{middle - BAR_HEIGHT // 2}" '
            f'width="{length}" height="{BAR_HEIGHT}"></rect>',
            f'<text class="bar-value" x="{LABEL_WIDTH + length + 6}" y="{middle}" '
            f'dominant-baseline="middle">{escape(dollars)}</text>',
            "</g>",
        ]
    parts.append("</svg>")
    return "\n".join(parts)

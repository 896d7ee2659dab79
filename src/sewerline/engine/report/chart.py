"""Horizontal bar chart as inline SVG, for a page that must load nothing from a network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    bars: Sequence[tuple[str, Decimal]], *, title: str, description: str, chart_id: str,
    value_format: Callable[[Decimal], str] = format_usd,
) -> str:
    """Render (label, dollar amount) pairs as an SVG bar chart, each bar labeled in dollars.

    The SVG has a <title> and <desc> that screen readers announce, and every bar has its
    own <title> with its label and amount. All text is HTML-escaped. `chart_id` must be
    unique on the page, because the title and description ids derive from it.
    `value_format` writes the bar values; pass another one to chart counts.
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
        dollars = value_format(amount)
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


# Geometry of the charts with a value axis (line chart and grouped bars), in SVG units.
PLOT_LEFT = 86           # room for the value labels of the axis
PLOT_TOP = 34            # room for the legend
PLOT_HEIGHT = 180
PLOT_BOTTOM = PLOT_TOP + PLOT_HEIGHT
AXIS_HEIGHT = PLOT_BOTTOM + 30       # total height: plot plus the category labels
PLOT_RIGHT = WIDTH - 16
PLOT_WIDTH = PLOT_RIGHT - PLOT_LEFT
AXIS_STEPS = 4
LINE_INSET = 30         # space between the axis and the first point of a line chart
# Series colors, distinguishable in grayscale print as well (dark, medium, light).
SERIES_COLORS = ("#1f5fa8", "#c05621", "#6b7280", "#2f855a")
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))

# A series of a chart: its name and one value per category (None where there is none).
Series = tuple[str, Sequence[Decimal | None]]


def axis_maximum(largest: Decimal, steps: int = AXIS_STEPS) -> Decimal:
    """Return a round top of a value axis at or above `largest`, split into `steps` ticks.

    The tick step is 1, 2, 2.5 or 5 times a power of ten, so the labels read easily.
    An axis for values that are all zero or negative gets a top of 1.
    """
    if largest <= 0:
        return Decimal(1)
    raw_step = largest / steps
    power = Decimal(10) ** raw_step.adjusted()
    for factor in NICE_STEPS:
        if factor * power >= raw_step:
            return factor * power * steps
    return NICE_STEPS[-1] * power * steps


def _coordinate(value: Decimal) -> str:
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def _value_y(value: Decimal, top: Decimal) -> Decimal:
    """Map a value to its y coordinate; negative values sit on the zero line."""
    clipped = min(max(value, Decimal(0)), top)
    return PLOT_BOTTOM - clipped / top * PLOT_HEIGHT


def _chart_open(chart_id: str, css_class: str, title: str, description: str) -> list[str]:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return [
        f'<svg class="{css_class}" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {AXIS_HEIGHT}" '
        f'role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    x = PLOT_LEFT
    for index, name in enumerate(names):
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        parts += [
            f'<rect class="legend-key series-{index}" x="{x}" y="8" width="12" height="12" '
            f'fill="{color}"></rect>',
            f'<text class="legend-label" x="{x + 18}" y="14" dominant-baseline="middle">'
            f"{escape(name)}</text>",
        ]
        x += 32 + 8 * len(name)
    return parts


def _value_axis(top: Decimal, value_format: Callable[[Decimal], str]) -> list[str]:
    parts = []
    for step in range(AXIS_STEPS + 1):
        value = top * step / AXIS_STEPS
        y = _coordinate(_value_y(value, top))
        parts += [
            f'<line class="grid" x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y}" y2="{y}" '
            'stroke="#d9dee5"></line>',
            f'<text class="axis-label" x="{PLOT_LEFT - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(value_format(value))}</text>',
        ]
    return parts


def _category_label(x: Decimal, text: str) -> str:
    return (f'<text class="axis-label" x="{_coordinate(x)}" y="{PLOT_BOTTOM + 18}" '
            f'text-anchor="middle">{escape(text)}</text>')


def render_line_chart(
    categories: Sequence[str], series: Sequence[Series], *, title: str, description: str,
    chart_id: str, value_format: Callable[[Decimal], str] = format_usd,
) -> str:
    """Render one or more series over categories (billing cycles) as an SVG line chart.

    A missing value (None) breaks the line, so a cycle without a bill is not drawn as
    zero. Every point has its own <title> with the category, series and value, and the
    SVG has a <title> and <desc> for screen readers. `value_format` writes the axis
    and point values (dollars by default). All text is HTML-escaped.
    """
    values = [value for _, points in series for value in points if value is not None]
    top = axis_maximum(max(values, default=Decimal(0)))
    count = len(categories)
    # The first and last points sit inside the plot, so their labels are not cut off.
    inner_width = Decimal(PLOT_WIDTH - 2 * LINE_INSET)
    spacing = inner_width / (count - 1) if count > 1 else Decimal(0)
    first_x = Decimal(PLOT_LEFT + LINE_INSET)
    if count == 1:
        first_x += inner_width / 2

    parts = _chart_open(chart_id, "line-chart", title, description)
    parts += _value_axis(top, value_format)
    parts += [_category_label(first_x + index * spacing, name)
              for index, name in enumerate(categories)]
    parts += _legend([name for name, _ in series])

    for number, (name, points) in enumerate(series):
        color = SERIES_COLORS[number % len(SERIES_COLORS)]
        segments: list[list[str]] = [[]]
        markers = []
        for index, value in enumerate(points):
            if value is None:
                segments.append([])
                continue
            x = _coordinate(first_x + index * spacing)
            y = _coordinate(_value_y(value, top))
            segments[-1].append(f"{x},{y}")
            label = f"{categories[index]}, {name}: {value_format(value)}"
            markers.append(
                f'<circle class="point series-{number}" cx="{x}" cy="{y}" r="4" '
                f'fill="{color}"><title>{escape(label)}</title></circle>'
            )
        parts.append(f'<g class="series series-{number}">')
        parts += [
            f'<polyline fill="none" stroke="{color}" stroke-width="2.5" '
            f'points="{" ".join(segment)}"></polyline>'
            for segment in segments if len(segment) > 1
        ]
        parts += markers
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def render_grouped_bar_chart(
    groups: Sequence[Series], series_names: Sequence[str], *, title: str, description: str,
    chart_id: str,
) -> str:
    """Render dollar amounts as vertical bars, one group per category, one bar per series.

    `groups` contains (category, amounts in the order of `series_names`) pairs, and a
    missing amount leaves a gap. Each bar has a <title> with category, series and
    amount, and the SVG a <title> and <desc> for screen readers. All text is HTML-escaped.
    """
    amounts = [amount for _, values in groups for amount in values if amount is not None]
    top = axis_maximum(max(amounts, default=Decimal(0)))
    slot = Decimal(PLOT_WIDTH) / max(len(groups), 1)
    bar_width = min(slot * Decimal("0.8") / max(len(series_names), 1), Decimal(40))

    parts = _chart_open(chart_id, "grouped-bar-chart", title, description)
    parts += _value_axis(top, format_usd)
    parts += _legend(series_names)
    for index, (category, values) in enumerate(groups):
        middle = PLOT_LEFT + slot * index + slot / 2
        parts.append(_category_label(middle, category))
        left = middle - bar_width * len(series_names) / 2
        for number, amount in enumerate(values):
            if amount is None:
                continue
            y = _value_y(amount, top)
            color = SERIES_COLORS[number % len(SERIES_COLORS)]
            label = f"{category}, {series_names[number]}: {format_usd(amount)}"
            x = _coordinate(left + number * bar_width)
            parts.append(
                f'<rect class="column series-{number}" x="{x}" '
                f'y="{_coordinate(y)}" width="{_coordinate(bar_width - 2)}" '
                f'height="{_coordinate(PLOT_BOTTOM - y)}" fill="{color}">'
                f"<title>{escape(label)}</title></rect>"
            )
    parts.append("</svg>")
    return "\n".join(parts)

"""Text forms of amounts, counts, timestamps and codes shared by the three reports."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sewerline.engine.findings import Tolerance
from sewerline.engine.money import CENT, format_cents

# A spreadsheet reads a cell that starts with one of these characters as a formula (tab
# and carriage return can hide such a start), so report text starting with one is
# written with a leading single quote.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(text: str) -> str:
    """Prefix a single quote to text that a spreadsheet would run as a formula."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def format_amount(value: Decimal | None) -> str:
    """Format an amount as plain text with two decimals ("-1234.50"), empty when missing.

    A negative zero is written as "0.00", because a sign on zero dollars means nothing.
    """
    text = format_cents(value)
    if text == "-0.00":
        return "0.00"
    return text


def format_usd(value: Decimal | None) -> str:
    """Format an amount in US dollars: "$1,234.56", "-$1,234.56", empty when missing.

    The amount is rounded half up to the cent, like `format_cents`.
    """
    if value is None:
        return ""
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def format_count(value: int) -> str:
    """Format a count with thousands separators: 12,345."""
    return f"{value:,}"


def format_plain_number(value: Decimal) -> str:
    """Format a Decimal without exponent or trailing zeros: Decimal("2.000") -> "2"."""
    return f"{value.normalize():f}"


def format_timestamp(moment: dt.datetime) -> str:
    """Format a timestamp in US style with its time zone: "Mar 1, 2016 14:05 UTC"."""
    text = f"{moment:%b} {moment.day}, {moment.year} {moment:%H:%M}"
    zone = moment.tzname()
    if zone:
        text += f" {zone}"
    return text


def humanize_code(code: str) -> str:
    """Turn a finding type or match method code into a label ("Account changed")."""
    return code.replace("_", " ").strip().capitalize()


def describe_tolerance(tolerance: Tolerance) -> str:
    """Describe which differences count as rounding noise, in words."""
    text = f"differences up to {format_usd(tolerance.absolute)}"
    if tolerance.percent is not None:
        text += f" or up to {tolerance.percent}% of the expected amount"
    return text + " are not findings"

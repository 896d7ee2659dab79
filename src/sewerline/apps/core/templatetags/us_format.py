"""Template filters for US formats: $1,234.56, 12,345, Mar 1, 2016 and finding labels."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from sewerline.engine.report.formatting import format_usd, humanize_code

register = template.Library()

THOUSAND = Decimal(1000)


@register.filter
def usd(value) -> str:
    """Format an amount as "$1,234.56" ("-$5.00" when negative, empty when missing)."""
    if value is None or value == "":
        return ""
    try:
        return format_usd(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


@register.filter
def count(value) -> str:
    """Format a whole number with thousands separators: 12,345."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


@register.filter
def kgal(gallons) -> str:
    """Format a volume in gallons as kgal with three decimals: 4,488.312 gal -> "4.488"."""
    if gallons is None or gallons == "":
        return ""
    amount = Decimal(str(gallons)) / THOUSAND
    return f"{amount.quantize(Decimal('0.001')):,}"


@register.filter
def label(code) -> str:
    """Turn a finding type or status code into a label: "account_changed" -> "Account changed"."""
    if not code:
        return ""
    return humanize_code(str(code))


@register.filter
def is_negative(value) -> bool:
    """Return whether an amount is below zero, for the "neg" class of a cell."""
    if value is None or value == "":
        return False
    return Decimal(str(value)) < 0

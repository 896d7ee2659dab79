"""Vectorized parsers for the amounts, volumes and dates found in billing exports.

Every parser takes a text expression and returns a typed expression that is null where
the text is null or does not parse, so a caller finds the invalid cells with
`text.is_not_null() & parsed.is_null()` and reports them.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from sewerline.engine.money import DECIMAL

# One number: digits with optional thousands commas in groups of three, an optional
# fraction, or a bare fraction (".5"). "12,50" does not match, so a decimal comma is
# reported instead of being read as 1,250.
_NUMBER = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"

# The accepted ways of writing an amount, each with at most one sign: plain or with a
# dollar sign, a leading sign before or after the dollar sign, a trailing minus, or
# parentheses for a credit. Spaces may separate the parts.
_AMOUNT_PATTERN = (
    r"^(?:"
    rf"\$?\s*{_NUMBER}"
    rf"|[-+]\s*\$?\s*{_NUMBER}"
    rf"|\$\s*[-+]\s*{_NUMBER}"
    rf"|\$?\s*{_NUMBER}\s*-"
    rf"|\(\s*\$?\s*{_NUMBER}\s*\)"
    r")$"
)

# Text is parsed at a finer scale than DECIMAL and then rounded, so a value with more
# than 12 decimals (float noise from a spreadsheet) is rounded rather than truncated.
# The scale leaves 38 - 18 = 20 integer digits, far above any bill or meter reading.
_PARSE_SCALE = 18

# Excel's General format shows a long number such as 123456789012 as "1.23457E+11".
# The digits it dropped are gone, so such a meter number can never be matched.
_SCIENTIFIC_PATTERN = r"^[-+]?\d+(?:\.\d+)?[eE][-+]?\d+$"

# Spreadsheet date cells reach the reader as ISO text ("2024-01-31 00:00:00"), whatever
# the date format of the text cells, so these are tried after the mapped format.
_ISO_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")

_FIRST_YEAR, _LAST_YEAR = 1900, 2099

EXAMPLE_DATE = dt.date(2024, 1, 31)


def parse_amount(text: pl.Expr) -> pl.Expr:
    """Parse amount text such as "1,234.50", "$45.10", "(12.50)" or "12.50-" to DECIMAL.

    A credit may be written with a leading or trailing minus or in parentheses. Invalid
    text and overflow give null.
    """
    valid = text.str.contains(_AMOUNT_PATTERN)
    negative = text.str.starts_with("(") | text.str.contains("-", literal=True)

    # After validation only digits and the point are left once signs, the dollar
    # sign, commas, parentheses and spaces are removed.
    digits = text.str.replace_all(r"[\s$,()+\-]", "")
    magnitude = (
        digits.str.to_decimal(scale=_PARSE_SCALE)
        .round(DECIMAL.scale, mode="half_away_from_zero")
        .cast(DECIMAL)
    )
    signed = pl.when(negative).then(-magnitude).otherwise(magnitude)
    return pl.when(valid).then(signed).otherwise(None).cast(DECIMAL)


def parse_date(text: pl.Expr, date_format: str) -> pl.Expr:
    """Parse date text with a strftime pattern, falling back to ISO dates; null if invalid.

    A date outside the years 1900 to 2099 is invalid: Polars reads "1/2/24" with
    %m/%d/%Y as the year 24, which must be reported rather than audited.
    """
    attempts = [text.str.to_date(date_format, strict=False)]
    attempts += [
        text.str.to_date(iso_format, strict=False)
        for iso_format in _ISO_DATE_FORMATS
        if iso_format != date_format
    ]
    date = pl.coalesce(attempts)
    return pl.when(date.dt.year().is_between(_FIRST_YEAR, _LAST_YEAR)).then(date)


def is_scientific(text: pl.Expr) -> pl.Expr:
    """Return True where the text is a number in scientific notation, such as "1.23457E+11"."""
    return text.str.contains(_SCIENTIFIC_PATTERN).fill_null(False)


def date_example(date_format: str) -> str:
    """Format an example date with the pattern, for messages such as "01/31/2024"."""
    return EXAMPLE_DATE.strftime(date_format)

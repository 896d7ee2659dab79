"""Amount and date parsers, on fixed cases and on generated amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sewerline.engine.ingest.values import is_scientific, parse_amount, parse_date
from sewerline.engine.money import DECIMAL


def amounts(texts: list[str | None]) -> list[Decimal | None]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String()})
    parsed = frame.select(parse_amount(pl.col("text")).alias("value"))
    assert parsed.schema["value"] == DECIMAL
    return parsed.get_column("value").to_list()


def dates(texts: list[str | None], date_format: str) -> list[dt.date | None]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.String()})
    return frame.select(parse_date(pl.col("text"), date_format)).to_series().to_list()


@pytest.mark.parametrize(("text", "expected"), [
    ("45.10", "45.10"),
    ("$45.10", "45.10"),
    ("$ 45.10", "45.10"),
    ("1,234.50", "1234.50"),
    ("$1,234,567.01", "1234567.01"),
    ("(12.50)", "-12.50"),
    ("($12.50)", "-12.50"),
    ("( 12.50 )", "-12.50"),
    ("12.50-", "-12.50"),
    ("$12.50-", "-12.50"),
    ("-12.50", "-12.50"),
    ("-$12.50", "-12.50"),
    ("$-12.50", "-12.50"),
    ("+7", "7"),
    ("0", "0"),
    (".5", "0.5"),
    ("5.", "5"),
    ("0.1234567890125", "0.123456789013"),   # rounded half away from zero at 12 places
])
def test_amount_accepted(text, expected):
    assert amounts([text]) == [Decimal(expected)]


@pytest.mark.parametrize("text", [
    "12,50",        # decimal comma: would otherwise read as 1,250
    "1,23.00",
    "--5",
    "-(5)",
    "(5",
    "5)",
    "12.50--",
    "1e5",
    "1.23457E+11",
    "abc",
    "$",
    "4 5",
    "USD 5",
    "1" * 21,       # more integer digits than fit in Decimal(38, 18), the parse scale
])
def test_amount_rejected(text):
    assert amounts([text]) == [None]


def test_amount_null_stays_null():
    assert amounts([None, "1"]) == [None, Decimal("1")]


def test_date_with_mapped_format():
    assert dates(["01/31/2024", "1/2/2024", "13/01/2024"], "%m/%d/%Y") == [
        dt.date(2024, 1, 31), dt.date(2024, 1, 2), None,
    ]


def test_date_iso_fallback_for_spreadsheet_cells():
    parsed = dates(["2024-01-31 00:00:00", "2024-01-31"], "%m/%d/%Y")

    assert parsed == [dt.date(2024, 1, 31), dt.date(2024, 1, 31)]


def test_date_two_digit_year_rejected():
    assert dates(["1/2/24"], "%m/%d/%Y") == [None]


def test_date_impossible_day_rejected():
    assert dates(["02/30/2024"], "%m/%d/%Y") == [None]


def test_scientific_meter_detected():
    frame = pl.DataFrame({"meter": ["1.23457E+11", "123456789012", "1E5", None]})

    flags = frame.select(is_scientific(pl.col("meter"))).to_series().to_list()

    assert flags == [True, False, True, False]


def write_amount(value: Decimal, style: str) -> str:
    """Write a two-decimal amount the way a billing export might."""
    magnitude = abs(value)
    plain = f"{magnitude:.2f}"
    grouped = f"{magnitude:,.2f}"
    negative = value < 0
    if style == "plain":
        return f"-{plain}" if negative else plain
    if style == "grouped":
        return f"-{grouped}" if negative else grouped
    if style == "dollar":
        return f"-${grouped}" if negative else f"${grouped}"
    if style == "dollar_then_sign":
        return f"$-{plain}" if negative else f"${plain}"
    if style == "parentheses":
        return f"(${grouped})" if negative else f"${grouped}"
    if style == "trailing_minus":
        return f"{grouped}-" if negative else grouped
    raise ValueError(style)


STYLES = ["plain", "grouped", "dollar", "dollar_then_sign", "parentheses", "trailing_minus"]
two_decimal_amounts = st.decimals(
    min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2,
    allow_nan=False, allow_infinity=False,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values=st.lists(two_decimal_amounts, min_size=1, max_size=20),
       style=st.sampled_from(STYLES))
def test_amount_round_trips_every_style(values, style):
    texts = [write_amount(value, style) for value in values]

    assert amounts(texts) == values

"""Billing period days and proration factors, and prorated rate formulas."""

from __future__ import annotations

import datetime as dt
import logging
import textwrap
from decimal import Decimal

import polars as pl
import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.proration import (
    DAYS_IN_PERIOD,
    PRORATION_FACTOR,
    period_columns,
    standard_days_for,
)
from sewerline.engine.rates import explain_bill, load_schedule, rate_bills

D = Decimal


def write_schedule(folder, *, frequency: str = "monthly", extension: str = "",
                   body: str = "", name: str = "rates.owrs"):
    text = textwrap.dedent(f"""\
        metadata:
          effective_date: 2024-01-01
          utility_name: Test Sewer
          bill_frequency: {frequency}
          bill_unit: kgal
        """)
    if extension:
        text += "  sewerline:\n" + textwrap.indent(textwrap.dedent(extension), "    ")
    text += "rate_structure:\n  RES:\n"
    text += textwrap.indent(textwrap.dedent(body or "bill: 1\n"), "    ")
    path = folder / name
    path.write_text(text)
    return load_schedule(path)


def periods(*pairs) -> pl.DataFrame:
    return pl.DataFrame(
        {"period_start": [start for start, _ in pairs], "period_end": [end for _, end in pairs]},
        schema={"period_start": pl.Date, "period_end": pl.Date},
    )


# Days and factors ---------------------------------------------------------------------


def test_days_count_both_ends():
    table = periods(
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),   # leap year
        (dt.date(2024, 3, 5), dt.date(2024, 3, 5)),    # a single day
    )

    result = period_columns(table, standard_days=30)

    assert result[DAYS_IN_PERIOD].to_list() == [31, 29, 1]
    assert result[DAYS_IN_PERIOD].dtype == pl.Int64


def test_factor_is_days_over_standard_days():
    table = periods(
        (dt.date(2024, 1, 1), dt.date(2024, 1, 30)),
        (dt.date(2024, 1, 1), dt.date(2024, 3, 5)),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
    )

    result = period_columns(table, standard_days=60)

    assert result[PRORATION_FACTOR].dtype == DECIMAL
    # 30/60 = 0.5; 65/60 = 1.0833...; 31/60 = 0.51666..., each kept to 12 decimals.
    assert result[PRORATION_FACTOR].to_list() == [
        D("0.5"), D("1.083333333333"), D("0.516666666667"),
    ]


def test_decimal_standard_days():
    table = periods((dt.date(2024, 1, 1), dt.date(2024, 1, 31)))

    result = period_columns(table, standard_days=D("30.5"))

    # 31 / 30.5 = 1.016393442622950... -> 12 decimals, half to even.
    assert result[PRORATION_FACTOR].to_list() == [D("1.016393442623")]


def test_null_period_gives_factor_one(caplog):
    table = periods(
        (None, dt.date(2024, 1, 31)),
        (dt.date(2024, 1, 1), None),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 15)),
    )

    with caplog.at_level(logging.WARNING, logger="sewerline.engine.proration"):
        result = period_columns(table, standard_days=30, source="export.csv")

    assert result[DAYS_IN_PERIOD].to_list() == [None, None, 15]
    assert result[PRORATION_FACTOR].to_list() == [D(1), D(1), D("0.5")]
    assert "2 of 3 rows have no complete billing period" in caplog.text
    assert "export.csv" in caplog.text


def test_other_columns_kept():
    table = periods((dt.date(2024, 1, 1), dt.date(2024, 1, 31))).with_columns(
        pl.lit("A-1").alias("account")
    )

    result = period_columns(table, standard_days=30)

    assert result.columns == ["period_start", "period_end", "account", DAYS_IN_PERIOD,
                              PRORATION_FACTOR]


def test_named_period_columns_and_datetimes():
    table = pl.DataFrame({
        "from": [dt.datetime(2024, 1, 1, 0, 0)],
        "to": [dt.datetime(2024, 1, 10, 23, 59)],
    })

    result = period_columns(table, period_start="from", period_end="to", standard_days=30)

    assert result[DAYS_IN_PERIOD].to_list() == [10]


def test_period_ending_before_start_rejected():
    table = periods(
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
        (dt.date(2024, 2, 10), dt.date(2024, 2, 1)),
    ).with_columns(pl.Series("source_row", [7, 8]))

    with pytest.raises(InputError) as error:
        period_columns(table, standard_days=30, source="export.csv")

    [problem] = error.value.problems
    assert problem.code == "period_invalid"
    assert problem.row == 8
    assert problem.file == "export.csv"
    assert problem.value == "2024-02-10 to 2024-02-01"


def test_period_column_missing_or_text_rejected():
    table = pl.DataFrame({"period_start": ["2024-01-01"]})

    with pytest.raises(InputError) as error:
        period_columns(table, standard_days=30)

    codes = {problem.column: problem.code for problem in error.value.problems}
    assert codes == {"period_start": "period_column_invalid",
                     "period_end": "period_column_missing"}


def test_standard_days_must_be_positive():
    with pytest.raises(ValueError):
        period_columns(periods(), standard_days=0)


# Standard days of a schedule ------------------------------------------------------------


@pytest.mark.parametrize(("frequency", "days"), [
    ("monthly", 30), ("bimonthly", 60), ("Bi-Monthly", 60), ("quarterly", 91),
    ("semiannual", 182), ("annual", 365),
])
def test_standard_days_from_frequency(tmp_path, frequency, days):
    schedule = write_schedule(tmp_path, frequency=frequency)

    assert standard_days_for(schedule) == days


def test_standard_days_set_in_rate_file(tmp_path):
    schedule = write_schedule(tmp_path, frequency="bimonthly", extension="""\
        proration:
          standard_days: 61
        """)

    assert standard_days_for(schedule) == 61


def test_standard_days_invalid_names_line(tmp_path):
    schedule = write_schedule(tmp_path, extension="""\
        proration:
          standard_days: thirty
        """)

    with pytest.raises(InputError) as error:
        standard_days_for(schedule)

    [problem] = error.value.problems
    assert problem.code == "proration_invalid"
    assert problem.line == 8
    assert problem.value == "thirty"


def test_standard_days_zero_rejected(tmp_path):
    schedule = write_schedule(tmp_path, extension="proration: {standard_days: 0}\n")

    with pytest.raises(InputError, match="not a positive number"):
        standard_days_for(schedule)


def test_proration_unknown_key_rejected(tmp_path):
    schedule = write_schedule(tmp_path, extension="""\
        proration:
          standard_day: 30
        """)

    with pytest.raises(InputError) as error:
        standard_days_for(schedule)

    assert error.value.problems[0].value == "standard_day"


def test_proration_not_a_mapping_rejected(tmp_path):
    schedule = write_schedule(tmp_path, extension="proration: 30\n")

    with pytest.raises(InputError, match="not a mapping"):
        standard_days_for(schedule)


# Prorated bills --------------------------------------------------------------------------

PRORATED = """\
service_charge: 42.00 * proration_factor
volume_charge: 4.00 * usage_ccf
bill: service_charge + volume_charge
"""


def test_prorated_service_charge(tmp_path):
    schedule = write_schedule(tmp_path, frequency="bimonthly", body=PRORATED)
    table = periods(
        (dt.date(2024, 1, 1), dt.date(2024, 2, 29)),   # 60 days
        (dt.date(2024, 1, 1), dt.date(2024, 3, 5)),    # 65 days
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),   # 31 days
    ).with_columns(
        pl.lit("RES").alias("cls"),
        pl.Series("usage_ccf", [D("10"), D("10"), D("10")], dtype=DECIMAL),
    )

    table = period_columns(table, standard_days=standard_days_for(schedule))
    rated = rate_bills(table, schedule, class_column="cls")

    # 42.00 * 60/60 = 42.00
    # 42.00 * 65/60 = 45.50 (42.00 * 1.083333333333 = 45.499999999986 -> 45.50)
    # 42.00 * 31/60 = 21.70 (42.00 * 0.516666666667 = 21.700000000014 -> 21.70)
    # volume: 4.00 * 10 = 40.00 each
    assert rated["charge:service_charge"].to_list() == [D("42.00"), D("45.50"), D("21.70")]
    assert rated["expected_amount"].to_list() == [D("82.00"), D("85.50"), D("61.70")]

    trace = explain_bill(schedule, "RES", {
        "usage_ccf": "10", PRORATION_FACTOR: table[PRORATION_FACTOR][1],
    })
    assert trace.total == rated["expected_amount"][1]


def test_days_in_period_formula_divides_last(tmp_path):
    # 4.65 * 31 / 30 = 4.805 exactly, which rounds half up to 4.81. The factor 31/30
    # is kept to 12 decimals, so 4.65 * proration_factor is 4.65 * 1.033333333333 =
    # 4.804999999998 (to 12 decimals), which rounds to 4.80.
    schedule = write_schedule(tmp_path, body="""\
        by_days: 4.65 * days_in_period / 30
        by_factor: 4.65 * proration_factor
        bill: by_days + by_factor
        """)
    table = period_columns(periods((dt.date(2024, 1, 1), dt.date(2024, 1, 31))),
                           standard_days=30).with_columns(pl.lit("RES").alias("cls"))

    rated = rate_bills(table, schedule, class_column="cls")

    assert rated["charge:by_days"].to_list() == [D("4.81")]
    assert rated["charge:by_factor"].to_list() == [D("4.80")]


PRORATED_TIER = """\
commodity_charge: Tiered
tier_starts: [0, "14 * proration_factor + 1"]
tier_prices: [2.87, 4.29]
bill: commodity_charge
"""


def test_prorated_tier_boundary(tmp_path):
    # The first 14 kgal per 30 days at $2.87, the rest at $4.29. A tier start is the
    # first unit of its tier, so the start 14 * proration_factor + 1 puts the boundary
    # at 14 * proration_factor: 7 kgal for 15 days, 21 kgal for 45 days.
    schedule = write_schedule(tmp_path, body=PRORATED_TIER)
    table = period_columns(periods(
        (dt.date(2024, 1, 1), dt.date(2024, 1, 15)),
        (dt.date(2024, 1, 1), dt.date(2024, 2, 14)),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 30)),
    ), standard_days=30).with_columns(
        pl.lit("RES").alias("cls"),
        pl.Series("usage_ccf", [D("10"), D("30"), D("20")], dtype=DECIMAL),
    )

    rated = rate_bills(table, schedule, class_column="cls")

    # 15 days, 10 kgal: 7 * 2.87 = 20.09 + 3 * 4.29 = 12.87 -> 32.96
    # 45 days, 30 kgal: 21 * 2.87 = 60.27 + 9 * 4.29 = 38.61 -> 98.88
    # 30 days, 20 kgal: 14 * 2.87 = 40.18 + 6 * 4.29 = 25.74 -> 65.92
    assert rated["expected_amount"].to_list() == [D("32.96"), D("98.88"), D("65.92")]
    for position, amount in enumerate(rated["expected_amount"]):
        trace = explain_bill(schedule, "RES", {
            "usage_ccf": table["usage_ccf"][position],
            PRORATION_FACTOR: table[PRORATION_FACTOR][position],
        })
        assert trace.total == amount

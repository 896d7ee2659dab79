"""Winter average rules: reading the rule, picking the winter, averaging, new customers.

Averages and amounts are worked out by hand in each test from the reads it gives.
"""

from __future__ import annotations

import datetime as dt
import logging
import textwrap
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import load_schedule, rate_bills
from sewerline.engine.units import UsageUnit
from sewerline.engine.winter import (
    AverageRounding,
    AverageSource,
    NewCustomerKind,
    NewCustomerRule,
    RoundingMode,
    WindowKind,
    WinterAverageRule,
    apply_new_customer_flat,
    compute_winter_averages,
    explain_winter_average,
    read_history,
    window_for,
)
from sewerline.engine.winter.window import months_in_window_order

D = Decimal
DATA = Path(__file__).parent / "data" / "winter"
CCF = UsageUnit.CCF
KGAL = UsageUnit.KGAL
DOWN_TO_UNITS = AverageRounding(places=0, mode=RoundingMode.DOWN)

# The Mulvane residential rate of docs/rates.md, with a class CAPPED that bills the
# lesser of the cycle's usage and the winter average of the cycle's two months.
MULVANE = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Example Sewer District
  bill_frequency: bimonthly
  bill_unit: kgal
{sewerline}rate_structure:
  RESIDENTIAL_SINGLE:
    customer_charge: 21.00
    volume_rate: 5.25
    months_in_cycle: 2
    service_charge: customer_charge * months_in_cycle
    volume_charge: volume_rate * winter_average * months_in_cycle
    bill: service_charge + volume_charge
  CAPPED:
    customer_charge: 21.00
    volume_rate: 5.25
    months_in_cycle: 2
    service_charge: customer_charge * months_in_cycle
    volume_charge: volume_rate * min(usage_ccf, winter_average * months_in_cycle)
    bill: service_charge + volume_charge
  COMMERCIAL:
    customer_charge: 21.00
    volume_rate: 5.25
    months_in_cycle: 2
    service_charge: customer_charge * months_in_cycle
    volume_charge: volume_rate * usage_ccf
    bill: service_charge + volume_charge
"""

# The usage history of these tests has monthly reads, while the schedule bills every two
# months, so months_per_read is set.
MULVANE_RULE = """\
  sewerline:
    winter_average:
      months: [12, 1, 2]
      months_per_read: 1
      minimum_months: 3
      new_customer: {rule: flat, amount: 42.00, per: month}
"""


def schedule_with(tmp_path, block: str, template: str = MULVANE):
    """Write the template with `block` (sewerline: and its keys) under metadata, and load it."""
    path = tmp_path / "rates.owrs"
    lines = textwrap.indent(textwrap.dedent(block), "  ")
    path.write_text(template.format(sewerline=lines))
    return load_schedule(path)


def rule_problems(tmp_path, block: str):
    schedule = schedule_with(tmp_path, block)
    with pytest.raises(InputError) as caught:
        WinterAverageRule.from_schedule(schedule)
    return caught.value.problems


def line_of(path: str, fragment: str) -> int:
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def profiles(*rows: tuple) -> pl.DataFrame:
    """Profiles of (account_id, customer_class, status, parcel_id, service_address)."""
    columns = ["account_id", "customer_class", "status", "parcel_id", "service_address"]
    padded = [tuple(row) + (None,) * (len(columns) - len(row)) for row in rows]
    return pl.DataFrame(padded, schema={name: pl.String() for name in columns}, orient="row")


def monthly_history(reads: dict[str, list[tuple[int, int, str]]]) -> pl.DataFrame:
    """History of account -> [(billing_year, billing_month, gallons)]."""
    rows = [
        (account, year, month, D(gallons))
        for account, entries in reads.items()
        for year, month, gallons in entries
    ]
    return pl.DataFrame(rows, orient="row", schema={
        "account_id": pl.String(), "billing_year": pl.Int64(), "billing_month": pl.Int64(),
        "usage_gal": DECIMAL,
    })


def by_account(result: pl.DataFrame) -> dict[str, dict]:
    return {row["account_id"]: row for row in result.iter_rows(named=True)}


def winter(history, rule, unit=KGAL, as_of=dt.date(2024, 5, 31), people=None):
    people = people if people is not None else profiles(
        *[(account, "R", "active") for account in history["account_id"].unique().sort()]
    )
    return by_account(compute_winter_averages(history, people, rule, bill_unit=unit,
                                              as_of=as_of))


# Reading the rule ---------------------------------------------------------------------


def test_rule_reads_every_option(tmp_path):
    schedule = schedule_with(tmp_path, """\
      sewerline:
        winter_average:
          source: history
          months: [1, 2, 12]
          window: read_date
          drop_highest: true
          rounding: {places: 1, mode: half_even}
          effective: "07-01"
          minimum_months: 2
          months_per_read: 1
          new_customer:
            - {rule: previous_account}
            - {rule: class_average}
            - {rule: default_volume, volume: 4000, unit: gallons}
          classes: [RESIDENTIAL_SINGLE, CAPPED]
    """)
    rule = WinterAverageRule.from_schedule(schedule)

    assert rule.source is AverageSource.HISTORY
    assert rule.months == (12, 1, 2)
    assert rule.window is WindowKind.READ_DATE
    assert rule.drop_highest is True
    assert rule.rounding == AverageRounding(places=1, mode=RoundingMode.HALF_EVEN)
    assert rule.effective == (7, 1)
    assert rule.minimum_months == 2
    assert rule.months_per_read == 1
    assert [entry.kind for entry in rule.new_customer] == [
        NewCustomerKind.PREVIOUS_ACCOUNT, NewCustomerKind.CLASS_AVERAGE,
        NewCustomerKind.DEFAULT_VOLUME,
    ]
    assert rule.new_customer[2].volume == D("4000")
    assert rule.new_customer[2].volume_unit is UsageUnit.GALLONS
    assert rule.classes == {"RESIDENTIAL_SINGLE", "CAPPED"}
    assert rule.line == line_of(schedule.path, "winter_average:")


def test_rule_defaults_for_bimonthly_schedule(tmp_path):
    schedule = schedule_with(tmp_path, """\
      sewerline:
        winter_average: {}
    """)
    rule = WinterAverageRule.from_schedule(schedule)

    assert rule.source is AverageSource.HISTORY
    assert rule.months == (12, 1, 2)
    assert rule.window is WindowKind.BILLING_MONTH
    assert rule.drop_highest is False
    assert rule.rounding is None
    assert rule.effective == (4, 1)
    # Bimonthly reads: a December-February window contains one or two reads.
    assert rule.months_per_read == 2
    assert rule.minimum_months == 2
    assert rule.new_customer == ()
    # Only the classes whose formulas read winter_average.
    assert rule.classes == {"RESIDENTIAL_SINGLE", "CAPPED"}


def test_rule_defaults_follow_months(tmp_path):
    schedule = schedule_with(tmp_path, """\
      sewerline:
        winter_average:
          months: [11, 12, 1, 2, 3, 4, 5, 6]
          months_per_read: 1
    """)
    rule = WinterAverageRule.from_schedule(schedule)

    assert rule.effective == (8, 1)
    assert rule.minimum_months == 8


def test_schedule_without_block_has_no_rule(tmp_path):
    schedule = schedule_with(tmp_path, "")

    assert WinterAverageRule.from_schedule(schedule) is None


def test_flat_amount_per_month_becomes_per_cycle(tmp_path):
    rule = WinterAverageRule.from_schedule(schedule_with(tmp_path, MULVANE_RULE))

    flat = rule.new_customer[0]
    assert flat.kind is NewCustomerKind.FLAT
    assert flat.amount == D("84.00")
    assert flat.monthly_amount == D("42.00")


def test_rule_problems_name_line_and_hint(tmp_path):
    problems = rule_problems(tmp_path, """\
      sewerline:
        winter_average:
          months: [12, 1, 2]
          window: billing_mont
          drop_highest: maybe
          rounding: {places: 0, mode: dow}
          effective: "01-15"
          minimum_months: 0
          colour: red
    """)
    by_column = {problem.column: problem for problem in problems}

    assert [problem.line for problem in problems] == sorted(p.line for p in problems)
    assert set(by_column) == {
        "winter_average.window", "winter_average.drop_highest",
        "winter_average.rounding.mode", "winter_average.effective",
        "winter_average.minimum_months", "winter_average.colour",
    }
    window = by_column["winter_average.window"]
    assert window.line == line_of(tmp_path / "rates.owrs", "window:")
    assert window.value == "billing_mont"
    assert window.hint == "Did you mean 'billing_month'?"
    assert by_column["winter_average.rounding.mode"].hint == "Did you mean 'down'?"
    assert "inside the winter months" in by_column["winter_average.effective"].message
    assert by_column["winter_average.colour"].code == "winter_average_unknown_key"
    assert all(problem.file.endswith("rates.owrs") for problem in problems)


@pytest.mark.parametrize(("months", "fragment"), [
    ("[12, 2]", "not one run"),
    ("[1, 1, 2]", "not one run"),
    ("[0, 1]", "not a month number"),
    ("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]", "whole year"),
    ("december", "not a list"),
])
def test_invalid_months_rejected(tmp_path, months, fragment):
    problems = rule_problems(tmp_path, f"""\
      sewerline:
        winter_average:
          months: {months}
    """)

    assert len(problems) == 1
    assert fragment in problems[0].message
    assert problems[0].column == "winter_average.months"


@pytest.mark.parametrize("effective", ['"02-29"', '"13-01"', "2024-04-01", '"April 1"'])
def test_invalid_effective_rejected(tmp_path, effective):
    problems = rule_problems(tmp_path, f"""\
      sewerline:
        winter_average:
          effective: {effective}
    """)

    assert [problem.column for problem in problems] == ["winter_average.effective"]
    assert "MM-DD" in problems[0].expected


@pytest.mark.parametrize(("entries", "message"), [
    ("[{rule: flat}]", "winter_average.new_customer.amount is missing or not a number of 0 "
                       "or more"),
    ("[{amount: 3}]", "a new_customer entry has no rule"),
    ("[{rule: default_volume, volume: 4}, {rule: class_average}]",
     "this rule follows default_volume, which gives every remaining account a value, so it "
     "is never used"),
    ("[{rule: flat, amount: 30, per: week}]", "new_customer.per is not cycle or month"),
    ("[{rule: default_volume, volume: 4, unit: barrels}]", "new_customer.unit is invalid"),
])
def test_invalid_new_customer_rules_rejected(tmp_path, entries, message):
    problems = rule_problems(tmp_path, f"""\
      sewerline:
        winter_average:
          new_customer: {entries}
    """)

    assert len(problems) == 1
    assert problems[0].message.startswith(message)
    assert problems[0].line == line_of(tmp_path / "rates.owrs", "new_customer:")


def test_unknown_class_rejected(tmp_path):
    problems = rule_problems(tmp_path, """\
      sewerline:
        winter_average:
          classes: [RESIDENTIAL]
    """)

    assert [problem.message for problem in problems] == [
        "class 'RESIDENTIAL' is not in the rate schedule"
    ]
    assert problems[0].hint == "Did you mean 'RESIDENTIAL_SINGLE'?"


def test_rounding_needs_mode(tmp_path):
    problems = rule_problems(tmp_path, """\
      sewerline:
        winter_average:
          rounding: {places: 0}
    """)

    assert [problem.message for problem in problems] == ["winter_average.rounding has no mode"]


# Which winter applies ---------------------------------------------------------------


def test_months_ordered_as_one_run():
    assert months_in_window_order([1, 2, 12]) == (12, 1, 2)
    assert months_in_window_order([3, 1, 2]) == (1, 2, 3)
    assert months_in_window_order([12, 2]) is None


@pytest.mark.parametrize(("as_of", "start", "end"), [
    (dt.date(2024, 3, 31), dt.date(2022, 12, 1), dt.date(2023, 2, 28)),
    (dt.date(2024, 4, 1), dt.date(2023, 12, 1), dt.date(2024, 2, 29)),
    (dt.date(2025, 3, 31), dt.date(2023, 12, 1), dt.date(2024, 2, 29)),
    (dt.date(2025, 4, 1), dt.date(2024, 12, 1), dt.date(2025, 2, 28)),
])
def test_window_switches_on_effective_date(as_of, start, end):
    window = window_for(WinterAverageRule(), as_of)

    assert window.start == start
    assert window.end == end


def test_window_effective_for_twelve_months():
    window = window_for(WinterAverageRule(), dt.date(2024, 9, 30))

    assert window.effective_from == dt.date(2024, 4, 1)
    assert window.effective_until == dt.date(2025, 3, 31)


def test_window_of_san_luis_obispo():
    # January-March reads, effective July 1.
    rule = WinterAverageRule(months=(1, 2, 3), window=WindowKind.READ_DATE, effective=(7, 1))

    before = window_for(rule, dt.date(2024, 6, 30))
    after = window_for(rule, dt.date(2024, 7, 1))

    assert (before.start, before.end) == (dt.date(2023, 1, 1), dt.date(2023, 3, 31))
    assert (after.start, after.end) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))


def test_window_of_carlisle():
    # Four bimonthly billing periods November to June, effective August 1.
    rule = WinterAverageRule(months=(11, 12, 1, 2, 3, 4, 5, 6), effective=(8, 1))

    window = window_for(rule, dt.date(2024, 9, 30))

    assert (window.start, window.end) == (dt.date(2023, 11, 1), dt.date(2024, 6, 30))


# Averages from the history ------------------------------------------------------------


def slo_rule(**changes) -> WinterAverageRule:
    rule = dict(months=(1, 2, 3), window=WindowKind.READ_DATE, effective=(7, 1),
                rounding=DOWN_TO_UNITS, minimum_months=3)
    return WinterAverageRule(**(rule | changes))


def test_slo_average_rounds_down_to_whole_ccf():
    history = read_history(DATA / "slo_reads_ccf.csv", usage_unit=CCF)

    result = winter(history, slo_rule(), unit=CCF, as_of=dt.date(2024, 7, 31))

    # S-100 read 5, 6 and 5 ccf from January to March 2024: 16 / 3 = 5.33, down to 5.
    s100 = result["S-100"]
    assert s100["winter_average"] == D("5")
    assert s100["winter_usage"] == D("16")
    assert s100["months_used"] == 3
    assert s100["winter_average_source"] == "history"
    assert s100["window_start"] == dt.date(2024, 1, 1)
    assert s100["window_end"] == dt.date(2024, 3, 31)
    # 5 ccf at 748.052 gallons each.
    assert s100["winter_average_gal"] == D("3740.26")


def test_slo_average_explained():
    history = read_history(DATA / "slo_reads_ccf.csv", usage_unit=CCF)
    rule = slo_rule()

    result = winter(history, rule, unit=CCF, as_of=dt.date(2024, 7, 31))

    assert explain_winter_average(result["S-100"], rule, CCF) == (
        "winter average 5 ccf: 16 ccf over 3 months from 2024-01-01 to 2024-03-31 "
        "= 5.333333333333, rounded down to whole units"
    )


def test_effective_date_switches_winter():
    history = read_history(DATA / "slo_reads_ccf.csv", usage_unit=CCF)

    last_year = winter(history, slo_rule(), unit=CCF, as_of=dt.date(2024, 6, 30))
    this_year = winter(history, slo_rule(), unit=CCF, as_of=dt.date(2024, 7, 1))

    # January-March 2023: 4, 4 and 4 ccf. January-March 2024: 16 / 3, down to 5.
    assert last_year["S-100"]["winter_average"] == D("4")
    assert last_year["S-100"]["window_end"] == dt.date(2023, 3, 31)
    assert this_year["S-100"]["winter_average"] == D("5")


def test_drop_highest_month():
    history = read_history(DATA / "slo_reads_ccf.csv", usage_unit=CCF)
    as_of = dt.date(2024, 7, 31)

    kept = winter(history, slo_rule(rounding=None), unit=CCF, as_of=as_of)["S-200"]
    dropped = winter(history, slo_rule(rounding=None, drop_highest=True), unit=CCF,
                     as_of=as_of)["S-200"]

    # 4, 9 and 5 ccf: (4 + 9 + 5) / 3 = 6; without the 9: (4 + 5) / 2 = 4.5.
    assert kept["winter_average"] == D("6")
    assert dropped["winter_average"] == D("4.5")
    assert dropped["months_used"] == 2
    assert dropped["winter_usage"] == D("9")


def test_minimum_months():
    history = read_history(DATA / "slo_reads_ccf.csv", usage_unit=CCF)
    as_of = dt.date(2024, 7, 31)

    three = winter(history, slo_rule(), unit=CCF, as_of=as_of)["S-300"]
    two = winter(history, slo_rule(minimum_months=2), unit=CCF, as_of=as_of)["S-300"]

    # S-300 has only the February and March reads of 3 ccf each.
    assert three["winter_average"] is None
    assert three["winter_average_source"] == "none"
    assert three["winter_average_basis"] == (
        "fewer than 3 winter months of history, and no new-customer rule gives one"
    )
    assert two["winter_average"] == D("3")


def test_kgal_history_gives_same_ccf_average():
    # 3.74026, 4.488312 and 3.74026 kgal are exactly 5, 6 and 5 ccf.
    in_ccf = read_history(DATA / "slo_reads_ccf.csv", usage_unit=CCF)
    in_kgal = read_history(DATA / "slo_reads_kgal.csv", usage_unit=KGAL)
    as_of = dt.date(2024, 7, 31)

    from_ccf = winter(in_ccf, slo_rule(rounding=None), unit=CCF, as_of=as_of)["S-100"]
    from_kgal = winter(in_kgal, slo_rule(rounding=None), unit=CCF, as_of=as_of)["S-100"]

    assert from_kgal["winter_usage"] == D("16")
    assert from_kgal["winter_average"] == D("5.333333333333")
    assert from_kgal["winter_average"] == from_ccf["winter_average"]


def test_same_gallons_in_kgal_and_ccf():
    history = monthly_history({"A": [(2023, 12, "4000"), (2024, 1, "5000"),
                                     (2024, 2, "6000")]})
    rule = WinterAverageRule(rounding=AverageRounding(places=2, mode=RoundingMode.DOWN))

    kgal = winter(history, rule, unit=KGAL)["A"]
    ccf = winter(history, rule, unit=CCF)["A"]

    # 15,000 gallons over 3 months: 5 kgal a month; 15,000 / 748.052 = 20.0521 ccf,
    # so 6.6840 ccf a month, down to 6.68.
    assert kgal["winter_average"] == D("5")
    assert kgal["winter_average_gal"] == D("5000")
    assert ccf["winter_average"] == D("6.68")
    assert ccf["winter_average_gal"] == D("6.68") * D("748.052")


@pytest.mark.parametrize(("mode", "places", "third", "half"), [
    (RoundingMode.DOWN, 0, "5", "8"),
    (RoundingMode.UP, 0, "6", "9"),
    (RoundingMode.HALF_UP, 0, "5", "9"),
    (RoundingMode.HALF_EVEN, 0, "5", "8"),
    (RoundingMode.DOWN, 1, "5.3", "8.5"),
    (RoundingMode.UP, 1, "5.4", "8.5"),
])
def test_rounding_modes(mode, places, third, half):
    # 16 / 3 = 5.333... and 17 / 2 = 8.5 kgal.
    history = monthly_history({
        "THIRD": [(2023, 12, "5000"), (2024, 1, "5000"), (2024, 2, "6000")],
        "HALF": [(2024, 1, "8000"), (2024, 2, "9000")],
    })
    rule = WinterAverageRule(rounding=AverageRounding(places=places, mode=mode),
                             minimum_months=2)

    result = winter(history, rule)

    assert result["THIRD"]["winter_average"] == D(third)
    assert result["HALF"]["winter_average"] == D(half)


def test_billing_month_and_read_date_windows():
    # The December to February bills of account 0001-20 were read on 2024-01-02,
    # 2024-01-29 and 2024-03-01.
    history = read_history(DATA / "mulvane_kgal.csv", usage_unit=KGAL)
    people = pl.DataFrame({
        "account_id": ["M-20"], "water_account": ["00120"], "customer_class": ["R"],
        "status": ["active"],
    })
    as_of = dt.date(2024, 5, 31)

    def average(rule):
        result = compute_winter_averages(history, people, rule, bill_unit=KGAL, as_of=as_of)
        return result.row(0, named=True)

    billed = average(WinterAverageRule())
    read_three = average(WinterAverageRule(window=WindowKind.READ_DATE))
    read_two = average(WinterAverageRule(window=WindowKind.READ_DATE, minimum_months=2))

    # Billed December, January, February: (4.2 + 4.5 + 4.8) / 3 = 4.5 kgal.
    assert billed["winter_average"] == D("4.5")
    # Read in December to February: only the two January reads, 4.2 + 4.5 = 8.7 kgal
    # over 2 months.
    assert read_three["winter_average_source"] == "none"
    assert read_two["winter_average"] == D("4.35")
    assert read_two["months_used"] == 2


def test_read_date_stands_in_for_missing_billing_month():
    history = pl.DataFrame({
        "account_id": ["A", "A", "A"],
        "read_date": [dt.date(2023, 12, 20), dt.date(2024, 1, 20), dt.date(2024, 2, 20)],
        "usage_gal": [D("3000"), D("4000"), D("5000")],
    }, schema_overrides={"usage_gal": DECIMAL})

    result = winter(history, WinterAverageRule())

    assert result["A"]["winter_average"] == D("4")


def test_bimonthly_reads_count_two_months():
    history = read_history(DATA / "bimonthly_kgal.csv", usage_unit=KGAL)

    result = winter(history, WinterAverageRule(minimum_months=2))

    # B-1 billed 10 kgal in December and 12 in February: 22 kgal over 4 months.
    assert result["B-1"]["winter_average"] == D("5.5")
    assert result["B-1"]["months_used"] == 4
    # B-2 billed 9 kgal in January: 9 kgal over 2 months.
    assert result["B-2"]["winter_average"] == D("4.5")
    assert result["B-2"]["months_used"] == 2


def test_months_per_read_when_history_has_no_period():
    history = read_history(DATA / "bimonthly_kgal.csv", usage_unit=KGAL).drop("period_months")

    monthly = winter(history, WinterAverageRule(minimum_months=1))
    bimonthly = winter(history, WinterAverageRule(minimum_months=1, months_per_read=2))

    assert monthly["B-1"]["winter_average"] == D("11")
    assert bimonthly["B-1"]["winter_average"] == D("5.5")


def test_warning_when_read_interval_differs(caplog):
    history = read_history(DATA / "bimonthly_kgal.csv", usage_unit=KGAL).drop("period_months")

    with caplog.at_level(logging.WARNING, logger="sewerline.engine.winter"):
        winter(history, WinterAverageRule(minimum_months=1, months_per_read=1))
    counted_monthly = caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sewerline.engine.winter"):
        winter(history, WinterAverageRule(minimum_months=1, months_per_read=2))

    assert "usually read every 2 months" in counted_monthly
    assert "usually read every" not in caplog.text


def test_reads_of_one_month_add_up_and_empty_reads_skipped():
    history = monthly_history({"A": [(2023, 12, "2000"), (2023, 12, "1000"),
                                     (2024, 1, "3000"), (2024, 2, "3000")]})
    history = pl.concat([history, pl.DataFrame(
        {"account_id": ["A"], "billing_year": [2024], "billing_month": [2], "usage_gal": [None]},
        schema=history.schema,
    )])

    result = winter(history, WinterAverageRule(drop_highest=True))

    # December's two reads make 3,000 gallons for that one month. No month is higher
    # than another, so one is dropped and two 3,000-gallon months remain.
    assert result["A"]["winter_average"] == D("3")
    assert result["A"]["months_used"] == 2


def test_water_accounts_match_by_normalized_number():
    history = read_history(DATA / "mulvane_kgal.csv", usage_unit=KGAL)
    people = pl.DataFrame({
        "account_id": ["M-20", "M-35"], "water_account": ["120", "1-35"],
        "customer_class": ["R", "R"], "status": ["active", "active"],
    })

    result = by_account(compute_winter_averages(
        history, people, WinterAverageRule(minimum_months=2), bill_unit=KGAL,
        as_of=dt.date(2024, 5, 31),
    ))

    assert result["M-20"]["winter_average"] == D("4.5")
    # 3.0 + 3.5 kgal over December and January.
    assert result["M-35"]["winter_average"] == D("3.25")


def test_result_follows_profile_order():
    history = monthly_history({name: [(2024, 1, "1000")] for name in "ABC"})
    people = profiles(("C", "R", "active"), ("A", "R", "active"), ("X", "R", "active"),
                      ("B", "R", "active"))

    result = compute_winter_averages(history, people, WinterAverageRule(minimum_months=1),
                                     bill_unit=KGAL, as_of=dt.date(2024, 5, 1))

    assert result["account_id"].to_list() == ["C", "A", "X", "B"]
    assert result.schema["winter_average"] == DECIMAL


# New customers ----------------------------------------------------------------------


def mulvane_history() -> pl.DataFrame:
    return monthly_history({
        "OLD": [(2023, 12, "4000"), (2024, 1, "5000"), (2024, 2, "6000")],
        "R-1": [(2023, 12, "5000"), (2024, 1, "5500"), (2024, 2, "6000")],
        "R-2": [(2023, 12, "8000"), (2024, 1, "8000"), (2024, 2, "8000")],
        "C-1": [(2023, 12, "20000"), (2024, 1, "20000"), (2024, 2, "20000")],
        "NEW": [(2024, 2, "9000")],
    })


def new_customer_rule(*rules: NewCustomerRule, **changes) -> WinterAverageRule:
    return WinterAverageRule(new_customer=rules, classes=frozenset({"R"}), **changes)


def test_flat_new_customer_has_no_volume():
    rule = new_customer_rule(NewCustomerRule(NewCustomerKind.FLAT, amount=D("84.00"),
                                             monthly_amount=D("42.00")))
    people = profiles(("R-1", "R", "active"), ("NEW", "R", "active"))

    result = winter(mulvane_history(), rule, people=people)

    assert result["NEW"]["winter_average_source"] == "flat"
    assert result["NEW"]["winter_average"] is None
    assert result["NEW"]["flat_amount"] == D("84.00")
    assert result["NEW"]["winter_average_basis"] == (
        "fewer than 3 winter months of history: flat 84.00 per billing cycle "
        "(42.00 a month)"
    )
    assert result["R-1"]["flat_amount"] is None


def test_default_volume_is_not_rounded():
    rules = [
        NewCustomerRule(NewCustomerKind.DEFAULT_VOLUME, volume=D("4.5")),
        NewCustomerRule(NewCustomerKind.DEFAULT_VOLUME, volume=D("4000"),
                        volume_unit=UsageUnit.GALLONS),
    ]
    people = profiles(("NEW", "R", "active"))

    in_bill_unit = winter(mulvane_history(), new_customer_rule(rules[0], rounding=DOWN_TO_UNITS),
                          people=people)["NEW"]
    in_gallons = winter(mulvane_history(), new_customer_rule(rules[1]), people=people)["NEW"]

    assert in_bill_unit["winter_average"] == D("4.5")
    assert in_bill_unit["winter_average_source"] == "default_volume"
    assert in_gallons["winter_average"] == D("4")
    assert in_gallons["winter_average_gal"] == D("4000")


def test_class_average_of_own_averages():
    people = profiles(("R-1", "R", "active"), ("R-2", "R", "active"), ("NEW", "R", "active"),
                      ("C-1", "C", "active"), ("C-NEW", "C", "active"))
    rule = new_customer_rule(NewCustomerRule(NewCustomerKind.CLASS_AVERAGE),
                             rounding=DOWN_TO_UNITS)

    result = winter(mulvane_history(), rule, people=people)

    # R-1 averages 16.5 / 3 = 5.5 kgal and R-2 8 kgal; the class mean of the unrounded
    # averages is 6.75, rounded down to 6. R-1 itself is rounded to 5.
    assert result["R-1"]["winter_average"] == D("5")
    assert result["NEW"]["winter_average"] == D("6")
    assert result["NEW"]["winter_average_source"] == "class_average"
    assert result["NEW"]["winter_average_basis"] == (
        "fewer than 3 winter months of history: average of class R (2 accounts with "
        "their own winter average)"
    )
    assert result["NEW"]["window_start"] == dt.date(2023, 12, 1)
    # Class C is not rated on the winter average, so its new account gets nothing.
    assert result["C-NEW"]["winter_average_source"] == "none"


def test_previous_account_at_same_parcel():
    history = mulvane_history().with_columns(
        pl.when(pl.col("account_id") == "OLD").then(pl.lit("012-345-01"))
        .when(pl.col("account_id") == "R-1").then(pl.lit("099-000-01"))
        .alias("parcel_id")
    )
    # R-2 is an active account at NEW's parcel, so it is not a previous account.
    people = profiles(("NEW", "R", "active", "12345 01"), ("R-2", "R", "active", "1234501"),
                      ("R-1", "R", "active", "099-000-01"))
    rule = new_customer_rule(NewCustomerRule(NewCustomerKind.PREVIOUS_ACCOUNT))

    result = winter(history, rule, people=people)

    # OLD used 4,000, 5,000 and 6,000 gallons: 5 kgal.
    assert result["NEW"]["winter_average"] == D("5")
    assert result["NEW"]["winter_average_source"] == "previous_account"
    assert result["NEW"]["previous_account"] == "OLD"
    assert result["NEW"]["months_used"] == 3
    assert result["NEW"]["winter_average_basis"] == (
        "fewer than 3 winter months of history: average of previous account OLD at the "
        "same parcel"
    )


def test_previous_account_by_address_latest_wins():
    history = monthly_history({
        "GONE-1": [(2021, 12, "1000"), (2022, 1, "1000"), (2022, 2, "1000"),
                   (2023, 12, "3000"), (2024, 1, "3000"), (2024, 2, "3000")],
        "GONE-2": [(2023, 12, "7000"), (2024, 1, "7000"), (2024, 2, "7000"),
                   (2024, 3, "7000")],
    }).with_columns(pl.lit("123 North Main Street").alias("service_address"))
    people = profiles(("NEW", "R", "active", None, "123 N MAIN ST"))
    rule = new_customer_rule(NewCustomerRule(NewCustomerKind.PREVIOUS_ACCOUNT))

    result = winter(history, rule, people=people)

    # GONE-2 read last (March 2024), so its 7 kgal average is taken.
    assert result["NEW"]["previous_account"] == "GONE-2"
    assert result["NEW"]["winter_average"] == D("7")
    assert result["NEW"]["winter_average_basis"].endswith("at the same service address")


def test_previous_account_then_flat():
    rule = new_customer_rule(
        NewCustomerRule(NewCustomerKind.PREVIOUS_ACCOUNT),
        NewCustomerRule(NewCustomerKind.FLAT, amount=D("30.00")),
    )
    people = profiles(("NEW", "R", "active", "55"))

    result = winter(mulvane_history(), rule, people=people)

    assert result["NEW"]["winter_average_source"] == "flat"
    assert result["NEW"]["flat_amount"] == D("30.00")


def test_no_rule_leaves_none():
    result = winter(mulvane_history(), new_customer_rule(),
                    people=profiles(("NEW", "R", "active")))

    assert result["NEW"]["winter_average_source"] == "none"
    assert result["NEW"]["winter_average"] is None
    assert result["NEW"]["winter_average_basis"] == (
        "fewer than 3 winter months of history, and no new-customer rule gives one"
    )


def test_profile_source_and_previous_profile():
    people = pl.DataFrame({
        "account_id": ["A", "OLD", "NEW"],
        "customer_class": ["R", "R", "R"],
        "status": ["active", "inactive", "active"],
        "parcel_id": ["1", "2", "2"],
        "winter_average_gal": [D("3740.26"), D("4100"), None],
    }, schema_overrides={"winter_average_gal": DECIMAL})
    rule = WinterAverageRule(
        source=AverageSource.PROFILE, rounding=DOWN_TO_UNITS,
        new_customer=(NewCustomerRule(NewCustomerKind.PREVIOUS_ACCOUNT),),
    )

    result = by_account(compute_winter_averages(None, people, rule, bill_unit=CCF,
                                                as_of=dt.date(2024, 5, 1)))

    assert result["A"]["winter_average"] == D("5")
    assert result["A"]["winter_average_source"] == "profile"
    assert result["A"]["window_start"] is None
    # 4,100 gallons = 5.48 ccf, down to 5.
    assert result["NEW"]["winter_average"] == D("5")
    assert result["NEW"]["previous_account"] == "OLD"


def test_explanations_of_new_customer_sources():
    people = profiles(("R-1", "R", "active"), ("R-2", "R", "active"), ("NEW", "R", "active"),
                      ("C-NEW", "C", "active"))
    rule = new_customer_rule(NewCustomerRule(NewCustomerKind.CLASS_AVERAGE),
                             rounding=DOWN_TO_UNITS)

    result = winter(mulvane_history(), rule, people=people)

    assert explain_winter_average(result["NEW"], rule, KGAL) == (
        "winter average 6 kgal: fewer than 3 winter months of history: average of class R "
        "(2 accounts with their own winter average), rounded down to whole units"
    )
    assert explain_winter_average(result["C-NEW"], rule, KGAL) == (
        "no winter average: fewer than 3 winter months of history"
    )


def test_history_of_water_accounts_needs_profile_column():
    history = read_history(DATA / "mulvane_kgal.csv", usage_unit=KGAL)

    with pytest.raises(InputError) as caught:
        winter(history, WinterAverageRule(), people=profiles(("A", "R", "active")))

    assert caught.value.problems[0].column == "water_account"


def test_history_source_needs_history():
    with pytest.raises(InputError) as caught:
        compute_winter_averages(None, profiles(("A", "R", "active")), WinterAverageRule(),
                                bill_unit=KGAL, as_of=dt.date(2024, 5, 1))

    assert caught.value.problems[0].code == "history_missing"


def test_profile_source_needs_column():
    people = profiles(("A", "R", "active"))
    rule = WinterAverageRule(source=AverageSource.PROFILE)

    with pytest.raises(InputError) as caught:
        compute_winter_averages(None, people, rule, bill_unit=CCF, as_of=dt.date(2024, 5, 1))

    assert caught.value.problems[0].column == "winter_average_gal"


# Rating with the Mulvane schedule ---------------------------------------------------


def rated_mulvane(tmp_path, usage_kgal: dict[str, str]):
    """Rate the Mulvane history's accounts for a bimonthly cycle ending 2024-05-31."""
    schedule = schedule_with(tmp_path, MULVANE_RULE)
    rule = WinterAverageRule.from_schedule(schedule)
    history = read_history(DATA / "mulvane_kgal.csv", usage_unit=KGAL)
    people = pl.DataFrame({
        "account_id": ["BILLED", "CAPPED-LOW", "CAPPED-HIGH", "NEW", "CLOSED-NEW"],
        "water_account": ["120", "120", "120", "135", "135"],
        "customer_class": ["RESIDENTIAL_SINGLE", "CAPPED", "CAPPED", "RESIDENTIAL_SINGLE",
                           "RESIDENTIAL_SINGLE"],
        "status": ["active", "active", "active", "active", "inactive"],
    })
    averages = compute_winter_averages(history, people, rule, bill_unit=schedule.bill_unit,
                                       as_of=dt.date(2024, 5, 31))
    table = people.join(averages.select("account_id", "winter_average"), on="account_id")
    table = table.with_columns(
        pl.col("account_id").replace_strict(usage_kgal, default=None)
        .cast(DECIMAL).alias("usage_ccf"),
    )
    rated = pl.concat([table, rate_bills(table, schedule, class_column="customer_class")],
                      how="horizontal")
    expected = rated.with_columns(
        pl.when(pl.col("status") == "active").then("expected_amount")
        .otherwise(pl.lit(0).cast(DECIMAL)).alias("expected_amount")
    )
    return by_account(apply_new_customer_flat(expected, averages, rule))


def test_billed_on_winter_average_and_capped(tmp_path):
    result = rated_mulvane(tmp_path, {
        "BILLED": "12", "CAPPED-LOW": "7", "CAPPED-HIGH": "12", "NEW": "5",
        "CLOSED-NEW": "5",
    })

    # The winter average is (4.2 + 4.5 + 4.8) / 3 = 4.5 kgal a month.
    # Billed on it: 21.00 x 2 + 5.25 x 4.5 x 2 = 42.00 + 47.25 = 89.25.
    assert result["BILLED"]["winter_average"] == D("4.5")
    assert result["BILLED"]["expected_amount"] == D("89.25")
    # Capped: 7 kgal used is below 4.5 x 2 = 9, so 42.00 + 5.25 x 7 = 78.75.
    assert result["CAPPED-LOW"]["expected_amount"] == D("78.75")
    # 12 kgal used is capped at 9 kgal: 42.00 + 47.25 = 89.25.
    assert result["CAPPED-HIGH"]["expected_amount"] == D("89.25")


def test_flat_new_customer_replaces_bill(tmp_path):
    result = rated_mulvane(tmp_path, {
        "BILLED": "12", "CAPPED-LOW": "7", "CAPPED-HIGH": "12", "NEW": "5",
        "CLOSED-NEW": "5",
    })

    # Account 1-35 has only two winter months: $42.00 a month, $84.00 a bimonthly cycle.
    new = result["NEW"]
    assert new["winter_average"] is None
    assert new["expected_amount"] == D("84.00")
    assert new["charge:volume_charge"] is None
    assert new["winter_average_note"] == (
        "fewer than 3 winter months of history: flat 84.00 per billing cycle (42.00 a "
        "month); the flat amount replaces the rated bill"
    )
    # An inactive profile owes nothing, flat rule or not.
    assert result["CLOSED-NEW"]["expected_amount"] == D("0")
    assert result["BILLED"]["winter_average_note"] is None
    assert result["BILLED"]["expected_amount"] == D("89.25")


# Reading history files --------------------------------------------------------------


def test_read_history_reports_rows():
    with pytest.raises(InputError) as caught:
        read_history(DATA / "invalid.csv", usage_unit=KGAL)
    found = {(problem.row, problem.column): problem for problem in caught.value.problems}

    assert set(found) == {(2, "billing_month"), (3, "account_id"), (4, "usage"),
                          (5, "usage")}
    assert found[(2, "billing_month")].value == "13"
    assert found[(4, "usage")].value == "lots"
    assert found[(5, "usage")].message == "usage is negative"


def test_read_history_converts_to_gallons():
    history = read_history(DATA / "bimonthly_kgal.csv", usage_unit=KGAL)

    assert history.schema["usage_gal"] == DECIMAL
    assert history["usage_gal"].to_list()[:2] == [D("10000"), D("12000")]
    assert history["period_months"].to_list() == [2, 2, 2, 2]
    assert history["source_row"].to_list() == [2, 3, 4, 5]


def test_read_history_requires_columns(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("customer,usage\nA,5\n")

    with pytest.raises(InputError) as caught:
        read_history(path)

    columns = {problem.column for problem in caught.value.problems}
    assert columns == {"account_id or water_account",
                       "read_date, or billing_year and billing_month"}


def test_history_columns_checked_for_rule():
    history = monthly_history({"A": [(2024, 1, "1")]})

    with pytest.raises(InputError) as caught:
        winter(history, WinterAverageRule(window=WindowKind.READ_DATE))

    assert caught.value.problems[0].column == "read_date"


def test_negative_usage_in_frame_rejected():
    history = monthly_history({"A": [(2024, 1, "-5")]})

    with pytest.raises(InputError) as caught:
        winter(history, WinterAverageRule())

    assert caught.value.problems[0].row == 2
    assert caught.value.problems[0].message == "usage is negative"


# Properties ---------------------------------------------------------------------------

WINTER_MONTHS = [(2023, 12), (2024, 1), (2024, 2)]
gallons = st.decimals(min_value=0, max_value=50_000, places=3, allow_nan=False,
                      allow_infinity=False)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.lists(st.lists(gallons, min_size=1, max_size=3), min_size=1, max_size=6))
def test_average_between_monthly_extremes(accounts):
    reads = {
        f"A{index}": [(*WINTER_MONTHS[month], str(value)) for month, value in enumerate(usages)]
        for index, usages in enumerate(accounts)
    }
    rule = WinterAverageRule(minimum_months=1)

    result = winter(monthly_history(reads), rule)

    for index, usages in enumerate(accounts):
        average = result[f"A{index}"]["winter_average"]
        assert min(usages) / 1000 <= average <= max(usages) / 1000


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.lists(st.lists(gallons, min_size=1, max_size=3), min_size=1, max_size=6))
def test_dropping_highest_never_raises_average(accounts):
    reads = {
        f"A{index}": [(*WINTER_MONTHS[month], str(value)) for month, value in enumerate(usages)]
        for index, usages in enumerate(accounts)
    }
    history = monthly_history(reads)

    kept = winter(history, WinterAverageRule(minimum_months=1))
    dropped = winter(history, WinterAverageRule(minimum_months=1, drop_highest=True))

    for account in reads:
        assert dropped[account]["winter_average"] <= kept[account]["winter_average"]

"""Rating tables and tracing bills: golden bills worked out by hand, errors, properties."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import explain_bill, explain_rows, load_schedule, rate_bills
from sewerline.engine.rates.names import tier_sets
from sewerline.engine.rates.tiers import split_usage, tier_bounds, tier_lines, tiered_amount

D = Decimal

MULVANE = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Example Sewer District
  bill_frequency: bimonthly
  bill_unit: kgal
rate_structure:
  RESIDENTIAL_SINGLE:
    customer_charge: 21.00
    volume_rate: 5.25
    months_in_cycle: 2
    service_charge: customer_charge * months_in_cycle
    volume_charge: volume_rate * winter_average * months_in_cycle
    bill: service_charge + volume_charge
  COMMERCIAL:
    customer_charge: 21.00
    volume_rate: 5.25
    months_in_cycle: 2
    service_charge: customer_charge * months_in_cycle
    volume_charge: volume_rate * usage_ccf
    bill: service_charge + volume_charge
  CAPPED:
    customer_charge: 21.00
    volume_rate: 5.25
    months_in_cycle: 2
    service_charge: customer_charge * months_in_cycle
    volume_charge: volume_rate * min(usage_ccf, winter_average * 2)
    bill: service_charge + volume_charge
"""

# The Fullerton (California) water rates of 2017 in OWRS, shortened.
FULLERTON = """\
metadata:
  effective_date: 07/01/2017
  utility_name: Fullerton City of
  bill_frequency: Bi-Monthly
  bill_unit: kgal
rate_structure:
  RESIDENTIAL_SINGLE:
    service_charge:
      depends_on:
        - meter_size
      values:
        5/8": 14.78
        3/4": 14.78
        1": 17.74
        1|1/2": 32.52
        2": 45.82
    commodity_charge: Tiered
    tier_starts_commodity:
      - 0
      - 7.5
      - 20
    tier_prices_commodity:
      - 3.123
      - 3.42
      - 3.709
    bill: service_charge+commodity_charge
  RESIDENTIAL_MULTI:
    service_charge:
      depends_on:
        - meter_size
        - city_limits
      values:
        5/8"|inside_city: 14.78
        5/8"|outside_city: 14.78
        3/4"|inside_city: 17.74
        3/4"|outside_city: 32.52
        1"|inside_city: 45.82
    commodity_charge: Tiered
    tier_starts_commodity:
      depends_on:
        - city_limits
      values:
        inside_city: [0, 4, 10]
        outside_city: [0, 1, 1]
    tier_prices_commodity:
      depends_on:
        - city_limits
      values:
        inside_city: [3.123, 3.42, 3.709]
        outside_city: [4.018, 4.018, 4.018]
    bill: service_charge+commodity_charge
  COMMERCIAL:
    service_charge: 20
    commodity_charge: flat_rate_commodity*usage_ccf
    flat_rate_commodity:
      depends_on: city_limits
      values:
        inside_city: 2.985
        outside_city: outside_rate * 1.5
    outside_rate: 2
    bill: service_charge+commodity_charge
"""

# Santa Monica's 2016 irrigation rates: tier starts by meter size, prices by water type.
SANTA_MONICA = """\
metadata:
  effective_date: 03/01/2016
  utility_name: City of Santa Monica
  bill_frequency: bimonthly
rate_structure:
  IRRIGATION:
    commodity_charge: Tiered
    tier_starts:
      depends_on: meter_size
      values:
        5/8": [0, 211]
        1 1/2": [0, 466]
        2": [0, 871, 2000]
    tier_prices:
      depends_on: water_type
      values:
        potable: [4.27, 10.53]
        recycled: [3.84, 3.84]
        mixed: [1, 2, 3]
    bill: commodity_charge
"""


def write_schedule(folder, text: str, name: str = "rates.owrs"):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return load_schedule(path)


def one_class(folder, body: str, rounding: str = "half_up"):
    header = textwrap.dedent(f"""\
        metadata:
          effective_date: 2016-01-01
          utility_name: Test Utility
          bill_frequency: monthly
          rounding: {rounding}
        rate_structure:
          TEST:
        """)
    return write_schedule(folder, header + textwrap.indent(textwrap.dedent(body), "    "),
                          f"test-{rounding}.owrs")


def table(**columns) -> pl.DataFrame:
    """Build an input table; Decimal columns become DECIMAL."""
    series = []
    for name, values in columns.items():
        if any(isinstance(v, Decimal) for v in values):
            series.append(pl.Series(name, values, dtype=DECIMAL))
        else:
            series.append(pl.Series(name, values))
    return pl.DataFrame(series)


def amounts(rated: pl.DataFrame, column: str = "expected_amount") -> list:
    return rated[column].to_list()


def rate_one(schedule, class_name: str, **inputs) -> Decimal:
    rows = table(cls=[class_name], **{k: [v] for k, v in inputs.items()})
    return rate_bills(rows, schedule, class_column="cls")["expected_amount"].item()


@pytest.fixture(scope="module")
def mulvane(tmp_path_factory):
    return write_schedule(tmp_path_factory.mktemp("mulvane"), MULVANE)


@pytest.fixture(scope="module")
def fullerton(tmp_path_factory):
    return write_schedule(tmp_path_factory.mktemp("fullerton"), FULLERTON)


# Golden bills ----------------------------------------------------------------------


def test_flat_and_winter_average_bill(mulvane):
    rated = rate_bills(table(cls=["RESIDENTIAL_SINGLE"], winter_average=[D("4.488")]),
                       mulvane, class_column="cls")
    # 21.00 * 2 = 42.00; 5.25 * 4.488 * 2 = 47.124 -> 47.12; 42.00 + 47.12 = 89.12
    assert amounts(rated, "charge:service_charge") == [D("42.00")]
    assert amounts(rated, "charge:volume_charge") == [D("47.12")]
    assert amounts(rated) == [D("89.12")]


def test_volumetric_bill_rounds_half_up(mulvane):
    # 5.25 * 10.5 = 55.125 -> 55.13; 42.00 + 55.13 = 97.13
    assert rate_one(mulvane, "COMMERCIAL", usage_ccf=D("10.5")) == D("97.13")


def test_min_caps_usage_at_twice_winter_average(mulvane):
    # min(12, 2 * 4.488) = 8.976; 5.25 * 8.976 = 47.124 -> 47.12; + 42.00 = 89.12
    assert rate_one(mulvane, "CAPPED", usage_ccf=D("12"), winter_average=D("4.488")) == D("89.12")
    # min(6, 8.976) = 6; 5.25 * 6 = 31.50; + 42.00 = 73.50
    assert rate_one(mulvane, "CAPPED", usage_ccf=D("6"), winter_average=D("4.488")) == D("73.50")


def test_rows_keep_order_across_classes(mulvane):
    rows = table(cls=["COMMERCIAL", "RESIDENTIAL_SINGLE", "COMMERCIAL"],
                 usage_ccf=[D("1"), D("99"), D("2")],
                 winter_average=[D("99"), D("1"), D("99")])
    # 42 + 5.25 * 1; 42 + 5.25 * 1 * 2; 42 + 5.25 * 2
    assert amounts(rate_bills(rows, mulvane, class_column="cls")) == [
        D("47.25"), D("52.50"), D("52.50")]


def test_null_input_gives_null_amount(mulvane):
    rows = table(cls=["RESIDENTIAL_SINGLE", "RESIDENTIAL_SINGLE"],
                 winter_average=["", "2"])
    assert amounts(rate_bills(rows, mulvane, class_column="cls")) == [None, D("63.00")]


def test_text_numbers_are_parsed(mulvane):
    rows = table(cls=["COMMERCIAL"], usage_ccf=[" 10.5 "])
    assert amounts(rate_bills(rows, mulvane, class_column="cls")) == [D("97.13")]


def test_meter_size_lookup_and_tiers(fullerton):
    # Tier boundaries 7.5 - 1 = 6.5 and 20 - 1 = 19 kgal:
    # 6.5 * 3.123 = 20.2995; 12.5 * 3.42 = 42.75; 8.3 * 3.709 = 30.7847
    # commodity 93.8342 -> 93.83; service (1") 17.74; bill 111.57
    rated = rate_bills(table(cls=["RESIDENTIAL_SINGLE"], meter_size=['1"'],
                             usage_ccf=[D("27.3")]), fullerton, class_column="cls")
    assert amounts(rated, "charge:commodity_charge") == [D("93.83")]
    assert amounts(rated, "charge:service_charge") == [D("17.74")]
    assert amounts(rated) == [D("111.57")]


def test_meter_size_spellings_match(fullerton):
    # The file writes 1|1/2"; the input writes it with a space or an underscore.
    for spelling in ('1 1/2"', '1_1/2"', '1|1/2"'):
        assert rate_one(fullerton, "RESIDENTIAL_SINGLE", meter_size=spelling,
                        usage_ccf=D("0")) == D("32.52")


def test_two_column_lookup_and_tier_lists_by_column(fullerton):
    rows = table(cls=["RESIDENTIAL_MULTI"] * 2, meter_size=['3/4"', '5/8"'],
                 city_limits=["inside_city", "outside_city"], usage_ccf=[D("12"), D("12")])
    rated = rate_bills(rows, fullerton, class_column="cls")
    # Inside: boundaries 3 and 9; 3 * 3.123 + 6 * 3.42 + 3 * 3.709 = 41.016 -> 41.02;
    # service 17.74; bill 58.76.
    # Outside: starts 0, 1, 1 give boundaries 0 and 0, so all 12 kgal fall in the top
    # tier: 12 * 4.018 = 48.216 -> 48.22; service 14.78; bill 63.00.
    assert amounts(rated, "charge:commodity_charge") == [D("41.02"), D("48.22")]
    assert amounts(rated) == [D("58.76"), D("63.00")]


def test_formula_values_in_lookup(fullerton):
    rows = table(cls=["COMMERCIAL"] * 2, city_limits=["inside_city", "Outside City"],
                 usage_ccf=[D("10"), D("10")])
    # Inside: 2.985 * 10 = 29.85 + 20; outside: 2 * 1.5 * 10 = 30 + 20
    assert amounts(rate_bills(rows, fullerton, class_column="cls")) == [D("49.85"), D("50.00")]


def test_tier_starts_and_prices_by_different_columns(tmp_path):
    schedule = write_schedule(tmp_path, SANTA_MONICA)
    rows = table(cls=["IRRIGATION"] * 3, meter_size=['5/8"', '1 1/2"', '2"'],
                 water_type=["potable", "recycled", "mixed"],
                 usage_ccf=[D("250"), D("500"), D("2500")])
    rated = rate_bills(rows, schedule, class_column="cls")
    # 210 * 4.27 + 40 * 10.53 = 896.70 + 421.20 = 1317.90
    # 500 * 3.84 = 1920.00
    # 870 * 1 + 1129 * 2 + 501 * 3 = 870 + 2258 + 1503 = 4631.00
    assert amounts(rated) == [D("1317.90"), D("1920.00"), D("4631.00")]


def test_tier_lengths_differing_by_row_rejected(tmp_path):
    schedule = write_schedule(tmp_path, SANTA_MONICA)
    rows = table(cls=["IRRIGATION"], meter_size=['2"'], water_type=["potable"],
                 usage_ccf=[D("5")])
    with pytest.raises(InputError) as caught:
        rate_bills(rows, schedule, class_column="cls")
    [problem] = caught.value.problems
    assert problem.code == "tier_lengths_differ"
    assert "row 2 of the input table" in problem.message


def test_named_tier_set(tmp_path):
    schedule = one_class(tmp_path, """\
        sewer_charge: Tiered
        sewer_tier_starts: [0, 11]
        sewer_tier_prices: [2, 3]
        tier_starts: [0, 1]
        tier_prices: [100, 100]
        bill: sewer_charge
    """)
    # 10 * 2 + 5 * 3 = 35
    assert rate_one(schedule, "TEST", usage_ccf=D("15")) == D("35.00")


@pytest.mark.parametrize(("rounding", "first", "second", "total"), [
    ("half_up", "1.01", "2.68", "3.69"),
    ("half_even", "1.00", "2.68", "3.68"),
    ("down", "1.00", "2.67", "3.67"),
])
def test_components_rounded_before_sum(tmp_path, rounding, first, second, total):
    schedule = one_class(tmp_path, """\
        first_charge: 0.201 * usage_ccf
        second_charge: 0.535 * usage_ccf
        bill: first_charge + second_charge
    """, rounding)
    # usage 5: 1.005 and 2.675
    rated = rate_bills(table(cls=["TEST"], usage_ccf=[D("5")]), schedule, class_column="cls")
    assert amounts(rated, "charge:first_charge") == [D(first)]
    assert amounts(rated, "charge:second_charge") == [D(second)]
    assert amounts(rated) == [D(total)]


def test_intermediate_fields_not_rounded(tmp_path):
    schedule = one_class(tmp_path, """\
        third: 0.3333 * usage_ccf
        volume_charge: third * 3
        bill: volume_charge
    """)
    # 0.3333 * 3 = 0.9999 -> 1.00 (rounding `third` first would give 0.99)
    assert rate_one(schedule, "TEST", usage_ccf=D("1")) == D("1.00")


def test_bill_multiplier_applies_to_rounded_components(tmp_path):
    schedule = one_class(tmp_path, """\
        service_charge: 10.005
        commodity_charge: 1.111 * usage_ccf
        bill: 1.02 * (service_charge + commodity_charge)
    """)
    # 10.005 -> 10.01; 1.111 * 3 = 3.333 -> 3.33; 1.02 * 13.34 = 13.6068 -> 13.61
    assert rate_one(schedule, "TEST", usage_ccf=D("3")) == D("13.61")


def test_numbers_as_strings_and_folded_bill(tmp_path):
    schedule = one_class(tmp_path, """\
        flat_rate: "2.1"
        service_charge: '5'
        commodity_charge: flat_rate*usage_ccf
        bill: >-
          service_charge
          + commodity_charge
    """)
    # 5 + 2.1 * 10 = 26
    assert rate_one(schedule, "TEST", usage_ccf=D("10")) == D("26.00")


def test_formula_over_any_input_column(tmp_path):
    schedule = one_class(tmp_path, """\
        customer_charge: 21.00
        months_in_cycle: 2
        service_charge: customer_charge * dwelling_units * months_in_cycle
        outside_city_surcharge: 5.00 * outside_city
        bill: service_charge + outside_city_surcharge
    """)
    rows = table(cls=["TEST"] * 2, dwelling_units=[D("3"), D("1")], outside_city=[True, False])
    # 21 * 3 * 2 + 5 * 1 = 131; 21 * 1 * 2 + 5 * 0 = 42
    assert amounts(rate_bills(rows, schedule, class_column="cls")) == [D("131.00"), D("42.00")]
    trace = explain_bill(schedule, "TEST", {"dwelling_units": 3, "outside_city": True})
    assert trace.total == D("131.00")


def test_round_function(tmp_path):
    schedule = one_class(tmp_path, """\
        volume_charge: 3 * round(usage_ccf, 0)
        bill: volume_charge
    """)
    # round(2.5) = 3 (half-up); 3 * 3 = 9
    assert rate_one(schedule, "TEST", usage_ccf=D("2.5")) == D("9.00")


def test_empty_table(mulvane):
    rated = rate_bills(table(cls=pl.Series([], dtype=pl.String), winter_average=[]),
                       mulvane, class_column="cls")
    assert rated.height == 0
    assert "expected_amount" in rated.columns


# Errors ------------------------------------------------------------------------------


def test_missing_lookup_key_names_values_and_rows(fullerton):
    rows = table(cls=["RESIDENTIAL_SINGLE"] * 4, meter_size=['3"', '1"', '3"', "10\""],
                 usage_ccf=[D("1")] * 4, source_row=[10, 11, 12, 13])
    with pytest.raises(InputError) as caught:
        rate_bills(rows, fullerton, class_column="cls", source="profiles.csv")
    problems = caught.value.problems
    assert [p.value for p in problems] == ['10"', '3"']
    three = problems[1]
    assert three.code == "lookup_key_missing"
    assert "rows 10, 12 of profiles.csv" in three.message
    assert three.line == 8   # the line of service_charge in FULLERTON
    assert '5/8", 3/4", 1", 1|1/2", 2"' in three.expected


def test_missing_tier_list_key_reported_once(tmp_path):
    schedule = write_schedule(tmp_path, SANTA_MONICA)
    rows = table(cls=["IRRIGATION"] * 2, meter_size=['5/8"', '3"'],
                 water_type=["potable", "potable"], usage_ccf=[D("5"), D("5")])
    with pytest.raises(InputError) as caught:
        rate_bills(rows, schedule, class_column="cls")
    [problem] = caught.value.problems
    assert problem.code == "lookup_key_missing"
    assert problem.value == '3"'
    assert "row 3 of the input table" in problem.message


def test_blank_lookup_key_gives_null_amount(fullerton):
    rows = table(cls=["RESIDENTIAL_SINGLE"] * 2, meter_size=[" ", None],
                 usage_ccf=[D("1"), D("1")])
    assert amounts(rate_bills(rows, fullerton, class_column="cls")) == [None, None]
    trace = explain_bill(fullerton, "RESIDENTIAL_SINGLE", {"meter_size": "", "usage_ccf": "1"})
    assert trace.total is None


def test_class_not_in_schedule(mulvane):
    rows = table(cls=["INDUSTRIAL", "COMMERCIAL", "INDUSTRIAL"], usage_ccf=[D("1")] * 3)
    with pytest.raises(InputError) as caught:
        rate_bills(rows, mulvane, class_column="cls", source="profiles.csv")
    [problem] = caught.value.problems
    assert problem.code == "class_not_in_schedule"
    assert problem.value == "INDUSTRIAL"
    assert "rows 2, 4 of profiles.csv" in problem.message
    assert (problem.file, problem.row, problem.column) == ("profiles.csv", 2, "cls")
    assert "RESIDENTIAL_SINGLE" in problem.expected


def test_input_column_missing(mulvane):
    rows = table(cls=["RESIDENTIAL_SINGLE"], usage_ccf=[D("1")])
    with pytest.raises(InputError) as caught:
        rate_bills(rows, mulvane, class_column="cls", source="profiles.csv")
    [problem] = caught.value.problems
    assert problem.code == "unknown_variable"
    assert problem.column == "winter_average"
    assert problem.line == 12


def test_non_numeric_values_listed_once(mulvane):
    rows = table(cls=["COMMERCIAL"] * 4, usage_ccf=["1,200", "5", "1,200", "n/a"])
    with pytest.raises(InputError) as caught:
        rate_bills(rows, mulvane, class_column="cls", source="bills.csv")
    problems = caught.value.problems
    assert [(p.value, p.row) for p in problems] == [("1,200", 2), ("n/a", 5)]
    assert "rows 2, 4" in problems[0].message
    assert problems[0].file == "bills.csv"


def test_division_by_zero_names_rows(tmp_path):
    schedule = one_class(tmp_path, """\
        per_unit_charge: 30 / dwelling_units
        bill: per_unit_charge
    """)
    rows = table(cls=["TEST"] * 3, dwelling_units=[D("2"), D("0"), D("3")])
    with pytest.raises(InputError) as caught:
        rate_bills(rows, schedule, class_column="cls")
    [problem] = caught.value.problems
    assert problem.code == "division_by_zero"
    assert "row 3 of the input table" in problem.message


# Tiers -------------------------------------------------------------------------------


def test_tier_split_of_reference_example():
    starts = (D(0), D(15), D(21), D(26))
    assert split_usage(D("27.3"), starts) == [D(14), D(6), D(5), D("2.3")]


def test_tier_lines_show_starts_and_ends():
    lines = tier_lines(D("27.3"), (D(0), D(15), D(41)), (D("3.01"), D("4.50"), D("6.76")))
    assert [(line.start, line.end, line.volume) for line in lines] == [
        (D(0), D(14), D(14)), (D(15), D(40), D("13.3")), (D(41), None, D(0))]
    # 14 * 3.01 + 13.3 * 4.50 = 42.14 + 59.85
    assert tiered_amount(lines) == D("101.99")


ascending_starts = st.lists(
    st.decimals(min_value=0, max_value=500, places=2), min_size=0, max_size=5,
).map(lambda rest: (D(0), *sorted(rest)))
usages = st.decimals(min_value=-10, max_value=1000, places=3)


@given(ascending_starts, usages)
@settings(max_examples=200, deadline=None)
def test_tier_volumes_sum_to_usage(starts, usage):
    volumes = split_usage(usage, starts)
    assert sum(volumes) == max(usage, D(0))
    assert all(volume >= 0 for volume in volumes)


@given(ascending_starts, usages, usages, st.data())
@settings(max_examples=200, deadline=None)
def test_tier_charge_grows_with_usage(starts, first, second, data):
    prices = sorted(data.draw(st.lists(st.decimals(min_value=0, max_value=20, places=3),
                                       min_size=len(starts), max_size=len(starts))))
    low, high = sorted((first, second))
    low_charge = tiered_amount(tier_lines(low, starts, tuple(prices)))
    high_charge = tiered_amount(tier_lines(high, starts, tuple(prices)))
    assert low_charge <= high_charge


def test_tier_bounds_never_fall():
    # A start below an earlier one (possible only for starts computed per row) leaves
    # its tier empty: the boundary stays at the one below.
    assert tier_bounds([D(0), D(10), D(6), D(12)]) == [D(0), D(9), D(9), D(11)]
    assert tier_bounds([D(0), D("7.3"), D("10.9")], round_up=True) == [D(0), D(7), D(10)]


def test_tier_sets_from_field_names():
    names = ["tier_starts_commodity", "sewer_tier_prices", "budget_drought",
             "adjusted_budget", "tier_starts", "gpcd_commodity"]
    assert tier_sets(names) == ["commodity", "sewer", "drought"]


def test_default_field_dropped_only_for_given_columns(tmp_path):
    schedule = one_class(tmp_path, """\
        days_in_period: 30
        hhsize: 4
        indoor: hhsize * days_in_period
        bill: indoor
    """)
    rates = schedule.classes["TEST"]
    assert rates.defaults.keys() == {"days_in_period", "hhsize"}
    replaced = rates.with_input_columns({"days_in_period", "other"})
    assert "days_in_period" not in replaced.parts
    assert "days_in_period" in replaced.numeric_columns
    assert replaced.defaults.keys() == {"hhsize"}
    assert rates.with_input_columns({"other"}) is rates


# Traces ------------------------------------------------------------------------------


def test_summary_of_example_bill(mulvane):
    trace = explain_bill(mulvane, "RESIDENTIAL_SINGLE", {"winter_average": "4.488"})
    assert trace.summary() == (
        "RESIDENTIAL_SINGLE: service_charge = 21.00 * 2 = 42.00; volume_charge = "
        "5.25 * 4.488 * 2 = 47.12; bill = 89.12 (kgal, half-up per component)")
    assert trace.total == D("89.12")
    [service, volume] = trace.components
    assert (volume.value, volume.rounded) == (D("47.124"), D("47.12"))
    assert volume.formula == "volume_rate * winter_average * months_in_cycle"


def test_trace_of_tiered_bill(fullerton):
    trace = explain_bill(fullerton, "RESIDENTIAL_SINGLE",
                         {"meter_size": '1"', "usage_ccf": D("27.3")})
    commodity = trace.components[1]
    assert [(t.start, t.end, t.volume, t.price) for t in commodity.tiers] == [
        (D(0), D("6.5"), D("6.5"), D("3.123")),
        (D("7.5"), D(19), D("12.5"), D("3.42")),
        (D(20), None, D("8.3"), D("3.709")),
    ]
    assert trace.total == D("111.57")
    assert "tiers 6.5 * 3.123 + 12.5 * 3.42 + 8.3 * 3.709 = 93.83" in trace.summary()
    lines = trace.lines()
    assert lines[-1] == "bill = service_charge + commodity_charge = 17.74 + 93.83 = 111.57"
    assert "  tier 3: 20 and up: 8.3 * 3.709 = 30.7847" in lines


def test_trace_rejects_float_input(mulvane):
    with pytest.raises(TypeError):
        explain_bill(mulvane, "COMMERCIAL", {"usage_ccf": 1.5})


def test_trace_missing_input_column(mulvane):
    with pytest.raises(InputError) as caught:
        explain_bill(mulvane, "COMMERCIAL", {})
    assert caught.value.problems[0].code == "unknown_variable"


def test_explain_rows_follow_requested_order(fullerton):
    rows = table(cls=["RESIDENTIAL_SINGLE", "COMMERCIAL", "RESIDENTIAL_MULTI"],
                 meter_size=['1"', None, '5/8"'], city_limits=[None, "inside_city", "outside_city"],
                 usage_ccf=[D("27.3"), D("10"), D("12")])
    rated = rate_bills(rows, fullerton, class_column="cls")
    traces = explain_rows(rows, fullerton, "cls", [2, 0])
    assert [t.class_name for t in traces] == ["RESIDENTIAL_MULTI", "RESIDENTIAL_SINGLE"]
    assert [t.total for t in traces] == [amounts(rated)[2], amounts(rated)[0]]


RANDOM_CLASSES = ["RESIDENTIAL_SINGLE", "RESIDENTIAL_MULTI", "COMMERCIAL"]
random_rows = st.lists(st.tuples(
    st.sampled_from(RANDOM_CLASSES),
    st.sampled_from(['5/8"', '3/4"']),
    st.sampled_from(["inside_city", "outside_city"]),
    st.decimals(min_value=0, max_value=200, places=4),
), min_size=1, max_size=12)


@given(random_rows)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_explained_totals_equal_rated(fullerton, rows):
    classes, meters, cities, usages = zip(*rows, strict=True)
    frame = table(cls=list(classes), meter_size=list(meters), city_limits=list(cities),
                  usage_ccf=list(usages))
    rated = amounts(rate_bills(frame, fullerton, class_column="cls"))
    traced = [explain_bill(fullerton, cls, {"meter_size": meter, "city_limits": city,
                                            "usage_ccf": usage}).total
              for cls, meter, city, usage in rows]
    assert traced == rated
    assert [t.total for t in explain_rows(frame, fullerton, "cls",
                                          list(range(frame.height)))] == rated

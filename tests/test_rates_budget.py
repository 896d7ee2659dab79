"""Budget rates and tier starts that are percentages, formulas or columns.

Golden bills are worked out by hand in the comments. Budget charges round each tier
start up to a whole unit (RateParser's get_budget_tiers and get_usage_in_tiers);
Tiered charges use the starts as computed.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import explain_bill, explain_rows, load_schedule, rate_bills
from sewerline.engine.rates.formula import Name, referenced_names
from sewerline.engine.rates.parts import Percent, Tiered
from sewerline.engine.rates.tiers import split_usage, tier_lines, tiered_amount

D = Decimal

# Moulton Niguel Water District's rates of 2018-01-01 in OWRS, as the CaDC web form
# writes them (fields with the _commodity suffix), shortened to three classes.
MOULTON_NIGUEL = """\
metadata:
  effective_date: 01/01/2018
  utility_name: Moulton Niguel Water District
  bill_frequency: Monthly
  bill_unit: ccf
rate_structure:
  RESIDENTIAL_SINGLE:
    service_charge:
      depends_on:
        - meter_size
      values:
        5/8": 11.22
        1|1/2": 37.41
    commodity_charge: Budget
    gpcd_commodity: 55
    indoor_commodity: hhsize*gpcd*days_in_period*(1/748)
    outdoor_commodity: landscape_factor*et_amount*irr_area*0.62*(1/748)
    budget_commodity: indoor+outdoor
    landscape_factor_commodity: .7
    tier_starts_commodity:
      - 0
      - indoor
      - 100%
      - 125%
      - 150%
    tier_prices_commodity:
      - 1.69
      - 1.94
      - 3.32
      - 5.12
      - 9.59
    bill: service_charge+commodity_charge
  IRRIGATION:
    service_charge:
      depends_on:
        - meter_size
      values:
        5/8": 18.06
    commodity_charge: Budget
    outdoor_commodity: landscape_factor*et_amount*irr_area*0.62*(1/748)
    budget_commodity: outdoor
    landscape_factor_commodity: .7
    tier_starts_commodity:
      - 0
      - outdoor
      - 125%
      - 150%
    tier_prices_commodity:
      - 1.94
      - 3.32
      - 5.12
      - 9.59
    bill: service_charge+commodity_charge
  COMMERCIAL:
    service_charge:
      depends_on:
        - meter_size
      values:
        5/8": 5.54
    commodity_charge: Budget
    budget_commodity: rolling_average
    tier_starts_commodity:
      - 0
      - 100%
      - 125%
      - 150%
    tier_prices_commodity:
      - 1.94
      - 3.32
      - 5.12
      - 9.59
    bill: service_charge+commodity_charge
"""

HOUSEHOLD = {"meter_size": '5/8"', "hhsize": "4", "days_in_period": "30", "et_amount": "5",
             "irr_area": "2000"}


def write_schedule(folder, text: str, name: str = "rates.owrs"):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return load_schedule(path)


def one_class(folder, body: str):
    header = textwrap.dedent("""\
        metadata:
          effective_date: 2016-01-01
          utility_name: Test Utility
          bill_frequency: monthly
        rate_structure:
          TEST:
        """)
    return write_schedule(folder, header + textwrap.indent(textwrap.dedent(body), "    "))


def line_of(schedule, text: str) -> int:
    lines = open(schedule.path, encoding="utf-8").read().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def problems_of(folder, body: str):
    with pytest.raises(InputError) as caught:
        one_class(folder, body)
    return caught.value.problems


def table(**columns) -> pl.DataFrame:
    """Build an input table; Decimal columns become DECIMAL."""
    series = []
    for name, values in columns.items():
        if any(isinstance(v, Decimal) for v in values):
            series.append(pl.Series(name, values, dtype=DECIMAL))
        else:
            series.append(pl.Series(name, values))
    return pl.DataFrame(series)


def rate_rows(schedule, class_name: str, rows: list[dict]) -> list:
    frame = table(cls=[class_name] * len(rows),
                  **{column: [row[column] for row in rows] for column in rows[0]})
    return rate_bills(frame, schedule, class_column="cls")["expected_amount"].to_list()


def rate_one(schedule, class_name: str, **inputs) -> Decimal | None:
    return rate_rows(schedule, class_name, [inputs])[0]


@pytest.fixture(scope="module")
def moulton_niguel(tmp_path_factory):
    return write_schedule(tmp_path_factory.mktemp("mnwd"), MOULTON_NIGUEL)


# Golden bills ----------------------------------------------------------------------


def test_indoor_outdoor_budget_bill(moulton_niguel):
    # 1/748 = 0.001336898396 at 12 digits.
    # indoor = 4 * 55 * 30 * 0.001336898396 = 8.823529413600
    # outdoor = 0.7 * 5 * 2000 * 0.62 * 0.001336898396 = 5.802139038640
    # budget = 14.625668452240; 125% = 18.282085565300; 150% = 21.938502678360
    # Starts rounded up: 0, 9, 15, 19, 22, so the tiers hold 8, 6, 4, 3 and 9 ccf of 30:
    # 8 * 1.69 + 6 * 1.94 + 4 * 3.32 + 3 * 5.12 + 9 * 9.59
    # = 13.52 + 11.64 + 13.28 + 15.36 + 86.31 = 140.11; service 11.22; bill 151.33
    inputs = {**HOUSEHOLD, "usage_ccf": D("30")}
    assert rate_one(moulton_niguel, "RESIDENTIAL_SINGLE", **inputs) == D("151.33")
    trace = explain_bill(moulton_niguel, "RESIDENTIAL_SINGLE", inputs)
    [_, commodity] = trace.components
    assert [(t.start, t.volume) for t in commodity.tiers] == [
        (D(0), D(8)), (D(9), D(6)), (D(15), D(4)), (D(19), D(3)), (D(22), D(9))]
    assert commodity.tiers[1].written == "indoor"
    assert commodity.tiers[1].unrounded == D("8.8235294136")
    assert "  tier 3: 100% = 14.62566845224, rounded up to 15, to 18: 4 * 3.32 = 13.28" in (
        trace.lines())


def test_outdoor_budget_bill(moulton_niguel):
    # outdoor = budget = 5.802139038640; 125% = 7.252673798300; 150% = 8.703208557960
    # Starts rounded up: 0, 6, 8, 9, so 30 ccf split into 5, 2, 1 and 22:
    # 5 * 1.94 + 2 * 3.32 + 1 * 5.12 + 22 * 9.59 = 9.70 + 6.64 + 5.12 + 210.98 = 232.44
    # service 18.06; bill 250.50
    inputs = {**HOUSEHOLD, "usage_ccf": D("30")}
    assert rate_one(moulton_niguel, "IRRIGATION", **inputs) == D("250.50")


def test_budget_from_input_column(moulton_niguel):
    # budget = rolling_average = 20; starts 0, 20, 25, 30 split 30 ccf into 19, 5, 5, 1:
    # 19 * 1.94 + 5 * 3.32 + 5 * 5.12 + 1 * 9.59 = 36.86 + 16.60 + 25.60 + 9.59 = 88.65
    # service 5.54; bill 94.19
    assert rate_one(moulton_niguel, "COMMERCIAL", meter_size='5/8"', rolling_average=D(20),
                    usage_ccf=D(30)) == D("94.19")
    assert moulton_niguel.classes["COMMERCIAL"].numeric_columns.keys() == {
        "usage_ccf", "rolling_average"}


def test_suffixed_fields_found_by_short_name(moulton_niguel):
    rates = moulton_niguel.classes["RESIDENTIAL_SINGLE"]
    indoor = rates.parts["indoor_commodity"]
    assert referenced_names(indoor.node) == ["hhsize", "gpcd_commodity", "days_in_period"]
    assert indoor.text == "hhsize*gpcd*days_in_period*(1/748)"
    assert rates.parts["tier_starts_commodity"].values[1].node == Name("indoor_commodity")
    charge = rates.parts["commodity_charge"]
    assert (charge.kind, charge.budget) == ("Budget", "budget_commodity")
    assert set(rates.numeric_columns) == {"hhsize", "days_in_period", "et_amount",
                                          "irr_area", "usage_ccf"}


def test_budget_rounds_starts_up_but_tiered_does_not(tmp_path):
    for kind, expected in (("Budget", "28.00"), ("Tiered", "28.50")):
        schedule = one_class(tmp_path, f"""\
            commodity_charge: {kind}
            tier_starts: [0, 100%]
            tier_prices: [1, 2]
            bill: commodity_charge
        """)
        # Budget 12.5: Budget starts tier 2 at 13, so 12 * 1 + 8 * 2 = 28;
        # Tiered starts it at 12.5, so 11.5 * 1 + 8.5 * 2 = 28.5.
        assert rate_one(schedule, "TEST", budget=D("12.5"), usage_ccf=D(20)) == D(expected)


def test_formula_and_column_tier_starts(tmp_path):
    schedule = one_class(tmp_path, """\
        indoor: hhsize * 2
        commodity_charge: Tiered
        tier_starts: [0, outdoor, indoor + outdoor]
        tier_prices: [1, 2, 3]
        bill: commodity_charge
    """)
    # indoor 6, outdoor 4: starts 0, 4, 10; 12 units split 3, 6, 3: 3 + 12 + 9 = 24
    assert rate_one(schedule, "TEST", hhsize=D(3), outdoor=D(4), usage_ccf=D(12)) == D("24.00")


def test_prorated_tier_starts(tmp_path):
    schedule = one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts: [0, 15 * proration_factor, 30 * proration_factor]
        tier_prices: [2, 3, 4]
        bill: commodity_charge
    """)
    rows = [{"proration_factor": D("0.5"), "usage_ccf": D(20)},
            {"proration_factor": D(1), "usage_ccf": D(20)}]
    # Half a period: starts 0, 7.5, 15, so 6.5 * 2 + 7.5 * 3 + 6 * 4 = 13 + 22.5 + 24
    # A whole period: starts 0, 15, 30, so 14 * 2 + 6 * 3 = 28 + 18
    assert rate_rows(schedule, "TEST", rows) == [D("59.50"), D("46.00")]


def test_tier_starts_by_column_with_percentages(tmp_path):
    schedule = one_class(tmp_path, """\
        commodity_charge: Budget
        budget: outdoor
        tier_starts:
          depends_on: water_type
          values:
            potable: [0, 100%, 150%]
            recycled: [0, outdoor]
        tier_prices:
          depends_on: water_type
          values:
            potable: [1, 2, 3]
            recycled: [0.5, 1]
        bill: commodity_charge
    """)
    rows = [{"water_type": "potable", "outdoor": D(10), "usage_ccf": D(20)},
            {"water_type": "recycled", "outdoor": D("4.2"), "usage_ccf": D(20)}]
    # Potable: starts 0, 10, 15, so 9 * 1 + 5 * 2 + 6 * 3 = 37
    # Recycled: outdoor 4.2 rounds up to 5, so 4 * 0.5 + 16 * 1 = 18
    assert rate_rows(schedule, "TEST", rows) == [D("37.00"), D("18.00")]
    traces = explain_rows(table(cls=["TEST"] * 2, water_type=["potable", "recycled"],
                                outdoor=[D(10), D("4.2")], usage_ccf=[D(20), D(20)]),
                          schedule, "cls", [1, 0])
    assert [t.total for t in traces] == [D("18.00"), D("37.00")]


def test_drought_surcharge_budget_and_per_day_charge(tmp_path):
    schedule = one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts_commodity: [0, 10]
        tier_prices_commodity: [2, 3]
        variable_drought_surcharge: Budget
        budget_drought: 8
        tier_starts_drought: [0, 100%]
        tier_prices_drought: [0, 0.5]
        fixed_drought_surcharge: 0.1 * days_in_period
        bill: commodity_charge + variable_drought_surcharge + fixed_drought_surcharge
    """)
    # commodity: 9 * 2 + 6 * 3 = 36; drought: 100% of 8 = 8, so 7 * 0 + 8 * 0.5 = 4;
    # fixed: 0.1 * 30 = 3; bill 43
    assert rate_one(schedule, "TEST", usage_ccf=D(15), days_in_period=D(30)) == D("43.00")
    surcharge = schedule.classes["TEST"].parts["variable_drought_surcharge"]
    assert (surcharge.starts, surcharge.budget) == ("tier_starts_drought", "budget_drought")


def test_days_in_period_field_is_default_for_column(tmp_path):
    schedule = one_class(tmp_path, """\
        days_in_period: 30.4
        service_charge: 0.5 * days_in_period
        bill: service_charge
    """)
    # Without the column the field gives 0.5 * 30.4 = 15.20; a column replaces it.
    assert rate_one(schedule, "TEST", other=D(1)) == D("15.20")
    assert rate_one(schedule, "TEST", days_in_period=D(28)) == D("14.00")
    assert rate_rows(schedule, "TEST", [{"days_in_period": None}]) == [None]
    trace = explain_bill(schedule, "TEST", {"days_in_period": "28"})
    assert trace.total == D("14.00")
    assert explain_bill(schedule, "TEST", {}).total == D("15.20")


def test_other_fields_are_not_replaced_by_columns(tmp_path):
    schedule = one_class(tmp_path, """\
        flat_rate: 2
        commodity_charge: flat_rate * usage_ccf
        bill: commodity_charge
    """)
    assert rate_one(schedule, "TEST", flat_rate=D(100), usage_ccf=D(3)) == D("6.00")


def test_start_below_earlier_start_leaves_tier_empty(tmp_path):
    schedule = one_class(tmp_path, """\
        commodity_charge: Budget
        tier_starts: [0, indoor, 100%]
        tier_prices: [1, 2, 3]
        bill: commodity_charge
    """)
    # indoor 10 starts tier 2 at 10; budget 6 would start tier 3 at 6, below it, so
    # tier 2 is empty and tier 3 starts at 10: 9 * 1 + 0 * 2 + 11 * 3 = 42
    assert rate_one(schedule, "TEST", indoor=D(10), budget=D(6), usage_ccf=D(20)) == D("42.00")
    trace = explain_bill(schedule, "TEST", {"indoor": 10, "budget": 6, "usage_ccf": 20})
    assert [t.volume for t in trace.components[0].tiers] == [D(9), D(0), D(11)]


def test_missing_budget_input_gives_null_bill(moulton_niguel):
    rows = [{**HOUSEHOLD, "usage_ccf": D(30)}, {**HOUSEHOLD, "usage_ccf": D(30)}]
    rows[1]["hhsize"] = None
    assert rate_rows(moulton_niguel, "RESIDENTIAL_SINGLE", rows) == [D("151.33"), None]
    trace = explain_bill(moulton_niguel, "RESIDENTIAL_SINGLE",
                         {**HOUSEHOLD, "hhsize": "", "usage_ccf": "30"})
    assert trace.total is None


def test_indoor_word_in_any_case(tmp_path):
    schedule = one_class(tmp_path, """\
        indoor: 5
        commodity_charge: Budget
        tier_starts: [0, Indoor]
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    # starts 0, 5: 4 * 1 + 6 * 2 = 16
    assert rate_one(schedule, "TEST", usage_ccf=D(10)) == D("16.00")


# Errors ------------------------------------------------------------------------------


def test_budget_column_missing_names_percent_line(tmp_path):
    schedule = one_class(tmp_path, """\
        commodity_charge: Budget
        tier_starts:
          - 0
          - 100%
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    with pytest.raises(InputError) as caught:
        rate_bills(table(cls=["TEST"], usage_ccf=[D(1)]), schedule, class_column="cls")
    [problem] = caught.value.problems
    assert problem.code == "unknown_variable"
    assert problem.column == "budget"
    assert problem.line == line_of(schedule, "- 100%")


def test_budget_that_is_the_charge_rejected(tmp_path):
    problems = problems_of(tmp_path, """\
        budget: Tiered
        tier_starts: [0, 101%]
        tier_prices: [1, 2]
        commodity_charge: budget
        bill: commodity_charge
    """)
    assert [p.code for p in problems] == ["budget_is_charge"]
    assert "budget field is budget itself" in problems[0].message


def test_budget_that_uses_the_charge_is_a_cycle(tmp_path):
    problems = problems_of(tmp_path, """\
        budget: commodity_charge * 2
        commodity_charge: Budget
        tier_starts: [0, 100%]
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    assert [p.code for p in problems] == ["formula_cycle"]
    assert "budget -> commodity_charge -> budget" in problems[0].message


def test_descending_percentages_rejected(tmp_path):
    [problem] = problems_of(tmp_path, """\
        commodity_charge: Budget
        budget: 10
        tier_starts: [0, 150%, 125%]
        tier_prices: [1, 2, 3]
        bill: commodity_charge
    """)
    assert problem.code == "tiers_not_ascending"
    assert "125% follows 150%" in problem.message


def test_first_start_must_be_zero_not_percent(tmp_path):
    [problem] = problems_of(tmp_path, """\
        commodity_charge: Budget
        budget: 10
        tier_starts: [100%, 150%]
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    assert problem.code == "tiers_not_ascending"
    assert "starts at 100%, not 0" in problem.message


def test_percent_price_rejected(tmp_path):
    [problem] = problems_of(tmp_path, """\
        commodity_charge: Budget
        budget: 10
        tier_starts: [0, 100%]
        tier_prices: [1, 150%]
        bill: commodity_charge
    """)
    assert problem.code == "tier_value_invalid"
    assert "cannot be a percentage" in problem.message


def test_unknown_name_in_tier_start_names_its_line(tmp_path):
    schedule = one_class(tmp_path, """\
        indoor: 5
        commodity_charge: Budget
        tier_starts:
          - 0
          - indor
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    with pytest.raises(InputError) as caught:
        rate_bills(table(cls=["TEST"], usage_ccf=[D(1)]), schedule, class_column="cls")
    [problem] = caught.value.problems
    assert (problem.code, problem.column) == ("unknown_variable", "indor")
    assert problem.line == line_of(schedule, "- indor")


def test_invalid_formula_in_tier_list(tmp_path):
    [problem] = problems_of(tmp_path, """\
        commodity_charge: Tiered
        tier_starts: [0, "indoor +"]
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    assert problem.code == "tier_value_invalid"
    assert "position 8" in problem.message


def test_ambiguous_short_name_rejected(tmp_path):
    [problem] = problems_of(tmp_path, """\
        gpcd_commodity: 55
        gpcd_drought: 60
        tier_starts_commodity: [0]
        tier_prices_commodity: [1]
        tier_starts_drought: [0]
        tier_prices_drought: [1]
        indoor: gpcd * hhsize
        bill: indoor
    """)
    assert problem.code == "name_ambiguous"
    assert "gpcd_commodity, gpcd_drought" in problem.message


def test_short_name_prefers_own_tier_set(tmp_path):
    schedule = one_class(tmp_path, """\
        rate_commodity: 2
        rate_drought: 3
        tier_starts_commodity: [0]
        tier_prices_commodity: [1]
        tier_starts_drought: [0]
        tier_prices_drought: [1]
        extra_drought: rate * usage_ccf
        bill: extra_drought
    """)
    assert rate_one(schedule, "TEST", usage_ccf=D(2)) == D("6.00")


def test_formula_in_one_value_list_used_as_number(tmp_path):
    schedule_text = """\
        flat_rate:
          depends_on: season
          values:
            summer:
              - 1.785*usage_ccf
        commodity_charge: flat_rate*usage_ccf
        bill: commodity_charge
    """
    [problem] = problems_of(tmp_path, schedule_text)
    assert problem.code == "lookup_value_kind"
    assert "one-value list holding the formula '1.785*usage_ccf'" in problem.message
    assert problem.line == 11   # the list item, below the 6 header lines


# Properties ------------------------------------------------------------------------

starts_in_any_order = st.lists(st.decimals(min_value=0, max_value=300, places=3),
                               min_size=0, max_size=5).map(lambda rest: (D(0), *rest))
usages = st.decimals(min_value=-10, max_value=1000, places=2)


@given(starts_in_any_order, usages, st.booleans())
@settings(max_examples=200, deadline=None, derandomize=True)
def test_tier_volumes_sum_to_usage_any_starts(starts, usage, round_up):
    volumes = split_usage(usage, starts, round_up=round_up)
    assert sum(volumes) == max(usage, D(0))
    assert all(volume >= 0 for volume in volumes)


PERCENT_SCHEDULE = """\
    indoor: hhsize * 2.5
    commodity_charge: {kind}
    tier_starts: [0, indoor, 100%, 125%, outdoor * 3]
    tier_prices: [{prices}]
    bill: commodity_charge
"""

budget_rows = st.lists(st.tuples(
    st.integers(min_value=0, max_value=8),                       # hhsize
    st.decimals(min_value=0, max_value=40, places=3),            # budget
    st.decimals(min_value=0, max_value=40, places=3),            # outdoor
    st.decimals(min_value=-5, max_value=300, places=2),          # usage
), min_size=1, max_size=20)


def budget_table(rows) -> pl.DataFrame:
    hhsize, budget, outdoor, usage = zip(*rows, strict=True)
    return table(cls=["TEST"] * len(rows), hhsize=[D(h) for h in hhsize],
                 budget=list(budget), outdoor=list(outdoor), usage_ccf=list(usage))


def schedules_of_both_kinds(folder, prices: str) -> list:
    schedules = []
    for kind in ("Budget", "Tiered"):
        (folder / kind).mkdir()
        schedules.append(one_class(folder / kind, PERCENT_SCHEDULE.format(kind=kind,
                                                                          prices=prices)))
    return schedules


@pytest.fixture(scope="module")
def unit_price_schedules(tmp_path_factory):
    return schedules_of_both_kinds(tmp_path_factory.mktemp("unit"), "1, 1, 1, 1, 1")


@given(budget_rows)
@settings(max_examples=60, deadline=None, derandomize=True)
def test_rated_tier_volumes_sum_to_usage(unit_price_schedules, rows):
    # With a price of 1 in every tier the charge is the usage billed, whatever the starts.
    frame = budget_table(rows)
    expected = [max(usage, D(0)) for *_, usage in rows]
    for schedule in unit_price_schedules:
        rated = rate_bills(frame, schedule, class_column="cls")["expected_amount"].to_list()
        assert rated == expected


@pytest.fixture(scope="module")
def inclining_schedules(tmp_path_factory):
    return schedules_of_both_kinds(tmp_path_factory.mktemp("inclining"),
                                   "1.5, 2.25, 3.5, 5.125, 9.59")


@given(budget_rows, st.decimals(min_value=0, max_value=50, places=2))
@settings(max_examples=60, deadline=None, derandomize=True)
def test_inclining_budget_bill_never_falls(inclining_schedules, rows, extra):
    frame = budget_table(rows)
    more = frame.with_columns(pl.col("usage_ccf") + pl.lit(extra).cast(DECIMAL))
    for schedule in inclining_schedules:
        low = rate_bills(frame, schedule, class_column="cls")["expected_amount"].to_list()
        high = rate_bills(more, schedule, class_column="cls")["expected_amount"].to_list()
        assert all(a <= b for a, b in zip(low, high, strict=True))


@given(budget_rows)
@settings(max_examples=40, deadline=None, derandomize=True)
def test_budget_traces_equal_rated(inclining_schedules, rows):
    frame = budget_table(rows)
    for schedule in inclining_schedules:
        rated = rate_bills(frame, schedule, class_column="cls")["expected_amount"].to_list()
        traces = explain_rows(frame, schedule, "cls", list(range(frame.height)))
        assert [trace.total for trace in traces] == rated


def test_tier_lines_round_budget_starts_up():
    lines = tier_lines(D(20), [D(0), D("12.5")], [D(1), D(2)], round_up=True,
                       written=["", "100%"])
    assert [(line.start, line.end, line.volume, line.unrounded) for line in lines] == [
        (D(0), D(12), D(12), None), (D(13), None, D(8), D("12.5"))]
    assert tiered_amount(lines) == D(28)


def test_parsed_percentages_keep_their_line(tmp_path):
    schedule = one_class(tmp_path, """\
        commodity_charge: Budget
        budget: 10
        tier_starts:
          - 0
          - 125.5%
        tier_prices: [1, 2]
        bill: commodity_charge
    """)
    rates = schedule.classes["TEST"]
    assert rates.parts["tier_starts"].values[1] == Percent(D("125.5"), line_of(schedule, "125.5%"))
    assert rates.parts["commodity_charge"] == Tiered(
        "tier_starts", "tier_prices", line_of(schedule, "Budget"), "Budget", "budget")

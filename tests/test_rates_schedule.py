"""Reading and validating OWRS rate files."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.money import Rounding
from sewerline.engine.rates import load_schedule
from sewerline.engine.rates.class_checks import tier_list_candidates
from sewerline.engine.rates.parts import Constant, Formula, Lookup, Tiered, TierList
from sewerline.engine.units import UsageUnit

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
"""

HEADER = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Test Utility
  bill_frequency: monthly
rate_structure:
"""


def write(tmp_path, text: str, name: str = "rates.owrs"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def one_class(tmp_path, body: str):
    """Write a rate file of one class TEST whose fields are `body` (unindented)."""
    indented = textwrap.indent(textwrap.dedent(body), "    ")
    return write(tmp_path, HEADER + "  TEST:\n" + indented)


def problems_of(path):
    with pytest.raises(InputError) as caught:
        load_schedule(path)
    return caught.value.problems


def line_of(path, fragment: str) -> int:
    """Return the 1-based line of the first line of the file containing `fragment`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


# Metadata ---------------------------------------------------------------------------


def test_load_example_schedule(tmp_path):
    schedule = load_schedule(write(tmp_path, MULVANE))
    assert schedule.utility_name == "Example Sewer District"
    assert schedule.effective_date == dt.date(2016, 1, 1)
    assert schedule.bill_frequency == "bimonthly"
    assert schedule.months_per_cycle == Decimal(2)
    assert schedule.bill_unit is UsageUnit.KGAL
    assert schedule.rounding is Rounding.HALF_UP
    assert list(schedule.classes) == ["RESIDENTIAL_SINGLE", "COMMERCIAL"]
    assert schedule.data_columns("RESIDENTIAL_SINGLE") == {"winter_average"}
    assert schedule.data_columns("COMMERCIAL") == {"usage_ccf"}


def test_load_components_are_bill_fields(tmp_path):
    schedule = load_schedule(write(tmp_path, MULVANE))
    assert schedule.classes["COMMERCIAL"].components == ("service_charge", "volume_charge")


@pytest.mark.parametrize(("written", "expected"), [
    ("2016-01-01", dt.date(2016, 1, 1)),
    ("07/01/2017", dt.date(2017, 7, 1)),
    ("7/1/2017", dt.date(2017, 7, 1)),
    ("'2017-07-1'", dt.date(2017, 7, 1)),
    ("07-15-2017", dt.date(2017, 7, 15)),
])
def test_effective_date_formats(tmp_path, written, expected):
    text = MULVANE.replace("effective_date: 2016-01-01", f"effective_date: {written}")
    assert load_schedule(write(tmp_path, text)).effective_date == expected


def test_effective_date_invalid_names_line(tmp_path):
    path = write(tmp_path, MULVANE.replace("2016-01-01", "13/45/2016"))
    [problem] = problems_of(path)
    assert problem.code == "metadata_invalid"
    assert problem.line == 2
    assert problem.value == "13/45/2016"


@pytest.mark.parametrize(("written", "name", "months"), [
    ("Monthly", "monthly", Decimal(1)),
    ("Bi-Monthly", "bimonthly", Decimal(2)),
    ("Bimonthly", "bimonthly", Decimal(2)),
    ("quarterly", "quarterly", Decimal(3)),
    ("Annual", "annual", Decimal(12)),
])
def test_bill_frequency_normalized(tmp_path, written, name, months):
    schedule = load_schedule(write(tmp_path, MULVANE.replace("bimonthly", written)))
    assert schedule.bill_frequency == name
    assert schedule.months_per_cycle == months


def test_bill_frequency_unknown_rejected(tmp_path):
    [problem] = problems_of(write(tmp_path, MULVANE.replace("bimonthly", "fortnightly")))
    assert problem.code == "metadata_invalid"
    assert problem.line == 4


def test_bill_unit_defaults_to_ccf(tmp_path):
    schedule = load_schedule(write(tmp_path, MULVANE.replace("  bill_unit: kgal\n", "")))
    assert schedule.bill_unit is UsageUnit.CCF


def test_rounding_extension(tmp_path):
    text = MULVANE.replace("  bill_unit: kgal\n", "  bill_unit: kgal\n  rounding: half_even\n")
    assert load_schedule(write(tmp_path, text)).rounding is Rounding.HALF_EVEN


def test_rounding_unknown_names_line(tmp_path):
    text = MULVANE.replace("  bill_unit: kgal\n", "  bill_unit: kgal\n  rounding: banker\n")
    [problem] = problems_of(write(tmp_path, text))
    assert problem.code == "metadata_invalid"
    assert problem.line == 6


def test_missing_metadata_listed_together(tmp_path):
    text = MULVANE.replace("  utility_name: Example Sewer District\n", "").replace(
        "  bill_frequency: bimonthly\n", "")
    codes = {(p.code, p.column) for p in problems_of(write(tmp_path, text))}
    assert codes == {("metadata_missing", "utility_name"), ("metadata_missing", "bill_frequency")}


def test_invalid_yaml_names_line(tmp_path):
    path = write(tmp_path, MULVANE.replace("    volume_rate: 5.25\n    months_in_cycle: 2\n"
                                           "    service_charge: customer_charge * months",
                                           "    volume_rate: 5.25\n     months_in_cycle: 2\n"
                                           "    service_charge: customer_charge * months", 1))
    [problem] = problems_of(path)
    assert problem.code == "rate_file_invalid_yaml"
    assert problem.line in (line_of(path, "     months_in_cycle"),
                            line_of(path, "     months_in_cycle") + 1)


# Fields -----------------------------------------------------------------------------


def test_numbers_written_as_strings(tmp_path):
    path = one_class(tmp_path, """\
        flat_rate: "2.1"
        tier_starts: ["0", "7.5"]
        tier_prices: ['3', 4]
        commodity_charge: Tiered
        bill: flat_rate * usage_ccf + commodity_charge
    """)
    parts = load_schedule(path).classes["TEST"].parts
    assert parts["flat_rate"] == Constant(Decimal("2.1"), line_of(path, "flat_rate"))
    assert parts["tier_starts"].values == (Decimal(0), Decimal("7.5"))
    assert parts["tier_prices"].values == (Decimal(3), Decimal(4))


def test_folded_formula(tmp_path):
    schedule = load_schedule(one_class(tmp_path, """\
        service_charge: 10
        commodity_charge: 2 * usage_ccf
        fixed_wastewater_charge: 3
        bill: >-
          service_charge+commodity_charge
          +fixed_wastewater_charge
    """))
    rates = schedule.classes["TEST"]
    assert isinstance(rates.parts["bill"], Formula)
    assert rates.components == ("service_charge", "commodity_charge", "fixed_wastewater_charge")


def test_one_value_lists_read_as_numbers(tmp_path):
    path = one_class(tmp_path, """\
        flat_rate:
          depends_on: season
          values:
            Summer: [1.785]
            Winter: [0.833]
        bill: flat_rate * usage_ccf
    """)
    lookup = load_schedule(path).classes["TEST"].parts["flat_rate"]
    assert isinstance(lookup, Lookup)
    assert lookup.entries["summer"] == Constant(Decimal("1.785"), line_of(path, "Summer"))


def test_lookup_key_spellings_are_one_key(tmp_path):
    schedule = load_schedule(one_class(tmp_path, """\
        service_charge:
          depends_on: meter_size
          values:
            1 1/2": 32.52
            1_1/2": 32.52
            1|1/2": 32.52
        bill: service_charge
    """))
    lookup = schedule.classes["TEST"].parts["service_charge"]
    assert list(lookup.entries) == ['1 1/2"']
    assert lookup.keys_as_written == {'1 1/2"': '1 1/2"'}


def test_lookup_two_column_keys(tmp_path):
    schedule = load_schedule(one_class(tmp_path, """\
        service_charge:
          depends_on: [meter_size, city_limits]
          values:
            5/8"|inside_city: 14.78
            1|1/2"|outside_city: 32.52
        bill: service_charge
    """))
    lookup = schedule.classes["TEST"].parts["service_charge"]
    assert set(lookup.entries) == {'5/8" inside city', '1 1/2" outside city'}
    assert schedule.data_columns("TEST") == {"meter_size", "city_limits"}


def test_lookup_same_key_different_values_rejected(tmp_path):
    path = one_class(tmp_path, """\
        service_charge:
          depends_on: meter_size
          values:
            1 1/2": 32.52
            1|1/2": 40.00
        bill: service_charge
    """)
    [problem] = problems_of(path)
    assert problem.code == "lookup_key_repeated"
    assert problem.line == line_of(path, '1|1/2"')


@pytest.mark.parametrize(("charge", "starts"), [
    ("commodity_charge", "tier_starts_commodity"),
    ("sewer_charge", "sewer_tier_starts"),
    ("variable_drought_surcharge", "tier_starts_drought"),
    ("volume_charge", "tier_starts"),
])
def test_named_tier_sets_resolved(tmp_path, charge, starts):
    prices = starts.replace("starts", "prices")
    path = one_class(tmp_path, f"""\
        {charge}: Tiered
        {starts}: [0, 10]
        {prices}: [1, 2]
        bill: {charge}
    """)
    tiered = load_schedule(path).classes["TEST"].parts[charge]
    assert tiered == Tiered(starts, prices, line_of(path, "Tiered"))


def test_named_tier_set_preferred_over_plain(tmp_path):
    schedule = load_schedule(one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts: [0, 5]
        tier_prices: [9, 9]
        tier_starts_commodity: [0, 10]
        tier_prices_commodity: [1, 2]
        bill: commodity_charge
    """))
    assert schedule.classes["TEST"].parts["commodity_charge"].starts == "tier_starts_commodity"


def test_tier_list_candidates_order():
    assert tier_list_candidates("sewer_charge")[:4] == [
        ("tier_starts_sewer", "tier_prices_sewer"),
        ("sewer_tier_starts", "sewer_tier_prices"),
        ("tier_starts_sewer_charge", "tier_prices_sewer_charge"),
        ("sewer_charge_tier_starts", "sewer_charge_tier_prices"),
    ]
    assert tier_list_candidates("sewer_charge")[-1] == ("tier_starts", "tier_prices")


def test_tier_lists_may_depend_on_column(tmp_path):
    schedule = load_schedule(one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts:
          depends_on: meter_size
          values:
            5/8": [0, 211]
            2": [0, 871]
        tier_prices:
          depends_on: water_type
          values:
            potable: [4.27, 10.53]
            recycled: [3.84, 3.84]
        bill: commodity_charge
    """))
    assert schedule.data_columns("TEST") == {"meter_size", "water_type", "usage_ccf"}
    assert isinstance(schedule.classes["TEST"].parts["tier_starts"].entries['5/8"'], TierList)


# Errors ----------------------------------------------------------------------------


def test_unknown_variable_names_line_and_columns(tmp_path):
    text = MULVANE.replace("volume_rate * winter_average", "volume_rate * winter_avg")
    path = write(tmp_path, text)
    schedule = load_schedule(path)
    problems = schedule.validate_columns({"account_id", "winter_average", "usage_ccf"},
                                         "profiles.csv")
    [problem] = problems
    assert problem.code == "unknown_variable"
    assert problem.line == line_of(path, "winter_avg")
    assert problem.file == str(path)
    assert "'winter_avg'" in problem.message
    assert "RESIDENTIAL_SINGLE" in problem.message
    assert "neither a field of the class nor a column of profiles.csv" in problem.message
    assert "account_id, usage_ccf, winter_average" in problem.expected


def test_validate_columns_only_given_classes(tmp_path):
    schedule = load_schedule(write(tmp_path, MULVANE))
    assert schedule.validate_columns({"usage_ccf"}, "bills.csv", ["COMMERCIAL"]) == []
    assert len(schedule.validate_columns({"usage_ccf"}, "bills.csv")) == 1


def test_cycle_rejected(tmp_path):
    path = one_class(tmp_path, """\
        service_charge: surcharge * 2
        surcharge: service_charge + 1
        bill: service_charge
    """)
    [problem] = problems_of(path)
    assert problem.code == "formula_cycle"
    assert "service_charge -> surcharge -> service_charge" in problem.message
    assert problem.line == line_of(path, "service_charge: surcharge")


def test_tiers_not_ascending_rejected(tmp_path):
    path = one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts: [0, 30, 13]
        tier_prices: [1, 2, 3]
        bill: commodity_charge
    """)
    [problem] = problems_of(path)
    assert problem.code == "tiers_not_ascending"
    assert problem.line == line_of(path, "tier_starts:")
    assert "13 follows 30" in problem.message


def test_equal_tier_starts_allowed(tmp_path):
    schedule = load_schedule(one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts: [0, 1, 1]
        tier_prices: [4.018, 4.018, 4.018]
        bill: commodity_charge
    """))
    assert "TEST" in schedule.classes


def test_first_tier_must_start_at_zero(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts: [5, 10]
        tier_prices: [1, 2]
        bill: commodity_charge
    """))
    assert problem.code == "tiers_not_ascending"
    assert "not 0" in problem.message


def test_tier_length_mismatch_rejected(tmp_path):
    path = one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts_commodity: [0, 5, 7]
        tier_prices_commodity: [1, 2]
        bill: commodity_charge
    """)
    [problem] = problems_of(path)
    assert problem.code == "tier_lengths_differ"
    assert "3 tier starts but 2 tier prices" in problem.message
    assert problem.line == line_of(path, "tier_prices_commodity")


def test_tier_length_mismatch_per_key(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts:
          depends_on: city_limits
          values:
            inside_city: [0, 4]
            outside_city: [0, 1, 2]
        tier_prices:
          depends_on: city_limits
          values:
            inside_city: [1, 2]
            outside_city: [1, 2]
        bill: commodity_charge
    """))
    assert problem.code == "tier_lengths_differ"
    assert "'outside_city'" in problem.message


def test_tier_length_mismatch_across_columns(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        commodity_charge: Tiered
        tier_starts:
          depends_on: meter_size
          values:
            5/8": [0, 4]
            1": [0, 8]
        tier_prices:
          depends_on: water_type
          values:
            potable: [1, 2, 3]
        bill: commodity_charge
    """))
    assert problem.code == "tier_lengths_differ"
    assert "2 tier starts but 3 tier prices" in problem.message


def test_tiered_without_lists_rejected(tmp_path):
    path = one_class(tmp_path, """\
        sewer_charge: Tiered
        bill: sewer_charge
    """)
    [problem] = problems_of(path)
    assert problem.code == "tier_lists_missing"
    assert problem.line == line_of(path, "sewer_charge: Tiered")
    assert "sewer_tier_starts" in problem.expected


def test_tiered_without_prices_rejected(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        sewer_charge: Tiered
        sewer_tier_starts: [0, 5]
        bill: sewer_charge
    """))
    assert problem.code == "tier_lists_missing"
    assert "sewer_tier_prices" in problem.message


def test_bill_missing_rejected(tmp_path):
    path = one_class(tmp_path, "service_charge: 10\n")
    [problem] = problems_of(path)
    assert problem.code == "bill_missing"
    assert problem.line == line_of(path, "TEST:")


def test_formula_syntax_error_names_line_and_position(tmp_path):
    path = one_class(tmp_path, """\
        service_charge: 10
        commodity_charge: 2 * * usage_ccf
        bill: service_charge + commodity_charge
    """)
    [problem] = problems_of(path)
    assert problem.code == "formula_invalid"
    assert problem.line == line_of(path, "commodity_charge: 2")
    assert "position 4" in problem.message
    assert problem.value == "2 * * usage_ccf"


def test_lookup_mixing_lists_and_numbers_rejected(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        service_charge:
          depends_on: meter_size
          values:
            5/8": 14.78
            1": [1, 2]
        bill: service_charge
    """))
    assert problem.code == "lookup_value_kind"


def test_lookup_nested_mapping_rejected(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        service_charge:
          depends_on: meter_size
          values:
            5/8":
              inside: 1
        bill: service_charge
    """))
    assert problem.code == "lookup_value_kind"


def test_list_used_as_number_rejected(tmp_path):
    path = one_class(tmp_path, """\
        rates: [1, 2]
        bill: rates * usage_ccf
    """)
    [problem] = problems_of(path)
    assert problem.code == "lookup_value_kind"
    assert problem.line == line_of(path, "bill:")


def test_lookup_without_values_rejected(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        service_charge:
          depends_on: meter_size
        bill: service_charge
    """))
    assert problem.code == "lookup_invalid"


def test_lookup_key_with_too_few_parts_rejected(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        service_charge:
          depends_on: [city_limits, lot_area]
          values:
            inside_city: 0.0076 * lot_area
        bill: service_charge
    """))
    assert problem.code == "lookup_key_parts"


def test_budget_without_tier_lists_rejected(tmp_path):
    [problem] = problems_of(one_class(tmp_path, """\
        commodity_charge: Budget
        bill: commodity_charge
    """))
    assert problem.code == "tier_lists_missing"
    assert "commodity_charge is Budget" in problem.message


def test_problems_of_several_classes_collected(tmp_path):
    text = MULVANE.replace("customer_charge * months_in_cycle\n    volume_charge: volume_rate "
                           "* winter", "customer_charge * (months_in_cycle\n    volume_charge: "
                           "volume_rate * winter").replace("    bill: service_charge + "
                                                           "volume_charge\n", "", 2)
    problems = problems_of(write(tmp_path, text))
    assert {p.code for p in problems} == {"formula_invalid", "bill_missing"}
    assert len(problems) >= 2

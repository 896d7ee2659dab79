"""Golden bills of sewer rate structures, each worked out by hand.

Every bill is rated twice, by rate_bills over a table and by explain_bill from the
same inputs, and the two totals must agree.
"""

from __future__ import annotations

import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import explain_bill, load_schedule, rate_bills
from sewerline.engine.rates.water_percent import (
    WATER_CHARGE,
    load_water_schedule,
    rate_water_charge,
    water_schedule_path,
)
from sewerline.engine.units import UsageUnit, convert

D = Decimal

SANTA_MONICA_WATER = (
    Path(__file__).parents[1] / "src" / "sewerline" / "sample" / "data" / "owrs"
    / "California" / "Santa Monica City of - 2581" / "Older" / "smc-2016-03-01.owrs"
)


def schedule_from(folder: Path, classes: str, *, unit: str = "kgal", extension: str = "",
                  name: str = "rates.owrs"):
    text = textwrap.dedent(f"""\
        metadata:
          effective_date: 2024-07-01
          utility_name: Example Sewer District
          bill_frequency: monthly
          bill_unit: {unit}
        """)
    if extension:
        text += "  sewerline:\n" + textwrap.indent(textwrap.dedent(extension), "    ")
    text += "rate_structure:\n" + textwrap.indent(textwrap.dedent(classes), "  ")
    path = folder / name
    path.write_text(text)
    return load_schedule(path)


def input_table(class_name: str, rows: list[dict]) -> pl.DataFrame:
    """Build a table of one class; Decimal values become DECIMAL columns."""
    columns = {"cls": [class_name] * len(rows)}
    for name in rows[0]:
        columns[name] = [row[name] for row in rows]
    series = []
    for name, values in columns.items():
        if any(isinstance(value, Decimal) for value in values):
            series.append(pl.Series(name, values, dtype=DECIMAL))
        else:
            series.append(pl.Series(name, values))
    return pl.DataFrame(series)


def rate_and_trace(schedule, class_name: str, rows: list[dict]) -> list[Decimal | None]:
    """Rate the rows as a table, check each trace's total against it, return the amounts."""
    rated = rate_bills(input_table(class_name, rows), schedule, class_column="cls")
    amounts = rated["expected_amount"].to_list()
    for row, amount in zip(rows, amounts, strict=True):
        trace = explain_bill(schedule, class_name, row)
        assert trace.total == amount, trace.lines()
    return amounts


def usage(*values: str) -> list[dict]:
    return [{"usage_ccf": D(value)} for value in values]


# Caps ------------------------------------------------------------------------------------

VOLUME_CAP = """\
RESIDENTIAL:
  customer_charge: 21.00
  volume_rate: 5.25
  service_charge: customer_charge
  volume_charge: volume_rate * min(usage_ccf, 12)
  bill: service_charge + volume_charge
"""


def test_volume_capped_at_12_kgal(tmp_path):
    schedule = schedule_from(tmp_path, VOLUME_CAP)

    amounts = rate_and_trace(schedule, "RESIDENTIAL", usage("8", "11.999", "12", "12.5", "30"))

    # 21.00 + 5.25 * 8 = 21.00 + 42.00 = 63.00
    # 21.00 + 5.25 * 11.999 = 21.00 + 62.99475 (-> 62.99) = 83.99
    # 12 kgal and above: 21.00 + 5.25 * 12 = 21.00 + 63.00 = 84.00
    assert amounts == [D("63.00"), D("83.99"), D("84.00"), D("84.00"), D("84.00")]


DOLLAR_CAP = """\
RESIDENTIAL:
  service_charge: 15.00
  volume_charge: 4.10 * usage_ccf
  bill: min(service_charge + volume_charge, 50.00)
"""


def test_bill_capped_at_50_dollars(tmp_path):
    schedule = schedule_from(tmp_path, DOLLAR_CAP)

    amounts = rate_and_trace(schedule, "RESIDENTIAL", usage("5", "8.5", "8.6", "20"))

    # 15.00 + 4.10 * 5 = 35.50; 15.00 + 34.85 = 49.85
    # 15.00 + 4.10 * 8.6 = 15.00 + 35.26 = 50.26 -> capped at 50.00; 20 kgal -> 50.00
    assert amounts == [D("35.50"), D("49.85"), D("50.00"), D("50.00")]


# A minimum charge that includes the first 1,000 gallons ----------------------------------

# $4.50 a month covers the first 1 kgal; each kgal above it costs $4.50 up to 10 kgal
# and $6.00 above 10 kgal. Written twice: as OWRS tiers, where a tier start is the first
# unit billed at its price (so starts 0, 2, 11 put the boundaries at 1 and 10 kgal),
# and as a formula with min and max.
MINIMUM_CHARGE = """\
MIN_TIERED:
  minimum_charge: 4.50
  volume_charge: Tiered
  tier_starts_volume: [0, 2, 11]
  tier_prices_volume: [0, 4.50, 6.00]
  bill: minimum_charge + volume_charge
MIN_FORMULA:
  minimum_charge: 4.50
  volume_charge: 4.50 * max(min(usage_ccf, 10) - 1, 0) + 6.00 * max(usage_ccf - 10, 0)
  bill: minimum_charge + volume_charge
"""


@pytest.mark.parametrize("class_name", ["MIN_TIERED", "MIN_FORMULA"])
def test_minimum_charge_with_inclining_tiers(tmp_path, class_name):
    schedule = schedule_from(tmp_path, MINIMUM_CHARGE)

    amounts = rate_and_trace(schedule, class_name,
                             usage("0", "0.5", "1", "1.001", "7", "20"))

    # 0, 0.5 and 1 kgal: the minimum alone, 4.50
    # 1.001 kgal: 4.50 + 0.001 * 4.50 = 4.50 + 0.0045 (-> 0.00) = 4.50
    # 7 kgal: 4.50 + 6 * 4.50 = 4.50 + 27.00 = 31.50
    # 20 kgal: 4.50 + 9 * 4.50 + 10 * 6.00 = 4.50 + 40.50 + 60.00 = 105.00
    assert amounts == [D("4.50"), D("4.50"), D("4.50"), D("4.50"), D("31.50"), D("105.00")]


# Flat charges per ERU and per dwelling unit ----------------------------------------------

FLAT_PER_UNIT = """\
PER_ERU:
  eru_charge: 18.75
  service_charge: eru_charge * eru
  bill: service_charge
PER_DWELLING:
  unit_charge: 22.40
  service_charge: unit_charge * dwelling_units
  bill: service_charge
"""


def test_flat_charge_per_eru(tmp_path):
    schedule = schedule_from(tmp_path, FLAT_PER_UNIT)

    amounts = rate_and_trace(schedule, "PER_ERU",
                             [{"eru": D("1")}, {"eru": D("2.5")}, {"eru": D("0.3")}])

    # 18.75 * 1 = 18.75; 18.75 * 2.5 = 46.875 -> 46.88; 18.75 * 0.3 = 5.625 -> 5.63
    assert amounts == [D("18.75"), D("46.88"), D("5.63")]


def test_flat_charge_per_dwelling_unit(tmp_path):
    schedule = schedule_from(tmp_path, FLAT_PER_UNIT)

    rows = [{"dwelling_units": D(units)} for units in ("1", "4", "12")]
    amounts = rate_and_trace(schedule, "PER_DWELLING", rows)

    # 22.40 * 1, * 4 and * 12
    assert amounts == [D("22.40"), D("89.60"), D("268.80")]


# Outside-city multiplier and senior discount ----------------------------------------------

OUTSIDE_CITY = """\
RESIDENTIAL:
  city_multiplier:
    depends_on: outside_city
    values:
      Y: 1.5
      N: 1.0
  service_charge: 20.00 * city_multiplier
  volume_charge: 3.10 * usage_ccf * city_multiplier
  bill: service_charge + volume_charge
"""


def test_outside_city_multiplier(tmp_path):
    schedule = schedule_from(tmp_path, OUTSIDE_CITY, unit="ccf")
    rows = [
        {"outside_city": "N", "usage_ccf": D("10")},
        {"outside_city": "Y", "usage_ccf": D("10")},
        {"outside_city": "N", "usage_ccf": D("7.3")},
        {"outside_city": "y", "usage_ccf": D("7.3")},   # keys ignore case
    ]

    amounts = rate_and_trace(schedule, "RESIDENTIAL", rows)

    # inside, 10 ccf: 20.00 + 3.10 * 10 = 51.00
    # outside, 10 ccf: 20.00 * 1.5 = 30.00 + 3.10 * 10 * 1.5 = 46.50 -> 76.50
    # inside, 7.3 ccf: 20.00 + 22.63 = 42.63
    # outside, 7.3 ccf: 30.00 + 3.10 * 7.3 * 1.5 = 33.945 -> 33.95, so 63.95
    assert amounts == [D("51.00"), D("76.50"), D("42.63"), D("63.95")]


SENIOR_DISCOUNT = """\
RESIDENTIAL:
  service_charge: 21.00
  volume_charge: 5.25 * usage_ccf
  senior_discount: -0.25 * (service_charge + volume_charge) * senior
  bill: service_charge + volume_charge + senior_discount
"""


def test_senior_discount(tmp_path):
    schedule = schedule_from(tmp_path, SENIOR_DISCOUNT)
    rows = [
        {"senior": True, "usage_ccf": D("7.5")},
        {"senior": True, "usage_ccf": D("0.11")},
        {"senior": False, "usage_ccf": D("7.5")},
    ]

    amounts = rate_and_trace(schedule, "RESIDENTIAL", rows)

    # The discount is a quarter of the unrounded charges, rounded half up (away from
    # zero) on its own.
    # senior, 7.5 kgal: volume 5.25 * 7.5 = 39.375 -> 39.38;
    #   discount -0.25 * (21.00 + 39.375) = -15.09375 -> -15.09; 21.00 + 39.38 - 15.09
    # senior, 0.11 kgal: volume 0.5775 -> 0.58; discount -0.25 * 21.5775 = -5.394375
    #   -> -5.39 (a quarter of the rounded 21.58 would be -5.395 -> -5.40); 16.19
    # not senior: 21.00 + 39.38 + 0.00 = 60.38
    assert amounts == [D("45.29"), D("16.19"), D("60.38")]


# High-strength surcharge ---------------------------------------------------------------

# Pounds of BOD or TSS above 250 mg/L: (mg/L - 250) * 8.34 * million gallons, billed
# per pound. Usage is in kgal, so million gallons = usage / 1000.
HIGH_STRENGTH = """\
INDUSTRIAL:
  volume_charge: 4.00 * usage_ccf
  million_gallons: usage_ccf / 1000
  bod_pounds: max(bod_mg_l - 250, 0) * 8.34 * million_gallons
  tss_pounds: max(tss_mg_l - 250, 0) * 8.34 * million_gallons
  bod_surcharge: 0.35 * bod_pounds
  tss_surcharge: 0.28 * tss_pounds
  bill: volume_charge + bod_surcharge + tss_surcharge
"""


def test_high_strength_surcharge(tmp_path):
    schedule = schedule_from(tmp_path, HIGH_STRENGTH)
    rows = [
        {"usage_ccf": D("150"), "bod_mg_l": D("400"), "tss_mg_l": D("300")},
        {"usage_ccf": D("150"), "bod_mg_l": D("250"), "tss_mg_l": D("200")},
        {"usage_ccf": D("42.5"), "bod_mg_l": D("612"), "tss_mg_l": D("480")},
    ]

    amounts = rate_and_trace(schedule, "INDUSTRIAL", rows)

    # 150 kgal = 0.15 MG: volume 4.00 * 150 = 600.00
    #   BOD (400 - 250) * 8.34 * 0.15 = 187.65 lb * 0.35 = 65.6775 -> 65.68
    #   TSS (300 - 250) * 8.34 * 0.15 = 62.55 lb * 0.28 = 17.514 -> 17.51
    #   600.00 + 65.68 + 17.51 = 683.19
    # BOD at 250 and TSS below 250 add nothing: 600.00
    # 42.5 kgal = 0.0425 MG: volume 170.00
    #   BOD 362 * 8.34 * 0.0425 = 128.3109 lb * 0.35 = 44.908815 -> 44.91
    #   TSS 230 * 8.34 * 0.0425 = 81.5235 lb * 0.28 = 22.82658 -> 22.83
    #   170.00 + 44.91 + 22.83 = 237.74
    assert amounts == [D("683.19"), D("600.00"), D("237.74")]


# Deduct meter ----------------------------------------------------------------------------

DEDUCT_METER = """\
RESIDENTIAL:
  service_charge: 12.00
  sewer_usage: max(usage_ccf - deduct_usage, 0)
  volume_charge: 3.00 * sewer_usage
  bill: service_charge + volume_charge
"""


def test_deduct_meter_usage_subtracted(tmp_path):
    schedule = schedule_from(tmp_path, DEDUCT_METER, unit="ccf")
    rows = [
        {"usage_ccf": D("20"), "deduct_usage": D("6.5")},
        {"usage_ccf": D("20"), "deduct_usage": D("0")},
        {"usage_ccf": D("20"), "deduct_usage": D("25")},   # more deducted than used
        {"usage_ccf": D("20"), "deduct_usage": None},      # deduct reading unknown
    ]

    amounts = rate_and_trace(schedule, "RESIDENTIAL", rows)

    # 12.00 + 3.00 * 13.5 = 52.50; 12.00 + 60.00 = 72.00; 12.00 + 3.00 * 0 = 12.00;
    # and no amount when the deduct usage is missing.
    assert amounts == [D("52.50"), D("72.00"), D("12.00"), None]


# Units -----------------------------------------------------------------------------------

# (billed usage, its unit, the schedule's bill unit, usage in the bill unit, $ per unit,
# the bill). 1 ccf = 748.052 gallons, 1 m3 = 264.172 gallons, 1 kgal = 1,000 gallons.
UNIT_CASES = [
    ("7480.52", "gallons", "ccf", D("10"), "4.15", D("41.50")),
    ("7.48052", "kgal", "ccf", D("10"), "4.15", D("41.50")),
    ("10", "ccf", "kgal", D("7.48052"), "5.00", D("37.40")),         # 37.4026
    ("10", "m3", "kgal", D("2.64172"), "5.00", D("13.21")),          # 13.2086
    ("2641.72", "gallons", "m3", D("10"), "1.10", D("11.00")),
    ("1", "kgal", "gallons", D("1000"), "0.0052", D("5.20")),
    # 7480.52 / 264.172 = 28.316854170767... m3, * 1.10 = 31.1485... -> 31.15
    ("10", "ccf", "m3", D("28.316854170768"), "1.10", D("31.15")),
]


@pytest.mark.parametrize(("billed", "billed_unit", "bill_unit", "converted", "rate", "amount"),
                         UNIT_CASES)
def test_usage_converted_exactly(tmp_path, billed, billed_unit, bill_unit, converted, rate,
                                 amount):
    schedule = schedule_from(tmp_path, f"""\
        METERED:
          volume_charge: {rate} * usage_ccf
          bill: volume_charge
        """, unit=bill_unit)
    gallons = convert(pl.lit(D(billed)), UsageUnit(billed_unit), UsageUnit.GALLONS)
    in_bill_unit = pl.select(convert(gallons, UsageUnit.GALLONS, schedule.bill_unit)).item()

    amounts = rate_and_trace(schedule, "METERED", [{"usage_ccf": in_bill_unit}])

    assert in_bill_unit == converted
    assert amounts == [amount]


# A percentage of the water charge ----------------------------------------------------------

PERCENT_OF_BILLED_WATER = """\
RESIDENTIAL:
  bill: round(water_charge * 0.65, 2)
WITH_MINIMUM:
  bill: max(round(water_charge * 0.65, 2), 5.00)
"""


def test_percent_of_billed_water_charge(tmp_path):
    schedule = schedule_from(tmp_path, PERCENT_OF_BILLED_WATER)
    rows = [{WATER_CHARGE: D(amount)} for amount in ("100.00", "65.90", "12.34", "0.10")]

    amounts = rate_and_trace(schedule, "RESIDENTIAL", rows)

    # 100.00 * 0.65 = 65.00; 65.90 * 0.65 = 42.835 -> 42.84 (ties away from zero);
    # 12.34 * 0.65 = 8.021 -> 8.02; 0.10 * 0.65 = 0.065 -> 0.07
    assert amounts == [D("65.00"), D("42.84"), D("8.02"), D("0.07")]


def test_percent_of_water_with_minimum(tmp_path):
    schedule = schedule_from(tmp_path, PERCENT_OF_BILLED_WATER)
    rows = [{WATER_CHARGE: D(amount)} for amount in ("100.00", "7.00", "0")]

    amounts = rate_and_trace(schedule, "WITH_MINIMUM", rows)

    # 65.00; 7.00 * 0.65 = 4.55 is below the 5.00 minimum; 0 -> 5.00
    assert amounts == [D("65.00"), D("5.00"), D("5.00")]


SEWER_SHARE_OF_WATER = """\
RESIDENTIAL_SINGLE:
  sewer_share: 0.65
  bill: round(water_charge * sewer_share, 2)
RESIDENTIAL_MULTI:
  sewer_share: 0.65
  bill: round(water_charge * sewer_share, 2)
COMMERCIAL:
  sewer_share: 0.65
  bill: round(water_charge * sewer_share, 2)
"""


@pytest.fixture
def sewer_on_santa_monica_water(tmp_path):
    """A sewer schedule charging 65 % of Santa Monica's 2016 water charge."""
    shutil.copy(SANTA_MONICA_WATER, tmp_path / "water.owrs")
    return schedule_from(tmp_path, SEWER_SHARE_OF_WATER, unit="ccf",
                         extension="water_schedule: water.owrs\n", name="sewer.owrs")


def test_water_schedule_path_relative_to_rate_file(sewer_on_santa_monica_water, tmp_path):
    assert water_schedule_path(sewer_on_santa_monica_water) == tmp_path / "water.owrs"


def test_percent_of_water_from_santa_monica_rates(sewer_on_santa_monica_water):
    sewer = sewer_on_santa_monica_water
    water = load_water_schedule(sewer)
    table = input_table("RESIDENTIAL_SINGLE", usage("10", "20", "50", "150"))

    water_charge = rate_water_charge(table, water, class_column="cls",
                                     usage_unit=UsageUnit.CCF)

    # Santa Monica single family, per ccf: units 1-14 at 2.87, 15-40 at 4.29, 41-148 at
    # 6.44 and 149 and up at 10.07.
    # 10 ccf: 10 * 2.87 = 28.70
    # 20 ccf: 14 * 2.87 = 40.18 + 6 * 4.29 = 25.74 -> 65.92
    # 50 ccf: 40.18 + 26 * 4.29 = 111.54 + 10 * 6.44 = 64.40 -> 216.12
    # 150 ccf: 40.18 + 111.54 + 108 * 6.44 = 695.52 + 2 * 10.07 = 20.14 -> 867.38
    assert water_charge.name == WATER_CHARGE
    assert water_charge.to_list() == [D("28.70"), D("65.92"), D("216.12"), D("867.38")]

    rows = [{WATER_CHARGE: amount} for amount in water_charge]
    amounts = rate_and_trace(sewer, "RESIDENTIAL_SINGLE", rows)

    # 28.70 * 0.65 = 18.655 -> 18.66; 65.92 * 0.65 = 42.848 -> 42.85;
    # 216.12 * 0.65 = 140.478 -> 140.48; 867.38 * 0.65 = 563.797 -> 563.80
    assert amounts == [D("18.66"), D("42.85"), D("140.48"), D("563.80")]

    trace = explain_bill(water, "RESIDENTIAL_SINGLE", {"usage_ccf": "20"})
    assert trace.total == D("65.92")


def test_water_charge_by_class_and_lookup(sewer_on_santa_monica_water):
    water = load_water_schedule(sewer_on_santa_monica_water)
    table = pl.DataFrame({
        "cls": ["RESIDENTIAL_MULTI", "COMMERCIAL"],
        "usage_ccf": pl.Series([D("12"), D("250")], dtype=DECIMAL),
        "meter_size": [None, '5/8"'],
        "water_type": [None, "POTABLE"],
    })

    water_charge = rate_water_charge(table, water, class_column="cls",
                                     usage_unit=UsageUnit.CCF)

    # Multi-family, 12 ccf: 4 * 2.87 = 11.48 + 5 * 4.29 = 21.45 + 3 * 6.44 = 19.32 -> 52.25
    # Commercial, 5/8" potable, 250 ccf: 210 * 4.07 = 854.70 + 40 * 10.03 = 401.20
    # -> 1,255.90
    assert water_charge.to_list() == [D("52.25"), D("1255.90")]


def test_water_charge_usage_converted_to_water_unit(sewer_on_santa_monica_water):
    water = load_water_schedule(sewer_on_santa_monica_water)
    # 7.48052 kgal is exactly 10 ccf, the water schedule's unit.
    table = input_table("RESIDENTIAL_SINGLE", usage("7.48052"))

    water_charge = rate_water_charge(table, water, class_column="cls",
                                     usage_unit=UsageUnit.KGAL)

    assert water_charge.to_list() == [D("28.70")]


def test_no_water_schedule_named(tmp_path):
    schedule = schedule_from(tmp_path, PERCENT_OF_BILLED_WATER)

    assert water_schedule_path(schedule) is None
    assert load_water_schedule(schedule) is None


def test_missing_water_schedule_names_line(tmp_path):
    schedule = schedule_from(tmp_path, PERCENT_OF_BILLED_WATER,
                             extension="water_schedule: missing/water.owrs\n")

    with pytest.raises(InputError) as error:
        water_schedule_path(schedule)

    [problem] = error.value.problems
    assert problem.code == "water_schedule_missing"
    assert problem.line == 7
    assert problem.value == "missing/water.owrs"


def test_water_schedule_not_a_path(tmp_path):
    schedule = schedule_from(tmp_path, PERCENT_OF_BILLED_WATER,
                             extension="water_schedule: [a.owrs, b.owrs]\n")

    with pytest.raises(InputError) as error:
        water_schedule_path(schedule)

    assert error.value.problems[0].code == "water_schedule_invalid"


def test_water_class_missing_reported(sewer_on_santa_monica_water):
    water = load_water_schedule(sewer_on_santa_monica_water)
    table = input_table("SEWER_ONLY", usage("10"))

    with pytest.raises(InputError) as error:
        rate_water_charge(table, water, class_column="cls", usage_unit=UsageUnit.CCF,
                          source="profiles.csv")

    assert error.value.problems[0].code == "class_not_in_schedule"

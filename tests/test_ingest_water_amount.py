"""Water charges and deduct meter usage in billing exports, in both layouts."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.ingest import Layout, Mapping, load_mapping, read_billing
from sewerline.engine.schema import Billed
from sewerline.engine.units import UsageUnit

D = Decimal

PER_BILL_MAPPING = """\
layout: per_bill
columns:
  billed_account: "Acct"
  billed_amount: "Sewer"
  water_amount: "Water"
  usage: "Use"
  deduct_usage: "Deduct"
usage_unit: ccf
"""

PER_LINE_MAPPING = """\
layout: per_line
columns:
  billed_account: "Acct"
  bill_number: "Bill"
  service_code: "Svc"
  billed_amount: "Amount"
  usage: "Use"
  deduct_usage: "Deduct"
usage_unit: kgal
sewer_service_codes: [SW]
water_service_codes: [WA, WAF]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def mapping_problems(folder: Path, text: str):
    with pytest.raises(InputError) as error:
        load_mapping(write(folder, "mapping.yaml", text))
    return error.value.problems


def billing_problems(path: Path, mapping: Mapping):
    with pytest.raises(InputError) as error:
        read_billing(path, mapping)
    return error.value.problems


# One row per bill --------------------------------------------------------------------


def test_per_bill_water_amount_and_deduct_usage(tmp_path):
    mapping = load_mapping(write(tmp_path, "mapping.yaml", PER_BILL_MAPPING))
    export = write(tmp_path, "export.csv", """\
        Acct,Sewer,Water,Use,Deduct
        1,45.10,"$1,065.92",20,2
        2,12.00,,10,
        3,0,(5.00),0,0.5
        """)

    bills = read_billing(export, mapping)

    assert bills.schema == Billed.SCHEMA
    assert bills[Billed.WATER_AMOUNT].to_list() == [D("1065.92"), None, D("-5.00")]
    # ccf to gallons: 2 * 748.052 = 1496.104; 0.5 * 748.052 = 374.026
    assert bills[Billed.DEDUCT_USAGE_GAL].to_list() == [D("1496.104"), None, D("374.026")]
    assert bills[Billed.USAGE_GAL].to_list() == [D("14961.04"), D("7480.52"), D("0")]


def test_per_bill_invalid_values_reported(tmp_path):
    mapping = load_mapping(write(tmp_path, "mapping.yaml", PER_BILL_MAPPING))
    export = write(tmp_path, "export.csv", """\
        Acct,Sewer,Water,Use,Deduct
        1,45.10,12;50,20,2
        2,12.00,30.00,10,two
        """)

    problems = billing_problems(export, mapping)

    assert [(p.row, p.column, p.value) for p in problems] == [
        (2, "Water", "12;50"), (3, "Deduct", "two"),
    ]
    assert problems[0].message == "invalid water amount"
    assert problems[1].message == "invalid deduct usage"
    assert "a usage in ccf" in problems[1].expected


def test_unmapped_water_and_deduct_are_null(tmp_path):
    mapping = Mapping(layout=Layout.PER_BILL,
                      columns={"billed_account": "Acct", "billed_amount": "Sewer"})
    export = write(tmp_path, "export.csv", "Acct,Sewer\n1,45.10\n")

    bills = read_billing(export, mapping)

    assert bills[Billed.WATER_AMOUNT].to_list() == [None]
    assert bills[Billed.DEDUCT_USAGE_GAL].to_list() == [None]


# One row per service line -------------------------------------------------------------


PER_LINE_EXPORT = """\
    Bill,Acct,Svc,Amount,Use,Deduct
    B1,1,WA,30.00,10,
    B1,1,WAF,12.50,,
    B1,1,SW,45.10,,3
    B2,2,SW,20.00,8,
    B2,2,TR,15.00,,
    B3,3,WA,(4.00),5,1
    B3,3,SW,10.00,,
    """


def test_per_line_water_amount_sums_water_lines(tmp_path):
    mapping = load_mapping(write(tmp_path, "mapping.yaml", PER_LINE_MAPPING))

    bills = read_billing(write(tmp_path, "export.csv", PER_LINE_EXPORT), mapping)

    # B1: WA 30.00 + WAF 12.50 = 42.50. B2 has no water line: 0.
    # B3: a water credit of 4.00.
    assert bills[Billed.WATER_AMOUNT].to_list() == [D("42.50"), D("0"), D("-4.00")]
    # Sewer amounts are the sewer lines alone.
    assert bills[Billed.AMOUNT].to_list() == [D("45.10"), D("20.00"), D("10.00")]


def test_per_line_deduct_usage_like_usage(tmp_path):
    mapping = load_mapping(write(tmp_path, "mapping.yaml", PER_LINE_MAPPING))

    bills = read_billing(write(tmp_path, "export.csv", PER_LINE_EXPORT), mapping)

    # kgal to gallons. B1: the sewer line's 3. B2: none on any line. B3: the sewer line
    # has none, so the largest of the bill's lines, 1.
    assert bills[Billed.DEDUCT_USAGE_GAL].to_list() == [D("3000"), None, D("1000")]
    assert bills[Billed.USAGE_GAL].to_list() == [D("10000"), D("8000"), D("5000")]


def test_water_amount_null_without_codes(tmp_path):
    text = PER_LINE_MAPPING.replace("water_service_codes: [WA, WAF]\n", "")
    mapping = load_mapping(write(tmp_path, "mapping.yaml", text))

    bills = read_billing(write(tmp_path, "export.csv", PER_LINE_EXPORT), mapping)

    assert bills[Billed.WATER_AMOUNT].to_list() == [None, None, None]


def test_per_line_empty_water_amount_reported(tmp_path):
    mapping = load_mapping(write(tmp_path, "mapping.yaml", PER_LINE_MAPPING))
    export = write(tmp_path, "export.csv", """\
        Bill,Acct,Svc,Amount,Use,Deduct
        B1,1,WA,,10,
        B1,1,TR,,,
        B1,1,SW,5.00,,
        """)

    problems = billing_problems(export, mapping)

    # An empty trash amount is no problem; an empty water amount would hide a charge.
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "Amount", "the amount of the water line is empty"),
    ]


# Mapping file ------------------------------------------------------------------------


def test_mapping_reads_water_codes(tmp_path):
    mapping = load_mapping(write(tmp_path, "mapping.yaml", PER_LINE_MAPPING))

    assert mapping.water_service_codes == frozenset({"WA", "WAF"})
    assert mapping.columns["deduct_usage"] == "Deduct"


def test_deduct_usage_needs_usage_unit(tmp_path):
    problems = mapping_problems(tmp_path, PER_BILL_MAPPING.replace("usage_unit: ccf\n", ""))

    [problem] = problems
    assert problem.message == "usage_unit is required when columns maps usage, deduct_usage"


def test_water_amount_column_rejected_per_line(tmp_path):
    text = PER_LINE_MAPPING.replace('  deduct_usage: "Deduct"\n',
                                    '  deduct_usage: "Deduct"\n  water_amount: "Water"\n')

    [problem] = mapping_problems(tmp_path, text)

    assert problem.message == "water_amount is a column only in the per_bill layout"
    assert problem.line == 2


def test_water_codes_rejected_per_bill(tmp_path):
    [problem] = mapping_problems(tmp_path, PER_BILL_MAPPING + "water_service_codes: [WA]\n")

    assert problem.message == "water_service_codes is only used in the per_line layout"
    assert problem.line == 9


def test_code_both_sewer_and_water_rejected(tmp_path):
    text = PER_LINE_MAPPING.replace("[WA, WAF]", "[WA, SW]")

    [problem] = mapping_problems(tmp_path, text)

    assert problem.value == "SW"
    assert problem.message == "service code SW is listed both as a sewer and as a water code"
    assert problem.line == 11


def test_empty_water_code_list_rejected(tmp_path):
    [problem] = mapping_problems(tmp_path, PER_LINE_MAPPING.replace("[WA, WAF]", "[]"))

    assert problem.code == "missing_value"


def test_unknown_field_suggests_water_amount(tmp_path):
    text = PER_BILL_MAPPING.replace("water_amount:", "water_amont:")

    [problem] = mapping_problems(tmp_path, text)

    assert problem.hint == "Did you mean 'water_amount'?"


def test_mapping_in_code_checked(tmp_path):
    export = write(tmp_path, "export.csv", "Acct,Svc,Amount,Water,Deduct\n1,SW,1,2,3\n")
    per_line = Mapping(
        layout=Layout.PER_LINE,
        columns={"billed_account": "Acct", "service_code": "Svc", "billed_amount": "Amount",
                 "water_amount": "Water"},
        sewer_service_codes=frozenset({"SW"}),
    )
    no_unit = Mapping(
        layout=Layout.PER_BILL,
        columns={"billed_account": "Acct", "billed_amount": "Amount", "deduct_usage": "Deduct"},
    )

    assert "per_bill" in billing_problems(export, per_line)[0].message
    assert billing_problems(export, no_unit)[0].message == "the mapping has no usage_unit"

    with_unit = Mapping(layout=Layout.PER_BILL, columns=no_unit.columns,
                        usage_unit=UsageUnit.GALLONS)
    assert read_billing(export, with_unit)[Billed.DEDUCT_USAGE_GAL].to_list() == [D("3")]

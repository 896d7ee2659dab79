"""Rate formula parser, printer and evaluation (Polars and Python Decimal)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sewerline.engine.money import DECIMAL, Rounding
from sewerline.engine.rates import FormulaError, parse_formula
from sewerline.engine.rates.compile import ClassCompiler
from sewerline.engine.rates.evaluate import BillEvaluator
from sewerline.engine.rates.formula import (
    BinaryOp,
    Call,
    Name,
    Negate,
    Number,
    Round,
    format_formula,
    referenced_names,
    rename_names,
)
from sewerline.engine.rates.inputs import INDEX, ROW, numeric_name
from sewerline.engine.rates.parts import ClassRates, Formula
from sewerline.engine.rates.schedule import RateSchedule
from sewerline.engine.units import UsageUnit

a, b, c = Name("a"), Name("b"), Name("c")


def num(text: str) -> Number:
    return Number(Decimal(text))


# Parsing ---------------------------------------------------------------------------


def test_parse_multiplication_binds_tighter():
    assert parse_formula("a + b * c") == BinaryOp("+", a, BinaryOp("*", b, c))
    assert parse_formula("a * b + c") == BinaryOp("+", BinaryOp("*", a, b), c)


def test_parse_left_associative():
    assert parse_formula("a - b - c") == BinaryOp("-", BinaryOp("-", a, b), c)
    assert parse_formula("a / b / c") == BinaryOp("/", BinaryOp("/", a, b), c)


def test_parse_parentheses_group():
    assert parse_formula("(a + b) * c") == BinaryOp("*", BinaryOp("+", a, b), c)
    assert parse_formula("a - (b - c)") == BinaryOp("-", a, BinaryOp("-", b, c))


def test_parse_unary_minus():
    assert parse_formula("-a * b") == BinaryOp("*", Negate(a), b)
    assert parse_formula("a * -b") == BinaryOp("*", a, Negate(b))
    assert parse_formula("--2") == Negate(Negate(num("2")))
    assert parse_formula("+a") == a


def test_parse_numbers_keep_their_digits():
    assert parse_formula("21.00") == num("21.00")
    assert format_formula(parse_formula("21.00")) == "21.00"
    assert parse_formula(".5") == num("0.5")
    assert parse_formula("1e3") == num("1000")


def test_parse_functions():
    assert parse_formula("min(usage_ccf, winter_average * 2)") == Call(
        "min", (Name("usage_ccf"), BinaryOp("*", Name("winter_average"), num("2"))))
    assert parse_formula("max(a, b, c)") == Call("max", (a, b, c))
    assert parse_formula("round(a / 3, 2)") == Round(BinaryOp("/", a, num("3")), 2)
    assert parse_formula("round(a)") == Round(a, 0)


def test_parse_folded_multiline_text():
    text = "service_charge+commodity_charge\n  +fixed_wastewater_charge"
    assert referenced_names(parse_formula(text)) == [
        "service_charge", "commodity_charge", "fixed_wastewater_charge"]


def test_referenced_names_once_in_order():
    assert referenced_names(parse_formula("b * a + b + min(c, a)")) == ["b", "a", "c"]


@pytest.mark.parametrize(("text", "position", "fragment"), [
    ("a + * b", 4, "expected a number, a name or '('"),
    ("a + ", 4, "the end of the formula"),
    ("(a + b", 6, "expected ')'"),
    ("a b", 2, "expected an operator"),
    ("a $ b", 2, "unexpected character '$'"),
    ("sqrt(a)", 0, "unknown function 'sqrt'"),
    ("round(a, 1.5)", 0, "whole number of digits"),
    ("round(a, b)", 0, "whole number of digits"),
    ("round(a, 13)", 0, "whole number of digits"),
    ("", 0, "empty"),
    ("min()", 4, "expected a number"),
])
def test_parse_error_names_position(text, position, fragment):
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert caught.value.position == position
    assert fragment in caught.value.reason
    assert repr(text) in str(caught.value)


def test_format_substitutes_names():
    node = parse_formula("customer_charge * months_in_cycle")
    values = {"customer_charge": "21.00", "months_in_cycle": "2"}
    assert format_formula(node, values.get) == "21.00 * 2"


# Random syntax trees ----------------------------------------------------------------

NAMES = ("a", "b", "c", "usage_ccf", "winter_average")

numbers = st.builds(
    lambda digits, scale: Number(Decimal(digits).scaleb(-scale)),
    st.integers(min_value=0, max_value=99_999), st.integers(min_value=0, max_value=8),
)
names = st.sampled_from(NAMES).map(Name)


def extend(children):
    return st.one_of(
        st.builds(Negate, children),
        st.builds(BinaryOp, st.sampled_from("+-*/"), children, children),
        st.builds(Call, st.sampled_from(("min", "max")),
                  st.lists(children, min_size=1, max_size=3).map(tuple)),
        st.builds(Round, children, st.integers(min_value=0, max_value=12)),
    )


trees = st.recursive(st.one_of(numbers, names), extend, max_leaves=8)


@given(trees)
@settings(max_examples=300, deadline=None)
def test_printed_tree_parses_back(tree):
    assert parse_formula(format_formula(tree)) == tree


def test_rename_names_everywhere_in_tree():
    node = parse_formula("-gpcd * min(hhsize, round(gpcd / 2, 1)) + 1")
    renamed = rename_names(node, {"gpcd": "gpcd_commodity"})
    assert format_formula(renamed) == (
        "-gpcd_commodity * min(hhsize, round(gpcd_commodity / 2, 1)) + 1")


@given(trees)
@settings(max_examples=100, deadline=None, derandomize=True)
def test_rename_names_keeps_shape(tree):
    renamed = rename_names(tree, {name: f"{name}_x" for name in NAMES})
    assert referenced_names(renamed) == [f"{name}_x" for name in referenced_names(tree)]
    assert rename_names(renamed, {f"{name}_x": name for name in NAMES}) == tree


# Evaluation -------------------------------------------------------------------------

QUANTUM = Decimal("1e-12")
LIMIT = Decimal("1e20")   # stays well inside Decimal(38, 12)


class TooLarge(Exception):
    pass


def reference(node, env):
    """Evaluate with Python Decimal: products and quotients rounded half-even to 12 places."""
    with localcontext(Context(prec=120)):
        value = _reference(node, env)
    if abs(value) > LIMIT:
        raise TooLarge
    return value


def _reference(node, env):
    if isinstance(node, Number):
        return node.value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Negate):
        return -_reference(node.operand, env)
    if isinstance(node, Round):
        value = _reference(node.operand, env)
        return value.quantize(Decimal(1).scaleb(-node.digits), rounding=ROUND_HALF_UP)
    if isinstance(node, Call):
        values = [_reference(argument, env) for argument in node.arguments]
        return min(values) if node.function == "min" else max(values)
    left = _reference(node.left, env)
    right = _reference(node.right, env)
    for value in (left, right):
        if abs(value) > LIMIT:
            raise TooLarge
    if node.operator == "+":
        return left + right
    if node.operator == "-":
        return left - right
    if node.operator == "*":
        return (left * right).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
    if right == 0:
        raise ZeroDivisionError
    return (left / right).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


SCHEDULE = RateSchedule(
    path="formula.owrs", utility_name="Test", effective_date=dt.date(2016, 1, 1),
    bill_frequency="monthly", months_per_cycle=Decimal(1), bill_unit=UsageUnit.CCF,
    rounding=Rounding.HALF_UP, classes={},
)

values = st.builds(
    lambda digits, scale: Decimal(digits).scaleb(-scale),
    st.integers(min_value=-999_999, max_value=999_999), st.integers(min_value=0, max_value=12),
)
environments = st.fixed_dictionaries({name: values for name in NAMES})


def rates_for(tree) -> ClassRates:
    part = Formula(format_formula(tree), tree, 1)
    return ClassRates("TEST", 1, {"x": part}, (), {name: 1 for name in NAMES}, {})


@given(trees, st.lists(environments, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_evaluation_matches_decimal_reference(tree, rows):
    try:
        expected = [reference(tree, env) for env in rows]
    except (ZeroDivisionError, TooLarge):
        assume(False)

    rates = rates_for(tree)
    frame = pl.DataFrame({
        INDEX: list(range(len(rows))), ROW: list(range(2, len(rows) + 2)),
        **{numeric_name(n): pl.Series([env[n] for env in rows], dtype=DECIMAL) for n in NAMES},
    })
    polars_values = ClassCompiler(SCHEDULE, rates, frame, []).field_values("x").to_list()
    python_values = [BillEvaluator(SCHEDULE, rates, dict(env), {}, "test").field("x")
                     for env in rows]

    assert polars_values == expected
    assert python_values == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1 / 748", "0.001336898396"),
    ("0.0000015 * 0.000001", "0.000000000002"),     # tie: 1.5e-12 rounds to even 2e-12
    ("0.0000025 * 0.000001", "0.000000000002"),     # tie: 2.5e-12 rounds to even 2e-12
    ("-0.0000025 * 0.000001", "-0.000000000002"),
    ("0.000000000005 / 2", "0.000000000002"),       # tie: 2.5e-12
    ("0.000000000003 / 2", "0.000000000002"),       # tie: 1.5e-12
    ("2 / 3", "0.666666666667"),
    ("round(2.675, 2) + round(-1.005, 2)", "1.670000000000"),
])
def test_evaluation_rounding_cases(text, expected):
    rates = rates_for(parse_formula(text))
    frame = pl.DataFrame({INDEX: [0], ROW: [2]})
    polars_value = ClassCompiler(SCHEDULE, rates, frame, []).field_values("x").item()
    python_value = BillEvaluator(SCHEDULE, rates, {}, {}, "test").field("x")
    assert polars_value == Decimal(expected)
    assert python_value == Decimal(expected)

"""Match keys: account, meter, parcel, USPS address and owner normalization."""

from __future__ import annotations

import doctest
import string

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sewerline.engine import normalize
from sewerline.engine.normalize import (
    account_key,
    address_key,
    address_parts,
    meter_key,
    owner_key,
    owners_differ,
    parcel_key,
)


def keys_of(make_key, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String()})
    return frame.select(make_key(pl.col("value")))["value"].to_list()


def key_of(make_key, value: str | None) -> str | None:
    return keys_of(make_key, [value])[0]


def test_docstring_examples_hold():
    failures, _ = doctest.testmod(normalize)
    assert failures == 0


# Account, meter and parcel keys


@pytest.mark.parametrize("raw", ["00123-45", "12345", " 123 45 ", "123.45", "123/45", "0012 3-45"])
def test_account_key_ignores_separators_and_zeros(raw):
    assert key_of(account_key, raw) == "12345"


@pytest.mark.parametrize("raw", ["", "   ", "-./", "0000", "0-0", None])
def test_account_key_empty_is_null(raw):
    assert key_of(account_key, raw) is None


def test_account_key_upper_cases_letters():
    assert key_of(account_key, "ab-0012") == "AB0012"


def test_account_key_keeps_column_name():
    frame = pl.DataFrame({"billed_account": ["007"]})
    assert frame.select(account_key(pl.col("billed_account"))).columns == ["billed_account"]


@pytest.mark.parametrize("raw", ["1.23457E+11", "1.23457e+11", " 1.2E+11 ", "4E+09", "1.5E11"])
def test_meter_key_scientific_notation_is_null(raw):
    assert key_of(meter_key, raw) is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("0045-778", "45778"),
    ("m-00123", "M00123"),
    ("12E5", "12E5"),
    ("AB12 345", "AB12345"),
])
def test_meter_key_normalizes_like_account(raw, expected):
    assert key_of(meter_key, raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("012-345-00.A", "1234500A"),
    ("12345 00a", "1234500A"),
    ("R#12_34", "R1234"),
    ("---", None),
    ("000", None),
])
def test_parcel_key_keeps_letters_and_digits(raw, expected):
    assert key_of(parcel_key, raw) == expected


# USPS address keys


@pytest.mark.parametrize("raw", [
    "123 North Main Street Apt 4",
    "123 N MAIN ST #4",
    "123 n. main st., unit 4",
    "123 N Main St Suite 4",
    "123 N. Main St., Ste. 4",
    "123 north main street apartment 04",
    "123 N MAIN ST NO 4",
    "123 N MAIN ST APT4",
    "123 N MAIN ST # 4",
])
def test_address_key_usps_forms_agree(raw):
    assert key_of(address_key, raw) == "123 N MAIN ST UNIT 4"


@pytest.mark.parametrize(("word", "abbreviation"), [
    ("STREET", "ST"), ("AVENUE", "AVE"), ("BOULEVARD", "BLVD"), ("DRIVE", "DR"),
    ("ROAD", "RD"), ("LANE", "LN"), ("COURT", "CT"), ("PLACE", "PL"), ("TERRACE", "TER"),
    ("CIRCLE", "CIR"), ("PARKWAY", "PKWY"), ("HIGHWAY", "HWY"), ("WAY", "WAY"),
    ("ST", "ST"), ("AVE", "AVE"), ("AV", "AVE"),
])
def test_address_key_street_suffixes(word, abbreviation):
    assert key_of(address_key, f"10 Pine {word}") == f"10 PINE {abbreviation}"


@pytest.mark.parametrize(("word", "abbreviation"), [
    ("NORTH", "N"), ("SOUTH", "S"), ("EAST", "E"), ("WEST", "W"), ("NORTHEAST", "NE"),
    ("NORTHWEST", "NW"), ("SOUTHEAST", "SE"), ("SOUTHWEST", "SW"),
])
def test_address_key_directionals(word, abbreviation):
    assert key_of(address_key, f"10 {word} Pine Rd") == f"10 {abbreviation} PINE RD"
    assert key_of(address_key, f"10 Pine Rd {word}") == f"10 PINE RD {abbreviation}"


@pytest.mark.parametrize(("word", "number"), [
    ("First", "1ST"), ("Second", "2ND"), ("Third", "3RD"), ("Fourth", "4TH"),
    ("Eleventh", "11TH"), ("Twelfth", "12TH"), ("Thirteenth", "13TH"),
    ("Nineteenth", "19TH"), ("Twentieth", "20TH"), ("Twenty-First", "21ST"),
    ("Twenty Second", "22ND"), ("thirty-third", "33RD"), ("Fortieth", "40TH"),
    ("Ninety Ninth", "99TH"),
])
def test_address_key_ordinal_words(word, number):
    assert key_of(address_key, f"12 {word} Street") == f"12 {number} ST"


def test_address_key_ordinal_table_reaches_twentieth():
    assert normalize.ORDINALS["TWENTIETH"] == "20TH"
    assert len({normalize.ORDINALS[word] for word in normalize._ONES_ORDINALS}) == 9


@pytest.mark.parametrize(("first", "second"), [
    ("9 Oak Ct 14A", "9 OAK COURT APT 14 A"),
    ("9 Oak Ct 14 A", "9 oak ct. #14a"),
    ("9 OAK CT UNIT 014A", "9 Oak Court Suite 14A"),
])
def test_address_key_unit_forms_agree(first, second):
    assert key_of(address_key, first) == key_of(address_key, second)


@pytest.mark.parametrize(("first", "second"), [
    ("9 Oak Ct 14A", "9 Oak Ct 14C"),
    ("9 Oak Ct Apt 14A", "9 Oak Ct Apt 14C"),
    ("9 Oak Ct Apt 14", "9 Oak Ct"),
    ("9 Oak Ct Apt 1", "9 Oak Ct Apt 10"),
])
def test_address_key_units_stay_strict(first, second):
    assert key_of(address_key, first) != key_of(address_key, second)


@pytest.mark.parametrize(("raw", "expected"), [
    ("123 1/2 Main St", "123 1/2 MAIN ST"),
    ("12-B Main St", "12B MAIN ST"),
    ("5 No Name Rd", "5 NO NAME RD"),
    ("7 O'Neil Ct", "7 ONEIL CT"),
    ("123 Highway 61", "123 HWY 61"),
    ("123 Main St E", "123 MAIN ST E"),
    ("123 Main St Apt", "123 MAIN ST"),
    ("Main Street", "MAIN ST"),
])
def test_address_key_special_forms(raw, expected):
    assert key_of(address_key, raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", ".,", "123", None])
def test_address_key_without_street_is_null(raw):
    assert key_of(address_key, raw) is None


def test_address_parts_split_number_street_unit():
    frame = pl.DataFrame({"address": [
        "123 North Main Street Apt 4", "9 Oak Ct 14 A", "10 Oak St N B2", "Main St", None,
        "5 Space Center Blvd Lot 07",
    ]})
    parts = frame.select(address_parts(pl.col("address"))).unnest("address")
    assert parts.columns == ["house_number", "street", "unit"]
    assert parts.rows() == [
        ("123", "N MAIN ST", "4"),
        ("9", "OAK CT", "14A"),
        ("10", "OAK ST N", "B2"),
        (None, "MAIN ST", None),
        (None, None, None),
        ("5", "SPACE CTR BLVD", "7"),
    ]


def test_address_parts_has_struct_dtype():
    frame = pl.DataFrame({"address": ["1 Elm St"]})
    parts = frame.select(address_parts(pl.col("address")))
    assert parts.schema["address"] == normalize.ADDRESS_PARTS_DTYPE


# Owner keys


@pytest.mark.parametrize("raw", [
    "SMITH, JOHN A",
    "John A. Smith",
    "JOHN A SMITH JR",
    "SMITH, JOHN A ET AL",
    "Smith John A Etux",
    "John A Smith, Trustee",
    "SMITH JOHN A TR",
    "smith john a iii",
])
def test_owner_key_forms_agree(raw):
    assert key_of(owner_key, raw) == "A JOHN SMITH"


def test_owner_key_apostrophe_joins_word():
    assert key_of(owner_key, "O'BRIEN, PAT") == key_of(owner_key, "Pat Obrien")


def test_owner_key_and_ampersand_agree():
    assert key_of(owner_key, "John & Mary Smith") == key_of(owner_key, "SMITH JOHN AND MARY")


@pytest.mark.parametrize("raw", ["", " , ", "ET AL", "JR", None])
def test_owner_key_noise_only_is_null(raw):
    assert key_of(owner_key, raw) is None


def test_owners_differ_cases():
    left = pl.Series(["SMITH JOHN", "SMITH JOHN", "SMITH, JOHN A", None, "SMITH JOHN", ""])
    right = pl.Series(["SMITH JOHN A", "GARCIA MARIA", "John A. Smith Jr", "GARCIA", None,
                       "GARCIA"])
    assert owners_differ(left, right, 60).to_list() == [False, True, False, False, False, False]


def test_owners_differ_score_boundary():
    # Keys "JOHN SMITH" and "JOHN SMYTH": token_set_ratio compares the whole keys, 20
    # characters with 2 edits (delete I, insert Y), so 100 * (1 - 2 / 20) = 90.
    left = pl.Series(["John Smith"])
    right = pl.Series(["Smyth, John"])
    assert owners_differ(left, right, 90).to_list() == [True]
    assert owners_differ(left, right, 89).to_list() == [False]


def test_owners_differ_empty_series():
    result = owners_differ(pl.Series([], dtype=pl.String()), pl.Series([], dtype=pl.String()), 60)
    assert result.dtype == pl.Boolean()
    assert result.len() == 0


def test_owners_differ_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="same length"):
        owners_differ(pl.Series(["A"]), pl.Series(["A", "B"]), 60)


# Properties

id_text = st.text(alphabet=string.ascii_letters + string.digits, max_size=12)


@st.composite
def spaced_variant(draw, text: str) -> str:
    """Insert separators anywhere and zeros in front, as billing exports do."""
    characters = list(text)
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(characters)))
        characters.insert(position, draw(st.sampled_from([" ", "-", ".", "/", "\t"])))
    zeros = "0" * draw(st.integers(0, 3))
    return zeros + "".join(characters)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_account_key_invariant_to_separators(data):
    text = data.draw(id_text)
    variant = data.draw(spaced_variant(text))
    key, variant_key = keys_of(account_key, [text, variant])
    assert variant_key == key
    assert keys_of(account_key, [key])[0] == key


address_words = st.sampled_from([
    "123", "9", "14A", "14", "A", "C", "1/2", "N", "North", "SOUTHWEST", "Main", "Oak",
    "Street", "St.", "Avenue", "Apt", "#", "#4", "Unit", "Suite", "NO", "Twenty", "First",
    "twentieth", "Hwy", "Ct", "O'Neil", "-", ",", "Lot", "0", "007",
])
address_text = st.one_of(
    st.lists(address_words, max_size=8).map(" ".join),
    st.text(alphabet=string.ascii_letters + string.digits + " .,#-/'", max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(address_text)
def test_address_key_idempotent(text):
    key = key_of(address_key, text)
    assert key_of(address_key, key) == key


name_words = st.lists(
    st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=8).filter(
        lambda word: word != "ET"
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(name_words, st.randoms(use_true_random=False), st.data())
def test_owner_key_invariant_to_order_and_case(words, random, data):
    shuffled = list(words)
    random.shuffle(shuffled)
    cased = [
        "".join(c.lower() if data.draw(st.booleans()) else c for c in word) for word in shuffled
    ]
    original, variant = keys_of(owner_key, [" ".join(words), ", ".join(cased)])
    assert variant == original

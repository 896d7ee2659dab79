"""Linking bills to profiles: the cascade, one-to-one links and ambiguity."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from sewerline.engine.findings import MatchMethod
from sewerline.engine.match import AMBIGUOUS_SCHEMA, LINKS_SCHEMA, Links, link_bills
from sewerline.engine.normalize import account_key, address_key, meter_key, parcel_key
from sewerline.engine.schema import Billed, Profile, Status

BILL_COLUMNS = [Billed.ACCOUNT, Billed.METER, Billed.PARCEL, Billed.SERVICE_ADDRESS]
PROFILE_COLUMNS = [Profile.WATER_ACCOUNT, Profile.METER, Profile.PARCEL,
                   Profile.SERVICE_ADDRESS, Profile.STATUS]


def make_bills(*rows: dict[str, str | None]) -> pl.DataFrame:
    """Build a bills table with bill_index 0, 1, ... and the four key columns."""
    data = {column: [row.get(column) for row in rows] for column in BILL_COLUMNS}
    frame = pl.DataFrame(data, schema=dict.fromkeys(BILL_COLUMNS, pl.String()))
    return frame.with_row_index("bill_index").with_columns(pl.col("bill_index").cast(pl.Int64))


def make_profiles(*rows: dict[str, str | None], first_index: int = 100) -> pl.DataFrame:
    """Build a profiles table with profile_index 100, 101, ... so indexes never mix up."""
    data = {column: [row.get(column) for row in rows] for column in PROFILE_COLUMNS}
    data[Profile.STATUS] = [row.get(Profile.STATUS, Status.ACTIVE) for row in rows]
    frame = pl.DataFrame(data, schema=dict.fromkeys(PROFILE_COLUMNS, pl.String()))
    indexes = pl.int_range(first_index, first_index + frame.height, dtype=pl.Int64)
    return frame.with_columns(indexes.alias("profile_index"))


def bill(account=None, meter=None, parcel=None, address=None) -> dict[str, str | None]:
    return {Billed.ACCOUNT: account, Billed.METER: meter, Billed.PARCEL: parcel,
            Billed.SERVICE_ADDRESS: address}


def profile(account=None, meter=None, parcel=None, address=None, status=Status.ACTIVE):
    return {Profile.WATER_ACCOUNT: account, Profile.METER: meter, Profile.PARCEL: parcel,
            Profile.SERVICE_ADDRESS: address, Profile.STATUS: status}


def link_rows(result: Links) -> list[tuple[int, int, str, int]]:
    return result.links.sort("bill_index").rows()


def ambiguous_rows(result: Links) -> list[tuple[int, str, list[int]]]:
    return result.ambiguous.sort("bill_index").rows()


# Each step


def test_account_step_ignores_zeros_and_dashes():
    result = link_bills(make_bills(bill("00123-45")), make_profiles(profile("12345")))
    assert link_rows(result) == [(0, 100, "account", 100)]


def test_meter_step_links_new_account():
    bills = make_bills(bill("NEW-1", meter="00-77 m"))
    profiles = make_profiles(profile("OLD-1", meter="77M"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "meter", 100)]


def test_parcel_step_links_new_account_and_meter():
    bills = make_bills(bill("NEW-1", meter="M2", parcel="012-345-00"))
    profiles = make_profiles(profile("OLD-1", meter="M1", parcel="1234500"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "parcel", 100)]


def test_address_step_uses_usps_forms():
    bills = make_bills(bill("NEW-1", address="123 North Main Street Apt 4"))
    profiles = make_profiles(profile("OLD-1", address="123 N MAIN ST #4"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "address", 100)]


def test_fuzzy_step_scores_misspelled_street():
    # Sorted words "AVE WASHINGTN" (13 characters) and "AVE WASHINGTON" (14) differ
    # by one inserted O: 100 * (1 - 1 / 27) = 96.3, reported floored as 96.
    bills = make_bills(bill("NEW-1", address="10 Washingtn Ave"))
    profiles = make_profiles(profile("OLD-1", address="10 Washington Avenue"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "fuzzy_address", 96)]


@pytest.mark.parametrize(("bill_street", "profile_street"), [
    ("OAKWOD CT", "OAKWOOD CT"),
    ("CT OAKWOOD", "OAKWOOD CT"),
    ("MARTIN LUTHER KING BLVD", "MARTIN LUTHER KING JR BLVD"),
    ("N MAPLE RIDGE RD", "MAPLE RIDGE RD N"),
])
def test_fuzzy_score_is_token_sort_ratio(bill_street, profile_street):
    bills = make_bills(bill("NEW-1", address=f"10 {bill_street}"))
    profiles = make_profiles(profile("OLD-1", address=f"10 {profile_street}"))
    expected = math.floor(fuzz.token_sort_ratio(bill_street, profile_street))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "fuzzy_address", expected)]


def test_fuzzy_step_ignores_word_order():
    bills = make_bills(bill("NEW-1", address="10 Main St North"))
    profiles = make_profiles(profile("OLD-1", address="10 North Main Street"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "fuzzy_address", 100)]


def test_fuzzy_step_respects_min_score():
    # "MAIN N ST" vs "MAIN S ST": one substitution, 2 edits in 18 characters = 88.9.
    bills = make_bills(bill("NEW-1", address="10 N Main St"))
    profiles = make_profiles(profile("OLD-1", address="10 S Main St"))
    assert link_rows(link_bills(bills, profiles)) == []
    lenient = link_bills(bills, profiles, fuzzy_min_score=88)
    assert link_rows(lenient) == [(0, 100, "fuzzy_address", 88)]


def test_fuzzy_step_rejects_dropped_directional():
    # WRatio would give these 95; token_sort_ratio gives "MAIN N ST" against "MAIN ST"
    # 100 * (1 - 2 / 16) = 87.5.
    bills = make_bills(bill("NEW-1", address="10 N Main St"))
    profiles = make_profiles(profile("OLD-1", address="10 Main St"))
    assert link_bills(bills, profiles).links.height == 0


def test_fuzzy_step_needs_same_house_number():
    bills = make_bills(bill("NEW-1", address="12 Washington Ave"))
    profiles = make_profiles(profile("OLD-1", address="10 Washington Ave"))
    assert link_bills(bills, profiles).links.height == 0


def test_fuzzy_step_skips_addresses_without_number():
    bills = make_bills(bill("NEW-1", address="Washingtn Ave"))
    profiles = make_profiles(profile("OLD-1", address="Washington Ave"))
    assert link_bills(bills, profiles).links.height == 0


def test_earlier_step_wins():
    # The bill's account points at profile 100 and its meter at profile 101.
    bills = make_bills(bill("A1", meter="M2"))
    profiles = make_profiles(profile("A1", meter="M1"), profile("A2", meter="M2"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "account", 100)]


def test_linked_profile_not_reused_later():
    # Bill 0 takes profile 100 by account; bill 1 shares its meter but must not get it.
    bills = make_bills(bill("A1"), bill("NEW", meter="M1"))
    profiles = make_profiles(profile("A1", meter="M1"))
    result = link_bills(bills, profiles)
    assert link_rows(result) == [(0, 100, "account", 100)]
    assert result.ambiguous.height == 0


def test_unmatched_bill_stays_unlinked():
    bills = make_bills(bill("Z9", meter="M9", parcel="P9", address="9 Elm St"))
    profiles = make_profiles(profile("A1", meter="M1", parcel="P1", address="1 Oak St"))
    result = link_bills(bills, profiles)
    assert result.links.height == 0
    assert result.ambiguous.height == 0


@pytest.mark.parametrize("status", Status.ALL)
def test_every_profile_status_links(status):
    bills = make_bills(bill("A1"))
    profiles = make_profiles(profile("A1", status=status))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "account", 100)]


# Ambiguity


@pytest.mark.parametrize(("method", "field", "value"), [
    ("account", "account", "A1"),
    ("meter", "meter", "M1"),
    ("parcel", "parcel", "P1"),
    ("address", "address", "5 Oak St"),
])
def test_two_profiles_same_key_ambiguous(method, field, value):
    # For the account step, `field` overrides the placeholder account numbers.
    bills = make_bills(bill(**{"account": "NEW", field: value}))
    profiles = make_profiles(profile(**{"account": "OLD-1", field: value}),
                             profile(**{"account": "OLD-2", field: value}))
    result = link_bills(bills, profiles)
    assert result.links.height == 0
    assert ambiguous_rows(result) == [(0, method, [100, 101])]


def test_two_bills_same_account_ambiguous():
    bills = make_bills(bill("00123"), bill("123"))
    profiles = make_profiles(profile("123"))
    result = link_bills(bills, profiles)
    assert result.links.height == 0
    assert ambiguous_rows(result) == [(0, "account", [100]), (1, "account", [100])]


def test_ambiguous_bill_not_linked_later():
    # The meter ties profiles 100 and 101; the address would single out 101, but a
    # bill left ambiguous by a more specific key stays unlinked.
    bills = make_bills(bill("NEW", meter="M1", address="7 Elm St"))
    profiles = make_profiles(profile("OLD-1", meter="M1", address="5 Oak St"),
                             profile("OLD-2", meter="M1", address="7 Elm St"))
    result = link_bills(bills, profiles)
    assert result.links.height == 0
    assert ambiguous_rows(result) == [(0, "meter", [100, 101])]


def test_candidate_profile_stays_linkable():
    # Bills 0 and 1 tie on the account of profile 100; bill 2 matches it by address.
    bills = make_bills(bill("A1"), bill("0A1"), bill("NEW", address="5 Oak St"))
    profiles = make_profiles(profile("A1", address="5 Oak St"))
    result = link_bills(bills, profiles)
    assert link_rows(result) == [(2, 100, "address", 100)]
    assert [row[0] for row in ambiguous_rows(result)] == [0, 1]


def test_two_profiles_same_fuzzy_score_ambiguous():
    # One added letter in either profile's street gives both the same score.
    bills = make_bills(bill("NEW", address="10 Maple Ave"))
    profiles = make_profiles(profile("OLD-1", address="10 Maples Ave"),
                             profile("OLD-2", address="10 Mapple Ave"))
    result = link_bills(bills, profiles)
    assert result.links.height == 0
    assert ambiguous_rows(result) == [(0, "fuzzy_address", [100, 101])]


def test_fuzzy_best_score_wins():
    bills = make_bills(bill("NEW", address="10 Washingtn Ave"))
    profiles = make_profiles(profile("OLD-1", address="10 Washington Ave"),
                             profile("OLD-2", address="10 Wshngtn Ave"))
    assert link_rows(link_bills(bills, profiles)) == [(0, 100, "fuzzy_address", 96)]


def test_fuzzy_profile_goes_to_closer_bill():
    # Both bills' best candidate is profile 100; bill 1 is closer, so bill 0 gets
    # nothing and is not reported as ambiguous.
    bills = make_bills(bill("NEW-1", address="10 Washngtn Ave"),
                       bill("NEW-2", address="10 Washingtn Ave"))
    profiles = make_profiles(profile("OLD-1", address="10 Washington Ave"))
    result = link_bills(bills, profiles, fuzzy_min_score=85)
    assert link_rows(result) == [(1, 100, "fuzzy_address", 96)]
    assert result.ambiguous.height == 0


def test_fuzzy_rival_with_better_match_ignored():
    # Bill 1 scores 94 with profile 100, as bill 0 does, but 95 with profile 101. It
    # takes 101, so it does not compete with bill 0 for 100.
    bills = make_bills(bill("NEW-1", address="10 Mapl Ave"),
                       bill("NEW-2", address="10 Maplew Ave"))
    profiles = make_profiles(profile("OLD-1", address="10 Maple Ave"),
                             profile("OLD-2", address="10 Maplewo Ave"))
    result = link_bills(bills, profiles, fuzzy_min_score=80)
    assert link_rows(result) == [(0, 100, "fuzzy_address", 94), (1, 101, "fuzzy_address", 95)]
    assert result.ambiguous.height == 0


# Units


def test_units_14a_and_14c_never_link():
    bills = make_bills(bill("NEW-1", address="9 Oak Ct 14A"),
                       bill("NEW-2", address="9 Oak Court Apt 14A"))
    profiles = make_profiles(profile("OLD-1", address="9 OAK CT #14C"))
    result = link_bills(bills, profiles, fuzzy_min_score=0)
    assert result.links.height == 0
    assert result.ambiguous.height == 0


def test_same_unit_links_fuzzily():
    bills = make_bills(bill("NEW-1", address="9 Oakwod Ct 14 A"))
    profiles = make_profiles(profile("OLD-1", address="9 Oakwood Court Apt 14A"),
                             profile("OLD-2", address="9 Oakwood Court Apt 14C"))
    result = link_bills(bills, profiles)
    assert [row[:3] for row in link_rows(result)] == [(0, 100, "fuzzy_address")]


def test_unit_never_pairs_with_no_unit():
    bills = make_bills(bill("NEW-1", address="9 Oakwod Ct"))
    profiles = make_profiles(profile("OLD-1", address="9 Oakwood Ct Apt 2"))
    assert link_bills(bills, profiles, fuzzy_min_score=0).links.height == 0


# Keys that must never match


def test_scientific_notation_meters_never_link():
    bills = make_bills(bill("NEW", meter="1.23457E+11"))
    profiles = make_profiles(profile("OLD", meter="1.23457E+11"))
    result = link_bills(bills, profiles)
    assert result.links.height == 0
    assert result.ambiguous.height == 0


@pytest.mark.parametrize("blank", [None, "", "   ", "--", "000"])
def test_blank_keys_never_link(blank):
    bills = make_bills(bill(blank, blank, blank, blank), bill(blank, blank, blank, blank))
    profiles = make_profiles(profile(blank, blank, blank, blank),
                             profile(blank, blank, blank, blank))
    result = link_bills(bills, profiles, fuzzy_min_score=0)
    assert result.links.height == 0
    assert result.ambiguous.height == 0


def test_missing_key_columns_skip_steps():
    bills = make_bills(bill("A1"), bill("NEW", meter="M2")).drop(Billed.PARCEL)
    profiles = make_profiles(profile("A1"), profile("OLD", meter="M2")).drop(
        Profile.SERVICE_ADDRESS, Profile.WATER_ACCOUNT
    )
    assert link_rows(link_bills(bills, profiles)) == [(1, 101, "meter", 100)]


# Output shape and input checks


def test_output_schemas():
    bills = make_bills(bill("A1"), bill("B1"), bill("B1"))
    profiles = make_profiles(profile("A1"), profile("B1"))
    result = link_bills(bills, profiles)
    assert result.links.schema == pl.Schema(LINKS_SCHEMA)
    assert result.ambiguous.schema == pl.Schema(AMBIGUOUS_SCHEMA)


def test_empty_tables_link_nothing():
    result = link_bills(make_bills(), make_profiles())
    assert result.links.schema == pl.Schema(LINKS_SCHEMA)
    assert result.links.height == 0
    assert result.ambiguous.height == 0


def test_method_counts():
    bills = make_bills(bill("A1"), bill("NEW", meter="M2"), bill("B1"), bill("B1"))
    profiles = make_profiles(profile("A1"), profile("OLD", meter="M2"), profile("B1"))
    counts = link_bills(bills, profiles).method_counts()
    assert counts == {"account": 1, "meter": 1, "parcel": 0, "address": 0,
                      "fuzzy_address": 0, "ambiguous": 2}
    assert set(counts) == {m.value for m in MatchMethod} - {"none"}


def test_duplicate_bill_index_rejected():
    bills = make_bills(bill("A1"), bill("A2")).with_columns(pl.lit(0).alias("bill_index"))
    with pytest.raises(ValueError, match="duplicates"):
        link_bills(bills, make_profiles(profile("A1")))


def test_missing_profile_index_rejected():
    profiles = make_profiles(profile("A1")).drop("profile_index")
    with pytest.raises(ValueError, match="profile_index"):
        link_bills(make_bills(bill("A1")), profiles)


def test_invalid_fuzzy_score_rejected():
    with pytest.raises(ValueError, match="fuzzy_min_score"):
        link_bills(make_bills(), make_profiles(), fuzzy_min_score=101)


# Properties over random tables with many colliding keys

small_value = st.one_of(st.none(), st.sampled_from(["1", "01", "2", "3", "X", ""]))
small_address = st.one_of(st.none(), st.sampled_from([
    "1 Oak St", "1 OAK STREET", "1 Oak St Apt 2", "1 Oaks St", "2 Oak St", "1 Elm St",
]))
key_row = st.fixed_dictionaries({
    "account": small_value, "meter": small_value, "parcel": small_value,
    "address": small_address,
})

_KEYS = {
    "account": (Billed.ACCOUNT, Profile.WATER_ACCOUNT, account_key),
    "meter": (Billed.METER, Profile.METER, meter_key),
    "parcel": (Billed.PARCEL, Profile.PARCEL, parcel_key),
    "address": (Billed.SERVICE_ADDRESS, Profile.SERVICE_ADDRESS, address_key),
}


@settings(max_examples=40, deadline=None)
@given(st.lists(key_row, max_size=8), st.lists(key_row, max_size=8))
def test_links_one_to_one_and_justified(bill_rows, profile_rows):
    bills = make_bills(*(bill(**row) for row in bill_rows))
    profiles = make_profiles(*(profile(**row) for row in profile_rows))
    result = link_bills(bills, profiles)
    links = result.links

    assert links["bill_index"].n_unique() == links.height
    assert links["profile_index"].n_unique() == links.height
    ambiguous_bills = set(result.ambiguous["bill_index"])
    assert ambiguous_bills.isdisjoint(links["bill_index"])

    # Every exact link joins two equal, non-null keys of its method.
    for bill_index, profile_index, method, score in links.iter_rows():
        if method == "fuzzy_address":
            assert score >= 92
            continue
        bill_column, profile_column, make_key = _KEYS[method]
        bill_key = bills.filter(pl.col("bill_index") == bill_index).select(
            make_key(pl.col(bill_column))).item()
        profile_key = profiles.filter(pl.col("profile_index") == profile_index).select(
            make_key(pl.col(profile_column))).item()
        assert bill_key is not None
        assert bill_key == profile_key
        assert score == 100

    # A candidate of an ambiguous bill was still unlinked at that step. A bill with a
    # single candidate is ambiguous only because another bill of the step ties for it.
    step_order = [m.value for m in MatchMethod]
    linked_at = dict(zip(links["profile_index"], links["match_method"], strict=True))
    for bill_index, method, candidates in result.ambiguous.iter_rows():
        assert set(candidates) <= set(profiles["profile_index"])
        assert candidates == sorted(candidates)
        if len(candidates) == 1:
            rivals = result.ambiguous.filter(
                (pl.col("bill_index") != bill_index)
                & (pl.col("match_method") == method)
                & pl.col("candidates").list.contains(candidates[0])
            )
            assert rivals.height > 0
        for candidate in candidates:
            if candidate in linked_at:
                assert step_order.index(linked_at[candidate]) >= step_order.index(method)

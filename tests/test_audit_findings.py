"""Each finding type, the tolerance and the status rules, on a small written-out utility.

Expected amounts are worked out by hand from the rates in audit_world.py: residential
$20.00 + $5.00 x min(usage kgal, winter average kgal); commercial $30.00 + $6.00 x kgal.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit_world import bill, profile, write_world
from sewerline.engine.audit import run_audit
from sewerline.engine.findings import AuditConfig, Tolerance


def audit(tmp_path, profiles, bills, **config):
    world = write_world(tmp_path, profiles, bills)
    return run_audit(
        profiles_path=world.profiles, billing_path=world.billing, rates_path=world.rates,
        mapping_path=world.mapping, config=AuditConfig(cycle="2016-01", **config),
    )


def rows(result):
    """Findings as (type, account_id, billed_account, expected, billed, difference, method)."""
    return sorted(
        result.findings.select(
            "finding_type", "account_id", "billed_account", "expected_amount",
            "billed_amount", "difference", "match_method",
        ).iter_rows(),
        key=lambda row: (row[0], row[1] or "", row[2] or ""),
    )


def money(text):
    return Decimal(text)


def test_correct_bill_has_no_finding(tmp_path):
    # 4,000 gal = 4 kgal, under the winter average of 5: 20.00 + 5.00 x 4 = 40.00
    result = audit(tmp_path, [profile("SS-001", "001")], [bill("001", "40.00")])
    assert rows(result) == []
    assert result.totals.billed == money("40.00")
    assert result.totals.expected == money("40.00")


def test_winter_average_caps_volume(tmp_path):
    # 9,000 gal is above the winter average of 5 kgal: 20.00 + 5.00 x 5 = 45.00
    result = audit(tmp_path, [profile("SS-001", "001")], [bill("001", "45.00", gallons="9000")])
    assert rows(result) == []


def test_overbilled_and_underbilled(tmp_path):
    result = audit(
        tmp_path,
        [profile("SS-001", "001"), profile("SS-002", "002"),
         profile("SS-003", "003", customer_class="COMMERCIAL")],
        # Commercial: 10,500 gal = 10.5 kgal -> 30.00 + 6.00 x 10.5 = 93.00
        [bill("001", "45.00"), bill("002", "0.00"),
         bill("003", "90.00", gallons="10500", rate_code="C1")],
    )
    assert rows(result) == [
        ("overbilled", "SS-001", "001", money("40"), money("45"), money("5"), "account"),
        ("underbilled", "SS-002", "002", money("40"), money("0"), money("-40"), "account"),
        ("underbilled", "SS-003", "003", money("93"), money("90"), money("-3"), "account"),
    ]
    stake = result.totals.at_stake_by_type
    assert stake["underbilled"] == money("43.00")
    assert stake["overbilled"] == money("5.00")


def test_detail_shows_the_computation(tmp_path):
    result = audit(tmp_path, [profile("SS-001", "001")], [bill("001", "45.00")])
    detail = result.findings.get_column("detail").item()
    assert "RESIDENTIAL_SINGLE" in detail
    assert "40.00" in detail
    assert "volume_charge" in detail


@pytest.mark.parametrize(
    ("billed", "tolerance", "expected_types"),
    [
        ("40.01", Tolerance(), []),
        ("40.02", Tolerance(), ["overbilled"]),
        ("40.01", Tolerance(absolute=Decimal("0")), ["overbilled"]),
        ("41.00", Tolerance(absolute=Decimal("0"), percent=Decimal("5")), []),
        ("43.00", Tolerance(absolute=Decimal("0"), percent=Decimal("5")), ["overbilled"]),
    ],
)
def test_tolerance(tmp_path, billed, tolerance, expected_types):
    result = audit(tmp_path, [profile("SS-001", "001")], [bill("001", billed)],
                   tolerance=tolerance)
    assert [row[0] for row in rows(result)] == expected_types


@pytest.mark.parametrize("status", ["septic", "exempt", "inactive"])
def test_non_active_profile_expects_nothing(tmp_path, status):
    unbilled = audit(
        tmp_path / "unbilled",
        [profile("SS-001", "001", status=status), profile("SS-002", "002")],
        [bill("002", "40.00")],
    )
    assert rows(unbilled) == []

    billed = audit(tmp_path / "billed", [profile("SS-001", "001", status=status)],
                   [bill("001", "40.00")])
    assert rows(billed) == [
        ("overbilled", "SS-001", "001", money("0"), money("40"), money("40"), "account"),
    ]
    assert status in billed.findings.get_column("detail").item()


def test_not_billed_is_rated_at_zero_usage(tmp_path):
    result = audit(tmp_path, [profile("SS-001", "001"), profile("SS-002", "002")],
                   [bill("001", "40.00")])
    assert rows(result) == [
        ("not_billed", "SS-002", None, money("20"), None, money("-20"), "none"),
    ]
    assert "lower bound" in result.findings.get_column("detail").item()


def test_unknown_customer(tmp_path):
    result = audit(tmp_path, [profile("SS-001", "001")],
                   [bill("001", "40.00"), bill("777", "40.00", address="9 NEW RD")])
    assert rows(result) == [
        ("unknown_customer", None, "777", None, money("40"), None, "none"),
    ]
    # With no profile, the reports show the customer named on the bill.
    assert result.findings.get_column("owner_name").to_list() == ["SMITH JOHN"]


def test_sold_house_is_account_changed_and_underbilled(tmp_path):
    # The new owner's water account lost the sewer charge; the meter still links it.
    result = audit(
        tmp_path,
        [profile("SS-001", "001", meter="M-555")],
        [bill("901", "0.00", meter="M-555", name="GARCIA MARIA")],
    )
    assert rows(result) == [
        ("account_changed", "SS-001", "901", money("40"), money("0"), money("-40"), "meter"),
        ("underbilled", "SS-001", "901", money("40"), money("0"), money("-40"), "meter"),
    ]
    changed = result.findings.filter(result.findings["finding_type"] == "account_changed")
    assert "GARCIA MARIA" in changed.get_column("detail").item()
    # The money is counted once, on the underbilled finding.
    assert result.totals.at_stake_by_type["account_changed"] == money("0")
    assert result.totals.at_stake_by_type["underbilled"] == money("40.00")


def test_owner_changed_only_for_a_different_name(tmp_path):
    result = audit(
        tmp_path,
        [profile("SS-001", "001", owner="SMITH, JOHN A"),
         profile("SS-002", "002", owner="SMITH, JOHN A")],
        [bill("001", "40.00", name="John A. Smith"),
         bill("002", "40.00", name="GARCIA MARIA")],
    )
    assert rows(result) == [
        ("owner_changed", "SS-002", "002", money("40"), money("40"), money("0"), "account"),
    ]


def test_meter_changed(tmp_path):
    result = audit(
        tmp_path,
        [profile("SS-001", "001", meter="00012345"), profile("SS-002", "002", meter="12345678")],
        [bill("001", "40.00", meter="12345"), bill("002", "40.00", meter="87654321")],
    )
    assert rows(result) == [
        ("meter_changed", "SS-002", "002", money("40"), money("40"), money("0"), "account"),
    ]


def test_class_mismatch_with_its_amount_finding(tmp_path):
    # A commercial account billed on the residential rate code and amount.
    result = audit(
        tmp_path,
        [profile("SS-001", "001", customer_class="COMMERCIAL")],
        [bill("001", "40.00", rate_code="R1")],
    )
    # Expected commercial: 30.00 + 6.00 x 4 = 54.00
    assert rows(result) == [
        ("class_mismatch", "SS-001", "001", money("54"), money("40"), money("-14"), "account"),
        ("underbilled", "SS-001", "001", money("54"), money("40"), money("-14"), "account"),
    ]


def test_duplicate_bill_for_the_same_period(tmp_path):
    result = audit(
        tmp_path,
        [profile("SS-001", "001")],
        [bill("001", "40.00"), bill("0001", "40.00")],
    )
    assert rows(result) == [
        ("duplicate_bill", "SS-001", "0001", money("0"), money("40"), money("40"), "account"),
    ]
    assert result.totals.at_stake_by_type["duplicate_bill"] == money("40.00")


def test_bills_of_two_periods_are_each_audited(tmp_path):
    # A catch-up bill for February in the same export is not a duplicate of January's.
    result = audit(
        tmp_path,
        [profile("SS-001", "001")],
        [bill("001", "40.00"), bill("001", "45.00", start="02/01/2016", end="02/29/2016")],
    )
    assert rows(result) == [
        ("overbilled", "SS-001", "001", money("40"), money("45"), money("5"), "account"),
    ]
    assert result.totals.expected == money("80.00")


def test_ambiguous_meter_is_reported_not_linked(tmp_path):
    # Two unbilled profiles share the meter of a bill under an unknown account.
    result = audit(
        tmp_path,
        [profile("SS-001", "001", meter="555"), profile("SS-002", "002", meter="555")],
        [bill("903", "40.00", meter="555", address="1 ELSEWHERE AVE")],
    )
    assert rows(result) == [
        ("not_billed", "SS-001", None, money("20"), None, money("-20"), "none"),
        ("not_billed", "SS-002", None, money("20"), None, money("-20"), "none"),
        ("unknown_customer", None, "903", None, money("40"), None, "ambiguous"),
    ]
    unknown = result.findings.filter(result.findings["finding_type"] == "unknown_customer")
    assert "SS-001, SS-002" in unknown.get_column("detail").item()


def test_totals_count_unbilled_profiles(tmp_path):
    result = audit(tmp_path, [profile("SS-001", "001"), profile("SS-002", "002")],
                   [bill("001", "45.00")])
    assert result.totals.billed == money("45.00")
    assert result.totals.expected == money("60.00")  # 40.00 billed profile + 20.00 unbilled
    assert result.totals.count_by_type["overbilled"] == 1
    assert result.totals.count_by_type["not_billed"] == 1

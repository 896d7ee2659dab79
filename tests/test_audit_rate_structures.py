"""Sewer rate structures through the whole audit: rate changes, winter averages from
history, percent of water, proration and deduct meters. Amounts are worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner

from audit_world import MAPPING, bill, profile, write_world
from sewerline.cli import main
from sewerline.engine.audit import run_audit
from sewerline.engine.findings import AuditConfig
from sewerline.engine.rates.dated import ChangeMode


def findings_of(result):
    return sorted(
        (ftype, account, expected, billed)
        for ftype, account, expected, billed in result.findings.select(
            "finding_type", "account_id", "expected_amount", "billed_amount"
        ).iter_rows()
    )


def flat_rates(effective: str, monthly: str) -> str:
    """A monthly flat sewer charge, prorated by the days of the billing period (30 a month)."""
    return f"""\
metadata:
  effective_date: {effective}
  utility_name: Test Sewer District
  bill_frequency: monthly
  bill_unit: kgal
  sewerline:
    proration:
      standard_days: 30
rate_structure:
  RESIDENTIAL_SINGLE:
    monthly_charge: {monthly}
    service_charge: monthly_charge * days_in_period / 30
    bill: service_charge
  COMMERCIAL:
    monthly_charge: {monthly}
    service_charge: monthly_charge * days_in_period / 30
    bill: service_charge
"""


def audit_with(world, *, rates=None, **options):
    return run_audit(
        profiles_path=world.profiles, billing_path=world.billing,
        rates_path=rates or world.rates, mapping_path=world.mapping,
        config=AuditConfig(cycle="2016-07"), **options,
    )


def test_rate_change_split_by_days(tmp_path):
    # $30.00 a month until June 30, $45.00 from July 1. A June 16 - July 15 bill has 15
    # days at each rate: 30.00 x 15/30 = 15.00 plus 45.00 x 15/30 = 22.50, so 37.50.
    old, new = tmp_path / "old.owrs", tmp_path / "new.owrs"
    old.write_text(flat_rates("2016-01-01", "30.00"))
    new.write_text(flat_rates("2016-07-01", "45.00"))
    world = write_world(tmp_path / "in", [profile("SS-001", "001")],
                        [bill("001", "45.00", start="06/16/2016", end="07/15/2016")])

    split = audit_with(world, rates=[old, new], change_mode=ChangeMode.SPLIT_BY_DAYS)
    assert findings_of(split) == [("overbilled", "SS-001", Decimal("37.5"), Decimal("45"))]
    assert "rates of 2016-01-01" in split.findings.get_column("detail").item()
    assert "rates of 2016-07-01" in split.findings.get_column("detail").item()

    # Billed at the new rate only from the next period: the whole bill at $30.00.
    next_period = audit_with(world, rates=[old, new], change_mode=ChangeMode.NEXT_PERIOD)
    assert findings_of(next_period) == [("overbilled", "SS-001", Decimal("30"), Decimal("45"))]


def test_proration_of_a_short_final_bill(tmp_path):
    # A move-out bill of 12 days: 30.00 x 12 / 30 = 12.00.
    rates = tmp_path / "rates.owrs"
    rates.write_text(flat_rates("2016-01-01", "30.00"))
    world = write_world(tmp_path / "in", [profile("SS-001", "001"), profile("SS-002", "002")],
                        [bill("001", "12.00", start="07/01/2016", end="07/12/2016"),
                         bill("002", "30.00", start="07/01/2016", end="07/12/2016")])
    result = audit_with(world, rates=rates)
    assert findings_of(result) == [("overbilled", "SS-002", Decimal("12"), Decimal("30"))]


PERCENT_RATES = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Test Sewer District
  bill_frequency: monthly
  bill_unit: kgal
rate_structure:
  RESIDENTIAL_SINGLE:
    sewer_share: 0.65
    volume_charge: water_charge * sewer_share
    bill: volume_charge
"""


def test_sewer_as_percent_of_billed_water(tmp_path):
    # Water billed 52.37: sewer is 65% of it, 34.0405, rounded half-up to 34.04.
    mapping = MAPPING.replace("  period_end: To\n", "  period_end: To\n  water_amount: Water\n")
    rows = [bill("001", "34.04"), bill("002", "30.00")]
    world = write_world(tmp_path, [profile("SS-001", "001"), profile("SS-002", "002")], rows,
                        rates=PERCENT_RATES, mapping=mapping)
    # The export gains a Water column after the header the helper writes.
    text = world.billing.read_text().splitlines()
    text[0] += ",Water"
    text[1] += ",52.37"
    text[2] += ",52.37"
    world.billing.write_text("\n".join(text) + "\n")
    result = audit_with(world)
    assert findings_of(result) == [("underbilled", "SS-002", Decimal("34.04"), Decimal("30"))]


DEDUCT_RATES = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Test Sewer District
  bill_frequency: monthly
  bill_unit: kgal
rate_structure:
  COMMERCIAL:
    volume_rate: 6.00
    volume_charge: volume_rate * max(usage_ccf - deduct_usage, 0)
    bill: volume_charge
"""


def test_deduct_meter_usage_is_subtracted(tmp_path):
    # 10,500 gal metered, 2,500 gal through the irrigation deduct meter: 8 kgal x 6.00.
    mapping = MAPPING.replace("  period_end: To\n", "  period_end: To\n  deduct_usage: Deduct\n")
    world = write_world(tmp_path, [profile("SS-001", "001", customer_class="COMMERCIAL")],
                        [bill("001", "63.00", gallons="10500", rate_code="C1")],
                        rates=DEDUCT_RATES, mapping=mapping)
    text = world.billing.read_text().splitlines()
    world.billing.write_text(f"{text[0]},Deduct\n{text[1]},2500\n")
    result = audit_with(world)
    assert findings_of(result) == [("overbilled", "SS-001", Decimal("48"), Decimal("63"))]


WINTER_RATES = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Test Sewer District
  bill_frequency: monthly
  bill_unit: kgal
  sewerline:
    winter_average:
      source: history
      months: [12, 1, 2]
      rounding: {places: 0, mode: down}
      effective: "04-01"
      minimum_months: 3
      new_customer: {rule: flat, amount: 42.00}
rate_structure:
  RESIDENTIAL_SINGLE:
    volume_rate: 5.00
    volume_charge: volume_rate * min(usage_ccf, winter_average)
    bill: volume_charge
"""

HISTORY = """\
account_id,read_date,usage
SS-001,2015-12-31,4000
SS-001,2016-01-31,6000
SS-001,2016-02-29,6000
"""


def test_winter_average_from_history_through_the_cli(tmp_path):
    # SS-001: (4 + 6 + 6) / 3 = 5.33 kgal, rounded down to 5; July use of 9 kgal is
    # capped at 5: 5 x 5.00 = 25.00. SS-002 has no winter history: flat 42.00.
    world = write_world(
        tmp_path / "in",
        [profile("SS-001", "001", winter_average=""), profile("SS-002", "002",
                                                               winter_average="")],
        [bill("001", "45.00", gallons="9000", start="07/01/2016", end="07/31/2016"),
         bill("002", "42.00", gallons="9000", start="07/01/2016", end="07/31/2016")],
        rates=WINTER_RATES,
    )
    history = tmp_path / "history.csv"
    history.write_text(HISTORY)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "audit", "--profiles", str(world.profiles), "--billing", str(world.billing),
        "--rates", str(world.rates), "--mapping", str(world.mapping), "--cycle", "2016-07",
        "--usage-history", str(history), "--out", str(out), "--quiet",
    ])
    assert result.exit_code == 1, result.output
    findings = (out / "findings.csv").read_text().splitlines()
    assert len(findings) == 2
    assert findings[1].startswith("2016-07,overbilled,SS-001,001,25.00,45.00,20.00,account,")


def test_winter_average_rule_needs_history(tmp_path):
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "25.00")],
                        rates=WINTER_RATES)
    result = CliRunner().invoke(main, [
        "audit", "--profiles", str(world.profiles), "--billing", str(world.billing),
        "--rates", str(world.rates), "--mapping", str(world.mapping), "--cycle", "2016-07",
        "--out", str(tmp_path / "out"), "--quiet",
    ])
    assert result.exit_code == 2
    assert "usage history" in result.output

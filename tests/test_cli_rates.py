"""`sewerline rates check | bill | explain` on the sample's sewer schedule.

Sample rates (City of Mulvane, Kansas, billed bimonthly in kgal): residential $21.00 a
month plus $5.25 per kgal of the winter average; commercial the same charge plus $5.25
per kgal used.
"""

from __future__ import annotations

import json
from decimal import Decimal

from click.testing import CliRunner

from sewerline.cli import main
from sewerline.sample import sample_files


def invoke(*args):
    return CliRunner().invoke(main, ["rates", *args])


def test_check_lists_classes_and_inputs():
    result = invoke("check", str(sample_files().rates))
    assert result.exit_code == 0, result.output
    assert "RESIDENTIAL_SINGLE: needs winter_average" in result.output
    assert "COMMERCIAL: needs usage_ccf" in result.output


def test_bill_prints_each_component():
    result = invoke("bill", "--rates", str(sample_files().rates), "--class",
                    "RESIDENTIAL_SINGLE", "--usage", "7", "--set", "winter_average=4.488")
    assert result.exit_code == 0, result.output
    # 21.00 x 2 = 42.00; 5.25 x 4.488 x 2 = 47.124 -> 47.12; total 89.12
    assert "42.00" in result.output
    assert "47.124 -> 47.12" in result.output
    assert "89.12" in result.output


def test_bill_json_has_bill_and_components():
    result = invoke("bill", "--rates", str(sample_files().rates), "--class", "COMMERCIAL",
                    "--usage", "7.5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # 5.25 x 7.5 = 39.375 -> 39.38 (half-up); 42.00 + 39.38 = 81.38
    assert data["bill"] == "81.38"
    assert data["components"] == {"service_charge": "42.00", "volume_charge": "39.38"}
    assert data["inputs"] == {"usage_ccf": "7.5"}


def test_bill_json_lists_tiers(tmp_path):
    schedule = tmp_path / "tiered.owrs"
    schedule.write_text(
        "metadata: {effective_date: 2016-01-01, utility_name: T, bill_frequency: monthly,"
        " bill_unit: ccf}\n"
        "rate_structure:\n"
        "  RESIDENTIAL_SINGLE:\n"
        "    tier_starts: [0, 15, 21, 26]\n"
        "    tier_prices: [1, 2, 3, 4]\n"
        "    commodity_charge: Tiered\n"
        "    bill: commodity_charge\n"
    )
    result = invoke("bill", "--rates", str(schedule), "--class", "RESIDENTIAL_SINGLE",
                    "--usage", "27.3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    volumes = [tier["volume"] for tier in data["tiers"]["commodity_charge"]]
    # Starts 0, 15, 21, 26 split 27.3 units into 14, 6, 5 and 2.3.
    assert [Decimal(v) for v in volumes] == [14, 6, 5, Decimal("2.3")]
    # 14 x 1 + 6 x 2 + 5 x 3 + 2.3 x 4 = 50.20
    assert data["bill"] == "50.20"


def test_bill_rejects_bad_usage_and_class():
    bad_usage = invoke("bill", "--rates", str(sample_files().rates), "--class", "COMMERCIAL",
                       "--usage", "seven")
    assert bad_usage.exit_code == 2
    assert "seven" in bad_usage.output

    bad_class = invoke("bill", "--rates", str(sample_files().rates), "--class", "SHOP",
                       "--usage", "7")
    assert bad_class.exit_code == 2
    assert "SHOP" in bad_class.output


def test_explain_shows_billed_and_expected():
    files = sample_files()
    result = invoke("explain", "--profiles", str(files.profiles), "--billing",
                    str(files.billing), "--rates", str(files.rates), "--mapping",
                    str(files.mapping), "--account", "SS-027985")
    assert result.exit_code == 0, result.output
    # Winter average 10.971 kgal: 42.00 + 5.25 x 10.971 x 2 = 115.1955 -> 115.20; 157.20
    assert "115.1955 -> 115.20" in result.output
    assert "157.20" in result.output
    assert "billed 162.68" in result.output


def test_explain_unknown_account_exits_2():
    files = sample_files()
    result = invoke("explain", "--profiles", str(files.profiles), "--billing",
                    str(files.billing), "--rates", str(files.rates), "--mapping",
                    str(files.mapping), "--account", "SS-NOPE")
    assert result.exit_code == 2
    assert "SS-NOPE" in result.output

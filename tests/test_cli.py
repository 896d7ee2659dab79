"""The `sewerline audit` command: exit codes, messages and no partial output on bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from audit_world import MAPPING, RATES, bill, profile, write_world
from sewerline.cli import main


def run(world, out, *extra):
    runner = CliRunner()
    return runner.invoke(main, [
        "audit", "--profiles", str(world.profiles), "--billing", str(world.billing),
        "--rates", str(world.rates), "--mapping", str(world.mapping), "--cycle", "2016-01",
        "--out", str(out), "--quiet", *extra,
    ])


def test_clean_cycle_exits_0(tmp_path):
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "40.00")])
    result = run(world, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "audit.xlsx", "findings.csv", "summary.html",
    ]


def test_findings_exit_1_and_summary(tmp_path):
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "45.00")])
    runner = CliRunner()
    result = runner.invoke(main, [
        "audit", "--profiles", str(world.profiles), "--billing", str(world.billing),
        "--rates", str(world.rates), "--mapping", str(world.mapping), "--cycle", "2016-01",
        "--out", str(tmp_path / "out"),
    ])
    assert result.exit_code == 1, result.output
    assert "overbilled" in result.output
    assert "$5.00" in result.output
    assert "findings.csv" in result.output


def test_keep_intermediate_writes_tables(tmp_path):
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "45.00")])
    result = run(world, tmp_path / "out", "--keep-intermediate")
    assert result.exit_code == 1, result.output
    assert (tmp_path / "out" / "intermediate" / "links.parquet").exists()


def test_help_explains_units():
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert result.exit_code == 0
    for text in ("--tolerance", "dollars", "ccf", "kgal", "Exit code"):
        assert text in result.output


def test_missing_argument_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["audit", "--cycle", "x"])
    assert result.exit_code == 2


def test_empty_cycle_rejected(tmp_path):
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "40.00")])
    result = CliRunner().invoke(main, [
        "audit", "--profiles", str(world.profiles), "--billing", str(world.billing),
        "--rates", str(world.rates), "--mapping", str(world.mapping), "--cycle", " ",
    ])
    assert result.exit_code == 2
    assert "cycle id must not be empty" in result.output


def test_negative_tolerance_rejected(tmp_path):
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "40.00")])
    result = run(world, tmp_path / "out", "--tolerance", "-1")
    assert result.exit_code == 2
    assert "zero or more" in result.output


BAD_INPUTS = {
    "empty billing file": (
        lambda w: w.billing.write_bytes(b""), ["export.csv", "empty"]),
    "missing column": (
        lambda w: w.billing.write_text(w.billing.read_text().replace("Sewer Amount", "Sewer Amt")),
        ["Sewer Amount", "Sewer Amt"]),
    "malformed number": (
        lambda w: w.billing.write_text(w.billing.read_text().replace("40.00", "4O.00")),
        ["row 2", "Sewer Amount", "4O.00"]),
    "unknown rate code": (
        lambda w: w.billing.write_text(w.billing.read_text().replace(",R1,", ",Z9,")),
        ["Z9", "rate_codes"]),
    "wrong encoding": (
        lambda w: w.billing.write_bytes("Account,Name\n001,x\n".encode("utf-16-le")),
        ["export.csv", "encoding"]),
    "duplicate header": (
        lambda w: w.billing.write_text(
            w.billing.read_text().replace("Name,Address", "Name,Name", 1)),
        ["Name", "duplicate"]),
    "rate file with an unknown variable": (
        lambda w: w.rates.write_text(RATES.replace("volume_rate * usage_ccf",
                                                   "volume_rate * usage_kgals")),
        ["usage_kgals", "COMMERCIAL", "line"]),
    "unknown class in profiles": (
        lambda w: w.profiles.write_text(
            w.profiles.read_text().replace("RESIDENTIAL_SINGLE", "RESIDENTAL")),
        ["RESIDENTAL", "profiles.csv"]),
    "rate code mapped to an unknown class": (
        lambda w: w.mapping.write_text(MAPPING.replace("C1: COMMERCIAL", "C1: COMERCIAL")),
        ["C1", "COMERCIAL", "rates.owrs", "mapping.yaml"]),
    "misspelled metadata key in the rate file": (
        lambda w: w.rates.write_text(RATES.replace("bill_unit: kgal", "bill_unt: kgal")),
        ["bill_unt", "bill_unit", "line 5"]),
    "rate variable misspelled, with a suggestion": (
        lambda w: w.rates.write_text(RATES.replace("min(usage_ccf, winter_average)",
                                                   "min(usage_ccf, winter_avg)")),
        ["winter_avg", "did you mean 'winter_average'"]),
    "blank winter average of an active profile": (
        lambda w: w.profiles.write_text(w.profiles.read_text().replace(",active,5,", ",active,,")),
        ["profiles.csv", "row 2", "winter_average", "is empty"]),
    "bad mapping key": (
        lambda w: w.mapping.write_text(MAPPING.replace("usage_unit:", "usage_units:")),
        ["usage_units", "mapping.yaml"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_without_output(tmp_path, case):
    spoil, words = BAD_INPUTS[case]
    world = write_world(tmp_path / "in", [profile("SS-001", "001")], [bill("001", "40.00")])
    spoil(world)
    out = tmp_path / "out"
    result = run(world, out)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word.lower() in result.output.lower(), (word, result.output)
    assert not out.exists() or list(out.iterdir()) == []

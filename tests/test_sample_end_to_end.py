"""The audit of the bundled real sample finds exactly the injected discrepancies.

The sample's builder computes every correct sewer charge with its own hand-written
Decimal arithmetic and lists each injected discrepancy in expected_findings.csv, so this
test checks the engine against an independent computation, row by row.
"""

from __future__ import annotations

import csv
from decimal import Decimal

import polars as pl
import pytest
from click.testing import CliRunner

from sewerline.cli import main
from sewerline.engine.audit import run_audit
from sewerline.engine.findings import FINDING_COLUMNS, AuditConfig, FindingType
from sewerline.sample import CYCLE, sample_files


@pytest.fixture(scope="module")
def sample_result():
    files = sample_files()
    return run_audit(
        profiles_path=files.profiles, billing_path=files.billing, rates_path=files.rates,
        mapping_path=files.mapping, config=AuditConfig(cycle=CYCLE),
    )


def read_manifest(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def finding_key(finding_type, account_id, billed_account, method, expected, billed):
    def amount(text):
        return (Decimal(text) if text not in (None, "") else None)
    return (finding_type, account_id or "", billed_account or "", method,
            amount(expected), amount(billed))


def test_finds_exactly_the_injected_discrepancies(sample_result):
    manifest = read_manifest(sample_files().expected_findings)
    expected = sorted(
        finding_key(row["finding_type"], row["account_id"], row["billed_account"],
                    row["match_method"], row["expected_amount"], row["billed_amount"])
        for row in manifest
    )
    found = sorted(
        finding_key(ftype, account, billed_account, method,
                    None if expected_amount is None else str(expected_amount),
                    None if billed_amount is None else str(billed_amount))
        for ftype, account, billed_account, method, expected_amount, billed_amount
        in sample_result.findings.select(
            "finding_type", "account_id", "billed_account", "match_method",
            "expected_amount", "billed_amount",
        ).iter_rows()
    )
    missing = [row for row in expected if row not in found]
    extra = [row for row in found if row not in expected]
    assert missing == []
    assert extra == []


def test_counts_export_rows_and_bills(sample_result):
    # One water line per bill, plus one sewer line on most bills.
    with sample_files().billing.open(encoding="cp1252", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    assert sample_result.billed_rows == rows
    assert sample_result.bills < rows


def test_every_finding_type_occurs(sample_result):
    types = set(sample_result.findings.get_column("finding_type"))
    assert types == {ftype.value for ftype in FindingType}


def test_controls_produce_no_finding(sample_result):
    findings = sample_result.findings
    for control in read_manifest(sample_files().controls):
        for column, value in (("account_id", control["account_id"]),
                              ("billed_account", control["billed_account"])):
            if not value:
                continue
            hits = findings.filter(pl.col(column) == value)
            assert hits.height == 0, (control["case_id"], hits.to_dicts())


def test_totals_agree_with_the_findings(sample_result):
    totals = sample_result.totals
    by_type = sample_result.findings.group_by("finding_type").agg(
        pl.col("revenue_at_stake").sum()
    )
    for ftype, at_stake in by_type.iter_rows():
        assert totals.at_stake_by_type[ftype] == at_stake.quantize(Decimal("0.01"))
    assert totals.months_per_cycle == Decimal(2)


def test_demo_command_writes_reports(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "summary.html" in result.output

    with (out / "findings.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == FINDING_COLUMNS
    manifest = read_manifest(sample_files().expected_findings)
    assert len(rows) == len(manifest)
    assert {row["cycle"] for row in rows} == {CYCLE}

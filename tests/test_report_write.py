"""write_reports: all three files appear together, or nothing new is left behind."""

from __future__ import annotations

import os

import openpyxl
import pytest

import sewerline.engine.report as report
from sewerline.engine.report import atomic, write_reports
from sewerline.engine.report.atomic import write_files_atomically
from test_report_support import finding, make_result


def sample_result():
    return make_result([finding("underbilled", "S-1", "W-1", "100", "80")])


def test_write_reports_creates_three_files(tmp_path):
    out_dir = tmp_path / "out" / "2016-03"

    paths = write_reports(sample_result(), out_dir)

    assert paths == [out_dir / "findings.csv", out_dir / "audit.xlsx", out_dir / "summary.html"]
    assert sorted(os.listdir(out_dir)) == ["audit.xlsx", "findings.csv", "summary.html"]
    assert openpyxl.load_workbook(out_dir / "audit.xlsx").sheetnames == ["Summary", "Underbilled"]
    assert "$20.00" in (out_dir / "summary.html").read_text(encoding="utf-8")


def test_write_reports_replaces_old_files(tmp_path):
    (tmp_path / "findings.csv").write_text("old", encoding="utf-8")

    write_reports(sample_result(), tmp_path)

    assert (tmp_path / "findings.csv").read_text(encoding="utf-8").startswith("cycle,")


def failing_writer(result, path):
    raise RuntimeError("disk full")


def test_write_reports_failure_leaves_nothing(tmp_path, monkeypatch):
    (tmp_path / "findings.csv").write_text("old", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("keep", encoding="utf-8")
    monkeypatch.setattr(report, "write_summary_html", failing_writer)

    with pytest.raises(RuntimeError, match="disk full"):
        write_reports(sample_result(), tmp_path)

    assert sorted(os.listdir(tmp_path)) == ["findings.csv", "notes.txt"]
    assert (tmp_path / "findings.csv").read_text(encoding="utf-8") == "old"


def test_write_reports_failure_removes_new_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "write_summary_html", failing_writer)

    with pytest.raises(RuntimeError):
        write_reports(sample_result(), tmp_path / "new")

    assert os.listdir(tmp_path) == []


def test_failed_move_restores_old_files(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("old a", encoding="utf-8")
    (tmp_path / "b.txt").write_text("old b", encoding="utf-8")
    real_replace = os.replace

    def replace_failing_on_b(source, target):
        # Fail only the move of the new b.txt into place, not the backup or the restore.
        if os.path.basename(source) == "b.txt" and os.path.dirname(target) == str(tmp_path):
            raise OSError("device busy")
        real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", replace_failing_on_b)

    with pytest.raises(OSError, match="device busy"):
        write_files_atomically(tmp_path, {
            "a.txt": lambda path: path.write_text("new a", encoding="utf-8"),
            "b.txt": lambda path: path.write_text("new b", encoding="utf-8"),
            "c.txt": lambda path: path.write_text("new c", encoding="utf-8"),
        })

    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "old a"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "old b"

"""Load and rate real OWRS rate files.

The corpus folder comes from the environment variable SEWERLINE_OWRS_CORPUS, a copy of
the California Data Collaborative's OWRS files. The few real files bundled with the
sample under sewerline/sample/data/owrs are checked too. Every file that loads is
rated for each class at usage 0, 7.5, 30 and 1234.5, with the other inputs filled from
the file's own lookup keys and plausible numbers, and every bill is traced to check the
trace's total. A file that does not load must be listed in EXPECTED_FAILURES with the
problem codes it raises.
"""

from __future__ import annotations

import functools
import itertools
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import explain_rows, load_schedule, rate_bills
from sewerline.engine.rates.keys import PART_SEPARATOR, canonical_row_key
from sewerline.engine.rates.parts import USAGE, Lookup
from sewerline.engine.rates.schedule import RateSchedule

SAMPLE_CORPUS = Path(__file__).resolve().parents[1] / "src/sewerline/sample/data/owrs"
USAGES = (Decimal("0"), Decimal("7.5"), Decimal("30"), Decimal("1234.5"))

# Files of the SEWERLINE_OWRS_CORPUS folder that load and rate. The count may only go
# up: raise it when a change makes more files load.
MIN_LOADED = 267


@dataclass(frozen=True)
class Failure:
    """Why a real rate file must not load: the problem codes raised and what is wrong."""

    codes: str       # the sorted problem codes, joined by ", "
    reason: str


INVALID_YAML = "rate_file_invalid_yaml"

# Files that must fail to load, by path below the corpus folder. Each was read by hand;
# every one is malformed, and loading it anyway would bill wrong amounts.
EXPECTED_FAILURES = {
    "California/Santa Monica City of - 2581/smc-2018-01-03.owrs": Failure(
        INVALID_YAML, "line 9 indents commodity_charge of RESIDENTIAL_SINGLE by 5 spaces "
        "and line 10 indents tier_starts by 4, so YAML finds no key at line 10"),
    "California/Las Virgenes Municipal Water District - 1566/Older/lvmw-2015-01-01.owrs":
        Failure(INVALID_YAML, "line 37 indents elevation_rate: under the plain value "
                "'commodity_charge: Budget' of line 36"),
    "California/Las Virgenes Municipal Water District - 1566/Older/lvmw-2016-01-01.owrs":
        Failure(INVALID_YAML, "line 40 starts with a tab, which YAML does not allow "
                "for indentation"),
    "California/Los Angeles Department of Water and Power - 1665/Older/"
    "ladwp-2016-01-01.owrs": Failure(
        INVALID_YAML, "line 30 indents the key Winter|1|High: of tier_starts at the level "
        "of the list items of the key above it"),
    "California/Los Angeles Department of Water and Power - 1665/Older/"
    "ladwp-2016-04-01.owrs": Failure(
        INVALID_YAML, "line 30 indents the key Winter|1|High: of tier_starts at the level "
        "of the list items of the key above it"),
    "California/Los Angeles Department of Water and Power - 1665/Older/"
    "ladwp-2016-04-15.owrs": Failure(
        INVALID_YAML, "line 30 indents the key Winter|1|High: of tier_starts at the level "
        "of the list items of the key above it"),
    "California/Los Angeles Department of Water and Power - 1665/Older/"
    "ladwp-2016-07-01.owrs": Failure(
        INVALID_YAML, "line 30 indents the key Winter|1|High: of tier_starts at the level "
        "of the list items of the key above it"),
    "California/California Water Service Company Antelope Valley - 406/Other/"
    "CWSCAV-2017-01-01(2).owrs": Failure(
        INVALID_YAML, "line 17 indents flat_rate: under the plain value "
        "'commodity_charge: flat_rate*usage_ccf' of line 16"),
    "California/Arrowbear Park County Water District - 0/12-19-2016.owrs": Failure(
        "tier_lengths_differ", "class RESIDENTIAL_SINGLE: variable_drought_surcharge has 5 "
        "tier starts (tier_starts_drought, lines 18-23) but 6 tier prices "
        "(tier_prices_drought, lines 24-30)"),
    "California/Burbank City of - 270/Older/bc-2016-07-01.owrs": Failure(
        "lookup_value_kind", "class RESIDENTIAL_MULTI: flat_rate lists the formula "
        "1.785*usage_ccf (line 49) and 0.833*usage_ccf (line 51) as one-value lists, and "
        "commodity_charge multiplies flat_rate by usage_ccf again, which would bill the "
        "square of the usage"),
    "California/California City City Of - 0/07-01-2017.owrs": Failure(
        "tiers_not_ascending", "tier_starts_commodity for the 1 1/2\" meter is 0, 30, 50, "
        "83, 13 in all six classes (lines 50, 134, 218, 302, 386, 470)"),
    "California/Corona City Of - 713/CCO-2014-02-01.owrs": Failure(
        "budget_is_charge", "classes RECLAIMED, COMMERCIAL, INDUSTRIAL, INSTITUTIONAL and "
        "GOVERNMENTAL write budget: Tiered (lines 91, 121, 148, 175, 202) and "
        "commodity_charge: budget, so the percentage tier starts would be shares of the "
        "charge they compute"),
    "California/East Bay Municipal Utility District - 891/2016-07-01.owrs": Failure(
        "bill_missing", "class FIRE_SERVICE (line 135) has a service_charge but no bill"),
    "California/Hanford  City Of - 1275/07-01-2017.owrs": Failure(
        "lookup_key_parts", "class UNMETERED: service_charge depends on city_limits and "
        "lot_area, but its keys inside_city and outside_city (lines 289-290) name only "
        "city_limits"),
    "California/Apple Valley Ranchos Water Company - 379/Need to combine files/"
    "AVRWC-2017-01-01_2.owrs": Failure(
        "rate_file_duplicate_key", "two rate_structure blocks (lines 7 and 31): YAML would "
        "keep only the second, dropping RESIDENTIAL_SINGLE without a word"),
    "California/Mammoth Community Water District - 1735/04-01-2018.owrs": Failure(
        "rate_file_duplicate_key", "a class sets fixed_drought_surcharge twice (lines 176 "
        "and 178): first 0, then a lookup by meter size, so which one the utility meant "
        "is unknown"),
    "California/Montecito Water District - 1871/09-01-2017.owrs": Failure(
        "rate_file_duplicate_key", "classes COMMERCIAL and INSTITUTIONAL: "
        "variable_drought_surcharge: Budget (lines 135, 177) has no drought tier lists; "
        "lines 136-142 and 178-184 repeat budget_commodity, tier_starts_commodity and "
        "tier_prices_commodity, and YAML keeps only the later, drought prices for the "
        "commodity charge"),
}

# Plausible values of numeric inputs other than usage; any other column gets 1.
PLAUSIBLE_NUMBERS = {
    "days_in_period": Decimal(30),
    "hhsize": Decimal(4),
    "irr_area": Decimal(2000),
    "et_amount": Decimal(5),
    "winter_average": Decimal(6),
}


def corpus_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.owrs"))


def plausible_keys(schedule: RateSchedule, class_name: str) -> dict[str, str]:
    """Choose a value per key column that every lookup of the class has a value for."""
    rates = schedule.classes[class_name]
    lookups = [part for part in rates.parts.values() if isinstance(part, Lookup)]
    candidates: dict[str, list[str]] = {column: [] for column in rates.key_columns}
    for lookup in lookups:
        for written in lookup.keys_as_written.values():
            parts = written.split("|") if len(lookup.depends_on) > 1 else [written]
            if len(parts) != len(lookup.depends_on):
                continue
            for column, part in zip(lookup.depends_on, parts, strict=True):
                if column in candidates and part not in candidates[column]:
                    candidates[column].append(part)

    columns = list(candidates)
    combinations = itertools.product(*(candidates[c] or ["none"] for c in columns))
    for values in itertools.islice(combinations, 5000):
        chosen = dict(zip(columns, values, strict=True))
        if all(_has_key(lookup, chosen) for lookup in lookups):
            return chosen
    raise AssertionError(f"no key combination fits every lookup of {class_name}")


def _has_key(lookup: Lookup, chosen: dict[str, str]) -> bool:
    if not all(column in chosen for column in lookup.depends_on):
        return True   # a lookup the bill does not use
    text = PART_SEPARATOR.join(chosen[column] for column in lookup.depends_on)
    return canonical_row_key(text) in lookup.entries


def input_table(schedule: RateSchedule) -> pl.DataFrame:
    """Build three rows per class (usage 0, 7.5 and 30) with plausible inputs."""
    rows = []
    for class_name, rates in schedule.classes.items():
        keys = plausible_keys(schedule, class_name)
        for usage in USAGES:
            row: dict[str, object] = {"customer_class": class_name}
            for column in rates.numeric_columns:
                row[column] = PLAUSIBLE_NUMBERS.get(column, Decimal(1))
            row[USAGE] = usage
            row.update(keys)
            rows.append(row)

    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        if any(isinstance(value, str) for value in values):
            # A key column; a class that reads it as a number parses the text.
            columns[name] = pl.Series(name, [None if v is None else str(v) for v in values],
                                      dtype=pl.String)
        else:
            columns[name] = pl.Series(name, values, dtype=DECIMAL)
    return pl.DataFrame(columns)


@functools.cache
def load_outcome(path: Path) -> tuple[str, tuple[Problem, ...]]:
    """Return "rated", or the sorted problem codes and the problems of a file that fails."""
    try:
        schedule = load_schedule(path)
    except InputError as error:
        codes = ", ".join(sorted({problem.code for problem in error.problems}))
        return codes, tuple(error.problems)
    table = input_table(schedule)
    rated = rate_bills(table, schedule, class_column="customer_class")
    assert rated.height == table.height
    assert rated["expected_amount"].null_count() == 0, path
    traces = explain_rows(table, schedule, "customer_class", list(range(table.height)))
    totals = [trace.total for trace in traces]
    assert totals == rated["expected_amount"].to_list(), path
    return "rated", ()


def outcome(path: Path) -> str:
    return load_outcome(path)[0]


def configured_files() -> list[tuple[Path, str]]:
    root = Path(os.environ["SEWERLINE_OWRS_CORPUS"])
    return [(path, path.relative_to(root).as_posix()) for path in corpus_files(root)]


needs_corpus = pytest.mark.skipif(
    not os.environ.get("SEWERLINE_OWRS_CORPUS"),
    reason="set SEWERLINE_OWRS_CORPUS to a folder of OWRS files to run this")


@needs_corpus
def test_corpus_outcomes_match_table(capsys):
    files = configured_files()
    outcomes = {relative: outcome(path) for path, relative in files}
    unexpected = {relative: result for relative, result in outcomes.items()
                  if result != "rated" and relative not in EXPECTED_FAILURES}
    assert unexpected == {}
    now_loading = sorted(relative for relative in EXPECTED_FAILURES
                         if outcomes.get(relative) == "rated")
    assert now_loading == [], "these files load now; drop them from EXPECTED_FAILURES"

    loaded = sum(1 for result in outcomes.values() if result == "rated")
    with capsys.disabled():
        print(f"\nOWRS corpus: {loaded} of {len(files)} files loaded and rated")
    assert loaded >= MIN_LOADED


@needs_corpus
def test_expected_failures_raise_listed_codes():
    files = dict((relative, path) for path, relative in configured_files())
    for relative, failure in EXPECTED_FAILURES.items():
        if relative not in files:
            continue
        codes, problems = load_outcome(files[relative])
        assert codes == failure.codes, relative
        # Every problem points into the rate file at a line a person can open.
        assert all(problem.line is not None for problem in problems), relative
        assert all(problem.file == str(files[relative]) for problem in problems), relative


@needs_corpus
def test_budget_files_load():
    budget_files = [(path, relative) for path, relative in configured_files()
                    if "Budget" in path.read_text(encoding="utf-8-sig")]
    assert budget_files
    for path, relative in budget_files:
        if relative not in EXPECTED_FAILURES:
            assert outcome(path) == "rated", relative
        else:
            assert "rate_type_unsupported" not in outcome(path), relative


def test_sample_corpus_outcomes():
    if not SAMPLE_CORPUS.is_dir():
        pytest.skip("the sample has no OWRS folder")
    for path in corpus_files(SAMPLE_CORPUS):
        relative = path.relative_to(SAMPLE_CORPUS).as_posix()
        result = outcome(path)
        if relative in EXPECTED_FAILURES:
            assert result == EXPECTED_FAILURES[relative].codes, relative
        else:
            assert result == "rated", (relative, result)

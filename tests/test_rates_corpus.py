"""Load and rate real OWRS rate files.

The corpus folder comes from the environment variable SEWERLINE_OWRS_CORPUS, a copy of
the California Data Collaborative's OWRS files. The few real files bundled with the
sample under sewerline/sample/data/owrs are checked too. Every file that loads is
rated for each class at usage 0, 7.5 and 30, with the other inputs filled from the
file's own lookup keys, and every bill is traced to check the trace's total.
"""

from __future__ import annotations

import functools
import itertools
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import explain_rows, load_schedule, rate_bills
from sewerline.engine.rates.keys import PART_SEPARATOR, canonical_row_key
from sewerline.engine.rates.parts import USAGE, Lookup
from sewerline.engine.rates.schedule import RateSchedule

SAMPLE_CORPUS = Path(__file__).resolve().parents[1] / "src/sewerline/sample/data/owrs"
USAGES = (Decimal("0"), Decimal("7.5"), Decimal("30"))
BUDGET = "Budget rates not supported yet"

# Files that must fail to load, by path below the corpus folder, with the reason.
EXPECTED_FAILURES = {
    "California/Santa Monica City of - 2581/smc-2018-01-03.owrs":
        "invalid YAML: a class key is indented differently",
    "California/Las Virgenes Municipal Water District - 1566/Older/lvmw-2015-01-01.owrs":
        "invalid YAML",
    "California/Las Virgenes Municipal Water District - 1566/Older/lvmw-2016-01-01.owrs":
        "invalid YAML",
    "California/Los Angeles Department of Water and Power - 1665/Older/ladwp-2016-07-01.owrs":
        "invalid YAML",
    "California/Los Angeles Department of Water and Power - 1665/Older/ladwp-2016-04-01.owrs":
        "invalid YAML",
    "California/Los Angeles Department of Water and Power - 1665/Older/ladwp-2016-01-01.owrs":
        "invalid YAML",
    "California/Los Angeles Department of Water and Power - 1665/Older/ladwp-2016-04-15.owrs":
        "invalid YAML",
    "California/California Water Service Company Antelope Valley - 406/Other/"
    "CWSCAV-2017-01-01(2).owrs": "invalid YAML",
    "California/Arrowbear Park County Water District - 0/12-19-2016.owrs":
        "5 tier starts but 6 tier prices for variable_drought_surcharge",
    "California/Burbank City of - 270/Older/bc-2016-07-01.owrs":
        "formulas written inside tier-style lists",
    "California/California City City Of - 0/07-01-2017.owrs":
        "tier starts out of order (0, 30, 50, 83, 13)",
    "California/East Bay Municipal Utility District - 891/2016-07-01.owrs":
        "class FIRE_SERVICE has no bill",
    "California/Hanford  City Of - 1275/07-01-2017.owrs":
        "lookup keys name one value but depends_on lists two columns",
    "California/Chino Hills  City Of - 626/07-01-2017.owrs": BUDGET,
    "California/Coachella Valley Water District - 661/08-01-2016.owrs": BUDGET,
    "California/Coachella Valley Water District - 661/cvwd-2016-07-01.owrs": BUDGET,
    "California/Corona City Of - 713/CCO-2014-02-01.owrs": BUDGET,
    "California/East Valley Water District - 918/07-01-2017.owrs": BUDGET,
    "California/El Toro Water District - 967/07-01-2017.owrs": BUDGET,
    "California/Elsinore Valley Municipal Water District - 963/07-01-2017.owrs": BUDGET,
    "California/Helix Water District - 1306/03-01-2018.owrs": BUDGET,
    "California/Indio  City Of - 1397/01-01-2014.owrs": BUDGET,
    "California/Indio  City Of - 1397/01-01-2018.owrs": BUDGET,
    "California/Irvine Ranch Water District - 1408/06-25-2018.owrs": BUDGET,
    "California/Laguna Beach County Water District - 1501/11-01-2017.owrs": BUDGET,
    "California/Las Virgenes Municipal Water District - 1566/lvmw-2017-01-01.owrs": BUDGET,
    "California/Los Angeles Department of Water and Power - 1665/ladwp-2017-01-01.owrs":
        BUDGET,
    "California/Mammoth Community Water District - 1735/04-01-2018.owrs": BUDGET,
    "California/Marin Municipal Water District - 1754/07-01-2017.owrs": BUDGET,
    "California/Monte Vista Water District  - 1573/01-01-2018.owrs": BUDGET,
    "California/Monte Vista Water District  - 1573/mvwd-2017-01-01.owrs": BUDGET,
    "California/Montecito Water District - 1871/09-01-2017.owrs": BUDGET,
    "California/Moulton Niguel Water District - 1899/01-01-2016.owrs": BUDGET,
    "California/Moulton Niguel Water District - 1899/01-01-2017.owrs": BUDGET,
    "California/Moulton Niguel Water District - 1899/01-01-2018.owrs": BUDGET,
    "California/Myoma Dunes Mutual Water Company - 1934/06-01-2016.owrs": BUDGET,
}

# Plausible values of numeric inputs other than usage; any other column gets 1.
PLAUSIBLE_NUMBERS = {
    "days_in_period": Decimal(30),
    "hhsize": Decimal(4),
    "irr_area": Decimal(2000),
    "et_amount": Decimal(5),
    "winter_average": Decimal(6),
}


def corpus_roots() -> list[Path]:
    roots = []
    configured = os.environ.get("SEWERLINE_OWRS_CORPUS")
    if configured:
        roots.append(Path(configured))
    if SAMPLE_CORPUS.is_dir():
        roots.append(SAMPLE_CORPUS)
    return roots


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
def outcome(path: Path) -> str:
    """Return "rated", or the problem codes of a rate file that does not load."""
    try:
        schedule = load_schedule(path)
    except InputError as error:
        return ", ".join(sorted({problem.code for problem in error.problems}))
    table = input_table(schedule)
    rated = rate_bills(table, schedule, class_column="customer_class")
    assert rated.height == table.height
    assert rated["expected_amount"].null_count() == 0, path
    traces = explain_rows(table, schedule, "customer_class", list(range(table.height)))
    totals = [trace.total for trace in traces]
    assert totals == rated["expected_amount"].to_list(), path
    return "rated"


def all_files() -> list[tuple[Path, str]]:
    return [(path, path.relative_to(root).as_posix())
            for root in corpus_roots() for path in corpus_files(root)]


@pytest.mark.skipif(not os.environ.get("SEWERLINE_OWRS_CORPUS"),
                    reason="set SEWERLINE_OWRS_CORPUS to a folder of OWRS files to run this")
def test_corpus_outcomes_match_table(capsys):
    files = all_files()
    outcomes = [(relative, outcome(path)) for path, relative in files]
    failed = {relative for relative, result in outcomes if result != "rated"}
    rated = {relative for relative, result in outcomes if result == "rated"}
    unexpected = sorted(failed - set(EXPECTED_FAILURES))
    assert unexpected == [], [(r, o) for r, o in outcomes if r in unexpected]
    now_loading = sorted(set(EXPECTED_FAILURES) & rated)
    assert now_loading == [], "these files load now; drop them from EXPECTED_FAILURES"

    loaded = sum(1 for _, result in outcomes if result == "rated")
    with capsys.disabled():
        print(f"\nOWRS corpus: {loaded} of {len(files)} files loaded and rated")
    assert loaded > 0


def test_sample_corpus_outcomes():
    if not SAMPLE_CORPUS.is_dir():
        pytest.skip("the sample has no OWRS folder")
    for path in corpus_files(SAMPLE_CORPUS):
        relative = path.relative_to(SAMPLE_CORPUS).as_posix()
        result = outcome(path)
        if relative in EXPECTED_FAILURES:
            assert result != "rated", relative
        else:
            assert result == "rated", (relative, result)


def test_budget_failures_name_budget():
    for root in corpus_roots():
        for path in corpus_files(root):
            relative = path.relative_to(root).as_posix()
            if EXPECTED_FAILURES.get(relative) == BUDGET:
                assert "rate_type_unsupported" in outcome(path), relative

"""Effective-dated schedule sets: choosing, splitting and rating periods across rate changes."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sewerline.engine.errors import InputError
from sewerline.engine.money import DECIMAL
from sewerline.engine.proration import period_columns
from sewerline.engine.rates import dated, explain_rows, load_schedule, rate_bills
from sewerline.engine.rates.dated import (
    ChangeMode,
    ScheduleSet,
    load_schedule_set,
    rate_bills_dated,
    split_periods,
)

D = Decimal
JAN_1, FEB_1, FEB_10 = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 10)


def write_version(folder, effective: dt.date, body: str, *, unit: str = "kgal",
                  name: str | None = None):
    text = textwrap.dedent(f"""\
        metadata:
          effective_date: {effective.isoformat()}
          utility_name: Test Sewer
          bill_frequency: monthly
          bill_unit: {unit}
        rate_structure:
          RES:
        """) + textwrap.indent(textwrap.dedent(body), "    ")
    path = folder / (name or f"rates-{effective.isoformat()}.owrs")
    path.write_text(text)
    return path


def version_body(service: str, volume: str) -> str:
    return f"""\
        service_charge: {service} * proration_factor
        volume_charge: {volume} * usage_ccf
        bill: service_charge + volume_charge
        """


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory) -> ScheduleSet:
    # Service charges $30, $33 and $36 per 30 days; volume $4, $5 and $6 per kgal.
    folder = tmp_path_factory.mktemp("dated")
    paths = [
        write_version(folder, FEB_10, version_body("36.00", "6.00")),
        write_version(folder, JAN_1, version_body("30.00", "4.00")),
        write_version(folder, FEB_1, version_body("33.00", "5.00")),
    ]
    return load_schedule_set(paths)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> ScheduleSet:
    folder = tmp_path_factory.mktemp("dated2")
    return load_schedule_set([
        write_version(folder, JAN_1, version_body("30.00", "4.00")),
        write_version(folder, FEB_1, version_body("33.00", "5.00")),
    ])


def bills(*rows) -> pl.DataFrame:
    """Build bills of class RES from (start, end, usage) with days and proration factor."""
    table = pl.DataFrame(
        {
            "cls": ["RES"] * len(rows),
            "period_start": [row[0] for row in rows],
            "period_end": [row[1] for row in rows],
            "usage_ccf": [None if row[2] is None else D(row[2]) for row in rows],
            "source_row": list(range(2, len(rows) + 2)),
        },
        schema={"cls": pl.String, "period_start": pl.Date, "period_end": pl.Date,
                "usage_ccf": DECIMAL, "source_row": pl.Int64},
    )
    return period_columns(table, standard_days=30)


def rate(table, schedules, mode) -> pl.DataFrame:
    return rate_bills_dated(table, schedules, class_column="cls", mode=mode)


# The schedule set ----------------------------------------------------------------------


def test_versions_sorted_by_date(three_versions):
    assert three_versions.effective_dates == (JAN_1, FEB_1, FEB_10)
    assert str(three_versions.bill_unit) == "kgal"


def test_version_in_effect(three_versions):
    assert three_versions.in_effect(dt.date(2023, 12, 31)) is None
    assert three_versions.in_effect(JAN_1).effective_date == JAN_1
    assert three_versions.in_effect(dt.date(2024, 2, 9)).effective_date == FEB_1
    assert three_versions.in_effect(dt.date(2030, 1, 1)).effective_date == FEB_10


def test_same_effective_date_rejected(tmp_path):
    first = write_version(tmp_path, JAN_1, version_body("30", "4"), name="a.owrs")
    second = write_version(tmp_path, JAN_1, version_body("31", "4"), name="b.owrs")

    with pytest.raises(InputError) as error:
        load_schedule_set([first, second])

    [problem] = error.value.problems
    assert problem.code == "schedule_versions_same_date"
    assert "a.owrs" in problem.message
    assert "b.owrs" in problem.message


def test_different_bill_units_rejected(tmp_path):
    kgal = write_version(tmp_path, JAN_1, version_body("30", "4"), name="kgal.owrs")
    ccf = write_version(tmp_path, FEB_1, version_body("30", "3"), unit="ccf", name="ccf.owrs")

    with pytest.raises(InputError) as error:
        ScheduleSet([load_schedule(kgal), load_schedule(ccf)])

    [problem] = error.value.problems
    assert problem.code == "schedule_versions_unit_differs"
    assert problem.file.endswith("ccf.owrs")
    assert "kgal.owrs" in problem.message


def test_problems_of_every_file_reported(tmp_path):
    good = write_version(tmp_path, JAN_1, version_body("30", "4"), name="good.owrs")
    bad_one = write_version(tmp_path, FEB_1, "bill: 1 +\n", name="bad1.owrs")
    bad_two = write_version(tmp_path, FEB_10, "bill: (2\n", name="bad2.owrs")

    with pytest.raises(InputError) as error:
        load_schedule_set([good, bad_one, bad_two])

    files = sorted(problem.file.rsplit("/", 1)[-1] for problem in error.value.problems)
    assert files == ["bad1.owrs", "bad2.owrs"]


def test_empty_set_rejected():
    with pytest.raises(ValueError):
        ScheduleSet([])


# Periods inside one version -------------------------------------------------------------


@pytest.mark.parametrize("mode", list(ChangeMode))
def test_period_inside_one_version(two_versions, mode):
    table = bills(
        (dt.date(2024, 1, 1), dt.date(2024, 1, 30), "10"),   # ends before Feb 1
        (dt.date(2024, 2, 1), dt.date(2024, 3, 1), "10"),    # starts on Feb 1
    )

    rated = rate(table, two_versions, mode)

    # 30 days: 30.00 * 30/30 + 4.00 * 10 = 70.00; 30 days: 33.00 + 5.00 * 10 = 83.00
    assert rated["expected_amount"].to_list() == [D("70.00"), D("83.00")]
    assert rated["schedule_version"].to_list() == ["2024-01-01", "2024-02-01"]
    assert rated.columns == ["expected_amount", "charge:service_charge",
                             "charge:volume_charge", "schedule_version"]


# Periods across a change -----------------------------------------------------------------


def test_split_by_days_across_one_change(two_versions):
    # Jan 15 - Feb 14 is 31 days: Jan 15-31 (17 days) at the old rates and
    # Feb 1-14 (14 days) at the new. Usage 31 kgal splits into 17 and 14 kgal and the
    # proration factor 31/30 into 17/30 and 14/30.
    table = bills((dt.date(2024, 1, 15), dt.date(2024, 2, 14), "31"))

    rated = rate(table, two_versions, "split_by_days")

    # old: 30.00 * 17/30 = 17.00; 4.00 * 17 = 68.00
    # new: 33.00 * 14/30 = 15.40; 5.00 * 14 = 70.00
    assert rated["charge:service_charge"].to_list() == [D("32.40")]
    assert rated["charge:volume_charge"].to_list() == [D("138.00")]
    assert rated["expected_amount"].to_list() == [D("170.40")]
    assert rated["schedule_version"].to_list() == ["split"]


def test_next_period_across_one_change(two_versions):
    table = bills(
        (dt.date(2024, 1, 15), dt.date(2024, 2, 14), "31"),
        (dt.date(2024, 2, 15), dt.date(2024, 3, 15), "30"),
    )

    rated = rate(table, two_versions, ChangeMode.NEXT_PERIOD)

    # Started before Feb 1, so all old rates: 30.00 * 31/30 = 31.00; 4.00 * 31 = 124.00.
    # The next period is all new: 33.00 * 30/30 = 33.00; 5.00 * 30 = 150.00.
    assert rated["expected_amount"].to_list() == [D("155.00"), D("183.00")]
    assert rated["schedule_version"].to_list() == ["2024-01-01", "2024-02-01"]


def test_split_across_two_changes(three_versions):
    # Jan 25 - Feb 14 is 21 days: Jan 25-31 (7), Feb 1-9 (9), Feb 10-14 (5).
    table = bills((dt.date(2024, 1, 25), dt.date(2024, 2, 14), "21"))

    rated = rate(table, three_versions, "split_by_days")

    # 30.00 * 7/30 = 7.00 + 4.00 * 7 = 28.00   -> 35.00
    # 33.00 * 9/30 = 9.90 + 5.00 * 9 = 45.00   -> 54.90
    # 36.00 * 5/30 = 6.00 + 6.00 * 5 = 30.00   -> 36.00
    assert rated["expected_amount"].to_list() == [D("125.90")]
    assert rated["charge:service_charge"].to_list() == [D("22.90")]


def test_split_shares_add_up_exactly(two_versions):
    # 10 kgal over 3 days, 1 before and 2 after the change: 10/3 is not exact, so the
    # last part takes the remainder.
    table = bills((dt.date(2024, 1, 31), dt.date(2024, 2, 2), "10"))

    parts = split_periods(table, two_versions, mode="split_by_days")

    assert parts["usage_ccf"].to_list() == [D("3.333333333333"), D("6.666666666667")]
    assert sum(parts["usage_ccf"].to_list()) == D(10)
    assert sum(parts["proration_factor"].to_list()) == table["proration_factor"][0]
    assert parts["days_in_period"].to_list() == [1, 2]
    assert parts["period_start"].to_list() == [dt.date(2024, 1, 31), FEB_1]
    assert parts["period_end"].to_list() == [dt.date(2024, 1, 31), dt.date(2024, 2, 2)]
    assert parts["schedule_version"].to_list() == ["2024-01-01", "2024-02-01"]
    assert parts["period_row"].to_list() == [0, 0]
    assert parts["source_row"].to_list() == [2, 2]


def test_traces_of_parts_add_up_to_amount(two_versions):
    table = bills((dt.date(2024, 1, 15), dt.date(2024, 2, 14), "31.7"))
    rated = rate(table, two_versions, "split_by_days")
    parts = split_periods(table, two_versions, mode="split_by_days")

    totals = []
    for position, schedule in enumerate(two_versions.versions):
        [trace] = explain_rows(parts, schedule, "cls", [position])
        totals.append(trace.total)

    assert sum(totals) == rated["expected_amount"][0]


def test_null_usage_gives_null_amount(two_versions):
    table = bills((dt.date(2024, 1, 15), dt.date(2024, 2, 14), None))

    rated = rate(table, two_versions, "split_by_days")

    assert rated["expected_amount"].to_list() == [None]
    # The service charge does not need usage, so its parts still add up.
    assert rated["charge:service_charge"].to_list() == [D("32.40")]


def test_one_known_date_not_split(two_versions):
    table = bills((None, dt.date(2024, 2, 14), "10"), (dt.date(2024, 1, 20), None, "10"))

    rated = rate(table, two_versions, "split_by_days")

    # No complete period: factor 1. By period end (Feb 14): 33.00 + 50.00; by period
    # start (Jan 20): 30.00 + 40.00.
    assert rated["expected_amount"].to_list() == [D("83.00"), D("70.00")]
    assert rated["schedule_version"].to_list() == ["2024-02-01", "2024-01-01"]


def test_rows_keep_order_and_rate_once_per_version(two_versions, monkeypatch):
    calls = []
    original = dated.rate_bills

    def counting(table, schedule, **options):
        calls.append((schedule.effective_date, table.height))
        return original(table, schedule, **options)

    monkeypatch.setattr(dated, "rate_bills", counting)
    table = bills(
        (dt.date(2024, 2, 1), dt.date(2024, 3, 1), "10"),     # new
        (dt.date(2024, 1, 15), dt.date(2024, 2, 14), "31"),   # split
        (dt.date(2024, 1, 1), dt.date(2024, 1, 30), "10"),    # old
        (dt.date(2024, 2, 5), dt.date(2024, 3, 5), "10"),     # new
    )

    rated = rate(table, two_versions, "split_by_days")

    assert calls == [(JAN_1, 2), (FEB_1, 3)]
    assert rated["schedule_version"].to_list() == [
        "2024-02-01", "split", "2024-01-01", "2024-02-01",
    ]
    assert rated["expected_amount"].to_list() == [
        D("83.00"), D("170.40"), D("70.00"), D("83.00"),
    ]


def test_empty_table(two_versions):
    rated = rate(bills(), two_versions, "split_by_days")

    assert rated.height == 0
    assert rated.columns == ["expected_amount", "schedule_version"]


# Problems ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(ChangeMode))
def test_period_before_first_version_rejected(two_versions, mode):
    table = bills(
        (dt.date(2023, 12, 20), dt.date(2024, 1, 19), "10"),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 30), "10"),
    )

    with pytest.raises(InputError) as error:
        rate(table, two_versions, mode)

    [problem] = error.value.problems
    assert problem.code == "schedule_not_in_effect"
    assert problem.row == 2
    assert problem.value == "2023-12-20"


def test_missing_dates_need_single_version(two_versions, tmp_path):
    table = bills((None, None, "10"), (None, None, "12"))

    with pytest.raises(InputError) as error:
        rate(table, two_versions, "next_period")
    [problem] = error.value.problems
    assert problem.code == "period_missing"
    assert "rows 2, 3" in problem.message

    single = ScheduleSet([two_versions.versions[0]])
    rated = rate(table, single, "split_by_days")
    assert rated["expected_amount"].to_list() == [D("70.00"), D("78.00")]


def test_period_columns_absent_with_single_version(two_versions):
    table = pl.DataFrame({"cls": ["RES"], "usage_ccf": [D("10")],
                          "proration_factor": [D("1")]})

    rated = rate(table, [two_versions.versions[1]], "split_by_days")

    assert rated["expected_amount"].to_list() == [D("83.00")]


def test_class_missing_in_later_version(tmp_path):
    old = write_version(tmp_path, JAN_1, version_body("30", "4"), name="old.owrs")
    # The old file rates COMMERCIAL as well; the new one dropped the class.
    with old.open("a") as file:
        file.write("  COMMERCIAL:\n    bill: 100\n")
    new = write_version(tmp_path, FEB_1, version_body("33", "5"), name="new.owrs")
    schedules = load_schedule_set([old, new])
    table = bills(
        (dt.date(2024, 1, 1), dt.date(2024, 1, 30), "1"),
        (dt.date(2024, 1, 15), dt.date(2024, 2, 14), "31"),
    ).with_columns(pl.lit("COMMERCIAL").alias("cls"))

    with pytest.raises(InputError) as error:
        rate(table, schedules, "split_by_days")

    [problem] = error.value.problems
    assert problem.code == "class_not_in_schedule"
    assert problem.row == 3
    assert "new.owrs, effective 2024-02-01" in problem.message


def test_text_usage_cannot_be_split(two_versions):
    table = bills((dt.date(2024, 1, 15), dt.date(2024, 2, 14), "31")).with_columns(
        pl.col("usage_ccf").cast(pl.String)
    )

    with pytest.raises(InputError) as error:
        rate(table, two_versions, "split_by_days")

    assert error.value.problems[0].column == "usage_ccf"


def test_reserved_column_rejected(two_versions):
    table = bills((JAN_1, dt.date(2024, 1, 30), "1")).with_columns(
        pl.lit("x").alias("schedule_version")
    )

    with pytest.raises(InputError, match="schedule_version"):
        rate(table, two_versions, "split_by_days")


# Splitting with one schedule gives the whole -----------------------------------------------

# Each body is written twice, effective 2023-01-01 and 2024-03-01, so a period across
# Mar 1 is split in two and rated with the same rates twice. The prorated tier bills
# the first 14 kgal per 30 days at $2.87 and the rest at $4.29, so its boundary,
# 14 * proration_factor, is shared out with the days like the usage. It is written
# once with OWRS tiers (a tier start is the first unit of the tier, so the start
# 14 * proration_factor + 1 puts the boundary at 14 * proration_factor) and once with
# min and max.
SAME_RATES = {
    "fixed": "bill: 42.00 * proration_factor\n",
    "volumetric": "bill: 4.10 * usage_ccf\n",
    "prorated_tier": (
        "commodity_charge: Tiered\n"
        'tier_starts: [0, "14 * proration_factor + 1"]\n'
        "tier_prices: [2.87, 4.29]\n"
        "bill: commodity_charge\n"
    ),
    "prorated_tier_formula": (
        "commodity_charge: 2.87 * min(usage_ccf, 14 * proration_factor)"
        " + 4.29 * max(usage_ccf - 14 * proration_factor, 0)\n"
        "bill: commodity_charge\n"
    ),
}
MAR_1 = dt.date(2024, 3, 1)


@pytest.fixture(scope="module")
def same_rates(tmp_path_factory) -> dict[str, ScheduleSet]:
    folder = tmp_path_factory.mktemp("same")
    sets = {}
    for name, body in SAME_RATES.items():
        sets[name] = load_schedule_set([
            write_version(folder, dt.date(2023, 1, 1), body, name=f"{name}-1.owrs"),
            write_version(folder, MAR_1, body, name=f"{name}-2.owrs"),
        ])
    return sets


period = st.tuples(
    st.integers(min_value=2, max_value=120),                        # days in the period
    st.integers(min_value=1, max_value=119),                        # days before Mar 1
    st.decimals(min_value=0, max_value=500, places=3, allow_nan=False),   # usage, kgal
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(period, min_size=1, max_size=20))
def test_split_with_same_rates_gives_whole(same_rates, rows):
    periods = []
    for days, before, usage in rows:
        before = min(before, days - 1)   # at least one day on each side of Mar 1
        start = MAR_1 - dt.timedelta(days=before)
        periods.append((start, start + dt.timedelta(days=days - 1), str(usage)))
    table = bills(*periods)

    for schedules in same_rates.values():
        split = rate(table, schedules, "split_by_days")
        whole = rate_bills(table, schedules.versions[0], class_column="cls")

        assert set(split["schedule_version"].to_list()) == {"split"}
        for part_sum, amount in zip(split["expected_amount"], whole["expected_amount"],
                                    strict=True):
            assert abs(part_sum - amount) <= D("0.01")

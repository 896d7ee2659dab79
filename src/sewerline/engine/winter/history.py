"""The usage history: one row per meter read, read from a file and checked.

Columns of the history table (`History`):

- `account_id` (the sewer utility's account) or `water_account` (the water utility's
  account number): the account the read belongs to. When both exist, `account_id` is
  used. Accounts compare by their normalized key, so "00123-45" and "12345" are one.
- `parcel_id` and `service_address`, optional: where the account is, for the
  previous-account rule.
- `read_date` (Date) and/or `billing_year` with `billing_month` (whole numbers): when
  the read was taken and billed. A rule with window `read_date` needs `read_date`.
  A rule with window `billing_month` uses the billing month, or the read date's month
  where the billing month is missing.
- `usage_gal` (Decimal): water used since the previous read, in gallons.
- `period_months` (whole number), optional: the months the read covers. A read
  billed (or read) in month M with period_months k covers the k months before M, so a
  bimonthly read billed in March covers January and February. Where the column is
  missing or empty, the rule's `months_per_read` applies.

A history file has the same columns, except that usage is in a column named `usage`
in the unit given to `read_history`.
"""

from __future__ import annotations

import logging
import os

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.problems import ProblemList, RowCheck
from sewerline.engine.ingest.tables import read_table
from sewerline.engine.ingest.values import date_example, parse_amount, parse_date
from sewerline.engine.money import DECIMAL
from sewerline.engine.schema import SOURCE_ROW
from sewerline.engine.units import UsageUnit, convert
from sewerline.engine.winter.rule import WindowKind, WinterAverageRule

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 100


class History:
    """Column names of the usage history table."""

    ACCOUNT_ID = "account_id"
    WATER_ACCOUNT = "water_account"
    SERVICE_ADDRESS = "service_address"
    PARCEL = "parcel_id"
    READ_DATE = "read_date"
    BILLING_YEAR = "billing_year"
    BILLING_MONTH = "billing_month"
    USAGE_GAL = "usage_gal"
    PERIOD_MONTHS = "period_months"

    # Usage column of a history file, in the unit passed to read_history.
    FILE_USAGE = "usage"

    SCHEMA: dict[str, pl.DataType] = {
        SOURCE_ROW: pl.Int64(),
        ACCOUNT_ID: pl.String(),
        WATER_ACCOUNT: pl.String(),
        SERVICE_ADDRESS: pl.String(),
        PARCEL: pl.String(),
        READ_DATE: pl.Date(),
        BILLING_YEAR: pl.Int64(),
        BILLING_MONTH: pl.Int64(),
        USAGE_GAL: DECIMAL,
        PERIOD_MONTHS: pl.Int64(),
    }
    TEXT = (ACCOUNT_ID, WATER_ACCOUNT, SERVICE_ADDRESS, PARCEL)
    WHOLE_NUMBERS = (BILLING_YEAR, BILLING_MONTH, PERIOD_MONTHS)


def account_column(history: pl.DataFrame) -> str:
    """Return the column that names each read's account: account_id, else water_account."""
    if History.ACCOUNT_ID in history.columns:
        return History.ACCOUNT_ID
    return History.WATER_ACCOUNT


def read_history(
    path: str | os.PathLike[str],
    *,
    usage_unit: UsageUnit = UsageUnit.GALLONS,
    date_format: str = "%Y-%m-%d",
) -> pl.DataFrame:
    """Read a usage history CSV or XLSX file into the History table.

    Header names are matched without regard to case. Raises InputError listing missing
    columns, or up to 100 invalid cells with their row and column.
    """
    table = read_table(path)
    label = table.path
    frame = table.frame.rename({name: name.lower() for name in table.header})
    _check_file_columns(frame, label, table.header_row)

    typed: dict[str, pl.Expr] = {}
    for name in History.TEXT:
        if name in frame.columns:
            typed[name] = pl.col(name)
    if History.READ_DATE in frame.columns:
        typed[History.READ_DATE] = parse_date(pl.col(History.READ_DATE), date_format)
    for name in History.WHOLE_NUMBERS:
        if name in frame.columns:
            typed[name] = pl.col(name).str.replace_all(",", "").cast(pl.Int64, strict=False)
    gallons = convert(parse_amount(pl.col(History.FILE_USAGE)), usage_unit, UsageUnit.GALLONS)
    typed[History.USAGE_GAL] = gallons

    parsed = frame.with_columns(
        *[expression.alias(f"{name}:typed") for name, expression in typed.items()]
    )
    checks = _parse_checks(parsed, typed, label, usage_unit, date_format)
    checks += _value_checks(parsed.columns, label, typed_suffix=":typed")
    found = ProblemList(cap=MAX_PROBLEMS, header=[name.lower() for name in table.header])
    found.check_rows(parsed, checks)
    found.raise_if_any()

    history = parsed.select(
        pl.col(SOURCE_ROW),
        *[pl.col(f"{name}:typed").cast(History.SCHEMA[name]).alias(name) for name in typed],
    )
    logger.info("read %d meter reads from %s", history.height, label)
    return history


def check_history_columns(history: pl.DataFrame, rule: WinterAverageRule, label: str) -> None:
    """Raise InputError when the history lacks a column the rule needs or has a wrong type."""
    problems: list[Problem] = []
    if History.ACCOUNT_ID not in history.columns and History.WATER_ACCOUNT not in history.columns:
        problems.append(_missing_column(label, "account_id or water_account",
                                        "the account of each meter read"))
    if History.USAGE_GAL not in history.columns:
        problems.append(_missing_column(label, History.USAGE_GAL, "the usage of each read"))

    has_billing = {History.BILLING_YEAR, History.BILLING_MONTH} <= set(history.columns)
    has_read_date = History.READ_DATE in history.columns
    if rule.window is WindowKind.READ_DATE and not has_read_date:
        problems.append(_missing_column(label, History.READ_DATE,
                                        "the read date, because the rule's window is read_date"))
    if rule.window is WindowKind.BILLING_MONTH and not (has_billing or has_read_date):
        problems.append(_missing_column(label, "billing_year and billing_month, or read_date",
                                        "the billing month of each read"))

    for name, dtype in History.SCHEMA.items():
        if name in history.columns and not _compatible(history.schema[name], dtype):
            problems.append(Problem(
                code="history_column_type", message=f"column {name} has the wrong type",
                file=label, column=name, value=str(history.schema[name]), expected=str(dtype),
                hint="Read the history with read_history, or cast the column.",
            ))
    if problems:
        raise InputError(problems)


def check_history_values(history: pl.DataFrame, label: str) -> None:
    """Raise InputError naming up to 100 reads with negative usage or an invalid month."""
    if SOURCE_ROW not in history.columns:
        history = history.with_row_index(SOURCE_ROW, offset=2).with_columns(
            pl.col(SOURCE_ROW).cast(pl.Int64)
        )
    found = ProblemList(cap=MAX_PROBLEMS, header=list(history.columns))
    found.check_rows(history, _value_checks(history.columns, label))
    found.raise_if_any()


def _value_checks(columns: list[str], label: str, typed_suffix: str = "") -> list[RowCheck]:
    """Flag typed values that are out of range.

    A check reads the column named with `typed_suffix` and reports the cell of the
    column itself, so a file's problem shows the text as written.
    """
    checks = []

    def check(name: str, failing: pl.Expr, message: str, expected: str, hint: str) -> None:
        reported = History.FILE_USAGE if typed_suffix and name == History.USAGE_GAL else name
        if reported not in columns:
            return

        def make(row: int, value: object) -> Problem:
            return Problem(code="history_value_invalid", message=message, file=label, row=row,
                           column=reported, value=None if value is None else str(value),
                           expected=expected, hint=hint)
        checks.append(RowCheck(failing, reported, make))

    def typed(name: str) -> pl.Expr:
        return pl.col(name + typed_suffix)

    check(History.USAGE_GAL, typed(History.USAGE_GAL) < 0, "usage is negative",
          "0 or more", "Correct the read, or remove a reversal together with the read it "
          "reverses.")
    check(History.BILLING_MONTH, ~typed(History.BILLING_MONTH).is_between(1, 12),
          "billing_month is not a month", "a whole number from 1 to 12",
          "Write the month as a number, 1 for January.")
    check(History.BILLING_YEAR, ~typed(History.BILLING_YEAR).is_between(1900, 2099),
          "billing_year is not a year", "a year from 1900 to 2099", "Write all four digits.")
    check(History.PERIOD_MONTHS, ~typed(History.PERIOD_MONTHS).is_between(1, 12),
          "period_months is not a number of months", "a whole number from 1 to 12",
          "Write 1 for a monthly read and 2 for a bimonthly one.")
    return checks


def _check_file_columns(frame: pl.DataFrame, label: str, header_row: int) -> None:
    problems = []
    present = set(frame.columns)
    if not present & {History.ACCOUNT_ID, History.WATER_ACCOUNT}:
        problems.append(_missing_column(label, "account_id or water_account",
                                        "the account of each meter read", header_row))
    if History.FILE_USAGE not in present:
        problems.append(_missing_column(label, History.FILE_USAGE,
                                        "the usage of each read", header_row))
    has_billing = {History.BILLING_YEAR, History.BILLING_MONTH} <= present
    if History.READ_DATE not in present and not has_billing:
        problems.append(_missing_column(label, "read_date, or billing_year and billing_month",
                                        "when each read was taken or billed", header_row))
    if problems:
        raise InputError(problems)


def _parse_checks(parsed: pl.DataFrame, typed: dict[str, pl.Expr], label: str,
                  usage_unit: UsageUnit, date_format: str) -> list[RowCheck]:
    """Flag cells whose text did not parse, and empty accounts and usage."""
    expected = {
        History.READ_DATE: f"a date such as {date_example(date_format)}",
        History.USAGE_GAL: f"a number of {usage_unit} such as 12 or 1,250.5",
        History.BILLING_YEAR: "a year such as 2024",
        History.BILLING_MONTH: "a month number from 1 to 12",
        History.PERIOD_MONTHS: "a whole number of months such as 1 or 2",
    }
    checks = []
    for name in typed:
        if name not in expected:
            continue
        column = History.FILE_USAGE if name == History.USAGE_GAL else name

        def make(row: int, value: str | None, column: str = column,
                 expected_text: str = expected[name]) -> Problem:
            return Problem(code="history_value_invalid", message=f"invalid {column}",
                           file=label, row=row, column=column, value=value,
                           expected=expected_text, hint="Correct the cell or leave it empty.")
        failing = pl.col(column).is_not_null() & pl.col(f"{name}:typed").is_null()
        checks.append(RowCheck(failing, column, make))

    account = account_column(parsed)

    def missing_account(row: int, value: str | None) -> Problem:
        return Problem(code="missing_value", message=f"{account} is empty", file=label,
                       row=row, column=account, hint=f"Fill in {account}, or remove the row.")
    checks.append(RowCheck(pl.col(account).is_null(), account, missing_account))
    return checks


def _missing_column(label: str, name: str, purpose: str, row: int | None = None) -> Problem:
    return Problem(
        code="history_column_missing", message=f"the usage history has no column {name}",
        file=label, row=row, column=name, expected=purpose,
        hint=f"Add the column {name} to the history.",
    )


def _compatible(actual: pl.DataType, expected: pl.DataType) -> bool:
    if isinstance(expected, pl.Decimal):
        return isinstance(actual, pl.Decimal)
    if expected == pl.Int64():
        return actual.is_integer()
    return actual == expected

"""Checks of a billing export's rows: values that do not parse, empty required values
and rate codes that the mapping does not list.
"""

from __future__ import annotations

import polars as pl

from sewerline.engine.errors import Problem
from sewerline.engine.ingest.folding import RATE_ROW, is_sewer_line, is_water_line
from sewerline.engine.ingest.mapping import (
    BILLING_DATE_FIELDS,
    DEDUCT_USAGE,
    SERVICE_CODE,
    USAGE,
    Layout,
    Mapping,
)
from sewerline.engine.ingest.problems import ProblemList, RowCheck
from sewerline.engine.ingest.values import date_example
from sewerline.engine.schema import Billed

AMOUNT_EXAMPLES = "an amount such as 45.10, 1,234.50 or $45.10, or (12.50) or 12.50- for a credit"

# Rows listed in the problem of an unknown rate code.
_LISTED_ROWS = 5


def typed_name(field: str) -> str:
    """Return the name of the column that contains a field's parsed value during checks."""
    return f"{field}:typed"


def row_checks(
    mapping: Mapping, headers: dict[str, str], path: str, mapping_name: str
) -> list[RowCheck]:
    """Return the checks of the raw text: values that do not parse, required values empty."""
    def invalid(field: str, message: str, expected: str) -> RowCheck:
        def make(row: int, value: str | None) -> Problem:
            return Problem(
                code="invalid_value", message=message, file=path, row=row,
                column=headers[field], value=value, expected=expected,
                hint=f"Correct the value, or check that columns: {field} in {mapping_name} "
                     "names the right column.",
            )
        failing = pl.col(field).is_not_null() & pl.col(typed_name(field)).is_null()
        return RowCheck(failing, field, make)

    def empty(field: str, failing: pl.Expr, message: str, hint: str) -> RowCheck:
        def make(row: int, value: str | None) -> Problem:
            return Problem(code="missing_value", message=message, file=path, row=row,
                           column=headers[field], hint=hint)
        return RowCheck(failing, field, make)

    columns = mapping.columns
    per_line = mapping.layout is Layout.PER_LINE
    checks = [
        empty(Billed.ACCOUNT, pl.col(Billed.ACCOUNT).is_null(), "the account number is empty",
              "Fill in the account number, or remove the row."),
        invalid(Billed.AMOUNT, "invalid amount", AMOUNT_EXAMPLES),
    ]

    # With one row per service line, only sewer lines need an amount.
    amount_needed = is_sewer_line(mapping) if per_line else pl.lit(True)
    checks.append(empty(
        Billed.AMOUNT, pl.col(Billed.AMOUNT).is_null() & amount_needed,
        "the sewer amount is empty", "Fill in the amount (0 for no charge), or remove the row.",
    ))
    # The water charge is the sum of the water lines, so an empty one would hide a charge.
    if per_line and mapping.water_service_codes:
        checks.append(empty(
            Billed.AMOUNT, pl.col(Billed.AMOUNT).is_null() & is_water_line(mapping),
            "the amount of the water line is empty",
            "Fill in the amount (0 for no charge), or remove the row.",
        ))
    if Billed.WATER_AMOUNT in columns:
        checks.append(invalid(Billed.WATER_AMOUNT, "invalid water amount", AMOUNT_EXAMPLES))

    for field, message in ((USAGE, "invalid usage"), (DEDUCT_USAGE, "invalid deduct usage")):
        if field in columns:
            expected = f"a usage in {mapping.usage_unit.value} such as 12, 7.5 or 1,250"
            checks.append(invalid(field, message, expected))
    for field in BILLING_DATE_FIELDS:
        if field in columns:
            example = date_example(mapping.date_format)
            checks.append(invalid(
                field, "invalid date",
                f"a date such as {example} (date_format {mapping.date_format})",
            ))

    if per_line:
        checks.append(empty(
            SERVICE_CODE, pl.col(SERVICE_CODE).is_null(),
            "the service code is empty, so it is unknown whether the line is a sewer line",
            "Fill in the service code, or remove the row.",
        ))
        if Billed.BILL_NUMBER in columns:
            checks.append(empty(
                Billed.BILL_NUMBER, pl.col(Billed.BILL_NUMBER).is_null(),
                "the bill number is empty, so the line cannot be put on its bill",
                "Fill in the bill number, or remove the row.",
            ))
    return checks


def check_rate_codes(
    bills: pl.DataFrame, mapping: Mapping, headers: dict[str, str], path: str,
    mapping_name: str, found: ProblemList,
) -> None:
    """Add one problem per distinct rate code that rate_codes does not list."""
    if Billed.RATE_CODE not in mapping.columns:
        return
    code = pl.col(Billed.RATE_CODE)
    unknown = (
        bills.filter(code.is_not_null() & ~code.is_in(list(mapping.rate_codes)))
        .group_by(Billed.RATE_CODE, maintain_order=True)
        .agg(pl.col(RATE_ROW).head(_LISTED_ROWS).alias("rows"), pl.len().alias("bills"))
    )
    for rate_code, rows, count in unknown.iter_rows():
        listed = ", ".join(str(row) for row in rows)
        more = " ..." if count > len(rows) else ""
        found.add(Problem(
            code="unknown_rate_code",
            message=f"rate code {rate_code!r} is not in rate_codes "
                    f"({count} {'bill' if count == 1 else 'bills'}, rows {listed}{more})",
            file=path, row=rows[0], column=headers[Billed.RATE_CODE], value=rate_code,
            expected="a rate code listed under rate_codes",
            hint=f"Add `{rate_code}: <customer class>` under rate_codes in {mapping_name}.",
        ))

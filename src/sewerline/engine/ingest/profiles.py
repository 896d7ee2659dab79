"""Read the sewer utility's customer profiles into the Profile table.

The documented layout names the columns account_id, water_account, owner_name,
service_address, parcel_id, meter_number, customer_class, meter_size, status,
winter_average and dwelling_units (case-insensitive); a ProfileMapping may name them
differently. Every other column is kept as text under its lower-cased name, so rate
formulas can read it.
"""

from __future__ import annotations

import logging
import os

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.columns import locate_columns
from sewerline.engine.ingest.mapping import PROFILE_FIELDS, WINTER_AVERAGE, ProfileMapping
from sewerline.engine.ingest.problems import ProblemList, RowCheck, suggestion
from sewerline.engine.ingest.tables import SourceTable, read_table
from sewerline.engine.ingest.values import parse_amount
from sewerline.engine.schema import SOURCE_ROW, Profile, Status
from sewerline.engine.units import UsageUnit, convert

logger = logging.getLogger(__name__)

_NUMBER_FIELDS = (WINTER_AVERAGE, Profile.DWELLING_UNITS)
# First row of each account_id, for the duplicate account check. The colon keeps the
# name apart from any lower-cased header of an extra column.
_FIRST_ROW = "account_id:first_row"
_LISTED_ROWS = 5


def read_profiles(
    path: str | os.PathLike[str],
    mapping: ProfileMapping | None = None,
    *,
    max_errors: int = 100,
    known_classes: set[str] | None = None,
) -> pl.DataFrame:
    """Read a profile file into the Profile schema plus its extra columns as text.

    Raises InputError with all header problems before any row is parsed. Then it
    raises with up to `max_errors` row problems: an empty account_id, customer_class
    or status, a status other than active/septic/inactive/exempt, a number that does
    not parse, a repeated account_id, and a customer_class not in `known_classes`.
    Classes are checked only when `known_classes` is given.
    """
    mapping = mapping or ProfileMapping()
    table = read_table(path, encoding=mapping.csv.encoding, delimiter=mapping.csv.delimiter)
    headers, extra = _locate_profile_columns(table, mapping)

    lines = table.frame.select(
        SOURCE_ROW,
        *[pl.col(header).alias(field) for field, header in headers.items()],
        *[pl.col(header).alias(name) for header, name in extra.items()],
    )
    typed = {
        field: parse_amount(pl.col(field)).alias(f"{field}:typed")
        for field in _NUMBER_FIELDS if field in headers
    }
    lines = lines.with_columns(
        *typed.values(),
        pl.col(SOURCE_ROW).min().over(Profile.ACCOUNT_ID).alias(_FIRST_ROW),
    )

    found = ProblemList(cap=max_errors, header=table.header)
    found.check_rows(lines, _row_checks(headers, table.path))
    if known_classes is not None:
        _check_classes(lines, known_classes, headers, table.path, found)
    found.raise_if_any()

    result = _to_profile_schema(lines, mapping, list(extra.values()))
    logger.info("%s: read %d profiles", table.path, result.height)
    return result


def _locate_profile_columns(
    table: SourceTable, mapping: ProfileMapping
) -> tuple[dict[str, str], dict[str, str]]:
    """Return field -> header of the layout's columns and header -> name of the others.

    Raises InputError for a missing required or explicitly mapped column, and for an
    extra column whose lower-cased name is a Profile column.
    """
    expected_headers = {field: mapping.header_for(field) for field in PROFILE_FIELDS}
    optional = [
        field for field in PROFILE_FIELDS
        if field not in Profile.REQUIRED and field not in mapping.columns
    ]
    headers, problems = locate_columns(
        table, expected_headers, optional=optional,
        fix_hint="Name the column {field} in the profile file, or map it under "
                 "profiles: columns in the mapping file.",
    )

    used = set(headers.values())
    extra = {header: header.lower() for header in table.header if header not in used}
    reserved = set(Profile.SCHEMA) | {WINTER_AVERAGE}
    for header, name in extra.items():
        if name in reserved:
            problems.append(Problem(
                code="duplicate_column",
                message=f"column {header!r} would be read as {name}, which another column "
                        "is mapped to",
                file=table.path, row=table.header_row, column=header,
                hint="Rename or delete the column, or map it instead under profiles: columns.",
            ))
    if problems:
        raise InputError(problems)
    return headers, extra


def _row_checks(headers: dict[str, str], path: str) -> list[RowCheck]:
    def check(field: str, failing: pl.Expr, code: str, message: str,
              expected: str | None = None, hint: str | None = None) -> RowCheck:
        def make(row: int, value: str | None) -> Problem:
            return Problem(code=code, message=message, file=path, row=row,
                           column=headers[field], value=value, expected=expected, hint=hint)
        return RowCheck(failing, field, make)

    checks = [
        check(field, pl.col(field).is_null(), "missing_value", f"{field} is empty",
              hint=f"Fill in {field}, or remove the row.")
        for field in Profile.REQUIRED
    ]
    checks.append(check(
        Profile.STATUS,
        pl.col(Profile.STATUS).is_not_null()
        & ~pl.col(Profile.STATUS).str.to_lowercase().is_in(list(Status.ALL)),
        "invalid_value", "invalid status",
        expected="one of " + ", ".join(Status.ALL),
    ))
    for field in _NUMBER_FIELDS:
        if field in headers:
            checks.append(check(
                field, pl.col(field).is_not_null() & pl.col(f"{field}:typed").is_null(),
                "invalid_value", f"invalid {field.replace('_', ' ')}",
                expected="a number such as 12, 7.5 or 1,250",
            ))
    checks.append(_duplicate_account_check(headers, path))
    return checks


def _duplicate_account_check(headers: dict[str, str], path: str) -> RowCheck:
    """Flag each row whose account_id an earlier row already has."""
    def make(row: int, value: str | None, first_row: int) -> Problem:
        return Problem(
            code="duplicate_account",
            message=f"account_id {value!r} is on rows {first_row} and {row}",
            file=path, row=row, column=headers[Profile.ACCOUNT_ID], value=value,
            hint="Keep one profile per account: merge or delete the other row.",
        )

    failing = pl.col(Profile.ACCOUNT_ID).is_not_null() & (pl.col(SOURCE_ROW) != pl.col(_FIRST_ROW))
    return RowCheck(failing, Profile.ACCOUNT_ID, make, context=(_FIRST_ROW,))


def _check_classes(
    lines: pl.DataFrame, known_classes: set[str], headers: dict[str, str], path: str,
    found: ProblemList,
) -> None:
    """Add one problem per distinct customer class that the rate file does not define."""
    customer_class = pl.col(Profile.CLASS)
    unknown = (
        lines.filter(customer_class.is_not_null() & ~customer_class.is_in(sorted(known_classes)))
        .group_by(Profile.CLASS, maintain_order=True)
        .agg(pl.col(SOURCE_ROW).head(_LISTED_ROWS).alias("rows"), pl.len().alias("profiles"))
    )
    defined = ", ".join(sorted(known_classes)) or "(none)"
    for value, rows, count in unknown.iter_rows():
        listed = ", ".join(str(row) for row in rows)
        more = " ..." if count > len(rows) else ""
        did_you_mean = suggestion(value, sorted(known_classes))
        prefix = f"{did_you_mean} " if did_you_mean else ""
        found.add(Problem(
            code="unknown_class",
            message=f"customer class {value!r} is not defined in the rate file "
                    f"({_count(count, 'profile')}, rows {listed}{more})",
            file=path, row=rows[0], column=headers[Profile.CLASS], value=value,
            expected="a class of the rate file",
            hint=f"{prefix}The rate file defines the classes {defined}. Correct the "
                 "class, or add it to the rate file.",
        ))


def _to_profile_schema(
    lines: pl.DataFrame, mapping: ProfileMapping, extra: list[str]
) -> pl.DataFrame:
    """Select the Profile columns in order, typed, then the extra text columns."""
    values = {
        Profile.STATUS: pl.col(Profile.STATUS).str.to_lowercase(),
    }
    if WINTER_AVERAGE in lines.columns:
        gallons = convert(pl.col(f"{WINTER_AVERAGE}:typed"), mapping.winter_average_unit,
                          UsageUnit.GALLONS)
        values[Profile.WINTER_AVERAGE_GAL] = gallons
    if Profile.DWELLING_UNITS in lines.columns:
        values[Profile.DWELLING_UNITS] = pl.col(f"{Profile.DWELLING_UNITS}:typed")

    columns = []
    for name, dtype in Profile.SCHEMA.items():
        if name in values:
            columns.append(values[name].cast(dtype).alias(name))
        elif name in lines.columns:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype).alias(name))
    return lines.select(*columns, *extra)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

"""Store the bills the engine read as BilledCharge rows: check they fit, then write them.

The Billed table's column names are the BilledCharge field names, so a bill's values go
into the row unchanged. PostgreSQL gets one COPY; other databases get bulk inserts in
batches. Both run inside the caller's transaction, so an import stores all rows or none.
"""

from __future__ import annotations

import logging

import polars as pl
from django.db import connection

from sewerline.apps.imports import copy as pg_copy
from sewerline.apps.imports.models import BilledCharge, ImportBatch
from sewerline.engine.errors import Problem
from sewerline.engine.ingest import Mapping
from sewerline.engine.ingest.mapping import DEDUCT_USAGE, USAGE
from sewerline.engine.ingest.problems import ProblemList, RowCheck
from sewerline.engine.money import DECIMAL
from sewerline.engine.schema import SOURCE_ROW, Billed

logger = logging.getLogger(__name__)

# Rows per INSERT statement on databases without COPY. SQLite allows 32,766 bound
# values per statement and a row binds 19.
BULK_ROWS = 1_000

# Billed columns in the order they are written; each is a BilledCharge field.
CHARGE_COLUMNS = tuple(Billed.SCHEMA)
TEXT_COLUMNS = tuple(
    name for name, dtype in Billed.SCHEMA.items() if dtype == pl.String()
)
# Mapped field of each volume column, for naming the column of a problem.
_VOLUME_FIELDS = {Billed.USAGE_GAL: USAGE, Billed.DEDUCT_USAGE_GAL: DEDUCT_USAGE}


def fit_problems(bills: pl.DataFrame, mapping: Mapping, file_name: str,
                 *, cap: int = 100) -> ProblemList:
    """Check that every value fits its BilledCharge column; return the problems found.

    Text longer than its column, an amount with fractions of a cent and a number too
    large for its column would be cut or rejected by the database, so each is reported
    with its row. A bill folded from service lines is reported at its first line.
    """
    found = ProblemList(cap=cap)
    checks = []
    for name in TEXT_COLUMNS:
        max_length = BilledCharge._meta.get_field(name).max_length
        if name in bills.columns and max_length:
            checks.append(_check(
                pl.col(name).str.len_chars() > max_length, name, mapping, file_name,
                "too_long", f"the value is longer than {max_length} characters",
                f"at most {max_length} characters",
                "Shorten the value in the export, or leave the column out of the mapping.",
            ))
    for name in (Billed.AMOUNT, Billed.WATER_AMOUNT, Billed.USAGE_GAL, Billed.DEDUCT_USAGE_GAL):
        checks.extend(_number_checks(name, mapping, file_name))
    found.check_rows(_with_text_values(bills), checks)
    return found


def write_charges(bills: pl.DataFrame, batch: ImportBatch) -> int:
    """Insert one BilledCharge per bill for the batch and its cycle; return the count.

    Call it inside a transaction. Uses COPY on PostgreSQL, bulk inserts elsewhere.
    """
    rows = charge_rows(bills)
    if connection.vendor == "postgresql":
        return _copy_charges(rows, batch)
    return _insert_charges(rows, batch)


def charge_rows(bills: pl.DataFrame) -> pl.DataFrame:
    """Return the bills in CHARGE_COLUMNS order, empty text as "" (the columns are NOT NULL)."""
    return bills.select(
        pl.col(name).fill_null("") if name in TEXT_COLUMNS else pl.col(name)
        for name in CHARGE_COLUMNS
    )


def _copy_charges(rows: pl.DataFrame, batch: ImportBatch) -> int:
    frame = rows.select(
        pl.lit(batch.pk, dtype=pl.Int64).alias("batch_id"),
        pl.lit(batch.cycle_id, dtype=pl.Int64).alias("cycle_id"),
        pl.all(),
    )
    table = BilledCharge._meta.db_table
    columns = ["batch_id", "cycle_id", *CHARGE_COLUMNS]
    with connection.cursor() as cursor:
        written = pg_copy.copy_frame_into(cursor, table, columns, frame)
    logger.info("import %s: copied %d bills", batch.pk, written)
    return written


def _insert_charges(rows: pl.DataFrame, batch: ImportBatch) -> int:
    written = 0
    for offset in range(0, rows.height, BULK_ROWS):
        chunk = rows.slice(offset, BULK_ROWS)
        insert_chunk(chunk, batch)
        written += chunk.height
    logger.info("import %s: inserted %d bills", batch.pk, written)
    return written


def insert_chunk(chunk: pl.DataFrame, batch: ImportBatch) -> None:
    """Insert one chunk of charge rows with a single bulk INSERT."""
    BilledCharge.objects.bulk_create(
        [
            BilledCharge(batch_id=batch.pk, cycle_id=batch.cycle_id, **values)
            for values in chunk.iter_rows(named=True)
        ],
        batch_size=BULK_ROWS,
    )


def _number_checks(name: str, mapping: Mapping, file_name: str) -> list[RowCheck]:
    field = BilledCharge._meta.get_field(name)
    integer_digits = field.max_digits - field.decimal_places
    limit = pl.lit(10 ** integer_digits).cast(DECIMAL)
    value = pl.col(name)
    label = "the usage in gallons" if name in _VOLUME_FIELDS else "the amount"
    checks = [_check(
        value.abs() >= limit, name, mapping, file_name, "too_large",
        f"{label} has more than {integer_digits} digits before the point",
        f"a number below {10 ** integer_digits:,}",
        "Check the value and the unit of the column in the mapping.",
    )]
    if field.decimal_places == 2:
        checks.append(_check(
            value.round(2) != value, name, mapping, file_name, "fraction_of_cent",
            "the amount has fractions of a cent", "an amount in whole cents, such as 45.10",
            "Check that the mapping names the amount column, and correct the value.",
        ))
    return checks


def _check(failing: pl.Expr, name: str, mapping: Mapping, file_name: str, code: str,
           message: str, expected: str, hint: str) -> RowCheck:
    field = _VOLUME_FIELDS.get(name, name)
    header = mapping.columns.get(field, name)

    def make(row: int, value: str | None) -> Problem:
        return Problem(code=code, message=message, file=file_name, row=row, column=header,
                       value=value, expected=expected, hint=hint)

    # The value column is the text form of the checked column, so the problem shows it.
    return RowCheck(failing, f"{name}:text", make)


def _with_text_values(bills: pl.DataFrame) -> pl.DataFrame:
    """Add the text form of each checked column, decimals without trailing zeros."""
    texts = []
    for name in bills.columns:
        if name not in Billed.SCHEMA or name == SOURCE_ROW:
            continue
        text = pl.col(name).cast(pl.String)
        if Billed.SCHEMA[name] == DECIMAL:
            # A DECIMAL always has a point, so stripping zeros then the point is safe.
            text = text.str.strip_chars_end("0").str.strip_chars_end(".")
        texts.append(text.alias(f"{name}:text"))
    return bills.with_columns(texts)

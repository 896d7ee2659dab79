"""Read the water utility's billing export into the Billed table.

Steps: read every cell as text, check the header against the mapping, parse amounts,
usage and dates column by column, fold service lines into bills (per_line layout),
then map rate codes to customer classes. Every problem found on the way is collected,
up to `max_errors`, and raised together.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.billing_checks import check_rate_codes, row_checks, typed_name
from sewerline.engine.ingest.columns import locate_columns
from sewerline.engine.ingest.folding import RATE_ROW, fold_lines
from sewerline.engine.ingest.mapping import (
    BILLING_DATE_FIELDS,
    DEDUCT_USAGE,
    SERVICE_CODE,
    USAGE,
    VOLUME_FIELDS,
    Layout,
    Mapping,
)
from sewerline.engine.ingest.problems import ProblemList
from sewerline.engine.ingest.tables import read_table
from sewerline.engine.ingest.values import is_scientific, parse_amount, parse_date
from sewerline.engine.money import DECIMAL
from sewerline.engine.schema import SOURCE_ROW, Billed
from sewerline.engine.units import UsageUnit, convert

logger = logging.getLogger(__name__)


@dataclass
class ReadStats:
    """Counts of one read, filled in by read_billing for callers that report them."""

    rows: int = 0      # data rows of the file (service lines, with a per_line layout)


def read_billing(
    path: str | os.PathLike[str], mapping: Mapping, *, max_errors: int = 100,
    stats: ReadStats | None = None,
) -> pl.DataFrame:
    """Read a billing export into a frame with the Billed schema, one row per bill.

    Raises InputError with all header problems before any row is parsed, then with up to
    `max_errors` row problems: unparsable amounts, usage and dates, empty required
    values and rate codes missing from the mapping.
    """
    mapping_name = Path(mapping.path).name if mapping.path else "the mapping file"
    _check_mapping(mapping, mapping_name)
    table = read_table(path, encoding=mapping.csv.encoding, delimiter=mapping.csv.delimiter)
    headers, problems = locate_columns(
        table, mapping.columns,
        fix_hint=f"Correct columns: {{field}} in {mapping_name}.",
    )
    if problems:
        raise InputError(problems)
    extra = [name for name in table.header if name not in headers.values()]
    if extra:
        logger.debug("%s: columns not in the mapping, ignored: %s", table.path, extra)

    lines = table.frame.select(
        SOURCE_ROW, *[pl.col(header).alias(field) for field, header in headers.items()]
    )
    # Typed values go into columns of their own first, so that a value that does not
    # parse can be reported with its text.
    typed = _parse_expressions(mapping)
    parsed = lines.with_columns(typed.values())
    found = ProblemList(cap=max_errors, header=table.header)
    found.check_rows(parsed, row_checks(mapping, headers, table.path, mapping_name))
    _warn_scientific_meters(lines, table.path)

    # Then the values replace the text. Volumes are stored in gallons under their own names.
    gallon_names = {USAGE: Billed.USAGE_GAL, DEDUCT_USAGE: Billed.DEDUCT_USAGE_GAL}
    final_names = {field: gallon_names.get(field, field) for field in typed}
    parsed = parsed.drop(list(typed)).rename(
        {typed_name(field): name for field, name in final_names.items()}
    )
    if mapping.layout is Layout.PER_LINE:
        bills = fold_lines(parsed, mapping)
    else:
        bills = parsed.with_columns(
            pl.lit(1, dtype=pl.Int64).alias(Billed.SEWER_LINES),
            pl.col(SOURCE_ROW).alias(RATE_ROW),
        )

    check_rate_codes(bills, mapping, headers, table.path, mapping_name, found)
    found.raise_if_any()
    result = _to_billed_schema(bills, mapping)
    logger.info("%s: read %d bills from %d rows", table.path, result.height, lines.height)
    if stats is not None:
        stats.rows = lines.height
    return result


def _check_mapping(mapping: Mapping, mapping_name: str) -> None:
    """Reject a Mapping built in code that lacks what load_mapping would have required."""
    columns = mapping.columns
    missing = [name for name in Billed.REQUIRED if name not in columns]
    if any(name in columns for name in VOLUME_FIELDS) and mapping.usage_unit is None:
        missing.append("usage_unit")
    if any(name in columns for name in BILLING_DATE_FIELDS) and not mapping.date_format:
        missing.append("date_format")
    if mapping.layout is Layout.PER_LINE:
        if SERVICE_CODE not in columns:
            missing.append(SERVICE_CODE)
        if not mapping.sewer_service_codes:
            missing.append("sewer_service_codes")
        if Billed.WATER_AMOUNT in columns:
            raise InputError([Problem(
                code="invalid_value", message="water_amount is a column only in the per_bill "
                "layout", file=mapping.path,
                hint=f"Remove water_amount from columns in {mapping_name} and list the water "
                     "lines' service codes under water_service_codes.",
            )])
    if missing:
        raise InputError([
            Problem(code="missing_field", message=f"the mapping has no {name}",
                    file=mapping.path, hint=f"Add {name} to {mapping_name}.")
            for name in missing
        ])


def _parse_expressions(mapping: Mapping) -> dict[str, pl.Expr]:
    """Return field -> expression of its parsed value, for the fields that are typed."""
    columns = mapping.columns
    typed = {Billed.AMOUNT: parse_amount(pl.col(Billed.AMOUNT))}
    if Billed.WATER_AMOUNT in columns:
        typed[Billed.WATER_AMOUNT] = parse_amount(pl.col(Billed.WATER_AMOUNT))
    for field in VOLUME_FIELDS:
        if field in columns:
            volume = convert(parse_amount(pl.col(field)), mapping.usage_unit, UsageUnit.GALLONS)
            typed[field] = volume.cast(DECIMAL)
    for field in BILLING_DATE_FIELDS:
        if field in columns:
            typed[field] = parse_date(pl.col(field), mapping.date_format)
    return {field: expression.alias(typed_name(field)) for field, expression in typed.items()}


def _warn_scientific_meters(lines: pl.DataFrame, path: str) -> None:
    """Log the meter numbers that Excel turned into scientific notation."""
    if Billed.METER not in lines.columns:
        return
    mangled = lines.filter(is_scientific(pl.col(Billed.METER)))
    if mangled.height:
        row, meter = mangled.select(SOURCE_ROW, Billed.METER).row(0)
        logger.warning(
            "%s: %d meter numbers are in scientific notation (first %r on row %d); Excel "
            "dropped their last digits, so bills cannot be matched on them. Format the "
            "meter column as text before saving.",
            path, mangled.height, meter, row,
        )


def _to_billed_schema(bills: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    """Select the Billed columns in order, typed, with nulls for unmapped fields."""
    if Billed.RATE_CODE in bills.columns:
        class_by_code = pl.col(Billed.RATE_CODE).replace_strict(
            mapping.rate_codes, default=None, return_dtype=pl.String
        )
        bills = bills.with_columns(class_by_code.alias(Billed.CLASS))
    return bills.select(
        pl.col(name).cast(dtype) if name in bills.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in Billed.SCHEMA.items()
    )

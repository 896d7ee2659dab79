"""Fold an export with one row per service line into one record per bill."""

from __future__ import annotations

import polars as pl

from sewerline.engine.ingest.mapping import BILLING_DATE_FIELDS, SERVICE_CODE, Mapping
from sewerline.engine.money import DECIMAL, decimal_lit
from sewerline.engine.schema import SOURCE_ROW, Billed

# Row of the line whose rate code the bill carries, for rate code problems.
RATE_ROW = "_rate_row"
_SEWER = "_sewer"
_WATER = "_water"

# Text and date fields taken from the bill's first sewer line, else its first line.
_LINE_FIELDS = (
    Billed.ACCOUNT, Billed.CUSTOMER_NAME, Billed.SERVICE_ADDRESS, Billed.PARCEL,
    Billed.METER, Billed.RATE_CODE, *BILLING_DATE_FIELDS, Billed.BILL_NUMBER,
)


def is_sewer_line(mapping: Mapping) -> pl.Expr:
    """Return True where the line's service code is one of the sewer service codes."""
    codes = sorted(mapping.sewer_service_codes)
    return pl.col(SERVICE_CODE).is_in(codes).fill_null(False)


def is_water_line(mapping: Mapping) -> pl.Expr:
    """Return True where the line's service code is one of the water service codes."""
    codes = sorted(mapping.water_service_codes)
    return pl.col(SERVICE_CODE).is_in(codes).fill_null(False)


def fold_lines(lines: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    """Group service lines into bills, in order of each bill's first line.

    A bill is the lines sharing a bill number when it is mapped, else the lines
    sharing account, period start, period end and bill date (those that are mapped).
    The bill's amount is the sum of its sewer lines (0 when it has none) and
    `sewer_lines` counts them. With water service codes, the water amount is the sum of
    the water lines (0 when there is none). Usage, and deduct usage alike, is the first
    non-empty value of a sewer line, else the maximum of all lines. Each other field
    comes from the first sewer line, or from the first line where that is empty or
    there is no sewer line.
    """
    columns = mapping.columns
    if Billed.BILL_NUMBER in columns:
        keys = [Billed.BILL_NUMBER]
    else:
        keys = [Billed.ACCOUNT, *[name for name in BILLING_DATE_FIELDS if name in columns]]

    sewer = pl.col(_SEWER)
    line_values = [
        pl.coalesce(pl.col(name).filter(sewer).first(), pl.col(name).first()).alias(name)
        for name in _LINE_FIELDS
        if name in lines.columns and name not in keys
    ]
    aggregations = [
        pl.col(SOURCE_ROW).first(),
        pl.col(Billed.AMOUNT).filter(sewer).sum().alias(Billed.AMOUNT),
        sewer.sum().cast(pl.Int64).alias(Billed.SEWER_LINES),
        *line_values,
    ]
    for volume_name in (Billed.USAGE_GAL, Billed.DEDUCT_USAGE_GAL):
        if volume_name in lines.columns:
            volume = pl.col(volume_name)
            sewer_volume = volume.filter(sewer & volume.is_not_null()).first()
            aggregations.append(pl.coalesce(sewer_volume, volume.max()).alias(volume_name))
    if mapping.water_service_codes:
        water_amount = pl.col(Billed.AMOUNT).filter(pl.col(_WATER)).sum()
        aggregations.append(water_amount.alias(Billed.WATER_AMOUNT))
    if Billed.RATE_CODE in lines.columns:
        code = pl.col(Billed.RATE_CODE)
        sewer_code_row = pl.col(SOURCE_ROW).filter(sewer).first()
        aggregations.append(
            pl.when(code.filter(sewer).first().is_not_null())
            .then(sewer_code_row)
            .otherwise(pl.col(SOURCE_ROW).first())
            .alias(RATE_ROW)
        )

    bills = (
        lines.with_columns(
            is_sewer_line(mapping).alias(_SEWER), is_water_line(mapping).alias(_WATER)
        )
        .group_by(keys, maintain_order=True)
        .agg(aggregations)
    )
    amounts = [Billed.AMOUNT]
    if mapping.water_service_codes:
        amounts.append(Billed.WATER_AMOUNT)
    return bills.with_columns(
        pl.col(name).fill_null(decimal_lit(0)).cast(DECIMAL) for name in amounts
    )

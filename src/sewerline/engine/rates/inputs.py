"""Input columns as the rate formulas read them: numbers as Decimal, lookup keys as text.

Rated tables and bill traces both read their inputs through `prepare_inputs`, so both
see the same numbers. A column used as a number becomes `num:<name>` (Decimal) and
a column used as a lookup key becomes `key:<name>` (text). A null or blank value stays
null, and a bill that needs it comes out null.
"""

from __future__ import annotations

import polars as pl

from sewerline.engine.errors import Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates.parts import ClassRates

INDEX = "__index"   # position of the row in the table given to rate_bills
ROW = "__row"       # the row number shown in problems
EXAMPLE_ROWS = 5
MAX_BAD_VALUES = 10


def numeric_name(column: str) -> str:
    """Return the prepared frame's name for an input column read as a number."""
    return f"num:{column}"


def key_name(column: str) -> str:
    """Return the prepared frame's name for an input column read as a lookup key."""
    return f"key:{column}"


def example_rows(frame: pl.DataFrame, condition: pl.Expr) -> list[int]:
    """Return the row numbers of up to five rows that meet `condition`."""
    return frame.filter(condition).head(EXAMPLE_ROWS)[ROW].to_list()


def describe_rows(rows: list[int], total: int) -> str:
    """Return 'rows 2, 5, 9' or 'rows 2, 5, 9, 11, 12 and 37 more'."""
    text = ", ".join(str(row) for row in rows)
    more = total - len(rows)
    word = "row" if total == 1 else "rows"
    return f"{word} {text}" + (f" and {more} more" if more > 0 else "")


def prepare_inputs(frame: pl.DataFrame, rates: ClassRates, *, file_label: str,
                   problems: list[Problem]) -> pl.DataFrame:
    """Return INDEX, ROW and the class's input columns read as numbers and keys.

    `frame` must have the INDEX and ROW columns. Values that are not numbers in a
    numeric column are added to `problems`, each distinct value once with example rows.
    """
    columns = [pl.col(INDEX), pl.col(ROW)]
    for column in rates.numeric_columns:
        columns.append(_numeric(frame, column, rates, file_label, problems)
                       .alias(numeric_name(column)))
    for column in rates.key_columns:
        text = pl.col(column).cast(pl.String)
        blank = text.str.strip_chars() == ""
        columns.append(pl.when(blank).then(None).otherwise(text).alias(key_name(column)))
    return frame.select(columns)


def _numeric(frame: pl.DataFrame, column: str, rates: ClassRates, file_label: str,
             problems: list[Problem]) -> pl.Expr:
    dtype = frame.schema[column]
    source = pl.col(column)
    if dtype.is_numeric() and not dtype.is_float():
        return source.cast(DECIMAL)
    if dtype == pl.Null:
        return source.cast(DECIMAL)
    if dtype == pl.Boolean:
        return source.cast(pl.Int8).cast(DECIMAL)
    if dtype.is_float():
        bad = ~source.is_finite() & source.is_not_null()
        _report_bad(frame, column, source.cast(pl.String), bad, rates, file_label, problems)
        return pl.when(bad).then(None).otherwise(source).cast(DECIMAL)
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        text = source.cast(pl.String).str.strip_chars()
        parsed = pl.when(text == "").then(None).otherwise(text).str.to_decimal(scale=12)
        bad = parsed.is_null() & (text != "") & text.is_not_null()
        _report_bad(frame, column, text, bad, rates, file_label, problems)
        return parsed.cast(DECIMAL)

    problems.append(Problem(
        code="input_not_numeric", message=f"column {column!r} of {file_label} has type {dtype}, "
        f"but class {rates.name} uses it as a number", file=file_label, column=column,
        expected="numbers", hint="Map a numeric column to this name in the column mapping.",
    ))
    return pl.lit(None, dtype=DECIMAL)


def _report_bad(frame: pl.DataFrame, column: str, text: pl.Expr, bad: pl.Expr,
                rates: ClassRates, file_label: str, problems: list[Problem]) -> None:
    counts = (frame.filter(bad).group_by(text.alias("value"), maintain_order=True)
              .agg(pl.len().alias("count")))
    for value, count in counts.head(MAX_BAD_VALUES).iter_rows():
        rows = example_rows(frame, bad & (text == value))
        problems.append(Problem(
            code="input_not_numeric",
            message=f"column {column!r} contains a value that is not a number, and class "
                    f"{rates.name} uses it in a formula ({describe_rows(rows, count)})",
            file=file_label, row=rows[0], column=column, value=value,
            expected="a number such as 4.5, without $ or thousands separators",
            hint="Correct the value in the input file, or leave it empty when it is unknown.",
        ))

"""Rating a table of bills or profiles: the expected sewer charge of every row."""

from __future__ import annotations

import logging
from dataclasses import replace

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import DECIMAL
from sewerline.engine.rates.compile import EXPECTED, ClassCompiler, charge_column
from sewerline.engine.rates.inputs import (
    INDEX,
    ROW,
    describe_rows,
    example_rows,
    prepare_inputs,
)
from sewerline.engine.rates.schedule import MAX_PROBLEMS, RateSchedule

logger = logging.getLogger(__name__)


def with_row_numbers(table: pl.DataFrame, row_column: str) -> pl.DataFrame:
    """Add INDEX (position) and ROW (row_column, or the spreadsheet row: position + 2)."""
    table = table.with_row_index(INDEX)
    if row_column in table.columns:
        return table.with_columns(pl.col(row_column).cast(pl.Int64).alias(ROW))
    return table.with_columns((pl.col(INDEX).cast(pl.Int64) + 2).alias(ROW))


def check_classes(table: pl.DataFrame, schedule: RateSchedule, class_column: str,
                  label: str) -> list[Problem]:
    """List a problem per class value of the table that the schedule does not rate.

    `table` must have the ROW column of with_row_numbers.
    """
    if class_column not in table.columns:
        return [Problem(
            code="class_column_missing", message=f"{label} has no column {class_column!r}",
            file=label, column=class_column, expected="the customer class of each row",
            hint="Map the column that contains the customer class.",
        )]
    problems = []
    classes = table[class_column].cast(pl.String)
    counts = (table.select(classes.alias("class")).group_by("class", maintain_order=True)
              .agg(pl.len().alias("count")))
    for class_name, count in counts.iter_rows():
        if class_name in schedule.classes:
            continue
        condition = (pl.col(class_column).cast(pl.String) == class_name
                     if class_name is not None else pl.col(class_column).is_null())
        rows = example_rows(table, condition)
        problem = schedule.class_missing_problem(
            class_name, f" ({describe_rows(rows, count)} of {label})")
        # The row is in the input file, so the problem points there.
        problems.append(replace(problem, file=label, row=rows[0], column=class_column))
    return problems


def rate_bills(table: pl.DataFrame, schedule: RateSchedule, *, class_column: str,
               source: str | None = None, row_column: str = "source_row") -> pl.DataFrame:
    """Compute the expected charge of every row of `table` under `schedule`.

    Returns a frame of the same height and row order with `expected_amount` and one
    `charge:<name>` column per charge component of any class (null for rows of a
    class without that component). Each component is rounded to the cent by the
    schedule's rounding rule before the bill formula adds them up. A row whose inputs
    are null or blank gets a null amount. Raises InputError listing every problem:
    classes the schedule lacks, missing input columns, values that are not numbers,
    lookup keys the rate file lacks, and division by zero.
    """
    label = source or "the input table"
    numbered = with_row_numbers(table, row_column)
    problems = check_classes(numbered, schedule, class_column, label)
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    classes = [c for c in table[class_column].cast(pl.String).unique(maintain_order=True)]
    problems = schedule.validate_columns(set(table.columns), label, classes)
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    parts = numbered.partition_by(class_column, as_dict=True, maintain_order=True)
    compilers: list[ClassCompiler] = []
    for key, subset in parts.items():
        # Input columns replace the class's default fields of the same name.
        rates = schedule.classes[str(key[0])].with_input_columns(set(table.columns))
        frame = prepare_inputs(subset, rates, file_label=label, problems=problems)
        compilers.append(ClassCompiler(schedule, rates, frame, problems, label))
    plans = [compiler.rated() for compiler in compilers]
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    results = pl.collect_all(plans)
    for compiler, result in zip(compilers, results, strict=True):
        compiler.report_checks(result)
    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)

    components: list[str] = []
    for compiler in compilers:
        components += [c for c in compiler.rates.components if c not in components]
    columns = [EXPECTED] + [charge_column(c) for c in components]
    schema = {name: DECIMAL for name in columns}
    pieces = [result.select(INDEX, *[c for c in columns if c in result.columns])
              for result in results]
    if not pieces:
        return pl.DataFrame(schema=schema)
    rated = pl.concat(pieces, how="diagonal").sort(INDEX)
    logger.debug("rated %d rows of %d classes", rated.height, len(pieces))
    return rated.select([pl.col(c).cast(DECIMAL) if c in rated.columns
                         else pl.lit(None, dtype=DECIMAL).alias(c) for c in columns])

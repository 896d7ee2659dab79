"""Collect row problems from whole columns at once, up to a cap, in row order."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.schema import SOURCE_ROW

# Builds the problem of one failing cell from its row, its text and the values of the
# check's context columns.
ProblemFactory = Callable[..., Problem]


@dataclass(frozen=True)
class RowCheck:
    """A test applied to every row: `failing` is True where `column` has a problem.

    `make_problem(row, value, *context)` receives the row number, the cell's text and
    the values of `context` columns of the same row.
    """

    failing: pl.Expr
    column: str
    make_problem: ProblemFactory
    context: tuple[str, ...] = ()


@dataclass
class ProblemList:
    """Problems found in one input, of which at most `cap` are kept.

    `header` is the file's header, so that problems of one row are listed in the
    order of their columns.
    """

    cap: int
    header: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        """Keep one problem."""
        self.problems.append(problem)
        self.total += 1

    def check_rows(self, frame: pl.DataFrame, checks: list[RowCheck]) -> None:
        """Run every check over the frame and keep a problem per failing cell.

        One pass counts the failures of all checks, so a clean file costs a single scan.
        Only the checks that fail are run again to collect their rows.
        """
        if not checks or frame.height == 0:
            return
        counts = frame.select(
            check.failing.fill_null(False).sum().alias(str(index))
            for index, check in enumerate(checks)
        ).row(0)

        for check, count in zip(checks, counts, strict=True):
            if not count:
                continue
            failing = (
                frame.filter(check.failing.fill_null(False))
                .select(SOURCE_ROW, check.column, *check.context)
                .head(self.cap)
            )
            for row, value, *context in failing.iter_rows():
                self.problems.append(check.make_problem(row, value, *context))
            self.total += count

    def raise_if_any(self) -> None:
        """Raise InputError with the first `cap` problems in row order, if there are any."""
        if not self.problems:
            return
        position = {name: index for index, name in enumerate(self.header)}
        ordered = sorted(
            self.problems,
            key=lambda problem: (problem.row or 0, position.get(problem.column, len(position))),
        )
        raise InputError(ordered[: self.cap], truncated=self.total > self.cap)


def suggestion(word: str, choices: Iterable[str]) -> str | None:
    """Return "Did you mean 'x'?" for the closest choice, or None when nothing is close."""
    by_folded = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f"Did you mean {by_folded[close[0]]!r}?" if close else None

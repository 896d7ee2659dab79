"""Input problems as data, so the CLI, a web page and an error file can show the same facts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    `row` is the spreadsheet row number: the header is row 1, the first record row 2,
    so a clerk can open the file and go straight to it. `line` is the YAML line of a
    rate or mapping file. Fields that do not apply stay None.
    """

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    line: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = [part for part in (
            self.file,
            f"row {self.row}" if self.row is not None else None,
            f"line {self.line}" if self.line is not None else None,
            f"column {self.column!r}" if self.column is not None else None,
        ) if part]
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.value is not None:
            text += f" (found {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f". {self.hint}"
        return text


class InputError(Exception):
    """Raised when an input cannot be used; carries every problem found, not only the first.

    `truncated` is True when more problems existed than the collection cap allowed.
    """

    def __init__(self, problems: list[Problem], *, truncated: bool = False):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = list(problems)
        self.truncated = truncated
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [str(problem) for problem in self.problems]
        if self.truncated:
            lines.append("More problems were found than listed; fix these and run again.")
        return "\n".join(lines)

"""Find mapped columns in a file's header and report the missing ones with suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sewerline.engine.errors import Problem
from sewerline.engine.ingest.tables import SourceTable, header_key

# Header names listed in a hint when no close match exists.
_LISTED_HEADERS = 20


def locate_columns(
    table: SourceTable,
    expected_headers: dict[str, str],
    *,
    optional: Iterable[str] = (),
    fix_hint: str,
) -> tuple[dict[str, str], list[Problem]]:
    """Find each expected header in the table, ignoring case and spacing.

    `expected_headers` maps a field to its header. Returns field -> header as written
    in the file for the columns found, and a problem for each missing column not in
    `optional`. `fix_hint` ends every missing-column hint and names the place to correct
    the header, with {field} replaced by the field.
    """
    by_key = {header_key(header): header for header in table.header}
    optional = set(optional)
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for field, header in expected_headers.items():
        actual = by_key.get(header_key(header))
        if actual is not None:
            found[field] = actual
        elif field not in optional:
            problems.append(missing_column(table, field, header, fix_hint.format(field=field)))
    return found, problems


def missing_column(table: SourceTable, field: str, header: str, fix_hint: str) -> Problem:
    """Describe a column missing from the header, suggesting the closest header names."""
    by_key = {header_key(name): name for name in table.header}
    close = difflib.get_close_matches(header_key(header), list(by_key), n=3, cutoff=0.6)
    if close:
        names = " or ".join(repr(by_key[key]) for key in close)
        hint = f"Did you mean {names}? {fix_hint}"
    else:
        listed = ", ".join(repr(name) for name in table.header[:_LISTED_HEADERS])
        more = " ..." if len(table.header) > _LISTED_HEADERS else ""
        hint = f"The file has the columns {listed}{more}. {fix_hint}"
    return Problem(
        code="missing_column",
        message=f"column {header!r} for {field} is not in the header",
        file=table.path,
        row=table.header_row,
        column=header,
        hint=hint,
    )

"""Matching of lookup keys (`depends_on` values) between a rate file and input rows.

Rate files spell the same key in several ways: a 1.5 inch meter is `1 1/2"`,
`1_1/2"` or `1|1/2"`, and a city flag is `inside_city` or `Inside City`. Keys are
compared in a canonical form: case is ignored, runs of spaces, `_`, `|` and `-` count
as one space, and a number matches the same number written otherwise (`1` and `1.0`).
A key over several columns is the canonical parts joined by one space, so a file key
`1|1/2"|inside_city` matches the row values `1 1/2"` and `inside_city`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Joins the parts of a multi-column key in the text Polars builds for a row; no rate
# file key or input value is expected to contain this control character.
PART_SEPARATOR = "\x1f"

_SEPARATORS = re.compile(r"[\s_|\-]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")


def canonical_part(text: str) -> str:
    """Return the canonical form of one column's key value."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        try:
            number = Decimal(stripped).normalize()
        except InvalidOperation:
            number = None
        if number is not None:
            return format(number, "f")
    return _SEPARATORS.sub(" ", stripped.lower()).strip()


def canonical_file_key(text: str, columns: int) -> str:
    """Return the canonical form of a lookup key as written in a rate file.

    A key over several columns is split at `|` only when it splits into exactly one
    part per column; otherwise the separators are treated as part of the text.
    """
    parts = text.split("|")
    if columns > 1 and len(parts) == columns:
        return " ".join(canonical_part(part) for part in parts)
    return canonical_part(text)


def canonical_row_key(text: str) -> str:
    """Return the canonical form of a row's key text (parts joined by PART_SEPARATOR)."""
    return " ".join(canonical_part(part) for part in text.split(PART_SEPARATOR))


def display_row_key(text: str) -> str:
    """Return a row's key text as a person reads it, parts joined by `|`."""
    return text.replace(PART_SEPARATOR, "|")

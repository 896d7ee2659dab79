"""Problems of an import as JSON records, stored on the batch and shown to the user."""

from __future__ import annotations

import re
from dataclasses import asdict

from sewerline.apps.imports.mappings import MAPPING_FILE_NAME
from sewerline.engine.errors import InputError, Problem

# Path of the temporary mapping file that `mappings.mapping_file` writes.
_MAPPING_PATH = re.compile(r"\S*sewerline-mapping-[^/\\\s]*[/\\]" + re.escape(MAPPING_FILE_NAME))

# Keys of one stored problem, in the order the problems table shows them.
PROBLEM_KEYS = ("code", "file", "row", "column", "value", "message", "expected", "hint",
                "line")


def problem_records(error: InputError, names: dict[str, str]) -> list[dict]:
    """Turn the problems of an InputError into JSON records.

    `names` maps a path the engine read, such as the stored original, to the file name
    the user uploaded. The temporary mapping file becomes mapping.yaml. So no server
    path reaches the page.
    """
    records = [_record(problem, names) for problem in error.problems]
    if error.truncated:
        records.append(_record(Problem(
            code="more_problems",
            message="more problems were found than are listed here",
            hint="Fix these, then check the file again.",
        ), names))
    return records


def failure_record(message: str, hint: str) -> dict:
    """Return the record of a failure that is not about one cell, such as a database error."""
    return _record(Problem(code="import_failed", message=message, hint=hint), {})


def _record(problem: Problem, names: dict[str, str]) -> dict:
    record = asdict(problem)
    for key in ("file", "message", "hint"):
        text = record[key]
        if not text:
            continue
        for path, name in names.items():
            text = text.replace(path, name)
        record[key] = _MAPPING_PATH.sub(MAPPING_FILE_NAME, text)
    return {key: record[key] for key in PROBLEM_KEYS}

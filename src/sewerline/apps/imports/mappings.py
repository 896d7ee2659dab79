"""Mapping YAML of an import: load it with the engine, write it from the wizard's choices.

The engine reads mappings from files, so the text is written to a temporary folder as
`mapping.yaml`, the name that the engine's hints then show to the user.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest import Mapping, ProfileMapping, load_mapping

MAPPING_FILE_NAME = "mapping.yaml"

# Appended to a mapping text that has only a `profiles:` section, so that the engine's
# validation of the whole file accepts it. Appending keeps the YAML line numbers of the
# user's text in the engine's problems.
_PLACEHOLDER_BILLING = (
    "\nlayout: per_bill\ncolumns: {billed_account: account, billed_amount: amount}\n"
)


@contextmanager
def mapping_file(text: str) -> Iterator[Path]:
    """Write mapping text to a temporary mapping.yaml and yield its path."""
    with tempfile.TemporaryDirectory(prefix="sewerline-mapping-") as folder:
        path = Path(folder) / MAPPING_FILE_NAME
        path.write_text(text, encoding="utf-8")
        yield path


def load_billing_mapping(text: str) -> Mapping:
    """Validate the mapping of a billing export; raise InputError listing its problems."""
    if not text.strip():
        raise InputError([Problem(
            code="missing_mapping",
            message="the import has no column mapping",
            file=MAPPING_FILE_NAME,
            hint="Map the columns of the export in step 2 of the import.",
        )])
    with mapping_file(text) as path:
        return load_mapping(path)


def load_profile_mapping(text: str | None) -> ProfileMapping:
    """Return the profile file options of a mapping text (the documented layout if empty).

    The text is either a whole mapping file, whose `profiles:` section is used, or a
    text with only a `profiles:` section, as the wizard writes for profile files.
    Raises InputError listing the problems of the text.
    """
    if not text or not text.strip():
        return ProfileMapping()
    with mapping_file(_with_billing_part(text)) as path:
        mapping = load_mapping(path)
    return mapping.profiles or ProfileMapping()


def _with_billing_part(text: str) -> str:
    try:
        root = yaml.safe_load(text)
    except yaml.YAMLError:
        # The engine reports the syntax error with its line.
        return text
    if isinstance(root, dict) and "layout" not in root and "columns" not in root:
        return text.rstrip("\n") + "\n" + _PLACEHOLDER_BILLING
    return text


def billing_mapping_text(
    *,
    layout: str,
    columns: dict[str, str],
    usage_unit: str = "",
    date_format: str = "",
    sewer_service_codes: list[str] = (),
    water_service_codes: list[str] = (),
    rate_codes: dict[str, str] | None = None,
    encoding: str = "",
    delimiter: str = "",
) -> str:
    """Write the mapping YAML of a billing export; empty options are left out."""
    document: dict[str, object] = {"layout": layout, "columns": dict(columns)}
    if usage_unit:
        document["usage_unit"] = usage_unit
    if date_format:
        document["date_format"] = date_format
    if sewer_service_codes:
        document["sewer_service_codes"] = list(sewer_service_codes)
    if water_service_codes:
        document["water_service_codes"] = list(water_service_codes)
    if rate_codes:
        document["rate_codes"] = dict(rate_codes)
    csv_options = _csv_options(encoding, delimiter)
    if csv_options:
        document["csv"] = csv_options
    return _dump(document)


def profile_mapping_text(
    *, columns: dict[str, str], winter_average_unit: str = "", encoding: str = "",
    delimiter: str = "",
) -> str:
    """Write a mapping YAML with only the `profiles:` section of a profile file."""
    section: dict[str, object] = {}
    if columns:
        section["columns"] = dict(columns)
    if winter_average_unit:
        section["winter_average_unit"] = winter_average_unit
    csv_options = _csv_options(encoding, delimiter)
    if csv_options:
        section["csv"] = csv_options
    return _dump({"profiles": section})


def _csv_options(encoding: str, delimiter: str) -> dict[str, str]:
    options = {}
    if encoding and encoding != "auto":
        options["encoding"] = encoding
    if delimiter and delimiter != "auto":
        options["delimiter"] = "tab" if delimiter == "\t" else delimiter
    return options


def _dump(document: dict[str, object]) -> str:
    # Every value is written quoted, so a header such as `Meter #` or a code such as 01
    # reads back exactly as chosen. Keys stay plain, as in the documentation.
    return yaml.dump(
        _quote_values(document), Dumper=_QuotingDumper, sort_keys=False,
        allow_unicode=True, default_flow_style=False, width=1000,
    )


class _Quoted(str):
    """A text value that the dumper writes in double quotes."""


def _quote_values(value: object) -> object:
    if isinstance(value, dict):
        return {key: _quote_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_quote_values(item) for item in value]
    if isinstance(value, str):
        return _Quoted(value)
    return value


class _QuotingDumper(yaml.SafeDumper):
    """Safe YAML dumper that double-quotes `_Quoted` values."""


def _represent_quoted(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_QuotingDumper.add_representer(_Quoted, _represent_quoted)

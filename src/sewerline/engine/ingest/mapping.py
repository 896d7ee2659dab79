"""The mapping file: which column of the water utility's export contains which field.

`load_mapping` validates the whole file before returning and reports every problem
with its YAML line. docs/mapping.md describes the format.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import polars as pl
import yaml

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.csv_reader import DELIMITERS
from sewerline.engine.ingest.problems import suggestion
from sewerline.engine.ingest.values import EXAMPLE_DATE
from sewerline.engine.ingest.yaml_nodes import NodeReader, compose
from sewerline.engine.schema import Billed, Profile
from sewerline.engine.units import UsageUnit, parse_unit


class Layout(StrEnum):
    """Layout of the billing export: one row per bill, or one row per service line."""

    PER_BILL = "per_bill"   # one row per bill, with its sewer charge
    PER_LINE = "per_line"   # one row per service line (water, sewer, trash ...)


# Fields of the billing export that `columns` can map. Usage and deduct meter usage
# are mapped as "usage" and "deduct_usage" and converted to gallons. "service_code"
# exists only in the per_line layout. "water_amount" exists only in the per_bill
# layout, because per_line exports give the water charge as the lines listed by
# water_service_codes.
USAGE = "usage"
DEDUCT_USAGE = "deduct_usage"
SERVICE_CODE = "service_code"
BILLING_FIELDS = (
    Billed.ACCOUNT, Billed.CUSTOMER_NAME, Billed.SERVICE_ADDRESS, Billed.PARCEL,
    Billed.METER, Billed.RATE_CODE, USAGE, DEDUCT_USAGE, Billed.AMOUNT,
    Billed.WATER_AMOUNT, Billed.PERIOD_START, Billed.PERIOD_END, Billed.BILL_DATE,
    Billed.BILL_NUMBER, SERVICE_CODE,
)
# Mapped fields that are volumes in usage_unit.
VOLUME_FIELDS = (USAGE, DEDUCT_USAGE)
BILLING_DATE_FIELDS = (Billed.PERIOD_START, Billed.PERIOD_END, Billed.BILL_DATE)

# Columns of the documented profile layout. The file's "winter_average" column is in
# `winter_average_unit` and is stored as Profile.WINTER_AVERAGE_GAL.
WINTER_AVERAGE = "winter_average"
PROFILE_FIELDS = (
    Profile.ACCOUNT_ID, Profile.WATER_ACCOUNT, Profile.OWNER, Profile.SERVICE_ADDRESS,
    Profile.PARCEL, Profile.METER, Profile.CLASS, Profile.METER_SIZE, Profile.STATUS,
    WINTER_AVERAGE, Profile.DWELLING_UNITS,
)

_TOP_KEYS = ("layout", "columns", "usage_unit", "date_format", "sewer_service_codes",
             "water_service_codes", "rate_codes", "csv", "profiles")
_CSV_KEYS = ("encoding", "delimiter")
_PROFILE_KEYS = ("columns", "winter_average_unit", "date_format", "csv")
_AUTO = "auto"


@dataclass(frozen=True)
class CsvOptions:
    """Options for reading a delimited file. None means detect."""

    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True)
class ProfileMapping:
    """Options for reading the profile file.

    `columns` maps a field of the documented layout to the file's header. A field not
    listed is looked up under its own name. `date_format` is validated and stored,
    but no column of the documented layout is a date, so the reader does not use it.
    """

    columns: dict[str, str] = field(default_factory=dict)
    winter_average_unit: UsageUnit = UsageUnit.KGAL
    date_format: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)

    def header_for(self, profile_field: str) -> str:
        """Return the profile file's header for a column of the documented layout."""
        return self.columns.get(profile_field, profile_field)


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file. Dicts are not copied: treat them as read-only."""

    layout: Layout
    columns: dict[str, str]                 # field of BILLING_FIELDS -> export header
    rate_codes: dict[str, str] = field(default_factory=dict)   # rate code -> class
    usage_unit: UsageUnit | None = None
    date_format: str | None = None
    sewer_service_codes: frozenset[str] = frozenset()
    water_service_codes: frozenset[str] = frozenset()   # per_line: lines of the water charge
    csv: CsvOptions = field(default_factory=CsvOptions)
    profiles: ProfileMapping | None = None
    path: str | None = None                 # the mapping file, named in hints


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read and validate a mapping file.

    Raises InputError with every problem found, each with its YAML line: unknown keys
    (with the closest known key), missing required fields, unknown units and codecs,
    and a date_format that cannot read back the date it writes.
    """
    path_text = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(
            code="unreadable_file",
            message=f"the mapping file could not be read: {error}",
            file=path_text,
            hint="Check the file name, and save the file as UTF-8 text.",
        )]) from None

    root, syntax_problem = compose(text, path_text)
    if syntax_problem is not None:
        raise InputError([syntax_problem])
    if root is None:
        raise InputError([Problem(
            code="empty_file", message="the mapping file is empty", file=path_text,
            hint="Start from the example in the mapping file documentation.",
        )])

    reader = NodeReader(path_text)
    mapping = _read_mapping(reader, root)
    if reader.problems:
        raise InputError(sorted(reader.problems, key=lambda problem: problem.line or 0))
    return mapping


def _read_mapping(reader: NodeReader, root: yaml.Node) -> Mapping | None:
    entries = reader.mapping(root, "the mapping file")
    reader.check_keys(entries, _TOP_KEYS, "the mapping file")
    # Problems about what `columns` lacks point at its line.
    columns_node = entries["columns"][0] if "columns" in entries else root

    layout = _read_layout(reader, root, entries)
    columns: dict[str, str] = {}
    if "columns" in entries:
        columns = _read_columns(reader, entries["columns"][1], BILLING_FIELDS, "columns")
    else:
        reader.report(root, "missing_field", "columns is missing",
                      hint="Add columns with one `field: column header` line per field.")
    for required in Billed.REQUIRED:
        if required not in columns and "columns" in entries:
            reader.report(columns_node, "missing_field", f"columns must map {required}",
                          hint=f"Add a line `{required}: <column header>` under columns.")

    usage_unit = None
    mapped_volumes = [name for name in VOLUME_FIELDS if name in columns]
    if "usage_unit" in entries:
        usage_unit = _read_unit(reader, entries["usage_unit"][1], "usage_unit")
    elif mapped_volumes:
        reader.report(columns_node, "missing_field",
                      f"usage_unit is required when columns maps {', '.join(mapped_volumes)}",
                      hint="Add `usage_unit: ccf` (or gallons, kgal, m3) to the mapping file.")

    date_format = None
    mapped_dates = [name for name in BILLING_DATE_FIELDS if name in columns]
    if "date_format" in entries:
        date_format = _read_date_format(reader, entries["date_format"][1], "date_format")
    elif mapped_dates:
        reader.report(columns_node, "missing_field",
                      f"date_format is required when columns maps {', '.join(mapped_dates)}",
                      hint='Add for example `date_format: "%m/%d/%Y"` for dates like 01/31/2024.')

    sewer_codes: frozenset[str] = frozenset()
    if "sewer_service_codes" in entries:
        node = entries["sewer_service_codes"][1]
        sewer_codes = frozenset(reader.text_list(node, "sewer_service_codes"))
    water_codes: frozenset[str] = frozenset()
    if "water_service_codes" in entries:
        node = entries["water_service_codes"][1]
        water_codes = frozenset(reader.text_list(node, "water_service_codes"))
    _check_layout_fields(reader, root, entries, layout, columns, sewer_codes)
    _check_water_fields(reader, entries, layout, columns, sewer_codes, water_codes)

    rate_codes: dict[str, str] = {}
    if "rate_codes" in entries:
        rate_codes = _read_rate_codes(reader, entries["rate_codes"][1])
    elif Billed.RATE_CODE in columns:
        reader.report(columns_node, "missing_field",
                      "rate_codes is required when columns maps rate_code",
                      hint="Add rate_codes with one `CODE: CUSTOMER_CLASS` line per rate code.")

    csv_options = CsvOptions()
    if "csv" in entries:
        csv_options = _read_csv_options(reader, entries["csv"][1], "csv")
    profiles = None
    if "profiles" in entries:
        profiles = _read_profiles(reader, entries["profiles"][1])

    if reader.problems or layout is None:
        return None
    return Mapping(
        layout=layout,
        columns=columns,
        rate_codes=rate_codes,
        usage_unit=usage_unit,
        date_format=date_format,
        sewer_service_codes=sewer_codes,
        water_service_codes=water_codes,
        csv=csv_options,
        profiles=profiles,
        path=reader.path,
    )


def _read_layout(reader: NodeReader, root: yaml.Node, entries) -> Layout | None:
    if "layout" not in entries:
        reader.report(root, "missing_field", "layout is missing",
                      hint="Add `layout: per_bill` (one row per bill) or `layout: per_line` "
                           "(one row per service line).")
        return None
    node = entries["layout"][1]
    text = reader.text(node, "layout")
    if text is None:
        return None
    try:
        return Layout(text.lower())
    except ValueError:
        reader.report(node, "invalid_value", f"unknown layout {text!r}", value=text,
                      expected="per_bill or per_line")
        return None


def _read_columns(
    reader: NodeReader, node: yaml.Node, fields: tuple[str, ...], where: str
) -> dict[str, str]:
    entries = reader.mapping(node, where)
    columns = {}
    for key, (key_node, value_node) in entries.items():
        if key not in fields:
            reader.report(key_node, "unknown_field", f"unknown field {key!r} in {where}",
                          value=key, expected="one of " + ", ".join(fields),
                          hint=suggestion(key, fields) or "Remove the line or correct the field.")
            continue
        header = reader.text(value_node, f"{where}: {key}")
        if header is not None:
            columns[key] = header
    return columns


def _read_unit(reader: NodeReader, node: yaml.Node, where: str) -> UsageUnit | None:
    text = reader.text(node, where)
    if text is None:
        return None
    try:
        return parse_unit(text)
    except ValueError as error:
        reader.report(node, "invalid_value", str(error), value=text,
                      expected="gallons, kgal, ccf or m3")
        return None


def _read_date_format(reader: NodeReader, node: yaml.Node, where: str) -> str | None:
    """Read a strftime pattern and check that Polars reads back the date it writes."""
    # The value is taken as written: stripping could remove a space the pattern needs.
    text = node.value if isinstance(node, yaml.ScalarNode) else None
    if not text or "%" not in text:
        reader.report(node, "invalid_value", f"{where} must be a strftime pattern",
                      value=text, expected='a pattern such as "%m/%d/%Y" or "%Y-%m-%d"')
        return None

    try:
        written = EXAMPLE_DATE.strftime(text)
        parsed = pl.Series([written]).str.to_date(text, strict=False).item()
    except (ValueError, pl.exceptions.PolarsError):
        parsed = None
    if parsed != EXAMPLE_DATE:
        reader.report(node, "invalid_value",
                      f"{where} {text!r} cannot read back the date 2024-01-31 it writes",
                      value=text,
                      expected="a pattern with day, month and year, such as %m/%d/%Y",
                      hint="Use %d, %m and %Y (or %y) with the separators of the export.")
        return None
    return text


def _read_rate_codes(reader: NodeReader, node: yaml.Node) -> dict[str, str]:
    codes = {}
    for code, (_, value_node) in reader.mapping(node, "rate_codes").items():
        customer_class = reader.text(value_node, f"rate_codes: {code}")
        if customer_class is not None:
            codes[code] = customer_class
    return codes


def _check_layout_fields(reader, root, entries, layout, columns, sewer_codes) -> None:
    if layout is Layout.PER_LINE:
        if SERVICE_CODE not in columns and "columns" in entries:
            reader.report(entries["columns"][0], "missing_field",
                          "columns must map service_code in the per_line layout",
                          hint="Add `service_code: <header of the service column>`.")
        if not sewer_codes:
            node = entries["sewer_service_codes"][1] if "sewer_service_codes" in entries else root
            reader.report(node, "missing_field",
                          "sewer_service_codes must list at least one code in the per_line layout",
                          hint="Add for example `sewer_service_codes: [SW]`.")
    elif layout is Layout.PER_BILL:
        if SERVICE_CODE in columns:
            reader.report(entries["columns"][0], "invalid_value",
                          "service_code is only used in the per_line layout",
                          hint="Remove it, or set `layout: per_line`.")
        if "sewer_service_codes" in entries:
            reader.report(entries["sewer_service_codes"][0], "invalid_value",
                          "sewer_service_codes is only used in the per_line layout",
                          hint="Remove it, or set `layout: per_line`.")


def _check_water_fields(reader, entries, layout, columns, sewer_codes, water_codes) -> None:
    """Check that the water charge is given the way the layout allows."""
    if layout is Layout.PER_LINE and Billed.WATER_AMOUNT in columns:
        reader.report(entries["columns"][0], "invalid_value",
                      "water_amount is a column only in the per_bill layout",
                      hint="Remove water_amount from columns. With one row per service line, "
                           "the water charge is the sum of the lines in water_service_codes.")
    if "water_service_codes" not in entries:
        return
    key_node, value_node = entries["water_service_codes"]
    if layout is Layout.PER_BILL:
        reader.report(key_node, "invalid_value",
                      "water_service_codes is only used in the per_line layout",
                      hint="Map the water charge column as `water_amount: <header>` under "
                           "columns, or set `layout: per_line`.")
        return
    # An empty scalar was reported by text_list already; an empty list was not.
    if isinstance(value_node, yaml.SequenceNode) and not value_node.value:
        reader.report(value_node, "missing_value", "water_service_codes lists no code",
                      hint="List the service codes of water lines, for example [WA], or "
                           "remove the line.")
    both = sorted(sewer_codes & water_codes)
    if both:
        listed = f"service codes {', '.join(both)} are"
        if len(both) == 1:
            listed = f"service code {both[0]} is"
        reader.report(value_node, "invalid_value",
                      f"{listed} listed both as a sewer and as a water code",
                      value=", ".join(both),
                      hint="A line is either a sewer line or a water line, so remove each "
                           "code from one of the two lists.")


def _read_csv_options(reader: NodeReader, node: yaml.Node, where: str) -> CsvOptions:
    entries = reader.mapping(node, where)
    reader.check_keys(entries, _CSV_KEYS, where)
    encoding = delimiter = None

    if "encoding" in entries:
        value_node = entries["encoding"][1]
        text = reader.text(value_node, f"{where}: encoding")
        if text is not None and text.lower() != _AUTO:
            try:
                codecs.lookup(text)
                encoding = text
            except LookupError:
                reader.report(value_node, "invalid_value", f"unknown encoding {text!r}",
                              value=text, expected="auto or a codec such as utf-8 or cp1252")

    if "delimiter" in entries:
        value_node = entries["delimiter"][1]
        # Taken unstripped, because the tab delimiter is whitespace.
        raw = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
        named = {"tab": "\t", "\\t": "\t"}.get(raw.lower() if raw else raw, raw)
        if raw and raw.lower() == _AUTO:
            pass
        elif named in DELIMITERS:
            delimiter = named
        else:
            reader.report(value_node, "invalid_value", f"unsupported delimiter {raw!r}",
                          value=raw, expected='auto, ",", ";", "\\t" (tab) or "|"')
    return CsvOptions(encoding=encoding, delimiter=delimiter)


def _read_profiles(reader: NodeReader, node: yaml.Node) -> ProfileMapping:
    entries = reader.mapping(node, "profiles")
    reader.check_keys(entries, _PROFILE_KEYS, "profiles")
    columns = {}
    if "columns" in entries:
        columns = _read_columns(reader, entries["columns"][1], PROFILE_FIELDS,
                                "profiles: columns")

    unit = UsageUnit.KGAL
    if "winter_average_unit" in entries:
        where = "profiles: winter_average_unit"
        unit = _read_unit(reader, entries["winter_average_unit"][1], where) or unit
    date_format = None
    if "date_format" in entries:
        date_format = _read_date_format(reader, entries["date_format"][1],
                                        "profiles: date_format")
    csv_options = CsvOptions()
    if "csv" in entries:
        csv_options = _read_csv_options(reader, entries["csv"][1], "profiles: csv")
    return ProfileMapping(
        columns=columns, winter_average_unit=unit, date_format=date_format, csv=csv_options
    )

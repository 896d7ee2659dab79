"""Rate schedules: an OWRS rate file read and validated, with the line of every part."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.money import Rounding
from sewerline.engine.rates.class_checks import ClassChecker
from sewerline.engine.rates.class_parser import ClassParser
from sewerline.engine.rates.parts import ClassRates, RatePart
from sewerline.engine.rates.yaml_lines import Item, read_yaml
from sewerline.engine.units import UsageUnit, parse_unit

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 100

# Billing frequency (lower case, letters only) -> (normalized name, months per cycle).
_FREQUENCIES: dict[str, tuple[str, Decimal]] = {
    "monthly": ("monthly", Decimal(1)),
    "bimonthly": ("bimonthly", Decimal(2)),
    "quarterly": ("quarterly", Decimal(3)),
    "semiannual": ("semiannual", Decimal(6)),
    "semiannually": ("semiannual", Decimal(6)),
    "annual": ("annual", Decimal(12)),
    "annually": ("annual", Decimal(12)),
    "yearly": ("annual", Decimal(12)),
}

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")


@dataclass(frozen=True)
class RateSchedule:
    """A sewer (or water) rate schedule in OWRS form, ready to rate bills.

    Amounts are per billing cycle of `bill_frequency`; usage in the formulas'
    `usage_ccf` is in `bill_unit`, whatever that unit is.
    """

    path: str
    utility_name: str
    effective_date: dt.date
    bill_frequency: str
    months_per_cycle: Decimal
    bill_unit: UsageUnit
    rounding: Rounding
    classes: dict[str, ClassRates]
    # Raw `metadata.sewerline` block: Sewerline's extensions that are not about one
    # class (winter average rule, proration, ...), each read by the module it concerns.
    extensions: dict[str, Item] = field(default_factory=dict)

    def class_rates(self, class_name: str) -> ClassRates:
        """Return the rates of one class; raise InputError naming the classes that exist."""
        rates = self.classes.get(class_name)
        if rates is None:
            raise InputError([self.class_missing_problem(class_name)])
        return rates

    def class_missing_problem(self, class_name: str | None, rows: str = "") -> Problem:
        """Return the problem of a customer class the schedule does not rate."""
        known = ", ".join(self.classes)
        return Problem(
            code="class_not_in_schedule",
            message=f"customer class {class_name!r} is not in the rate schedule{rows}",
            file=self.path, value=class_name, expected=f"one of: {known}",
            hint="Add the class to rate_structure or map the rate code to one of these classes.",
        )

    def data_columns(self, class_name: str) -> set[str]:
        """Return the input columns a class's bill needs (numbers and lookup keys)."""
        return self.class_rates(class_name).data_columns()

    def validate_columns(self, available: set[str], file_label: str,
                         classes: Iterable[str] | None = None) -> list[Problem]:
        """List a problem for each input column a class needs that `available` lacks.

        Checks every class, or only `classes` when given (the classes the input has).
        """
        problems: list[Problem] = []
        listed = ", ".join(sorted(available)) or "(none)"
        for class_name in classes if classes is not None else self.classes:
            rates = self.classes.get(class_name)
            if rates is None:
                continue
            needed = {**rates.key_columns, **rates.numeric_columns}
            for column, line in sorted(needed.items(), key=lambda item: item[1]):
                if column in available:
                    continue
                problems.append(Problem(
                    code="unknown_variable",
                    message=f"class {class_name} uses {column!r}, which is neither a field of "
                            f"the class nor a column of {file_label}",
                    file=self.path, line=line, column=column, value=column,
                    expected=f"a field of {class_name} or one of the columns: {listed}",
                    hint=_did_you_mean(column, available) +
                         f"Fix the spelling in the rate file, define {column} in class "
                         f"{class_name}, or add the column to {file_label}.",
                ))
        return problems


def load_schedule(path: str | Path) -> RateSchedule:
    """Read and validate an OWRS rate file; raise InputError listing every problem found."""
    path = Path(path)
    file = str(path)
    root = read_yaml(path)
    problems: list[Problem] = []
    if root.kind != "map":
        raise InputError([Problem(
            code="rate_file_invalid", message="the rate file is not a YAML mapping",
            file=file, line=root.line, expected="metadata: and rate_structure: blocks",
            hint="Start the file with metadata: and rate_structure:.",
        )])

    metadata = _section(root, "metadata", file, problems)
    _check_metadata_keys(metadata, file, problems)
    structure = _section(root, "rate_structure", file, problems)
    utility_name = _required_text(metadata, "utility_name", file, problems)
    effective_date = _effective_date(metadata, file, problems)
    frequency = _bill_frequency(metadata, file, problems)
    bill_unit = _bill_unit(metadata, file, problems)
    rounding = _rounding(metadata, file, problems)
    classes = _classes(structure, file, problems)
    extensions = _extensions(metadata, file, problems)

    if problems:
        raise InputError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    schedule = RateSchedule(
        path=file, utility_name=utility_name or "", effective_date=effective_date,
        bill_frequency=frequency[0], months_per_cycle=frequency[1], bill_unit=bill_unit,
        rounding=rounding, classes=classes, extensions=extensions,
    )
    logger.info("loaded rate schedule %s: %s effective %s, %d classes", file,
                schedule.utility_name, schedule.effective_date, len(classes))
    return schedule


def _section(root: Item, key: str, file: str, problems: list[Problem]) -> dict[str, Item]:
    item = root.value.get(key)
    if item is None or item.kind != "map":
        problems.append(Problem(
            code="rate_file_section_missing", message=f"the rate file has no {key} block",
            file=file, line=item.line if item is not None else root.line, column=key,
            hint=f"Add a {key}: block of 'key: value' lines.",
        ))
        return {}
    return item.value


# Metadata keys of OWRS files (prop_218_link and author_info document the source), plus
# Sewerline's `rounding` and `sewerline` extensions.
METADATA_KEYS = ("effective_date", "utility_name", "bill_frequency", "bill_unit",
                 "prop_218_link", "author_info", "rounding", "sewerline")


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"Did you mean {close[0]!r}? " if close else ""


def _check_metadata_keys(metadata: dict[str, Item], file: str,
                         problems: list[Problem]) -> None:
    """Reject misspelled metadata keys: a lost bill_unit would silently change every bill."""
    for key, item in metadata.items():
        if key in METADATA_KEYS:
            continue
        close = difflib.get_close_matches(key, METADATA_KEYS, n=1)
        problems.append(Problem(
            code="metadata_key_unknown", message=f"unknown metadata key {key!r}",
            file=file, line=item.line, column=key,
            expected="one of " + ", ".join(METADATA_KEYS),
            hint=f"Did you mean {close[0]!r}?" if close else "Remove the key or fix its spelling.",
        ))


def _extensions(metadata: dict[str, Item], file: str,
                problems: list[Problem]) -> dict[str, Item]:
    item = metadata.get("sewerline")
    if item is None:
        return {}
    if item.kind != "map":
        problems.append(Problem(
            code="extensions_invalid", message="metadata.sewerline is not a mapping",
            file=file, line=item.line, column="sewerline",
            hint="Write Sewerline's extensions as 'key: value' lines under sewerline:.",
        ))
        return {}
    return item.value


def _required_text(metadata: dict[str, Item], key: str, file: str,
                   problems: list[Problem]) -> str | None:
    item = metadata.get(key)
    if item is None or not item.is_scalar or item.kind == "null" or not str(item.value).strip():
        problems.append(Problem(
            code="metadata_missing", message=f"metadata.{key} is missing", file=file,
            line=item.line if item is not None else None, column=key,
            hint=f"Add {key}: under metadata.",
        ))
        return None
    return str(item.value).strip()


def _effective_date(metadata: dict[str, Item], file: str,
                    problems: list[Problem]) -> dt.date:
    text = _required_text(metadata, "effective_date", file, problems)
    if text is None:
        return dt.date.min
    iso = _ISO_DATE.fullmatch(text)
    us = _US_DATE.fullmatch(text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if us:
            return dt.date(int(us[3]), int(us[1]), int(us[2]))
    except ValueError:
        pass
    problems.append(Problem(
        code="metadata_invalid", message="metadata.effective_date is not a date", file=file,
        line=metadata["effective_date"].line, column="effective_date", value=text,
        expected="YYYY-MM-DD or MM/DD/YYYY", hint="For example effective_date: 2016-01-01.",
    ))
    return dt.date.min


def _bill_frequency(metadata: dict[str, Item], file: str,
                    problems: list[Problem]) -> tuple[str, Decimal]:
    text = _required_text(metadata, "bill_frequency", file, problems)
    if text is None:
        return ("", Decimal(1))
    known = _FREQUENCIES.get(re.sub(r"[^a-z]", "", text.lower()))
    if known is None:
        problems.append(Problem(
            code="metadata_invalid", message="metadata.bill_frequency is not a known frequency",
            file=file, line=metadata["bill_frequency"].line, column="bill_frequency",
            value=text, expected="monthly, bimonthly, quarterly, semiannual or annual",
            hint="Bi-Monthly and Monthly are accepted too.",
        ))
        return ("", Decimal(1))
    return known


def _bill_unit(metadata: dict[str, Item], file: str, problems: list[Problem]) -> UsageUnit:
    item = metadata.get("bill_unit")
    if item is None or item.kind == "null":
        return UsageUnit.CCF   # the OWRS default
    try:
        return parse_unit(str(item.value))
    except ValueError as error:
        problems.append(Problem(
            code="metadata_invalid", message=f"metadata.bill_unit is invalid: {error}",
            file=file, line=item.line, column="bill_unit", value=str(item.value),
            hint="Use ccf, kgal, gallons or m3.",
        ))
        return UsageUnit.CCF


def _rounding(metadata: dict[str, Item], file: str, problems: list[Problem]) -> Rounding:
    item = metadata.get("rounding")
    if item is None or item.kind == "null":
        return Rounding.HALF_UP
    text = str(item.value).strip().lower().replace("-", "_")
    try:
        return Rounding(text)
    except ValueError:
        problems.append(Problem(
            code="metadata_invalid", message="metadata.rounding is not a known rule",
            file=file, line=item.line, column="rounding", value=str(item.value),
            expected="half_up, half_even or down",
            hint="half_up rounds 1.005 to 1.01; half_even and down round it to 1.00.",
        ))
        return Rounding.HALF_UP


def _classes(structure: dict[str, Item], file: str,
             problems: list[Problem]) -> dict[str, ClassRates]:
    classes: dict[str, ClassRates] = {}
    for class_name, body in structure.items():
        if body.kind != "map":
            problems.append(Problem(
                code="class_invalid", message=f"class {class_name} is not a mapping of fields",
                file=file, line=body.line, column=class_name,
                hint="Indent the class's fields under its name, one 'name: value' per line.",
            ))
            continue

        parser = ClassParser(file, class_name, problems)
        parts: dict[str, RatePart] = {}
        for name, item in body.value.items():
            part = parser.parse_part(name, item)
            if part is not None:
                parts[name] = part
        if len(parts) < len(body.value):
            continue   # the parser reported why; later checks would only repeat it

        rates = ClassChecker(file, class_name, body.line, parts, problems).check()
        if rates is not None:
            classes[class_name] = rates
    return classes

"""The mapping step's preview of the file and its first guesses for each choice.

The mapping view takes its choices from a saved mapping the user picks, else from the
import's own mapping, else from the entity's newest saved mapping. Without any of them,
the guesses here match the file's header names to the field names.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz

from sewerline.apps.entities.models import SavedMapping
from sewerline.apps.imports.mappings import load_billing_mapping, load_profile_mapping
from sewerline.apps.imports.models import ImportBatch, ImportKind
from sewerline.apps.rates.models import RateSchedule
from sewerline.engine.errors import InputError
from sewerline.engine.ingest import SourceTable, read_table
from sewerline.engine.ingest.mapping import (
    DEDUCT_USAGE,
    PROFILE_FIELDS,
    SERVICE_CODE,
    USAGE,
)
from sewerline.engine.rates import load_schedule
from sewerline.engine.schema import SOURCE_ROW, Billed

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 10
# Distinct values listed for a code column; more suggests the wrong column was chosen.
MAX_CODES = 200
# Lowest rapidfuzz token-sort score (0-100) at which a header is taken for a field.
MIN_SIMILARITY = 85

# Header names often seen in utility billing exports, per field of the mapping.
BILLING_SYNONYMS: dict[str, tuple[str, ...]] = {
    Billed.ACCOUNT: ("account", "account number", "account no", "acct", "acct no",
                     "acct number", "water account", "customer account"),
    Billed.CUSTOMER_NAME: ("customer name", "customer", "name", "owner name", "owner"),
    Billed.SERVICE_ADDRESS: ("service address", "address", "premise address", "location"),
    Billed.PARCEL: ("parcel", "parcel id", "parcel number", "apn"),
    Billed.METER: ("meter", "meter number", "meter no", "meter id"),
    Billed.RATE_CODE: ("rate code", "rate", "rate class", "tariff"),
    USAGE: ("usage", "consumption", "water usage", "volume", "use"),
    DEDUCT_USAGE: ("deduct usage", "deduct", "deduct meter usage"),
    Billed.AMOUNT: ("sewer amount", "sewer charge", "amount", "charge"),
    Billed.WATER_AMOUNT: ("water amount", "water charge"),
    Billed.PERIOD_START: ("period start", "from", "from date", "start date", "service from"),
    Billed.PERIOD_END: ("period end", "to", "to date", "end date", "service to"),
    Billed.BILL_DATE: ("bill date", "billing date", "date billed"),
    Billed.BILL_NUMBER: ("bill number", "bill no", "bill id", "invoice", "invoice number"),
    SERVICE_CODE: ("service code", "service", "svc", "service type"),
}
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y", "%d/%m/%Y", "%m-%d-%Y", "%d.%m.%Y",
                "%Y%m%d")
_UNIT_WORDS = {"ccf": "ccf", "hcf": "ccf", "kgal": "kgal", "tgal": "kgal", "m3": "m3",
               "gallons": "gallons", "gal": "gallons"}


@dataclass
class Preview:
    """The file as the mapping step shows it: header, first rows and the whole table."""

    header: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)     # source row first
    table: SourceTable | None = None
    problems: list = field(default_factory=list)        # engine Problems from reading

    def values_of(self, header: str, limit: int = MAX_CODES) -> tuple[list[str], int]:
        """Return the sorted distinct values of a column (at most `limit`) and their count."""
        if self.table is None or header not in self.table.frame.columns:
            return [], 0
        values = self.table.frame.get_column(header).drop_nulls().unique().sort()
        return values.head(limit).to_list(), values.len()


def read_preview(batch: ImportBatch, encoding: str | None, delimiter: str | None) -> Preview:
    """Read the stored file as text for the preview; problems are returned, not raised."""
    # NOTE: the whole file is read on every request of the mapping step, a few seconds
    # for an export of a million lines; the codes it lists need every row.
    try:
        table = read_table(batch.original.path, encoding=encoding, delimiter=delimiter)
    except InputError as error:
        return Preview(problems=error.problems)
    rows = table.frame.head(PREVIEW_ROWS).select(SOURCE_ROW, *table.header).rows()
    return Preview(header=table.header, rows=rows, table=table)


def saved_mappings(batch: ImportBatch) -> list[SavedMapping]:
    """Return the entity's saved mappings that can be used for this kind of file."""
    usable = []
    for saved in SavedMapping.objects.filter(entity=batch.entity).order_by("-updated_at"):
        if saved_mapping_fits(saved.text, batch.kind):
            usable.append(saved)
    return usable


def saved_mapping_fits(text: str, kind: str) -> bool:
    """Return whether a mapping text is valid for the kind of file (billing or profiles)."""
    try:
        if kind == ImportKind.BILLING:
            load_billing_mapping(text)
        else:
            if "profiles" not in text:
                return False
            load_profile_mapping(text)
    except InputError:
        return False
    return True


def guess_columns(header: list[str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Match fields to header names by similarity, each header used at most once."""
    scored = []
    for field_name, names in synonyms.items():
        candidates = {_normalized(field_name), *(_normalized(name) for name in names)}
        for header_name in header:
            # A unit in the name, as in "Consumption (CCF)", does not identify the field.
            normalized = " ".join(word for word in _normalized(header_name).split()
                                  if word not in _UNIT_WORDS)
            score = max(fuzz.token_sort_ratio(normalized, name) for name in candidates)
            if score >= MIN_SIMILARITY:
                scored.append((score, field_name, header_name))

    guesses: dict[str, str] = {}
    used: set[str] = set()
    for _score, field_name, header_name in sorted(scored, key=lambda item: -item[0]):
        if field_name not in guesses and header_name not in used:
            guesses[field_name] = header_name
            used.add(header_name)
    return guesses


def profile_synonyms() -> dict[str, tuple[str, ...]]:
    """Return the profile layout's fields, each known by its own name only."""
    return {name: () for name in PROFILE_FIELDS}


def guess_date_format(preview: Preview, date_header: str | None) -> str:
    """Return the first common date format that reads every sampled date, else ""."""
    if not date_header:
        return ""
    sample, _ = preview.values_of(date_header, limit=20)
    if not sample:
        return ""
    series = pl.Series(sample)
    for candidate in DATE_FORMATS:
        parsed = series.str.to_date(candidate, strict=False)
        if parsed.null_count() == 0:
            return candidate
    return ""


def guess_unit(header_name: str | None) -> str:
    """Return the usage unit a header names, such as "Consumption (CCF)", else ""."""
    if not header_name:
        return ""
    words = set(_normalized(header_name).split())
    for word, unit in _UNIT_WORDS.items():
        if word in words:
            return unit
    return ""


def published_classes() -> list[str]:
    """Return the customer classes of the newest published version of each rate schedule."""
    classes: set[str] = set()
    for schedule in RateSchedule.objects.all():
        version = schedule.versions.filter(published=True).order_by("-effective_date").first()
        if version is None:
            continue
        with tempfile.TemporaryDirectory(prefix="sewerline-rates-") as folder:
            path = Path(folder) / "rates.owrs"
            path.write_text(version.text, encoding="utf-8")
            try:
                classes.update(load_schedule(path).classes)
            except InputError:
                logger.warning("published rate version %s does not load; its classes are "
                               "not offered", version.pk)
    return sorted(classes)


def _normalized(name: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.casefold()).split())

"""Santa Monica usage reads: the seeded choice of sample customers and their two reads.

The source has one row per meter read: cust_id, usage_ccf, usage_month, usage_year,
cust_class, usage_date (first day of the billing month) and cust_class_from_utility
(the utility's rate code). Most reads are bimonthly, and a read billed in month M is
taken to cover the two calendar months before M. So the read billed 2016-03-01 covers
January and February 2016 (the audit cycle), and the read billed 2016-01-01 covers
November and December 2015. The read billed 2016-05-01, where the source has one, covers
March and April 2016: the sample's second cycle.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sewerline.engine.errors import InputError, Problem

logger = logging.getLogger(__name__)

SOURCE_COLUMNS = (
    "cust_id",
    "usage_ccf",
    "usage_month",
    "usage_year",
    "cust_class",
    "usage_date",
    "cust_class_from_utility",
)

# The reads a sample customer must have, and the window they are looked for in.
WINDOW_FIRST = dt.date(2015, 11, 1)
WINDOW_LAST = dt.date(2016, 4, 1)
PREVIOUS_READ = dt.date(2016, 1, 1)
CYCLE_READ = dt.date(2016, 3, 1)
# A November 2015 read may be present. A read billed in December, February or April
# means the customer is not on the odd-month bimonthly route, so it excludes the customer.
OPTIONAL_READ = dt.date(2015, 11, 1)
# The read of the second cycle. It plays no part in choosing the customers, so adding it
# did not change the slice's customers, and the source lacks it for about a third of them.
NEXT_READ = dt.date(2016, 5, 1)

# Rate code prefix of each sampled class in Santa Monica's codes: WASF single family,
# WAMF multi-family, WANR non-residential. Customers whose code and class disagree are left out.
RATE_CODE_PREFIX = {
    "RESIDENTIAL_SINGLE": "WASF",
    "RESIDENTIAL_MULTI": "WAMF",
    "COMMERCIAL": "WANR",
}
SLICE_SIZES = {"RESIDENTIAL_SINGLE": 570, "RESIDENTIAL_MULTI": 320, "COMMERCIAL": 110}
SLICE_SEED = "sewerline-sample-slice-v1"

# cust_id 0 is a shared placeholder in the source, and reads of 9,999 ccf or more look
# like capped or placeholder values.
PLACEHOLDER_ID = "0"
PLACEHOLDER_MIN_CCF = 9999


@dataclass(frozen=True)
class CustomerUsage:
    """The real reads of one sample customer around the audit cycle."""

    cust_id: str
    customer_class: str
    rate_code: str
    previous_read_ccf: int      # billed 2016-01-01: November and December 2015
    cycle_read_ccf: int         # billed 2016-03-01: January and February 2016
    next_read_ccf: int | None = None   # billed 2016-05-01: March and April 2016, if read


@dataclass(frozen=True)
class UsageTable:
    """Rows of a usage file as text, exactly as written, with the file's header."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def read_usage_file(path: Path) -> UsageTable:
    """Read a usage CSV (plain or gzip) as text rows, checking the header."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = tuple(next(reader, ()))
    if header != SOURCE_COLUMNS:
        raise InputError([Problem(
            code="sample.usage_header",
            message="the usage file does not have the Santa Monica usage columns",
            file=path.name,
            row=1,
            value=",".join(header),
            expected=",".join(SOURCE_COLUMNS),
            hint="Pass the santamonica_water_usage_2014_2016 CSV (gzip or plain) as --source",
        )])
    rows = tuple(tuple(row) for row in reader if row)
    return UsageTable(header=header, rows=rows)


def select_customers(
    table: UsageTable,
    sizes: dict[str, int] | None = None,
    seed: str = SLICE_SEED,
) -> list[str]:
    """Choose the sample customers by a seeded draw among the eligible ones.

    Eligible ids are sorted numerically and each class is drawn separately with
    `random.Random(seed)`, so on a given Python version the same source always gives the
    same customers. Returns the chosen cust_id values in numeric order.
    """
    sizes = sizes if sizes is not None else SLICE_SIZES
    eligible = eligible_customers(table)
    rng = random.Random(seed)
    chosen: list[str] = []
    for customer_class in sorted(sizes):
        pool = sorted(
            (cust_id for cust_id, cls in eligible.items() if cls == customer_class), key=int
        )
        count = min(sizes[customer_class], len(pool))
        if count < sizes[customer_class]:
            logger.warning(
                "only %d eligible %s customers, fewer than the %d requested",
                len(pool), customer_class, sizes[customer_class],
            )
        chosen.extend(rng.sample(pool, count))
    return sorted(chosen, key=int)


def eligible_customers(table: UsageTable) -> dict[str, str]:
    """Return cust_id -> class of every customer the sample can use.

    A customer is eligible when it is not the placeholder id and never has two rows for
    one billing month anywhere in the file (ids that own many meters do). Its rows from
    November 2015 to April 2016 must be the reads billed 2016-01 and 2016-03, plus
    possibly 2015-11. They must have one sampled class, one non-empty rate code of that
    class and no placeholder volume.
    """
    months_seen: dict[str, set[str]] = defaultdict(set)
    repeated: set[str] = set()
    window: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in table.rows:
        cust_id, usage_date = row[0], row[5]
        if usage_date in months_seen[cust_id]:
            repeated.add(cust_id)
        months_seen[cust_id].add(usage_date)
        if WINDOW_FIRST <= dt.date.fromisoformat(usage_date) <= WINDOW_LAST:
            window[cust_id].append(row)

    eligible = {}
    for cust_id in sorted(window, key=int):
        if cust_id == PLACEHOLDER_ID or cust_id in repeated:
            continue
        if _fits_pattern(window[cust_id]):
            eligible[cust_id] = window[cust_id][0][4]
    return eligible


def _fits_pattern(rows: list[tuple[str, ...]]) -> bool:
    dates = {dt.date.fromisoformat(row[5]) for row in rows}
    if not {PREVIOUS_READ, CYCLE_READ} <= dates <= {PREVIOUS_READ, CYCLE_READ, OPTIONAL_READ}:
        return False
    classes = {row[4] for row in rows}
    codes = {row[6] for row in rows}
    if len(classes) != 1 or len(codes) != 1:
        return False
    customer_class, rate_code = classes.pop(), codes.pop()
    prefix = RATE_CODE_PREFIX.get(customer_class)
    if prefix is None or not rate_code.startswith(prefix):
        return False
    return all(int(row[1]) < PLACEHOLDER_MIN_CCF for row in rows)


def slice_rows(table: UsageTable, cust_ids: list[str]) -> UsageTable:
    """Keep the chosen customers' window rows and next reads, unchanged and in source order."""
    chosen_ids = set(cust_ids)
    rows = tuple(
        row for row in table.rows
        if row[0] in chosen_ids and _in_slice(dt.date.fromisoformat(row[5]))
    )
    return UsageTable(header=table.header, rows=rows)


def _in_slice(usage_date: dt.date) -> bool:
    return WINDOW_FIRST <= usage_date <= WINDOW_LAST or usage_date == NEXT_READ


def write_usage_file(table: UsageTable, path: Path) -> None:
    """Write usage rows as CSV with LF line ends, the way the source is written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows(table.rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def load_customers(table: UsageTable, label: str) -> list[CustomerUsage]:
    """Turn slice rows into one CustomerUsage per customer, in numeric cust_id order.

    Raises InputError naming each customer whose rows are not one read billed 2016-01
    and one billed 2016-03 under a single class and rate code, plus at most one read
    billed 2016-05. A 2016-05 read under another class or rate code, or with a
    placeholder volume, is left unused, as if the meter had not been read.
    """
    by_customer: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in table.rows:
        by_customer[row[0]].append(row)

    customers = []
    problems = []
    for cust_id in sorted(by_customer, key=int):
        rows = by_customer[cust_id]
        window = [row for row in rows if dt.date.fromisoformat(row[5]) != NEXT_READ]
        next_rows = [row for row in rows if dt.date.fromisoformat(row[5]) == NEXT_READ]
        reads = {dt.date.fromisoformat(row[5]): int(row[1]) for row in window}
        if len(reads) != len(window) or len(next_rows) > 1 or not _fits_pattern(window):
            problems.append(Problem(
                code="sample.usage_reads",
                message=f"customer {cust_id} does not have exactly the reads the sample needs",
                file=label,
                column="usage_date",
                value=", ".join(sorted(row[5] for row in rows)),
                expected="one read billed 2016-01-01 and one billed 2016-03-01 under one "
                "class and rate code, and at most one billed 2016-05-01",
                hint="Rebuild the slice with --source from the full usage file",
            ))
            continue
        customers.append(CustomerUsage(
            cust_id=cust_id,
            customer_class=window[0][4],
            rate_code=window[0][6],
            previous_read_ccf=reads[PREVIOUS_READ],
            cycle_read_ccf=reads[CYCLE_READ],
            next_read_ccf=_next_read(window[0], next_rows),
        ))
    if problems:
        raise InputError(problems)
    return customers


def _next_read(window_row: tuple[str, ...], next_rows: list[tuple[str, ...]]) -> int | None:
    """Return the usable 2016-05 read in ccf, or None when there is none."""
    if not next_rows:
        return None
    row = next_rows[0]
    same_rate = (row[4], row[6]) == (window_row[4], window_row[6])
    if not same_rate or int(row[1]) >= PLACEHOLDER_MIN_CCF:
        logger.info("customer %s: the 2016-05 read is left unused (%s, %s, %s ccf)",
                    row[0], row[4], row[6], row[1])
        return None
    return int(row[1])

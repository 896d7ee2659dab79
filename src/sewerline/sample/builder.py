"""Rebuild the sample's generated files, both cycles, from the committed Santa Monica usage slice.

    python -m sewerline.sample.builder            # rewrite the files in the package
    python -m sewerline.sample.builder --check    # compare a fresh build with them
    python -m sewerline.sample.builder --source santamonica_water_usage_2014_2016.csv.gz

The build is deterministic: every random choice comes from random.Random with a fixed
string seed, rows are written in explicit sort orders, and no set or dict order
decides anything, so two runs on the same Python give byte-identical files.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sewerline.sample import (
    BILLING_EXPORT,
    CONTROLS,
    CORRECTED,
    CYCLE,
    CYCLES,
    EXPECTED_FINDINGS,
    GENERATED_FILES,
    MAPPING,
    NEXT_BILLING_EXPORT,
    NEXT_CYCLE,
    NEXT_EXPECTED_FINDINGS,
    PROFILES,
    USAGE_SLICE,
    WATER_RATES,
    SampleCycle,
    sample_dir,
)
from sewerline.sample.book import SampleBook
from sewerline.sample.cases import inject_cases
from sewerline.sample.charges import WaterSchedule
from sewerline.sample.controls import add_controls
from sewerline.sample.identities import IdentityFactory
from sewerline.sample.next_cycle import build_next_cycle, corrected_counts_by_type
from sewerline.sample.usage import (
    RATE_CODE_PREFIX,
    load_customers,
    read_usage_file,
    select_customers,
    slice_rows,
    write_usage_file,
)
from sewerline.sample.writers import (
    EXPORT_DATE_FORMAT,
    number_bills,
    write_controls,
    write_corrected,
    write_export,
    write_findings,
    write_mapping,
    write_profiles,
)

logger = logging.getLogger(__name__)

IDENTITY_SEED = "sewerline-sample-identities-v1"
PICK_SEED = "sewerline-sample-cases-v1"
# Bill numbers start with the cycle's year and month, e.g. 160300001.
BILL_NUMBER_PREFIX = CYCLE[2:4] + CYCLE[5:7]
NEXT_BILL_NUMBER_PREFIX = NEXT_CYCLE[2:4] + NEXT_CYCLE[5:7]

FINDING_TYPES = (
    "overbilled", "underbilled", "unknown_customer", "not_billed", "account_changed",
    "owner_changed", "meter_changed", "class_mismatch", "duplicate_bill",
)
FINDING_ROWS_RANGE = (40, 80)


@dataclass(frozen=True)
class BuildSummary:
    """Counts of one build, for the log and for tests."""

    customers: int
    profiles: int
    bills: int
    findings: int
    controls: int
    next_bills: int
    next_findings: int
    corrected: int
    estimated_reads: int
    written: tuple[Path, ...]


def build_sample(
    out_dir: Path,
    *,
    slice_path: Path | None = None,
    source: Path | None = None,
    data_dir: Path | None = None,
) -> BuildSummary:
    """Build the sample's generated files into `out_dir`.

    By default the customers come from the committed usage slice. With `source` (the
    full Santa Monica usage file) the customers are drawn again by the seeded rule and
    the new slice is written to `out_dir` as well. `data_dir` is the folder with the
    bundled Santa Monica water rates (default: the package's data folder).
    """
    data = data_dir if data_dir is not None else sample_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    if source is not None:
        full = read_usage_file(source)
        usage = slice_rows(full, select_customers(full))
        write_usage_file(usage, out_dir / USAGE_SLICE)
        written.append(out_dir / USAGE_SLICE)
    else:
        usage = read_usage_file(slice_path if slice_path is not None else data / USAGE_SLICE)
    customers = load_customers(usage, USAGE_SLICE)

    book = SampleBook(
        customers,
        IdentityFactory(IDENTITY_SEED),
        WaterSchedule(data / WATER_RATES),
        PICK_SEED,
    )
    inject_cases(book)
    add_controls(book)
    verify_book(book)

    # The next cycle is derived from the finished book, so it changes nothing above.
    next_cycle = build_next_cycle(book)

    profiles = [entry.profile for entry in book.entries if entry.profile is not None]
    bills = [bill for entry in book.entries for bill in entry.bills]
    first, second = CYCLES
    write_profiles(profiles, out_dir / PROFILES)
    write_export(number_bills(bills, BILL_NUMBER_PREFIX), out_dir / BILLING_EXPORT,
                 period=_period(first))
    write_findings(book.findings, out_dir / EXPECTED_FINDINGS)
    write_controls(book.controls, out_dir / CONTROLS)
    write_export(number_bills(next_cycle.bills, NEXT_BILL_NUMBER_PREFIX),
                 out_dir / NEXT_BILLING_EXPORT, period=_period(second))
    write_findings(next_cycle.findings, out_dir / NEXT_EXPECTED_FINDINGS)
    write_corrected(next_cycle.corrected, out_dir / CORRECTED)
    rate_codes = [bill.rate_code for bill in bills + next_cycle.bills]
    write_mapping(rate_code_classes(rate_codes), out_dir / MAPPING)
    written.extend(out_dir / name for name in GENERATED_FILES)

    summary = BuildSummary(
        customers=len(customers),
        profiles=len(profiles),
        bills=len(bills),
        findings=len(book.findings),
        controls=len(book.controls),
        next_bills=len(next_cycle.bills),
        next_findings=len(next_cycle.findings),
        corrected=len(next_cycle.corrected),
        estimated_reads=next_cycle.estimated_reads,
        written=tuple(written),
    )
    logger.info(
        "built the sample: %d customers, %d profiles, %d bills, %d expected findings, "
        "%d controls", summary.customers, summary.profiles, summary.bills,
        summary.findings, summary.controls,
    )
    logger.info(
        "cycle %s: %d bills (%d on an estimated read), %d expected findings, "
        "%d discrepancies corrected %s", NEXT_CYCLE, summary.next_bills,
        summary.estimated_reads, summary.next_findings, summary.corrected,
        corrected_counts_by_type(next_cycle),
    )
    return summary


def _period(cycle: SampleCycle) -> tuple[str, str]:
    """Return the From and To dates of a cycle's export lines."""
    return (cycle.period_start.strftime(EXPORT_DATE_FORMAT),
            cycle.period_end.strftime(EXPORT_DATE_FORMAT))


def rate_code_classes(rate_codes) -> dict[str, str]:
    """Map each rate code to its class by prefix (WASF, WAMF, WANR)."""
    classes = {}
    for code in sorted(set(rate_codes)):
        matches = [cls for cls, prefix in RATE_CODE_PREFIX.items() if code.startswith(prefix)]
        if len(matches) != 1:
            raise ValueError(f"rate code {code!r} has no sampled class")
        classes[code] = matches[0]
    return classes


def verify_book(book: SampleBook) -> None:
    """Check what the expected findings promise before anything is written.

    Raises ValueError when the findings miss a type or fall outside 40-80 rows, when
    a case reuses a customer, or when an identifier the matcher keys on repeats among
    the profiles (which would make a link ambiguous).
    """
    findings = book.findings
    low, high = FINDING_ROWS_RANGE
    if not low <= len(findings) <= high:
        raise ValueError(f"{len(findings)} expected findings; the sample promises {low}-{high}")
    missing = set(FINDING_TYPES) - {finding.finding_type for finding in findings}
    if missing:
        raise ValueError(f"no injected case for finding types {sorted(missing)}")

    case_ids = [entry.case_id for entry in book.entries if entry.case_id]
    repeated = sorted(case for case, count in Counter(case_ids).items() if count > 1)
    if repeated:
        raise ValueError(f"cases {repeated} were given more than one customer")

    profiles = [entry.profile for entry in book.entries if entry.profile is not None]
    for field, normalize in (
        ("water_account", _digits_without_zeros),
        ("meter_number", _digits_without_zeros),
        ("parcel_id", _digits_without_zeros),
        ("service_address", str.upper),
    ):
        keys = Counter(normalize(getattr(profile, field)) for profile in profiles)
        repeated = sorted(key for key, count in keys.items() if count > 1)
        if repeated:
            raise ValueError(f"profiles share {field} {repeated[:5]}")


def _digits_without_zeros(text: str) -> str:
    return "".join(char for char in text if char.isalnum()).lstrip("0")


def check_sample(data_dir: Path | None = None) -> list[str]:
    """Build into a temporary folder and return the generated files that differ."""
    data = data_dir if data_dir is not None else sample_dir()
    with tempfile.TemporaryDirectory() as temporary:
        fresh = Path(temporary)
        build_sample(fresh, data_dir=data)
        return [
            name for name in GENERATED_FILES
            if not (data / name).exists()
            or (data / name).read_bytes() != (fresh / name).read_bytes()
        ]


def main(argv: list[str] | None = None) -> int:
    """Run the builder from the command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m sewerline.sample.builder",
        description="Rebuild the sample profiles, the billing exports of both cycles, the "
        "mapping, the expected findings, the controls and the list of corrected discrepancies.",
    )
    parser.add_argument(
        "--source", type=Path,
        help="full Santa Monica usage file (CSV or .csv.gz) to draw the customers from "
        "again; default: the committed slice",
    )
    parser.add_argument(
        "--out", type=Path, default=None,
        help="folder to write into; default: the package's sample data folder",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="build into a temporary folder and exit 1 if any generated file differs "
        "from the committed one",
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if arguments.check:
        differing = check_sample()
        for name in differing:
            logger.error("%s differs from a fresh build; run the builder and commit it", name)
        return 1 if differing else 0

    out_dir = arguments.out if arguments.out is not None else sample_dir()
    summary = build_sample(out_dir, source=arguments.source)
    for path in summary.written:
        logger.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

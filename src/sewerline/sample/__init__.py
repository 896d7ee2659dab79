"""The bundled sample: real Santa Monica water usage with documented, injected discrepancies.

`sewerline demo` audits the first cycle's files, and `sewerline manage load_demo` loads
both cycles into the web application. `data/README.md` describes every file, its source
and terms, and each injected case; `python -m sewerline.sample.builder` rebuilds the
generated files from the committed usage slice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# Billing cycle of the sample: the bimonthly read billed in March 2016 (usage of
# January and February 2016).
CYCLE = "2016-03"
# The next cycle: the read billed in May 2016 (usage of March and April 2016), in which
# the water utility has corrected about half of the injected discrepancies.
NEXT_CYCLE = "2016-05"

USAGE_SLICE = "santa_monica_usage_slice.csv"
PROFILES = "profiles.csv"
BILLING_EXPORT = "billing_export.csv"
MAPPING = "mapping.yaml"
SEWER_RATES = "sewer_rates.owrs"
EXPECTED_FINDINGS = "expected_findings.csv"
CONTROLS = "controls.csv"
NEXT_BILLING_EXPORT = f"billing_export_{NEXT_CYCLE}.csv"
NEXT_EXPECTED_FINDINGS = f"expected_findings_{NEXT_CYCLE}.csv"
CORRECTED = f"corrected_{NEXT_CYCLE}.csv"
README = "README.md"

# The real Santa Monica water schedule the sample's water lines are computed with.
WATER_RATES = "owrs/California/Santa Monica City of - 2581/Older/smc-2016-03-01.owrs"

# Files the builder writes; the others in the data folder are kept by hand.
GENERATED_FILES = (
    PROFILES, BILLING_EXPORT, MAPPING, EXPECTED_FINDINGS, CONTROLS,
    NEXT_BILLING_EXPORT, NEXT_EXPECTED_FINDINGS, CORRECTED,
)


@dataclass(frozen=True)
class SampleCycle:
    """One billing cycle of the sample: its code, service period and files."""

    code: str
    period_start: dt.date
    period_end: dt.date
    first_bill_date: dt.date        # the first bill run of the cycle
    billing_export: str
    expected_findings: str


# The sample's cycles in time order. The bills of each are dated in the month after
# its period, and the same profiles and rates apply to both.
CYCLES = (
    SampleCycle(CYCLE, dt.date(2016, 1, 1), dt.date(2016, 2, 29), dt.date(2016, 3, 2),
                BILLING_EXPORT, EXPECTED_FINDINGS),
    SampleCycle(NEXT_CYCLE, dt.date(2016, 3, 1), dt.date(2016, 4, 30), dt.date(2016, 5, 2),
                NEXT_BILLING_EXPORT, NEXT_EXPECTED_FINDINGS),
)


@dataclass(frozen=True)
class SampleFiles:
    """Paths of the bundled sample's inputs, expected findings and controls."""

    profiles: Path
    billing: Path
    rates: Path
    mapping: Path
    expected_findings: Path
    controls: Path
    usage_slice: Path
    water_rates: Path
    next_billing: Path              # the export of NEXT_CYCLE
    next_expected_findings: Path
    corrected: Path                 # discrepancies of CYCLE that NEXT_CYCLE no longer shows


def sample_dir() -> Path:
    """Return the folder of the bundled sample files inside the installed package."""
    return Path(str(resources.files("sewerline.sample") / "data"))


def sample_files(folder: Path | None = None) -> SampleFiles:
    """Return the paths of the sample files in `folder` (default: the bundled sample)."""
    base = folder if folder is not None else sample_dir()
    return SampleFiles(
        profiles=base / PROFILES,
        billing=base / BILLING_EXPORT,
        rates=base / SEWER_RATES,
        mapping=base / MAPPING,
        expected_findings=base / EXPECTED_FINDINGS,
        controls=base / CONTROLS,
        usage_slice=base / USAGE_SLICE,
        water_rates=base / WATER_RATES,
        next_billing=base / NEXT_BILLING_EXPORT,
        next_expected_findings=base / NEXT_EXPECTED_FINDINGS,
        corrected=base / CORRECTED,
    )

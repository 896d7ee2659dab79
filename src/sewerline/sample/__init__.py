"""The bundled sample: real Santa Monica water usage with documented, injected discrepancies.

`sewerline demo` audits these files. `data/README.md` describes every file, its source
and terms, and each injected case; `python -m sewerline.sample.builder` rebuilds the
generated files from the committed usage slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# Billing cycle of the sample: the bimonthly read billed in March 2016 (usage of
# January and February 2016).
CYCLE = "2016-03"

USAGE_SLICE = "santa_monica_usage_slice.csv"
PROFILES = "profiles.csv"
BILLING_EXPORT = "billing_export.csv"
MAPPING = "mapping.yaml"
SEWER_RATES = "sewer_rates.owrs"
EXPECTED_FINDINGS = "expected_findings.csv"
CONTROLS = "controls.csv"
README = "README.md"

# The real Santa Monica water schedule the sample's water lines are computed with.
WATER_RATES = "owrs/California/Santa Monica City of - 2581/Older/smc-2016-03-01.owrs"

# Files the builder writes; the others in the data folder are kept by hand.
GENERATED_FILES = (PROFILES, BILLING_EXPORT, MAPPING, EXPECTED_FINDINGS, CONTROLS)


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
    )

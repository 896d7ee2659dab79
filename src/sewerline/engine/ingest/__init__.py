"""Readers that turn the input files into the engine's canonical tables.

`read_table` reads any CSV or Excel file as text cells. `read_billing` and
`read_profiles` turn the billing export and the profile file into the Billed and
Profile tables, as the mapping file that `load_mapping` validates describes.
"""

from sewerline.engine.ingest.billing import ReadStats, read_billing
from sewerline.engine.ingest.mapping import (
    CsvOptions,
    Layout,
    Mapping,
    ProfileMapping,
    load_mapping,
)
from sewerline.engine.ingest.profiles import read_profiles
from sewerline.engine.ingest.tables import SourceTable, read_table

__all__ = [
    "CsvOptions",
    "Layout",
    "Mapping",
    "ProfileMapping",
    "ReadStats",
    "SourceTable",
    "load_mapping",
    "read_billing",
    "read_profiles",
    "read_table",
]

"""Time a whole audit of N generated accounts, and the time to only read its inputs.

    python scripts/benchmark.py --accounts 1000000

The generator writes a profile file and a water utility export of one row per service
line (a water line and a sewer line per bill, so 2N lines), shaped like the bundled
sample, with about 3% of the accounts given a discrepancy. It then runs, in fresh
processes, (1) a script that only reads the two files with the mapping and (2) the
`sewerline audit` command, and prints the wall time and peak memory (max RSS from
/usr/bin/time) of each. Results go into docs/benchmarks.md by hand, with the machine.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from sewerline.sample import sample_files

READ_ONLY = """
import sys
from pathlib import Path
from sewerline.engine.ingest import load_mapping, read_billing, read_profiles
mapping = load_mapping(Path(sys.argv[3]))
profiles = read_profiles(Path(sys.argv[1]), mapping.profiles)
bills = read_billing(Path(sys.argv[2]), mapping)
print(profiles.height, bills.height)
"""

MAPPING = """\
layout: per_line
columns:
  billed_account: "Acct No"
  customer_name: "Customer Name"
  service_address: "Service Address"
  parcel_id: "APN"
  meter_number: "Meter #"
  rate_code: "Rate Code"
  usage: "Consumption"
  billed_amount: "Amount"
  period_start: "From"
  period_end: "To"
  bill_date: "Bill Date"
  bill_number: "Bill No"
  service_code: "Svc"
usage_unit: ccf
date_format: "%m/%d/%Y"
sewer_service_codes: [SW]
rate_codes:
  R1: RESIDENTIAL_SINGLE
  M1: RESIDENTIAL_MULTI
  C1: COMMERCIAL
profiles:
  winter_average_unit: kgal
"""

STREETS = [
    "OCEAN PARK BLVD", "MONTANA AVE", "WILSHIRE BLVD", "PICO BLVD", "LINCOLN BLVD",
    "PIER AVE", "ASHLAND AVE", "MARINE ST", "COLORADO AVE", "SAN VICENTE BLVD",
    "21ST ST", "14TH ST", "EUCLID ST", "HILL ST", "NAVY ST", "BROADWAY",
]
NAMES = [
    "SMITH JOHN", "GARCIA MARIA", "NGUYEN LINH", "JOHNSON ANN", "LEE DAVID", "KIM SOO",
    "BROWN ROBERT", "LOPEZ ROSA", "PATEL ANIL", "MILLER SUSAN", "DAVIS JAMES", "CHEN WEI",
]


def random_ints(n: int, salt: int, modulo: int) -> pl.Expr:
    """Deterministic pseudo-random integers in [0, modulo), one per row."""
    return (pl.int_range(n, dtype=pl.UInt64).hash(seed=salt) % modulo).cast(pl.Int64)


def generate(n: int, folder: Path) -> dict[str, Path]:
    """Write profiles.csv, export.csv and mapping.yaml for n accounts into folder."""
    classes = ["RESIDENTIAL_SINGLE"] * 14 + ["RESIDENTIAL_MULTI"] * 3 + ["COMMERCIAL"] * 3
    codes = {"RESIDENTIAL_SINGLE": "R1", "RESIDENTIAL_MULTI": "M1", "COMMERCIAL": "C1"}
    accounts = pl.select(
        pl.int_range(n).alias("i"),
        random_ints(n, 1, len(classes)).alias("class_pick"),
        random_ints(n, 2, 9000).add(100).alias("house"),
        random_ints(n, 3, len(STREETS)).alias("street_pick"),
        random_ints(n, 4, len(NAMES)).alias("name_pick"),
        random_ints(n, 5, 8000).alias("winter_milli"),
        random_ints(n, 6, 60).alias("usage_ccf"),
        random_ints(n, 7, 1000).alias("case"),
        random_ints(n, 8, 30).add(2).alias("units"),
    ).with_columns(
        pl.col("class_pick").replace_strict(dict(enumerate(classes))).alias("customer_class"),
        pl.col("street_pick").replace_strict(dict(enumerate(STREETS))).alias("street"),
        pl.col("name_pick").replace_strict(dict(enumerate(NAMES))).alias("owner_name"),
    )
    accounts = accounts.with_columns(
        pl.format("SS-{}", pl.col("i").cast(pl.String).str.zfill(7)).alias("account_id"),
        pl.format("{}-01", pl.col("i").cast(pl.String).str.zfill(9)).alias("water_account"),
        pl.format("{} {} #{}", pl.col("house"), pl.col("street"), pl.col("i")).alias(
            "service_address"
        ),
        pl.format("{}", (pl.col("i") + 4_000_000_000).cast(pl.String)).alias("parcel_id"),
        pl.format("{}", (pl.col("i") + 70_000_000).cast(pl.String)).alias("meter_number"),
        pl.when(pl.col("case") < 4).then(pl.lit("septic")).otherwise(pl.lit("active"))
        .alias("status"),
        (pl.col("winter_milli").cast(pl.Decimal(38, 3)) / 1000).alias("winter_average"),
        pl.when(pl.col("customer_class") == "RESIDENTIAL_MULTI")
        .then(pl.col("units")).otherwise(1).alias("dwelling_units"),
    )

    profiles_path = folder / "profiles.csv"
    accounts.select(
        "account_id", "water_account", "owner_name", "service_address", "parcel_id",
        "meter_number", "customer_class", pl.lit('5/8"').alias("meter_size"), "status",
        pl.col("winter_average").cast(pl.String), "dwelling_units",
    ).write_csv(profiles_path)

    # The sample schedule: $21.00 a month per account (per dwelling unit for
    # multi-family) and $5.25 per kgal of the winter average; commercial on metered use.
    kgal = pl.col("usage_ccf").cast(pl.Decimal(38, 12)) * pl.lit(0.748052).cast(
        pl.Decimal(38, 6)
    )
    service = pl.lit(42).cast(pl.Decimal(38, 2)) * pl.col("dwelling_units")
    volume = (
        pl.when(pl.col("customer_class") == "COMMERCIAL")
        .then(kgal * pl.lit(5.25).cast(pl.Decimal(38, 2)))
        .otherwise(pl.col("winter_average") * pl.lit(10.5).cast(pl.Decimal(38, 2)))
        .round(2, mode="half_away_from_zero")
    )
    bills = accounts.filter(pl.col("case") >= 4).with_columns(
        (service + volume).alias("sewer"),
        pl.col("customer_class").replace_strict(codes).alias("rate_code"),
    )
    # Discrepancies: wrong amounts, a new account number without sewer, a swapped meter,
    # a new owner; about 0.3% of accounts get no bill and 0.3% of bills no profile.
    bills = bills.filter(pl.col("case") >= 7).with_columns(
        pl.when(pl.col("case") < 12).then(pl.col("sewer") + 5)
        .when(pl.col("case") < 17).then(pl.col("sewer") - 5)
        .otherwise(pl.col("sewer")).alias("sewer"),
        pl.when(pl.col("case").is_between(17, 21))
        .then(pl.format("{}-02", pl.col("i").cast(pl.String).str.zfill(9)))
        .otherwise(pl.col("water_account")).alias("water_account"),
        pl.when(pl.col("case").is_between(22, 24))
        .then(pl.format("{}", pl.col("i") + 90_000_000))
        .otherwise(pl.col("meter_number")).alias("meter_number"),
        pl.when(pl.col("case").is_between(25, 27)).then(pl.lit("NEW OWNER LLC"))
        .otherwise(pl.col("owner_name")).alias("owner_name"),
    )
    has_sewer = ~pl.col("case").is_between(17, 21)
    common = [
        pl.col("water_account").alias("Acct No"),
        pl.col("owner_name").alias("Customer Name"),
        pl.col("service_address").alias("Service Address"),
        pl.col("parcel_id").alias("APN"),
        pl.col("meter_number").alias("Meter #"),
        pl.col("rate_code").alias("Rate Code"),
    ]
    dates = [
        pl.lit("01/01/2016").alias("From"), pl.lit("02/29/2016").alias("To"),
        pl.lit("03/05/2016").alias("Bill Date"),
        pl.format("B{}", pl.col("i")).alias("Bill No"),
    ]
    water = bills.select(
        *common, pl.lit("WA").alias("Svc"), pl.col("usage_ccf").cast(pl.String).alias(
            "Consumption"), (pl.col("usage_ccf") * 3).cast(pl.String).alias("Amount"), *dates,
    )
    sewer = bills.filter(has_sewer).select(
        *common, pl.lit("SW").alias("Svc"), pl.col("usage_ccf").cast(pl.String).alias(
            "Consumption"), pl.col("sewer").cast(pl.String).alias("Amount"), *dates,
    )
    unknown = bills.head(max(n // 300, 1)).with_columns(
        pl.format("9{}", pl.col("water_account")).alias("water_account"),
        pl.format("NEW {}", pl.col("service_address")).alias("service_address"),
        pl.lit(None, dtype=pl.String).alias("parcel_id"),
        pl.lit(None, dtype=pl.String).alias("meter_number"),
    ).select(*common, pl.lit("SW").alias("Svc"), pl.lit("10").alias("Consumption"),
             pl.col("sewer").cast(pl.String).alias("Amount"), *dates[:3],
             pl.format("U{}", pl.col("i")).alias("Bill No"))
    export = pl.concat([water, sewer, unknown]).sort("Bill No", "Svc", descending=[False, True])
    export_path = folder / "export.csv"
    export.write_csv(export_path)

    mapping_path = folder / "mapping.yaml"
    mapping_path.write_text(MAPPING)
    return {"profiles": profiles_path, "billing": export_path, "mapping": mapping_path}


def timed(command: list[str]) -> tuple[float, float]:
    """Run a command under /usr/bin/time -v; return (wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    completed = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        sys.exit(f"command failed ({completed.returncode}): {' '.join(command)}\n"
                 f"{completed.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                            completed.stderr).group(1))
    return seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000,
                        help="number of accounts to generate (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="sewerline-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    files = generate(args.accounts, folder)
    print(f"generated {args.accounts:,} accounts in {time.perf_counter() - start:.1f} s "
          f"({files['billing'].stat().st_size / 1e6:.0f} MB export)")

    rates = sample_files().rates
    read_command = [sys.executable, "-c", READ_ONLY, str(files["profiles"]),
                    str(files["billing"]), str(files["mapping"])]
    audit_command = [
        sys.executable, "-m", "sewerline", "audit", "--quiet",
        "--profiles", str(files["profiles"]), "--billing", str(files["billing"]),
        "--rates", str(rates), "--mapping", str(files["mapping"]),
        "--cycle", "bench", "--out", str(folder / "out"),
    ]
    reads = [timed(read_command) for _ in range(args.repeat)]
    audits = [timed(audit_command) for _ in range(args.repeat)]

    read_s = statistics.median(s for s, _ in reads)
    audit_s = statistics.median(s for s, _ in audits)
    print(f"read only : median {read_s:.2f} s, peak {max(m for _, m in reads):,.0f} MB")
    print(f"full audit: median {audit_s:.2f} s, peak {max(m for _, m in audits):,.0f} MB")
    print(f"ratio     : {audit_s / read_s:.2f}x the read-only time")
    findings = pl.read_csv(folder / "out" / "findings.csv", infer_schema=False)
    print("findings  :", dict(findings.group_by("finding_type").len().sort("finding_type")
                               .iter_rows()))


if __name__ == "__main__":
    main()

"""Time the rate engine alone: bills for N accounts across several rate structures.

    python scripts/benchmark_rates.py --accounts 1000000

The schedule has four classes: a Budget charge with indoor and percentage tier starts,
Tiered prices chosen by a two-column lookup, a flat charge prorated by days, and
tiers whose starts are prorated with a drought surcharge by lookup. The table is made
with a fixed seed, and `rate_bills` is timed in the same process; the first call
includes Polars' query planning, so it is reported apart from the median of the others.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from sewerline.engine.money import DECIMAL
from sewerline.engine.rates import load_schedule, rate_bills

RATES = """\
metadata:
  effective_date: 2018-01-01
  utility_name: Benchmark
  bill_frequency: monthly
rate_structure:
  RESIDENTIAL_SINGLE:
    service_charge:
      depends_on: meter_size
      values:
        5/8": 11.22
        3/4": 11.22
        1": 11.22
        1 1/2": 37.41
        2": 59.85
    commodity_charge: Budget
    gpcd_commodity: 55
    indoor_commodity: hhsize*gpcd*days_in_period*(1/748)
    outdoor_commodity: landscape_factor*et_amount*irr_area*0.62*(1/748)
    budget_commodity: indoor+outdoor
    landscape_factor_commodity: .7
    tier_starts_commodity: [0, indoor, 100%, 125%, 150%]
    tier_prices_commodity: [1.69, 1.94, 3.32, 5.12, 9.59]
    bill: service_charge+commodity_charge
  RESIDENTIAL_MULTI:
    service_charge:
      depends_on: [meter_size, city_limits]
      values:
        5/8"|inside_city: 14.78
        5/8"|outside_city: 16.78
        3/4"|inside_city: 17.74
        3/4"|outside_city: 19.74
        1"|inside_city: 20
        1"|outside_city: 22
        1 1/2"|inside_city: 30
        1 1/2"|outside_city: 32
        2"|inside_city: 45.82
        2"|outside_city: 47.82
    commodity_charge: Tiered
    tier_starts_commodity:
      depends_on: city_limits
      values:
        inside_city: [0, 4, 10]
        outside_city: [0, 5, 12]
    tier_prices_commodity: [3.123, 3.42, 3.709]
    bill: service_charge+commodity_charge
  COMMERCIAL:
    service_charge: 20 * days_in_period / 30
    flat_rate: 2.985
    commodity_charge: flat_rate*usage_ccf
    bill: service_charge+commodity_charge
  IRRIGATION:
    service_charge: 18.06
    commodity_charge: Tiered
    tier_starts: [0, 15 * proration_factor, 30 * proration_factor]
    tier_prices: [1.94, 3.32, 5.12]
    drought_rate:
      depends_on: drought_stage
      values:
        1: 0
        2: 0.25
        3: 0.5
    drought_surcharge: drought_rate * usage_ccf
    bill: service_charge+commodity_charge+drought_surcharge
"""

CLASSES = ["RESIDENTIAL_SINGLE", "RESIDENTIAL_MULTI", "COMMERCIAL", "IRRIGATION"]
METERS = ['5/8"', '3/4"', '1"', '1 1/2"', '2"']


def random_ints(n: int, salt: int, low: int, high: int) -> pl.Expr:
    """Deterministic pseudo-random integers in [low, high], one per row."""
    span = high - low + 1
    return (pl.int_range(n, dtype=pl.UInt64).hash(seed=salt) % span).cast(pl.Int64) + low


def random_choice(n: int, salt: int, values: list[str]) -> pl.Expr:
    """Deterministic pseudo-random picks from values, one per row."""
    positions = random_ints(n, salt, 0, len(values) - 1)
    return positions.replace_strict(dict(enumerate(values)), return_dtype=pl.String)


def make_table(n: int) -> pl.DataFrame:
    """Build n accounts with every input column the schedule reads."""
    return pl.select(
        random_choice(n, 1, CLASSES).alias("customer_class"),
        random_choice(n, 2, METERS).alias("meter_size"),
        random_choice(n, 3, ["inside_city", "outside_city"]).alias("city_limits"),
        (random_ints(n, 4, 0, 40000).cast(DECIMAL) / 100).alias("usage_ccf"),
        random_ints(n, 5, 1, 6).cast(DECIMAL).alias("hhsize"),
        random_ints(n, 6, 28, 32).cast(DECIMAL).alias("days_in_period"),
        random_ints(n, 7, 1, 8).cast(DECIMAL).alias("et_amount"),
        random_ints(n, 8, 0, 5000).cast(DECIMAL).alias("irr_area"),
        (random_ints(n, 9, 90, 110).cast(DECIMAL) / 100).alias("proration_factor"),
        random_choice(n, 10, ["1", "2", "3"]).alias("drought_stage"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000,
                        help="number of accounts to rate (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls (default 5)")
    args = parser.parse_args()

    path = Path(tempfile.mkdtemp(prefix="sewerline-rates-")) / "benchmark.owrs"
    path.write_text(RATES)
    schedule = load_schedule(path)
    table = make_table(args.accounts)

    seconds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        rated = rate_bills(table, schedule, class_column="customer_class")
        seconds.append(time.perf_counter() - start)
    missing = rated.get_column("expected_amount").null_count()
    print(f"{args.accounts:,} bills in 4 classes: first call {seconds[0]:.2f} s, median of "
          f"the others {statistics.median(seconds[1:] or seconds):.2f} s; "
          f"{missing} without an amount")


if __name__ == "__main__":
    main()

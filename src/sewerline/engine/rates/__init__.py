"""The rate engine: OWRS rate files with sewer extensions, applied to Polars tables.

    schedule = load_schedule("sewer_rates.owrs")
    rated = rate_bills(profiles, schedule, class_column="customer_class")
    trace = explain_bill(schedule, "RESIDENTIAL_SINGLE", {"winter_average": "4.488"})

docs/rates.md describes the rate file format and its extensions.
"""

from sewerline.engine.rates.formula import FormulaError, parse_formula
from sewerline.engine.rates.rating import rate_bills
from sewerline.engine.rates.schedule import RateSchedule, load_schedule
from sewerline.engine.rates.tiers import TierLine
from sewerline.engine.rates.trace import BillTrace, ComponentTrace, explain_bill, explain_rows

__all__ = [
    "BillTrace",
    "ComponentTrace",
    "FormulaError",
    "RateSchedule",
    "TierLine",
    "explain_bill",
    "explain_rows",
    "load_schedule",
    "parse_formula",
    "rate_bills",
]

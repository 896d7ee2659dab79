"""Canonical column names of the tables the engine works on.

Readers turn any source layout into these tables; every later step reads only these
names. Text columns keep the source's text exactly (leading zeros included); the
normalized match keys are added by the matching step, never written over the originals.
"""

from __future__ import annotations

import polars as pl

from sewerline.engine.money import DECIMAL

# Spreadsheet row number of the record in its source file (header = row 1). With one
# row per service line, the row of the bill's first line.
SOURCE_ROW = "source_row"


class Billed:
    """One sewer bill from the water utility's export, after mapping and unit conversion.

    With an export of one row per service line, the lines of one bill are folded into
    one record: `billed_amount` is the sum of its sewer lines (zero when it has none,
    which is how a lost sewer charge shows up) and `sewer_lines` counts them.
    `water_amount` is the bill's water charge, for sewer rates set as a percentage of
    it, and `deduct_usage_gal` the usage of a deduct meter (water that never reaches
    the sewer, such as irrigation). Both are null when the export does not give them.
    """

    ACCOUNT = "billed_account"          # water utility account number, as in the file
    CUSTOMER_NAME = "customer_name"
    SERVICE_ADDRESS = "service_address"
    PARCEL = "parcel_id"
    METER = "meter_number"
    RATE_CODE = "rate_code"
    CLASS = "billed_class"              # customer class the rate code maps to
    USAGE_GAL = "usage_gal"             # metered water usage of the period, gallons
    AMOUNT = "billed_amount"            # sewer charge on the bill, USD
    PERIOD_START = "period_start"
    PERIOD_END = "period_end"
    BILL_DATE = "bill_date"
    BILL_NUMBER = "bill_number"
    SEWER_LINES = "sewer_lines"
    WATER_AMOUNT = "water_amount"       # water charge on the bill, USD
    DEDUCT_USAGE_GAL = "deduct_usage_gal"   # deduct meter usage of the period, gallons

    REQUIRED = (ACCOUNT, AMOUNT)
    SCHEMA: dict[str, pl.DataType] = {
        SOURCE_ROW: pl.Int64(),
        ACCOUNT: pl.String(),
        CUSTOMER_NAME: pl.String(),
        SERVICE_ADDRESS: pl.String(),
        PARCEL: pl.String(),
        METER: pl.String(),
        RATE_CODE: pl.String(),
        CLASS: pl.String(),
        USAGE_GAL: DECIMAL,
        AMOUNT: DECIMAL,
        PERIOD_START: pl.Date(),
        PERIOD_END: pl.Date(),
        BILL_DATE: pl.Date(),
        BILL_NUMBER: pl.String(),
        SEWER_LINES: pl.Int64(),
        WATER_AMOUNT: DECIMAL,
        DEDUCT_USAGE_GAL: DECIMAL,
    }


class Profile:
    """The sewer utility's own record of what one customer should be billed.

    Columns beyond these are kept under their own names (lower-cased) so that rate
    formulas can use them, for example `outside_city` or `bod_mg_l`.
    """

    ACCOUNT_ID = "account_id"           # the sewer utility's own account id
    WATER_ACCOUNT = "water_account"     # the water utility's account number
    OWNER = "owner_name"
    SERVICE_ADDRESS = "service_address"
    PARCEL = "parcel_id"
    METER = "meter_number"
    CLASS = "customer_class"
    METER_SIZE = "meter_size"
    STATUS = "status"
    WINTER_AVERAGE_GAL = "winter_average_gal"   # average monthly winter usage, gallons
    DWELLING_UNITS = "dwelling_units"

    REQUIRED = (ACCOUNT_ID, CLASS, STATUS)
    SCHEMA: dict[str, pl.DataType] = {
        SOURCE_ROW: pl.Int64(),
        ACCOUNT_ID: pl.String(),
        WATER_ACCOUNT: pl.String(),
        OWNER: pl.String(),
        SERVICE_ADDRESS: pl.String(),
        PARCEL: pl.String(),
        METER: pl.String(),
        CLASS: pl.String(),
        METER_SIZE: pl.String(),
        STATUS: pl.String(),
        WINTER_AVERAGE_GAL: DECIMAL,
        DWELLING_UNITS: DECIMAL,
    }


class Status:
    """Sewer status of a profile. Only ACTIVE profiles are expected to pay sewer charges."""

    ACTIVE = "active"
    SEPTIC = "septic"
    INACTIVE = "inactive"
    EXEMPT = "exempt"

    ALL = (ACTIVE, SEPTIC, INACTIVE, EXEMPT)

"""A small sewer utility written to files, for audit and CLI tests.

Rates (monthly, in kgal): residential $20.00 plus $5.00 per kgal of the lesser of the
month's usage and the winter average; commercial $30.00 plus $6.00 per kgal used.
The export has one row per bill with usage in gallons.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

RATES = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Test Sewer District
  bill_frequency: monthly
  bill_unit: kgal
rate_structure:
  RESIDENTIAL_SINGLE:
    service_charge: 20.00
    volume_rate: 5.00
    volume_charge: volume_rate * min(usage_ccf, winter_average)
    bill: service_charge + volume_charge
  COMMERCIAL:
    service_charge: 30.00
    volume_rate: 6.00
    volume_charge: volume_rate * usage_ccf
    bill: service_charge + volume_charge
"""

MAPPING = """\
layout: per_bill
columns:
  billed_account: Account
  customer_name: Name
  service_address: Address
  parcel_id: Parcel
  meter_number: Meter
  rate_code: Rate Code
  usage: Gallons
  billed_amount: Sewer Amount
  period_start: From
  period_end: To
usage_unit: gallons
date_format: "%m/%d/%Y"
rate_codes:
  R1: RESIDENTIAL_SINGLE
  C1: COMMERCIAL
"""

PROFILE_HEADER = [
    "account_id", "water_account", "owner_name", "service_address", "parcel_id",
    "meter_number", "customer_class", "meter_size", "status", "winter_average",
    "dwelling_units",
]
EXPORT_HEADER = [
    "Account", "Name", "Address", "Parcel", "Meter", "Rate Code", "Gallons",
    "Sewer Amount", "From", "To",
]


def profile(account_id: str, water_account: str, *, owner: str = "SMITH JOHN",
            address: str = "", parcel: str = "", meter: str = "",
            customer_class: str = "RESIDENTIAL_SINGLE", status: str = "active",
            winter_average: str = "5") -> dict[str, str]:
    """One profile row with the documented layout's column names."""
    return {
        "account_id": account_id, "water_account": water_account, "owner_name": owner,
        "service_address": address or f"{account_id[-3:]} MAIN ST", "parcel_id": parcel,
        "meter_number": meter, "customer_class": customer_class, "meter_size": '5/8"',
        "status": status, "winter_average": winter_average, "dwelling_units": "1",
    }


def bill(account: str, amount: str, *, gallons: str = "4000", name: str = "SMITH JOHN",
         address: str = "", parcel: str = "", meter: str = "", rate_code: str = "R1",
         start: str = "01/01/2016", end: str = "01/31/2016") -> dict[str, str]:
    """One row of the water utility's export."""
    return {
        "Account": account, "Name": name, "Address": address, "Parcel": parcel,
        "Meter": meter, "Rate Code": rate_code, "Gallons": gallons,
        "Sewer Amount": amount, "From": start, "To": end,
    }


@dataclass
class World:
    profiles: Path
    billing: Path
    rates: Path
    mapping: Path


def write_world(folder: Path, profiles: list[dict], bills: list[dict],
                *, rates: str = RATES, mapping: str = MAPPING) -> World:
    """Write the four audit inputs into folder and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    world = World(folder / "profiles.csv", folder / "export.csv", folder / "rates.owrs",
                  folder / "mapping.yaml")
    _write_csv(world.profiles, PROFILE_HEADER, profiles)
    _write_csv(world.billing, EXPORT_HEADER, bills)
    world.rates.write_text(rates)
    world.mapping.write_text(mapping)
    return world


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)

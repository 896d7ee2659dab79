"""read_profiles: the documented layout, mapped headers, extra columns and bad rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sewerline.engine.errors import InputError
from sewerline.engine.ingest import ProfileMapping, read_profiles
from sewerline.engine.schema import Profile
from sewerline.engine.units import UsageUnit

DATA = Path(__file__).parent / "data" / "ingest"
CLASSES = {"RESIDENTIAL_SINGLE", "COMMERCIAL"}


def write_csv(directory: Path, text: str) -> Path:
    path = directory / "profiles.csv"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, mapping: ProfileMapping | None = None, **options):
    with pytest.raises(InputError) as error:
        read_profiles(path, mapping, **options)
    return error.value


def test_default_layout_schema_and_extra_columns():
    profiles = read_profiles(DATA / "profiles.csv", known_classes=CLASSES)

    assert list(profiles.schema.items())[: len(Profile.SCHEMA)] == list(Profile.SCHEMA.items())
    assert profiles.columns[len(Profile.SCHEMA):] == ["outside_city", "bod_mg_l"]
    assert profiles.get_column("bod_mg_l").to_list() == [None, "250", None, None]


def test_default_layout_values():
    profiles = read_profiles(DATA / "profiles.csv")

    assert profiles.get_column(Profile.ACCOUNT_ID).to_list() == [
        "S-0001", "S-0002", "S-0003", "S-0004",
    ]
    assert profiles.get_column(Profile.WATER_ACCOUNT).to_list()[0] == "000123"
    assert profiles.get_column(Profile.STATUS).to_list() == [
        "active", "active", "septic", "inactive",
    ]
    assert profiles.get_column(Profile.METER_SIZE).to_list()[0] == "5/8"
    assert profiles.get_column("source_row").to_list() == [2, 3, 4, 5]


def test_winter_average_kgal_to_gallons_by_default():
    profiles = read_profiles(DATA / "profiles.csv")

    # 4.5 kgal, empty, "1,200" kgal, empty.
    assert profiles.get_column(Profile.WINTER_AVERAGE_GAL).to_list() == [
        Decimal("4500"), None, Decimal("1200000"), None,
    ]
    assert profiles.get_column(Profile.DWELLING_UNITS).to_list() == [
        Decimal("1"), None, Decimal("1"), None,
    ]


def test_winter_average_in_ccf(tmp_path):
    path = write_csv(tmp_path, "account_id,customer_class,status,winter_average\nA,C,active,2\n")

    profiles = read_profiles(path, ProfileMapping(winter_average_unit=UsageUnit.CCF))

    assert profiles.get_column(Profile.WINTER_AVERAGE_GAL).to_list() == [Decimal("1496.104")]


def test_mapped_headers(tmp_path):
    path = write_csv(tmp_path, "Acct ID,Class,Sewer Status,Zone\n0007,COMMERCIAL,EXEMPT,B\n")
    mapping = ProfileMapping(columns={
        "account_id": "Acct ID", "customer_class": "Class", "status": "Sewer Status",
    })

    profiles = read_profiles(path, mapping)

    assert profiles.row(0, named=True) == {
        "source_row": 2, "account_id": "0007", "water_account": None, "owner_name": None,
        "service_address": None, "parcel_id": None, "meter_number": None,
        "customer_class": "COMMERCIAL", "meter_size": None, "status": "exempt",
        "winter_average_gal": None, "dwelling_units": None, "zone": "B",
    }


def test_missing_required_and_mapped_columns(tmp_path):
    path = write_csv(tmp_path, "account,class,Owner\nA,C,X\n")
    mapping = ProfileMapping(columns={"owner_name": "Owner Name"})

    error = problems_of(path, mapping)
    missing = {problem.column: problem for problem in error.problems}

    assert set(missing) == {"account_id", "customer_class", "status", "Owner Name"}
    assert "Did you mean 'account'?" in missing["account_id"].hint
    assert "Did you mean 'Owner'?" in missing["Owner Name"].hint


def test_extra_column_colliding_with_mapped_field(tmp_path):
    path = write_csv(tmp_path, "Acct,Customer_Class,Class,Status\nA,X,C,active\n")
    mapping = ProfileMapping(columns={"account_id": "Acct", "customer_class": "Class"})

    error = problems_of(path, mapping)

    assert [(problem.code, problem.column) for problem in error.problems] == [
        ("duplicate_column", "Customer_Class"),
    ]


def test_bad_rows_reported_in_row_order():
    error = problems_of(DATA / "profiles_bad.csv", known_classes=CLASSES)
    found = [(problem.row, problem.column, problem.code) for problem in error.problems]

    # Within a row, problems follow the file's column order.
    assert found == [
        (3, "customer_class", "unknown_class"),
        (4, "account_id", "duplicate_account"),
        (4, "status", "invalid_value"),
        (5, "customer_class", "missing_value"),
        (5, "winter_average", "invalid_value"),
        (6, "account_id", "missing_value"),
        (6, "status", "missing_value"),
    ]


def test_duplicate_account_names_both_rows():
    error = problems_of(DATA / "profiles_bad.csv")
    duplicate = next(p for p in error.problems if p.code == "duplicate_account")

    assert duplicate.value == "A1"
    assert "rows 2 and 4" in duplicate.message


def test_unknown_class_hint_lists_rate_classes():
    error = problems_of(DATA / "profiles_bad.csv", known_classes=CLASSES)
    unknown = next(p for p in error.problems if p.code == "unknown_class")

    assert unknown.value == "RESIDENTAL_SINGLE"
    assert "Did you mean 'RESIDENTIAL_SINGLE'?" in unknown.hint
    assert "COMMERCIAL, RESIDENTIAL_SINGLE" in unknown.hint


def test_classes_not_checked_without_known_classes(tmp_path):
    path = write_csv(tmp_path, "account_id,customer_class,status\nA,ANYTHING,Active\n")

    profiles = read_profiles(path)

    assert profiles.get_column(Profile.CLASS).to_list() == ["ANYTHING"]


def test_invalid_status_expected_values():
    error = problems_of(DATA / "profiles_bad.csv")
    status = next(p for p in error.problems if p.code == "invalid_value" and p.value == "closed")

    assert status.expected == "one of active, septic, inactive, exempt"


def test_error_cap(tmp_path):
    rows = "".join(f"A{index},C,gone\n" for index in range(10))
    path = write_csv(tmp_path, "account_id,customer_class,status\n" + rows)

    error = problems_of(path, max_errors=3)

    assert [problem.row for problem in error.problems] == [2, 3, 4]
    assert error.truncated

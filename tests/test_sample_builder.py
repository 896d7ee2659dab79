"""The bundled sample: deterministic build, file formats and a hand check of its amounts.

The second cycle (2016-05) is checked the same way, and against the first: every
first-cycle finding is either corrected or carried over, never both.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from sewerline.engine.audit import run_audit
from sewerline.engine.errors import InputError
from sewerline.engine.findings import AuditConfig
from sewerline.sample import (
    BILLING_EXPORT,
    CONTROLS,
    CORRECTED,
    EXPECTED_FINDINGS,
    GENERATED_FILES,
    MAPPING,
    NEXT_BILLING_EXPORT,
    NEXT_CYCLE,
    NEXT_EXPECTED_FINDINGS,
    PROFILES,
    USAGE_SLICE,
    sample_dir,
    sample_files,
)
from sewerline.sample.builder import build_sample, check_sample, main
from sewerline.sample.charges import (
    CUSTOMER_CHARGE,
    MONTHS_IN_CYCLE,
    VOLUME_RATE,
    WaterSchedule,
    winter_average_kgal,
)
from sewerline.sample.usage import (
    SOURCE_COLUMNS,
    eligible_customers,
    load_customers,
    read_usage_file,
    select_customers,
    slice_rows,
)

EXPORT_HEADER = [
    "Acct No", "Customer Name", "Service Address", "APN", "Meter #", "Rate Code", "Svc",
    "Consumption", "Amount", "From", "To", "Bill Date", "Bill No",
]
FINDING_TYPES = {
    "overbilled", "underbilled", "unknown_customer", "not_billed", "account_changed",
    "owner_changed", "meter_changed", "class_mismatch", "duplicate_bill",
}
DATA = sample_dir()


def read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    build_sample(folder)
    return folder


@pytest.fixture(scope="module")
def export_rows() -> list[dict[str, str]]:
    return read_csv(DATA / BILLING_EXPORT, encoding="cp1252")


@pytest.fixture(scope="module")
def profiles() -> dict[str, dict[str, str]]:
    return {row["account_id"]: row for row in read_csv(DATA / PROFILES)}


@pytest.fixture(scope="module")
def findings() -> list[dict[str, str]]:
    return read_csv(DATA / EXPECTED_FINDINGS)


@pytest.fixture(scope="module")
def controls() -> list[dict[str, str]]:
    return read_csv(DATA / CONTROLS)


# --- determinism ---------------------------------------------------------------------


def test_build_twice_identical_bytes(built, tmp_path):
    build_sample(tmp_path)
    for name in GENERATED_FILES:
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes(), name


def test_build_matches_committed_files(built):
    for name in GENERATED_FILES:
        assert (built / name).read_bytes() == (DATA / name).read_bytes(), (
            f"{name} differs from a fresh build; run `make sample`"
        )


def test_check_reports_no_difference():
    assert check_sample() == []


def test_main_writes_into_out_folder(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    for name in GENERATED_FILES:
        assert (tmp_path / name).is_file(), name


def test_sample_files_point_into_package():
    files = sample_files()
    for path in (files.profiles, files.billing, files.rates, files.mapping,
                 files.expected_findings, files.controls, files.usage_slice,
                 files.water_rates, files.next_billing, files.next_expected_findings,
                 files.corrected):
        assert path.is_file(), path


# --- billing export --------------------------------------------------------------------


def test_export_is_cp1252_with_header():
    raw = (DATA / BILLING_EXPORT).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    header = next(csv.reader(io.StringIO(text)))
    assert header == EXPORT_HEADER
    assert "Ñ" in text
    assert "É" in text
    assert b"\r\n" in raw


def test_every_bill_has_one_water_line(export_rows):
    services: dict[str, list[str]] = defaultdict(list)
    for row in export_rows:
        services[row["Bill No"]].append(row["Svc"])
    assert services
    for bill_number, lines in services.items():
        assert lines[0] == "WA", bill_number
        assert lines.count("WA") == 1, bill_number
        assert set(lines) <= {"WA", "SW"}, bill_number


def test_export_dates_and_period(export_rows):
    for row in export_rows:
        assert row["From"] == "01/01/2016"
        assert row["To"] == "02/29/2016"
        assert row["Bill Date"].startswith("03/")
        assert row["Bill Date"].endswith("/2016")


def test_mapping_covers_every_rate_code(export_rows):
    mapping = yaml.safe_load((DATA / MAPPING).read_text(encoding="utf-8"))
    prefixes = {"WASF": "RESIDENTIAL_SINGLE", "WAMF": "RESIDENTIAL_MULTI", "WANR": "COMMERCIAL"}
    codes = {row["Rate Code"] for row in export_rows}
    assert codes <= set(mapping["rate_codes"])
    for code, customer_class in mapping["rate_codes"].items():
        assert prefixes[code[:4]] == customer_class, code
    assert set(mapping["columns"].values()) <= set(EXPORT_HEADER)
    assert mapping["layout"] == "per_line"
    assert mapping["usage_unit"] == "ccf"
    assert mapping["sewer_service_codes"] == ["SW"]


# --- expected findings and controls ----------------------------------------------------


def test_manifest_covers_all_finding_types(findings):
    assert {row["finding_type"] for row in findings} == FINDING_TYPES
    assert 40 <= len(findings) <= 80
    counts = Counter(row["finding_type"] for row in findings)
    for finding_type in FINDING_TYPES:
        assert counts[finding_type] >= 3, finding_type


def test_cases_use_distinct_accounts(findings, controls):
    accounts_by_case: dict[str, set[str]] = defaultdict(set)
    for row in findings:
        accounts_by_case[row["case_id"]].add(row["account_id"] or row["billed_account"])
    for row in controls:
        accounts_by_case[row["case_id"]].add(row["account_id"] or row["billed_account"])
    for case_id, accounts in accounts_by_case.items():
        assert len(accounts) == 1, case_id
    owners = Counter(account for accounts in accounts_by_case.values() for account in accounts)
    assert all(count == 1 for count in owners.values())


def test_manifest_accounts_exist(findings, profiles, export_rows):
    billed_accounts = {row["Acct No"] for row in export_rows}
    for row in findings:
        if row["account_id"]:
            assert row["account_id"] in profiles, row["case_id"]
        else:
            assert row["finding_type"] == "unknown_customer"
        if row["billed_account"]:
            assert row["billed_account"] in billed_accounts, row["case_id"]
        else:
            assert row["finding_type"] == "not_billed"


def test_manifest_amounts_match_export(findings, export_rows):
    # Sewer total of each bill, per account, in file order.
    bills: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in export_rows:
        sewer = Decimal(row["Amount"]) if row["Svc"] == "SW" else Decimal("0")
        totals = bills[row["Acct No"]]
        totals[row["Bill No"]] = totals.get(row["Bill No"], Decimal("0")) + sewer
    for row in findings:
        if not row["billed_account"]:
            continue
        # A repeat bill follows the first one, so the finding is about the last bill.
        last_bill_total = list(bills[row["billed_account"]].values())[-1]
        assert Decimal(row["billed_amount"]) == last_bill_total, row["case_id"]


def test_controls_listed_with_descriptions(controls, findings):
    case_ids = [row["case_id"] for row in controls]
    assert len(case_ids) == len(set(case_ids))
    assert {"CTL-CENT-01", "CTL-NAME-01", "CTL-ACCT-01", "CTL-UNIT-01"} <= set(case_ids)
    assert all(row["description"] for row in controls)
    finding_accounts = {row["account_id"] for row in findings if row["account_id"]}
    assert not finding_accounts & {row["account_id"] for row in controls if row["account_id"]}


def test_unit_control_shares_building(controls, findings, profiles):
    by_case = {row["case_id"]: row for row in findings}
    for control_case, address_case in (("CTL-UNIT-01", "ADDR-02"), ("CTL-UNIT-02", "FUZZY-03")):
        neighbour = profiles[next(
            row["account_id"] for row in controls if row["case_id"] == control_case
        )]
        linked = profiles[by_case[address_case]["account_id"]]
        assert neighbour["status"] == "inactive"
        assert neighbour["service_address"].split()[0] == linked["service_address"].split()[0]
        assert neighbour["service_address"] != linked["service_address"]


# --- amounts worked out by hand --------------------------------------------------------


def hand_sewer_charge(profile: dict[str, str], consumption_ccf: int) -> Decimal:
    """Compute a sewer charge from the Mulvane rates, written out without the builder."""
    customer_class = profile["customer_class"]
    if customer_class == "COMMERCIAL":
        usage_kgal = Decimal(consumption_ccf) * Decimal("0.748052")
        return Decimal("42.00") + cents(Decimal("5.25") * usage_kgal)
    units = int(profile["dwelling_units"])
    service = Decimal("21.00") * units * 2
    volume = cents(Decimal("5.25") * Decimal(profile["winter_average"]) * 2)
    return service + volume


def test_hand_examples_of_rules():
    # 5.25 * 10.971 kgal * 2 = 115.1955, which rounds half-up to 115.20.
    assert hand_sewer_charge(
        {"customer_class": "RESIDENTIAL_SINGLE", "dwelling_units": "1",
         "winter_average": "10.971"}, 0,
    ) == Decimal("157.20")
    # 8 units: 21.00 * 8 * 2 = 336.00, plus 5.25 * 4.49 * 2 = 47.145 -> 47.15.
    assert hand_sewer_charge(
        {"customer_class": "RESIDENTIAL_MULTI", "dwelling_units": "8",
         "winter_average": "4.490"}, 0,
    ) == Decimal("383.15")
    # 388 ccf = 290.244176 kgal; 5.25 * that = 1523.781924 -> 1523.78, plus 42.00.
    assert hand_sewer_charge({"customer_class": "COMMERCIAL"}, 388) == Decimal("1565.78")
    # Reads 0 and 375 ccf: 750 * 748.052 / 6000 = 93.5065 kgal, a tie rounded up.
    assert winter_average_kgal(0, 375) == Decimal("93.507")
    assert winter_average_kgal(20, 25) == Decimal("8.727")


def test_correct_bills_match_hand_charge(profiles, export_rows, findings, controls):
    case_accounts = {row["billed_account"] for row in findings + controls}
    by_water_account = {row["water_account"]: row for row in profiles.values()}
    checked = Counter()
    for row in export_rows:
        if row["Svc"] != "SW" or row["Acct No"] in case_accounts:
            continue
        profile = by_water_account[row["Acct No"]]
        expected = hand_sewer_charge(profile, int(row["Consumption"]))
        assert Decimal(row["Amount"]) == expected, row["Acct No"]
        checked[profile["customer_class"]] += 1
    assert checked["RESIDENTIAL_SINGLE"] > 400
    assert checked["RESIDENTIAL_MULTI"] > 200
    assert checked["COMMERCIAL"] > 50


def test_sample_has_half_cent_ties(profiles):
    # A volume charge exactly on half a cent tells half-up from half-even rounding.
    ties = 0
    for profile in profiles.values():
        if profile["customer_class"] == "COMMERCIAL":
            continue
        volume = Decimal("5.25") * Decimal(profile["winter_average"]) * 2
        if volume * 100 % 1 == Decimal("0.5"):
            ties += 1
    assert ties >= 5


def test_manifest_expected_amounts_by_hand(findings, profiles, export_rows):
    consumption = {row["Acct No"]: int(row["Consumption"]) for row in export_rows}
    for row in findings:
        if row["finding_type"] == "unknown_customer" or row["expected_amount"] == "0.00":
            continue
        profile = profiles[row["account_id"]]
        usage = consumption.get(row["billed_account"], 0)
        assert Decimal(row["expected_amount"]) == hand_sewer_charge(profile, usage), (
            row["case_id"]
        )


def test_winter_averages_come_from_slice(profiles, export_rows, findings):
    """Every billed profile's winter average and usage are one slice customer's reads."""
    slice_rows_ = read_csv(DATA / USAGE_SLICE)
    reads: dict[str, dict[str, int]] = defaultdict(dict)
    codes = {}
    for row in slice_rows_:
        reads[row["cust_id"]][row["usage_date"]] = int(row["usage_ccf"])
        codes[row["cust_id"]] = row["cust_class_from_utility"]
    real = Counter()
    for cust_id, by_date in reads.items():
        winter_gallons = (by_date["2016-01-01"] + 2 * by_date["2016-03-01"]) * Decimal("748.052")
        winter_kgal = (winter_gallons / 6000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        real[(codes[cust_id], by_date["2016-03-01"], f"{winter_kgal:.3f}")] += 1

    case_accounts = {row["billed_account"] for row in findings}
    by_water_account = {row["water_account"]: row for row in profiles.values()}
    seen = Counter()
    for row in export_rows:
        profile = by_water_account.get(row["Acct No"])
        if row["Svc"] != "WA" or profile is None or row["Acct No"] in case_accounts:
            continue
        seen[(row["Rate Code"], int(row["Consumption"]), profile["winter_average"])] += 1
    assert sum(seen.values()) > 900
    for key, count in seen.items():
        assert real[key] >= count, key


def test_water_line_by_hand():
    water = WaterSchedule(sample_files().water_rates)
    # Single family, 16 ccf: 14 ccf at 2.87 + 2 ccf at 4.29.
    assert water.charge("RESIDENTIAL_SINGLE", 16, '5/8"') == Decimal("48.76")
    # Multi-family, 30 ccf: 4 at 2.87, 5 at 4.29, 11 at 6.44, 10 at 10.07.
    assert water.charge("RESIDENTIAL_MULTI", 30, '1"') == Decimal("204.47")
    # Commercial on a 3/4" meter, 388 ccf: 210 at 4.07 and 178 at 10.03.
    assert water.charge("COMMERCIAL", 388, '3/4"') == Decimal("2640.04")
    assert water.charge("RESIDENTIAL_SINGLE", 0, '5/8"') == Decimal("0.00")


def test_sewer_rates_file_matches_builder():
    document = yaml.load(
        (DATA / "sewer_rates.owrs").read_text(encoding="utf-8"), Loader=yaml.BaseLoader
    )
    assert document["metadata"]["bill_unit"] == "kgal"
    assert document["metadata"]["bill_frequency"] == "bimonthly"
    assert document["metadata"]["effective_date"] == "2016-01-01"
    classes = document["rate_structure"]
    assert set(classes) == {"RESIDENTIAL_SINGLE", "RESIDENTIAL_MULTI", "COMMERCIAL"}
    for rates in classes.values():
        assert Decimal(rates["customer_charge"]) == CUSTOMER_CHARGE
        assert Decimal(rates["volume_rate"]) == VOLUME_RATE
        assert int(rates["months_in_cycle"]) == MONTHS_IN_CYCLE
    assert "dwelling_units" in classes["RESIDENTIAL_MULTI"]["service_charge"]
    assert "usage_ccf" in classes["COMMERCIAL"]["volume_charge"]


# --- profiles --------------------------------------------------------------------------


def test_profiles_layout_and_values(profiles):
    rows = list(profiles.values())
    assert list(rows[0]) == [
        "account_id", "water_account", "owner_name", "service_address", "parcel_id",
        "meter_number", "customer_class", "meter_size", "status", "winter_average",
        "dwelling_units",
    ]
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) == {"active", "septic", "exempt", "inactive"}
    assert statuses["active"] > 0.95 * len(rows)
    meters = [row["meter_number"] for row in rows]
    assert all(meter.isdigit() and 8 <= len(meter) <= 10 for meter in meters)
    assert any(meter.startswith("0") for meter in meters)
    assert len(set(meters)) == len(meters)
    for row in rows:
        assert row["account_id"].startswith("SS-"), row["account_id"]
        base, suffix = row["water_account"].split("-")
        assert len(base) == 7, row["water_account"]
        assert len(suffix) == 2, row["water_account"]
        assert len(row["parcel_id"].split("-")) == 3, row["parcel_id"]
        if row["customer_class"] == "RESIDENTIAL_SINGLE":
            assert row["dwelling_units"] == "1"
        elif row["customer_class"] == "RESIDENTIAL_MULTI":
            assert 2 <= int(row["dwelling_units"]) <= 40
        else:
            assert row["dwelling_units"] == ""


def test_owrs_copies_are_yaml():
    folder = DATA / "owrs" / "California"
    files = sorted(folder.rglob("*.owrs"))
    assert 5 <= len(files) <= 7
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "rate_structure" in document, path.name


# --- choosing customers from the full source ------------------------------------------


def write_source(path: Path, rows: list[tuple]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SOURCE_COLUMNS)
    for cust_id, ccf, date, customer_class, code in rows:
        writer.writerow((cust_id, ccf, int(date[5:7]), int(date[:4]), customer_class, date, code))
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))


def test_eligibility_rules(tmp_path):
    rs = "RESIDENTIAL_SINGLE"
    rows = [
        ("11", 20, "2016-01-01", rs, "WASF1"), ("11", 25, "2016-03-01", rs, "WASF1"),
        ("12", 20, "2015-11-01", rs, "WASF2"), ("12", 20, "2016-01-01", rs, "WASF2"),
        ("12", 25, "2016-03-01", rs, "WASF2"),
        # A placeholder id, and an id with two rows for one month (several meters).
        ("0", 20, "2016-01-01", rs, "WASF1"), ("0", 25, "2016-03-01", rs, "WASF1"),
        ("13", 20, "2014-05-01", rs, "WASF1"), ("13", 21, "2014-05-01", rs, "WASF1"),
        ("13", 20, "2016-01-01", rs, "WASF1"), ("13", 25, "2016-03-01", rs, "WASF1"),
        # Rate code of another class, a monthly read, a missing read, a placeholder volume.
        ("14", 20, "2016-01-01", rs, "WAMF1"), ("14", 25, "2016-03-01", rs, "WAMF1"),
        ("15", 20, "2016-01-01", rs, "WASF1"), ("15", 9, "2016-02-01", rs, "WASF1"),
        ("15", 25, "2016-03-01", rs, "WASF1"),
        ("16", 25, "2016-03-01", rs, "WASF1"),
        ("17", 20, "2016-01-01", rs, "WASF1"), ("17", 9999, "2016-03-01", rs, "WASF1"),
        # Empty rate code and an unsampled class.
        ("18", 20, "2016-01-01", rs, ""), ("18", 25, "2016-03-01", rs, ""),
        ("19", 20, "2016-01-01", "IRRIGATION", "WANR1"),
        ("19", 25, "2016-03-01", "IRRIGATION", "WANR1"),
    ]
    source = tmp_path / "usage.csv.gz"
    write_source(source, rows)
    table = read_usage_file(source)
    assert eligible_customers(table) == {"11": rs, "12": rs}


def test_selection_is_seeded_and_keeps_rows(tmp_path):
    rows = []
    for number in range(100, 160):
        rows.append((str(number), number % 7, "2016-01-01", "COMMERCIAL", "WANR2"))
        rows.append((str(number), number % 11, "2016-03-01", "COMMERCIAL", "WANR2"))
        rows.append((str(number), 5, "2016-07-01", "COMMERCIAL", "WANR2"))
    source = tmp_path / "usage.csv.gz"
    write_source(source, rows)
    table = read_usage_file(source)
    sizes = {"COMMERCIAL": 10}
    chosen = select_customers(table, sizes)
    assert chosen == select_customers(table, sizes)
    assert len(chosen) == 10
    assert chosen != select_customers(table, sizes, seed="another seed")
    sliced = slice_rows(table, chosen)
    assert len(sliced.rows) == 20
    assert set(sliced.rows) <= set(table.rows)


def test_next_read_is_optional_and_checked(tmp_path):
    rs = "RESIDENTIAL_SINGLE"
    rows = [
        ("21", 20, "2016-01-01", rs, "WASF1"), ("21", 25, "2016-03-01", rs, "WASF1"),
        ("21", 31, "2016-05-01", rs, "WASF1"),
        ("22", 20, "2016-01-01", rs, "WASF1"), ("22", 25, "2016-03-01", rs, "WASF1"),
        # A May read under another rate code is not this customer's next read.
        ("23", 20, "2016-01-01", rs, "WASF1"), ("23", 25, "2016-03-01", rs, "WASF1"),
        ("23", 40, "2016-05-01", rs, "WASF2"),
        ("24", 20, "2016-01-01", rs, "WASF1"), ("24", 25, "2016-03-01", rs, "WASF1"),
        ("24", 99999, "2016-05-01", rs, "WASF1"),
        ("25", 20, "2016-07-01", rs, "WASF1"),
    ]
    source = tmp_path / "usage.csv.gz"
    write_source(source, rows)
    table = read_usage_file(source)
    assert eligible_customers(table) == {"21": rs, "22": rs, "23": rs, "24": rs}

    sliced = slice_rows(table, ["21", "22", "23", "24"])
    assert len(sliced.rows) == 11
    customers = {customer.cust_id: customer for customer in load_customers(sliced, "slice")}
    assert customers["21"].next_read_ccf == 31
    assert customers["21"].cycle_read_ccf == 25
    assert customers["22"].next_read_ccf is None
    assert customers["23"].next_read_ccf is None
    assert customers["24"].next_read_ccf is None


def test_two_next_reads_are_rejected(tmp_path):
    rs = "RESIDENTIAL_SINGLE"
    rows = [
        ("31", 20, "2016-01-01", rs, "WASF1"), ("31", 25, "2016-03-01", rs, "WASF1"),
        ("31", 30, "2016-05-01", rs, "WASF1"), ("31", 32, "2016-05-01", rs, "WASF1"),
    ]
    source = tmp_path / "usage.csv.gz"
    write_source(source, rows)
    with pytest.raises(InputError) as raised:
        load_customers(read_usage_file(source), "slice")
    assert raised.value.problems[0].code == "sample.usage_reads"
    assert "customer 31" in raised.value.problems[0].message


# --- the second cycle, 2016-05 -----------------------------------------------------------


@pytest.fixture(scope="module")
def next_rows() -> list[dict[str, str]]:
    return read_csv(DATA / NEXT_BILLING_EXPORT, encoding="cp1252")


@pytest.fixture(scope="module")
def next_findings() -> list[dict[str, str]]:
    return read_csv(DATA / NEXT_EXPECTED_FINDINGS)


@pytest.fixture(scope="module")
def corrected() -> list[dict[str, str]]:
    return read_csv(DATA / CORRECTED)


def sewer_totals(rows: list[dict[str, str]]) -> dict[str, dict[str, Decimal]]:
    """Return account -> bill number -> sewer total, bills in file order."""
    bills: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        sewer = Decimal(row["Amount"]) if row["Svc"] == "SW" else Decimal("0")
        totals = bills[row["Acct No"]]
        totals[row["Bill No"]] = totals.get(row["Bill No"], Decimal("0")) + sewer
    return bills


def test_next_export_format(next_rows):
    raw = (DATA / NEXT_BILLING_EXPORT).read_bytes()
    assert next(csv.reader(io.StringIO(raw.decode("cp1252")))) == EXPORT_HEADER
    assert b"\r\n" in raw
    services: dict[str, list[str]] = defaultdict(list)
    for row in next_rows:
        assert row["From"] == "03/01/2016"
        assert row["To"] == "04/30/2016"
        assert row["Bill Date"].startswith("05/")
        assert row["Bill No"].startswith("1605")
        services[row["Bill No"]].append(row["Svc"])
    for bill_number, lines in services.items():
        assert lines[0] == "WA", bill_number
        assert lines.count("WA") == 1, bill_number


def bill_dates(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Return account -> dates of its bills, in file order."""
    dates: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["Svc"] == "WA":
            dates[row["Acct No"]].append(row["Bill Date"])
    return dates


def test_next_cycle_keeps_each_route_day(export_rows, next_rows):
    march, may = bill_dates(export_rows), bill_dates(next_rows)
    # The routes run on March 2, 3, 4, 7 and 8 and on May 2, 3, 4, 5 and 6. A repeat
    # bill comes from the later run of March 21 or May 23.
    route_days = {"03/02": "05/02", "03/03": "05/03", "03/04": "05/04", "03/07": "05/05",
                  "03/08": "05/06", "03/21": "05/23"}
    shared = set(march) & set(may)
    assert len(shared) > 950
    repeats = 0
    for account in shared:
        if len(march[account]) != len(may[account]):
            continue
        for first, second in zip(march[account], may[account], strict=True):
            assert second[:5] == route_days[first[:5]], account
        repeats += len(may[account]) - 1
    assert repeats == 1


def test_mapping_covers_next_rate_codes(next_rows):
    mapping = yaml.safe_load((DATA / MAPPING).read_text(encoding="utf-8"))
    assert {row["Rate Code"] for row in next_rows} <= set(mapping["rate_codes"])


def test_next_usage_comes_from_slice(profiles, next_rows, findings, controls):
    """Each bill carries the customer's May 2016 read, or the March read as an estimate."""
    reads: dict[str, dict[str, int]] = defaultdict(dict)
    codes = {}
    for row in read_csv(DATA / USAGE_SLICE):
        reads[row["cust_id"]][row["usage_date"]] = int(row["usage_ccf"])
        codes[row["cust_id"]] = row["cust_class_from_utility"]
    real = Counter()
    estimated = 0
    for cust_id, by_date in reads.items():
        winter = winter_average_kgal(by_date["2016-01-01"], by_date["2016-03-01"])
        if "2016-05-01" not in by_date:
            estimated += 1
        usage = by_date.get("2016-05-01", by_date["2016-03-01"])
        real[(codes[cust_id], usage, f"{winter:.3f}")] += 1
    assert sum(1 for by_date in reads.values() if "2016-05-01" in by_date) > 600
    assert 300 < estimated < 400

    case_accounts = {row["billed_account"] for row in findings + controls}
    by_water_account = {row["water_account"]: row for row in profiles.values()}
    seen = Counter()
    for row in next_rows:
        profile = by_water_account.get(row["Acct No"])
        if row["Svc"] != "WA" or profile is None or row["Acct No"] in case_accounts:
            continue
        seen[(row["Rate Code"], int(row["Consumption"]), profile["winter_average"])] += 1
    assert sum(seen.values()) > 900
    for key, count in seen.items():
        assert real[key] >= count, key


def test_next_correct_bills_match_hand_charge(profiles, next_rows, findings, controls):
    case_accounts = {row["billed_account"] for row in findings + controls}
    by_water_account = {row["water_account"]: row for row in profiles.values()}
    checked = 0
    for row in next_rows:
        if row["Svc"] != "SW" or row["Acct No"] in case_accounts:
            continue
        profile = by_water_account[row["Acct No"]]
        assert Decimal(row["Amount"]) == hand_sewer_charge(profile, int(row["Consumption"])), (
            row["Acct No"]
        )
        checked += 1
    assert checked > 900


def test_first_findings_split_into_corrected_and_carried(findings, next_findings, corrected):
    first = Counter((row["case_id"], row["finding_type"]) for row in findings)
    carried = Counter((row["case_id"], row["finding_type"]) for row in next_findings)
    fixed = Counter((row["case_id"], row["finding_type"]) for row in corrected)
    assert carried + fixed == first
    assert not set(carried) & set(fixed)
    # About half: 32 of the 64 first-cycle findings are corrected.
    assert len(corrected) == len(findings) // 2
    # A correction fixes the billing; a new account on the same premises stays.
    assert {row["finding_type"] for row in corrected} <= {
        "overbilled", "underbilled", "not_billed", "class_mismatch", "duplicate_bill",
    }
    assert {row["finding_type"] for row in next_findings} == {
        "overbilled", "underbilled", "unknown_customer", "not_billed", "account_changed",
        "owner_changed", "meter_changed", "duplicate_bill",
    }


def test_next_manifest_amounts_by_hand(next_findings, profiles, next_rows):
    consumption = {row["Acct No"]: int(row["Consumption"]) for row in next_rows}
    bills = sewer_totals(next_rows)
    for row in next_findings:
        if row["billed_account"]:
            last_bill_total = list(bills[row["billed_account"]].values())[-1]
            assert Decimal(row["billed_amount"]) == last_bill_total, row["case_id"]
        else:
            assert row["finding_type"] == "not_billed"
            assert row["billed_amount"] == ""
        if row["finding_type"] == "unknown_customer" or row["expected_amount"] == "0.00":
            continue
        profile = profiles[row["account_id"]]
        usage = consumption.get(row["billed_account"], 0)
        assert Decimal(row["expected_amount"]) == hand_sewer_charge(profile, usage), (
            row["case_id"]
        )


def test_carried_amount_findings_keep_direction(next_findings):
    for row in next_findings:
        if row["finding_type"] not in ("overbilled", "underbilled"):
            continue
        difference = Decimal(row["billed_amount"]) - Decimal(row["expected_amount"])
        if row["finding_type"] == "underbilled":
            difference = -difference
        assert difference >= Decimal("1.00"), row["case_id"]


def test_corrected_cases_billed_right(corrected, findings, profiles, next_rows):
    """Every corrected case has one bill with the charge due, or no sewer line if none is due."""
    first_accounts = {row["case_id"]: row["billed_account"] for row in findings
                      if row["billed_account"]}
    lines: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in next_rows:
        lines[row["Acct No"]].append(row)
    for case_id in sorted({row["case_id"] for row in corrected}):
        profile = profiles[next(r["account_id"] for r in corrected if r["case_id"] == case_id)]
        account = first_accounts.get(case_id, profile["water_account"])
        bill_lines = lines[account]
        assert len({row["Bill No"] for row in bill_lines}) == 1, case_id
        sewer = [Decimal(row["Amount"]) for row in bill_lines if row["Svc"] == "SW"]
        if profile["status"] != "active":
            assert sewer == [], case_id
            continue
        assert sewer == [hand_sewer_charge(profile, int(bill_lines[0]["Consumption"]))], case_id
        prefix = {"RESIDENTIAL_SINGLE": "WASF", "RESIDENTIAL_MULTI": "WAMF",
                  "COMMERCIAL": "WANR"}[profile["customer_class"]]
        assert bill_lines[0]["Rate Code"].startswith(prefix), case_id


def test_recovered_amounts_by_hand(corrected, findings):
    first = {(row["case_id"], row["finding_type"]): row for row in findings}
    for row in corrected:
        found = first[(row["case_id"], row["finding_type"])]
        expected = Decimal(found["expected_amount"] or "0")
        billed = Decimal(found["billed_amount"] or "0")
        if row["finding_type"] == "not_billed":
            at_stake = expected
        elif row["finding_type"] == "class_mismatch":
            at_stake = Decimal("0.00")
        else:
            at_stake = abs(billed - expected)
        assert Decimal(row["recovered_amount"]) == at_stake, row["case_id"]
        assert row["account_id"] == found["account_id"]
        assert row["billed_account"] == found["billed_account"]


def test_next_audit_finds_next_manifest(next_findings):
    files = sample_files()
    result = run_audit(
        profiles_path=files.profiles, billing_path=files.next_billing, rates_path=files.rates,
        mapping_path=files.mapping, config=AuditConfig(cycle=NEXT_CYCLE),
    )

    def key(ftype, account, billed_account, method, expected, billed):
        return (ftype, account or "", billed_account or "", method,
                None if expected in (None, "") else Decimal(str(expected)),
                None if billed in (None, "") else Decimal(str(billed)))

    found = sorted(key(*row) for row in result.findings.select(
        "finding_type", "account_id", "billed_account", "match_method", "expected_amount",
        "billed_amount",
    ).iter_rows())
    manifest = sorted(
        key(row["finding_type"], row["account_id"], row["billed_account"],
            row["match_method"], row["expected_amount"], row["billed_amount"])
        for row in next_findings
    )
    assert found == manifest


def test_build_summary_counts_next_cycle(tmp_path):
    summary = build_sample(tmp_path)
    assert summary.corrected + summary.next_findings == summary.findings
    assert summary.corrected == 32
    assert summary.next_bills == len({
        row["Bill No"] for row in read_csv(tmp_path / NEXT_BILLING_EXPORT, encoding="cp1252")
    })
    assert 300 < summary.estimated_reads < 400

"""Imports: the stored original, duplicates, size limit, all-or-nothing storing, profiles."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.imports import actions, charges
from sewerline.apps.imports import copy as pg_copy
from sewerline.apps.imports.actions import DuplicateImport, create_import, run_import
from sewerline.apps.imports.models import BilledCharge, ImportKind, ImportStatus
from sewerline.apps.profiles.models import Account
from sewerline.engine.errors import InputError
from sewerline.engine.ingest import load_mapping, read_billing, read_profiles
from sewerline.engine.schema import Billed, Profile

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"

BILLING_CSV = (
    "Acct No,Customer Name,Rate Code,Consumption,Sewer Amount,From,To\n"
    "000123,SMITH JOHN,WASF1,7,$45.10,01/01/2024,01/31/2024\n"
    '000124,"O\'BRIEN, PAT",WANR5,"1,250.5","$1,234.50",01/01/2024,01/31/2024\n'
    "000125,LEE ANN,WASF1,0.125,(12.50),01/01/2024,01/31/2024\n"
    "000126,,,3.25,0,01/01/2024,01/31/2024\n"
)
BILLING_MAPPING = """\
layout: per_bill
columns:
  billed_account: "Acct No"
  customer_name: "Customer Name"
  rate_code: "Rate Code"
  usage: "Consumption"
  billed_amount: "Sewer Amount"
  period_start: "From"
  period_end: "To"
usage_unit: ccf
date_format: "%m/%d/%Y"
rate_codes:
  WASF1: RESIDENTIAL_SINGLE
  WANR5: COMMERCIAL
"""
PROFILES_CSV = (
    "account_id,water_account,owner_name,customer_class,status,winter_average,"
    "dwelling_units,Outside_City\n"
    "S-1,000123,SMITH JOHN,RESIDENTIAL_SINGLE,Active,4.5,1,N\n"
    "S-2,000124,O'BRIEN PAT,COMMERCIAL,active,,,Y\n"
    "S-3,000125,LEE ANN,RESIDENTIAL_SINGLE,septic,\"1,200\",2,N\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def clerk():
    user = User.objects.create_user("ana", password="x")
    user.groups.add(Group.objects.get_or_create(name=Role.BILLING_CLERK.value)[0])
    return user


@pytest.fixture
def entity():
    return BillingEntity.objects.create(name="Westfield Water", code="westfield")


@pytest.fixture
def cycle(entity):
    return BillingCycle.objects.create(entity=entity, code="2024-01")


def upload(text: str, name: str = "export.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def billing_import(clerk, entity, cycle, text=BILLING_CSV, mapping=BILLING_MAPPING, **kwargs):
    return create_import(clerk, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                         uploaded_file=upload(text), mapping_text=mapping, **kwargs)


def engine_read(tmp_path: Path, text: str, mapping: str) -> pl.DataFrame:
    data = tmp_path / "engine.csv"
    data.write_text(text, encoding="utf-8")
    mapping_path = tmp_path / "engine.yaml"
    mapping_path.write_text(mapping, encoding="utf-8")
    return read_billing(data, load_mapping(mapping_path))


# Upload --------------------------------------------------------------------------------

def test_create_keeps_original_and_sha256(clerk, entity, cycle):
    batch = billing_import(clerk, entity, cycle)
    expected = hashlib.sha256(BILLING_CSV.encode("utf-8")).hexdigest()
    assert batch.sha256 == expected
    assert batch.size_bytes == len(BILLING_CSV.encode("utf-8"))
    assert batch.file_name == "export.csv"
    assert batch.status == ImportStatus.PENDING
    assert Path(batch.original.path).read_text(encoding="utf-8") == BILLING_CSV
    assert batch.created_by == clerk
    assert ChangeRecord.objects.filter(object_type="imports.importbatch",
                                       object_id=str(batch.pk), action="created").exists()


def test_duplicate_file_is_refused(clerk, entity, cycle):
    first = billing_import(clerk, entity, cycle)
    with pytest.raises(DuplicateImport) as refused:
        billing_import(clerk, entity, cycle)
    message = str(refused.value)
    assert refused.value.earlier == first
    assert f"import {first.pk}" in message
    assert "by ana" in message
    assert first.created_at.astimezone().strftime("%Y-%m-%d") in message
    assert entity.imports.count() == 1


def test_forced_duplicate_is_accepted(clerk, entity, cycle):
    billing_import(clerk, entity, cycle)
    second = billing_import(clerk, entity, cycle, force=True)
    assert second.forced
    assert entity.imports.count() == 2


def test_duplicate_of_failed_import_is_accepted(clerk, entity, cycle):
    first = billing_import(clerk, entity, cycle, mapping="layout: per_bill\n")
    assert run_import(first.pk).status == ImportStatus.FAILED
    second = billing_import(clerk, entity, cycle)
    assert not second.forced


def test_same_file_for_other_entity_is_accepted(clerk, entity, cycle):
    billing_import(clerk, entity, cycle)
    other = BillingEntity.objects.create(name="Eastfield Water", code="eastfield")
    other_cycle = BillingCycle.objects.create(entity=other, code="2024-01")
    assert billing_import(clerk, other, other_cycle).entity == other


def test_file_over_size_limit_is_refused(settings, clerk, entity, cycle):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = "Acct No,Sewer Amount\n" + "000123,45.10\n" * 90_000
    assert len(big) > settings.UPLOAD_MAX_BYTES
    with pytest.raises(InputError) as refused:
        billing_import(clerk, entity, cycle, text=big)
    problem = refused.value.problems[0]
    assert problem.code == "file_too_large"
    assert "limit of 1 MB" in problem.message
    assert entity.imports.count() == 0


def test_unsupported_file_type_is_refused(clerk, entity, cycle):
    with pytest.raises(InputError) as refused:
        create_import(clerk, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                      uploaded_file=upload(BILLING_CSV, "export.pdf"), mapping_text="")
    assert refused.value.problems[0].code == "unsupported_file"


def test_billing_export_needs_cycle_of_entity(clerk, entity):
    other = BillingEntity.objects.create(name="Eastfield Water", code="eastfield")
    foreign_cycle = BillingCycle.objects.create(entity=other, code="2024-01")
    with pytest.raises(InputError) as refused:
        billing_import(clerk, entity, foreign_cycle)
    assert [problem.code for problem in refused.value.problems] == ["invalid_value"]
    with pytest.raises(InputError):
        billing_import(clerk, entity, None)


# Storing bills -------------------------------------------------------------------------

def test_run_import_stores_every_bill(clerk, entity, cycle):
    batch = run_import(billing_import(clerk, entity, cycle).pk)
    assert batch.status == ImportStatus.DONE
    assert batch.rows_read == 4
    assert batch.rows_stored == 4
    assert batch.problems == []
    charges_by_account = {charge.billed_account: charge for charge in cycle.charges.all()}
    assert set(charges_by_account) == {"000123", "000124", "000125", "000126"}

    obrien = charges_by_account["000124"]
    assert obrien.customer_name == "O'BRIEN, PAT"
    assert obrien.billed_amount == Decimal("1234.50")
    # 1,250.5 ccf x 748.052 gallons per ccf
    assert obrien.usage_gal == Decimal("935439.026")
    assert obrien.billed_class == "COMMERCIAL"
    assert obrien.period_end == dt.date(2024, 1, 31)
    assert obrien.source_row == 3
    # 0.125 ccf x 748.052 = 93.5065 gallons: more than 3 decimals, kept whole.
    assert charges_by_account["000125"].usage_gal == Decimal("93.5065")
    assert charges_by_account["000125"].billed_amount == Decimal("-12.50")
    assert charges_by_account["000126"].customer_name == ""


def test_summary_counts_bills_and_total(clerk, entity, cycle):
    batch = run_import(billing_import(clerk, entity, cycle).pk)
    # 45.10 + 1,234.50 - 12.50 + 0
    assert batch.summary["billed_total"] == "1267.10"
    assert batch.summary["bills"] == 4
    assert batch.summary["period_from"] == "2024-01-01"
    assert ["RESIDENTIAL_SINGLE", 2] in batch.summary["classes"]


def test_billed_frame_equals_engine_read(tmp_path, clerk, entity, cycle):
    run_import(billing_import(clerk, entity, cycle).pk)
    stored = actions.billed_frame(cycle)
    read = engine_read(tmp_path, BILLING_CSV, BILLING_MAPPING)
    assert stored.schema == pl.Schema(Billed.SCHEMA)
    assert stored.equals(read)


def test_billed_frame_leaves_out_failed_and_other_cycles(clerk, entity, cycle):
    run_import(billing_import(clerk, entity, cycle).pk)
    other_cycle = BillingCycle.objects.create(entity=entity, code="2024-02")
    other_text = "Acct No,Sewer Amount\n000999,1.00\n"
    other_mapping = "layout: per_bill\ncolumns: {billed_account: Acct No, " \
                    "billed_amount: Sewer Amount}\n"
    run_import(billing_import(clerk, entity, other_cycle, text=other_text,
                              mapping=other_mapping).pk)
    frame = actions.billed_frame(cycle)
    assert frame.height == 4
    assert actions.billed_frame(other_cycle).get_column(Billed.ACCOUNT).to_list() == ["000999"]


def test_bad_values_are_stored_as_problems(clerk, entity, cycle):
    text = BILLING_CSV.replace("$45.10", "45.1O")
    batch = run_import(billing_import(clerk, entity, cycle, text=text).pk)
    assert batch.status == ImportStatus.FAILED
    assert BilledCharge.objects.count() == 0
    problem = batch.problems[0]
    assert problem["row"] == 2
    assert problem["column"] == "Sewer Amount"
    assert problem["value"] == "45.1O"
    assert problem["file"] == "export.csv"
    assert problem["message"] == "invalid amount"
    assert problem["hint"]


def test_mapping_problem_names_mapping_file(clerk, entity, cycle):
    mapping = BILLING_MAPPING.replace("billed_amount:", "billed_amont:")
    batch = run_import(billing_import(clerk, entity, cycle, mapping=mapping).pk)
    assert batch.status == ImportStatus.FAILED
    files = {problem["file"] for problem in batch.problems}
    assert files == {"mapping.yaml"}
    assert any("billed_amount" in (problem["hint"] or "") for problem in batch.problems)
    assert not any("/" in (problem["message"] or "") for problem in batch.problems)


def test_value_too_long_for_column_is_a_problem(clerk, entity, cycle):
    text = BILLING_CSV.replace("000125", "9" * 41)
    batch = run_import(billing_import(clerk, entity, cycle, text=text).pk)
    assert batch.status == ImportStatus.FAILED
    assert batch.problems[0]["code"] == "too_long"
    assert batch.problems[0]["row"] == 4
    assert batch.problems[0]["column"] == "Acct No"


def test_fraction_of_cent_is_a_problem(clerk, entity, cycle):
    text = BILLING_CSV.replace("$45.10", "45.105")
    batch = run_import(billing_import(clerk, entity, cycle, text=text).pk)
    assert batch.status == ImportStatus.FAILED
    assert batch.problems[0]["code"] == "fraction_of_cent"
    assert batch.problems[0]["value"] == "45.105"


def test_failure_midway_leaves_no_rows(monkeypatch, clerk, entity, cycle):
    run_import(billing_import(clerk, entity, cycle).pk)
    stored_before = BilledCharge.objects.count()
    calls = []

    if ON_POSTGRES:
        real_write = pg_copy.write_chunk
        monkeypatch.setattr(pg_copy, "CHUNK_ROWS", 2)

        def failing_write(copy, chunk):
            calls.append(chunk.height)
            if len(calls) > 1:
                raise RuntimeError("disk full")
            real_write(copy, chunk)

        monkeypatch.setattr(pg_copy, "write_chunk", failing_write)
    else:
        real_insert = charges.insert_chunk
        monkeypatch.setattr(charges, "BULK_ROWS", 2)

        def failing_write(chunk, batch):
            calls.append(chunk.height)
            if len(calls) > 1:
                raise RuntimeError("disk full")
            real_insert(chunk, batch)

        monkeypatch.setattr(charges, "insert_chunk", failing_write)

    batch = run_import(billing_import(clerk, entity, cycle, force=True).pk)
    assert calls == [2, 2]
    assert batch.status == ImportStatus.FAILED
    assert "disk full" in batch.problems[0]["message"]
    assert BilledCharge.objects.count() == stored_before
    assert not batch.charges.exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="COPY exists only on PostgreSQL")
def test_postgres_stores_with_copy(monkeypatch, clerk, entity, cycle):
    chunks = []
    real_write = pg_copy.write_chunk

    def spy(copy, chunk):
        chunks.append(chunk.height)
        real_write(copy, chunk)

    monkeypatch.setattr(pg_copy, "write_chunk", spy)
    monkeypatch.setattr(charges, "insert_chunk", None)   # the bulk path would fail
    batch = run_import(billing_import(clerk, entity, cycle).pk)
    assert batch.status == ImportStatus.DONE
    assert chunks == [4]
    assert BilledCharge.objects.filter(batch=batch).count() == 4


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite has no COPY")
def test_sqlite_stores_with_bulk_insert(monkeypatch, clerk, entity, cycle):
    monkeypatch.setattr(pg_copy, "write_chunk", None)   # the COPY path would fail
    batch = run_import(billing_import(clerk, entity, cycle).pk)
    assert batch.status == ImportStatus.DONE
    assert batch.charges.count() == 4


def test_import_runs_only_once(clerk, entity, cycle):
    batch = billing_import(clerk, entity, cycle)
    run_import(batch.pk)
    again = run_import(batch.pk)
    assert again.status == ImportStatus.DONE
    assert BilledCharge.objects.count() == 4


def test_per_line_export_is_folded_into_bills(clerk, entity, cycle):
    text = (Path(__file__).parents[1] / "data/ingest/billing_per_line.csv").read_text()
    mapping = (Path(__file__).parents[1] / "data/ingest/mapping_per_line.yaml").read_text()
    batch = run_import(billing_import(clerk, entity, cycle, text=text, mapping=mapping).pk)
    assert batch.status == ImportStatus.DONE, batch.problems
    amounts = dict(cycle.charges.values_list("bill_number", "billed_amount"))
    # B3 has two sewer lines: (12.50) + 10.00; B2 has none.
    assert amounts == {"B1": Decimal("45.10"), "B2": Decimal("0"), "B3": Decimal("-2.50"),
                       "B4": Decimal("1000.00")}
    assert cycle.charges.get(bill_number="B3").sewer_lines == 2


# Profiles ------------------------------------------------------------------------------

def write_profiles(tmp_path: Path, text: str, name: str = "profiles.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_profiles_import_creates_accounts(tmp_path, clerk, entity):
    batch = actions.import_profiles_file(clerk, entity, write_profiles(tmp_path, PROFILES_CSV))
    assert batch.status == ImportStatus.DONE, batch.problems
    assert batch.summary["new"] == 3
    smith = Account.objects.get(account_id="S-1")
    assert smith.entity == entity
    assert smith.status == "active"
    assert smith.winter_average == Decimal("4.500")
    assert smith.dwelling_units == Decimal("1")
    assert smith.extra == {"outside_city": "N"}
    assert Account.objects.get(account_id="S-3").winter_average == Decimal("1200.000")
    assert Account.objects.get(account_id="S-2").winter_average is None

    created = ChangeRecord.objects.get(object_type="profiles.account",
                                       object_id=str(smith.pk))
    assert created.action == "created"
    assert created.actor == clerk
    assert created.changes["winter_average"] == [None, "4.500"]
    assert created.changes["extra.outside_city"] == [None, "N"]


def test_profiles_reimport_records_old_and_new(tmp_path, clerk, entity):
    actions.import_profiles_file(clerk, entity, write_profiles(tmp_path, PROFILES_CSV))
    changed = (PROFILES_CSV.replace("Active,4.5,1,N", "Active,3.95,1,N")
               .replace("COMMERCIAL,active,,,Y", "COMMERCIAL,inactive,,,N"))
    batch = actions.import_profiles_file(clerk, entity,
                                         write_profiles(tmp_path, changed, "second.csv"))
    assert batch.status == ImportStatus.DONE, batch.problems
    assert batch.summary == {"accounts": 3, "new": 0, "changed": 2, "unchanged": 1,
                             "not_in_file": 0}

    updates = ChangeRecord.objects.filter(object_type="profiles.account", action="updated")
    by_account = {record.object_id: record.changes for record in updates}
    smith = Account.objects.get(account_id="S-1")
    obrien = Account.objects.get(account_id="S-2")
    assert by_account == {
        str(smith.pk): {"winter_average": ["4.500", "3.950"]},
        str(obrien.pk): {"status": ["active", "inactive"],
                         "extra.outside_city": ["Y", "N"]},
    }
    assert smith.winter_average == Decimal("3.950")
    assert obrien.status == "inactive"


def test_profile_of_other_entity_is_refused(tmp_path, clerk, entity):
    other = BillingEntity.objects.create(name="Eastfield Water", code="eastfield")
    Account.objects.create(entity=other, account_id="S-2", customer_class="COMMERCIAL")
    batch = actions.import_profiles_file(clerk, entity, write_profiles(tmp_path, PROFILES_CSV))
    assert batch.status == ImportStatus.FAILED
    assert batch.problems[0]["code"] == "account_of_other_entity"
    assert batch.problems[0]["row"] == 3
    assert Account.objects.filter(entity=entity).count() == 0


def test_bad_profile_file_stores_nothing(tmp_path, clerk, entity):
    text = PROFILES_CSV + "S-4,,,COMMERCIAL,closed,,,N\n"
    batch = actions.import_profiles_file(clerk, entity, write_profiles(tmp_path, text))
    assert batch.status == ImportStatus.FAILED
    assert batch.problems[0]["row"] == 5
    assert batch.problems[0]["column"] == "status"
    assert Account.objects.count() == 0


def test_profiles_frame_matches_engine_read(tmp_path, clerk, entity):
    path = write_profiles(tmp_path, PROFILES_CSV)
    actions.import_profiles_file(clerk, entity, path)
    stored = actions.profiles_frame(entity)
    read = read_profiles(path)

    assert list(stored.columns) == [*Profile.SCHEMA, "outside_city"]
    for name, dtype in Profile.SCHEMA.items():
        assert stored.schema[name] == dtype, name
    assert stored.get_column("source_row").null_count() == 3
    # Everything but the file's row numbers comes back as the engine read it.
    assert stored.drop("source_row").equals(read.drop("source_row"))


def test_profiles_frame_of_all_entities(tmp_path, clerk, entity):
    actions.import_profiles_file(clerk, entity, write_profiles(tmp_path, PROFILES_CSV))
    other = BillingEntity.objects.create(name="Eastfield Water", code="eastfield")
    Account.objects.create(entity=other, account_id="E-1", customer_class="COMMERCIAL",
                           extra={"bod_mg_l": "250"})
    everyone = actions.profiles_frame()
    assert everyone.get_column("account_id").to_list() == ["E-1", "S-1", "S-2", "S-3"]
    assert everyone.get_column("bod_mg_l").to_list() == ["250", None, None, None]
    assert actions.profiles_frame(other).height == 1

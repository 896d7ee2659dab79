"""The REST API: token login, lists and filters, uploads, audits and status changes.

`build_world` stores a small utility: one entity with three accounts, a cycle of bills,
a published rate version, an import, and a finished audit run with findings and a
discrepancy. The permission matrix and the schema test use it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from sewerline.apps.entities.models import BillingEntity, Contact, SavedMapping
from sewerline.apps.imports.models import BilledCharge, ImportBatch, ImportStatus
from sewerline.apps.jobs.models import Job, JobStatus
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion

pytestmark = pytest.mark.django_db

# Monthly sewer charge: $20.00 plus $5.00 per kgal of the month's water use.
RATES = """\
metadata:
  effective_date: 2016-01-01
  utility_name: Westfield Sewer District
  bill_frequency: monthly
  bill_unit: kgal
rate_structure:
  RESIDENTIAL_SINGLE:
    service_charge: 20.00
    volume_rate: 5.00
    volume_charge: volume_rate * usage_ccf
    bill: service_charge + volume_charge
"""

RATES_2017 = RATES.replace("2016-01-01", "2017-01-01").replace("5.00", "5.50")

# A per-bill export of three bills, with the mapping that reads it.
BILLING_CSV = """\
Account,Name,Address,Meter,Rate,Usage,Sewer,From,To
0012345-01,"GARCIA, MARIA",1234 OCEAN PARK BLVD,48213377,R1,4000,40.00,01/01/2016,01/31/2016
0012346-01,"NGUYEN, THANH",88 PIER AVE,48213378,R1,6000,35.00,01/01/2016,01/31/2016
0099999-01,"DOE, JANE",5 ELM ST,77000001,R1,3000,35.00,01/01/2016,01/31/2016
"""

BILLING_MAPPING = """\
layout: per_bill
columns:
  billed_account: Account
  customer_name: Name
  service_address: Address
  meter_number: Meter
  rate_code: Rate
  usage: Usage
  billed_amount: Sewer
  period_start: From
  period_end: To
usage_unit: gallons
date_format: "%m/%d/%Y"
rate_codes:
  R1: RESIDENTIAL_SINGLE
"""

PASSWORD = "correct horse battery"


@dataclass
class World:
    """The stored objects of the test utility, by what they are."""

    users: dict[str, User]      # role value -> user; "no_role" -> a user in no group
    entity: BillingEntity
    other_entity: BillingEntity
    cycle: BillingCycle
    other_cycle: BillingCycle
    accounts: list[Account]
    contact: Contact
    mapping: SavedMapping
    schedule: RateSchedule
    version: RateScheduleVersion        # published, effective 2016-01-01
    draft: RateScheduleVersion          # not published, effective 2017-01-01
    batch: ImportBatch
    import_job: Job
    charges: list[BilledCharge]
    run: AuditRun
    audit_job: Job
    findings: list[Finding]
    discrepancy: Discrepancy


def build_world() -> World:
    """Store the test utility and one user per role (named after the role)."""
    users = {}
    for role in Role:
        user = User.objects.create_user(role.value, password=PASSWORD)
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        users[role.value] = user
    users["no_role"] = User.objects.create_user("no_role", password=PASSWORD)

    entity = BillingEntity.objects.create(name="Westfield Water Department", code="westfield",
                                          collection_fee_percent=Decimal("3.00"))
    other_entity = BillingEntity.objects.create(name="Eastport Water", code="eastport")
    cycle = BillingCycle.objects.create(
        entity=entity, code="2016-01", period_start=dt.date(2016, 1, 1),
        period_end=dt.date(2016, 1, 31), bill_date=dt.date(2016, 2, 8),
        budget=Decimal("240000.00"))
    other_cycle = BillingCycle.objects.create(entity=other_entity, code="2016-01")
    contact = Contact.objects.create(entity=entity, name="Lee Park", email="lee@example.org")
    mapping = SavedMapping.objects.create(entity=entity, name="Monthly export",
                                          text=BILLING_MAPPING)

    accounts = [
        Account.objects.create(
            entity=entity, account_id="SS-000101", water_account="0012345-01",
            owner_name="GARCIA, MARIA", service_address="1234 OCEAN PARK BLVD",
            meter_number="48213377", customer_class="RESIDENTIAL_SINGLE",
            winter_average=Decimal("4.000"), dwelling_units=Decimal("1")),
        Account.objects.create(
            entity=entity, account_id="SS-000102", water_account="0012346-01",
            owner_name="NGUYEN, THANH", service_address="88 PIER AVE",
            meter_number="48213378", customer_class="RESIDENTIAL_SINGLE",
            winter_average=Decimal("5.500"), dwelling_units=Decimal("1")),
        Account.objects.create(
            entity=entity, account_id="SS-000103", water_account="0012347-01",
            owner_name="OKAFOR, ADA", service_address="17 MAIN ST", meter_number="59000001",
            customer_class="RESIDENTIAL_SINGLE", status="septic"),
    ]

    schedule = RateSchedule.objects.create(name="Sewer rates (Ordinance 2225)")
    version = RateScheduleVersion.objects.create(
        schedule=schedule, effective_date=dt.date(2016, 1, 1), text=RATES,
        file_name="sewer_rates.owrs", published=True)
    draft = RateScheduleVersion.objects.create(
        schedule=schedule, effective_date=dt.date(2017, 1, 1), text=RATES_2017,
        file_name="sewer_rates_2017.owrs")

    now = timezone.now()
    batch = ImportBatch.objects.create(
        kind="billing", entity=entity, cycle=cycle, original="imports/westfield-2016-01.csv",
        file_name="westfield-2016-01.csv",
        sha256=hashlib.sha256(BILLING_CSV.encode()).hexdigest(), size_bytes=len(BILLING_CSV),
        mapping_text=BILLING_MAPPING, status=ImportStatus.DONE, rows_read=3, rows_stored=3,
        problems=[{"code": "bad_date", "message": "the date is not a date", "file":
                   "westfield-2016-01.csv", "row": 7, "line": None, "column": "From",
                   "value": "13/45/2016", "expected": "%m/%d/%Y", "hint": "Fix the date."}],
        created_by=users[Role.BILLING_CLERK], finished_at=now)
    import_job = Job.objects.create(
        kind="import", status=JobStatus.DONE, progress=100, step="done",
        object_type="imports.importbatch", object_id=str(batch.pk),
        created_by=users[Role.BILLING_CLERK], started_at=now, finished_at=now)
    charges = [
        BilledCharge.objects.create(
            batch=batch, cycle=cycle, source_row=row, billed_account=account, customer_name=name,
            meter_number=meter, rate_code="R1", billed_class="RESIDENTIAL_SINGLE",
            usage_gal=Decimal(gallons), billed_amount=Decimal(amount),
            period_start=dt.date(2016, 1, 1), period_end=dt.date(2016, 1, 31))
        for row, account, name, meter, gallons, amount in [
            (2, "0012345-01", "GARCIA, MARIA", "48213377", "4000", "40.00"),
            (3, "0012346-01", "NGUYEN, THANH", "48213378", "6000", "35.00"),
            (4, "0099999-01", "DOE, JANE", "77000001", "3000", "35.00"),
        ]
    ]

    audit_job = Job.objects.create(
        kind="audit", status=JobStatus.DONE, progress=100, step="done",
        object_type="audits.auditrun", created_by=users[Role.AUDITOR],
        started_at=now, finished_at=now)
    run = AuditRun.objects.create(
        cycle=cycle, rate_version=version, job=audit_job, billed_total=Decimal("110.00"),
        expected_total=Decimal("90.00"), at_stake_total=Decimal("50.00"),
        totals={"count_by_type": {"underbilled": 1, "unknown_customer": 1}},
        bills=3, profiles=3, matched=2, created_by=users[Role.AUDITOR], finished_at=now)
    Job.objects.filter(pk=audit_job.pk).update(object_id=str(run.pk))
    discrepancy = Discrepancy.objects.create(
        entity=entity, finding_type="underbilled", key="SS-000102", account=accounts[1],
        first_cycle=cycle, last_cycle=cycle, revenue_at_stake=Decimal("15.00"))
    DiscrepancyEvent.objects.create(discrepancy=discrepancy, cycle=cycle, new_status="open",
                                    note="found by audit run")
    findings = [
        Finding.objects.create(
            run=run, finding_type="underbilled", account=accounts[1], charge=charges[1],
            billed_account="0012346-01", expected_amount=Decimal("50.00"),
            billed_amount=Decimal("35.00"), difference=Decimal("-15.00"),
            revenue_at_stake=Decimal("15.00"), match_method="account",
            discrepancy=discrepancy),
        Finding.objects.create(
            run=run, finding_type="unknown_customer", charge=charges[2],
            billed_account="0099999-01", billed_amount=Decimal("35.00"),
            revenue_at_stake=Decimal("35.00"), match_method="none"),
    ]
    return World(users=users, entity=entity, other_entity=other_entity, cycle=cycle,
                 other_cycle=other_cycle, accounts=accounts, contact=contact, mapping=mapping,
                 schedule=schedule, version=version, draft=draft, batch=batch,
                 import_job=import_job, charges=charges, run=run, audit_job=audit_job,
                 findings=findings, discrepancy=discrepancy)


@pytest.fixture
def world() -> World:
    return build_world()


def client_for(user: User) -> APIClient:
    """Return an API client signed in with the user's token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def admin(world) -> APIClient:
    return client_for(world.users[Role.ADMINISTRATOR])


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


# ---- authentication -----------------------------------------------------------------

def test_token_grants_access(world):
    response = client_for(world.users[Role.READ_ONLY]).get("/api/entities/")
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_missing_token_is_401(world):
    response = APIClient().get("/api/entities/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_wrong_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/entities/").status_code == 401


def test_session_login_works_too(world, client):
    client.force_login(world.users[Role.CUSTOMER_SERVICE])
    assert client.get("/api/accounts/").status_code == 200


def test_user_without_role_is_403(world):
    response = client_for(world.users["no_role"]).get("/api/entities/")
    assert response.status_code == 403
    assert "view capability" in response.json()["detail"]


def test_write_to_read_only_endpoint_is_403(world, admin):
    response = admin.post("/api/findings/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "This endpoint is read-only."


def test_inactive_user_is_refused(world):
    user = world.users[Role.ADMINISTRATOR]
    client = client_for(user)
    user.is_active = False
    user.save()
    assert client.get("/api/entities/").status_code == 401


# ---- reference data -----------------------------------------------------------------

def test_entity_detail(world, admin):
    body = admin.get(f"/api/entities/{world.entity.pk}/").json()
    assert body["code"] == "westfield"
    assert body["collection_fee_percent"] == "3.00"


def test_unknown_id_is_404(world, admin):
    assert admin.get("/api/entities/999999/").status_code == 404
    assert admin.get("/api/entities/westfield/").status_code == 404


def test_cycles_filter_by_entity(world, admin):
    response = admin.get("/api/cycles/", {"entity": world.other_entity.pk})
    assert ids(response) == [world.other_cycle.pk]
    assert response.json()["results"][0]["entity_code"] == "eastport"


@pytest.mark.parametrize(("text", "expected"), [
    ("ss-000102", ["SS-000102"]),          # account id, any case
    ("okafor", ["SS-000103"]),             # owner name
    ("ocean park", ["SS-000101"]),         # service address
    ("4821337", ["SS-000101", "SS-000102"]),   # meter numbers 48213377 and 48213378
    ("0012347", ["SS-000103"]),            # water account
    ("nobody", []),
])
def test_account_search(world, admin, text, expected):
    response = admin.get("/api/accounts/", {"search": text})
    assert response.status_code == 200
    assert [item["account_id"] for item in response.json()["results"]] == expected


def test_account_filters_by_status(world, admin):
    response = admin.get("/api/accounts/", {"status": "septic"})
    assert [item["account_id"] for item in response.json()["results"]] == ["SS-000103"]


def test_account_decimals_are_strings(world, admin):
    body = admin.get(f"/api/accounts/{world.accounts[1].pk}/").json()
    assert body["winter_average"] == "5.500"
    assert body["entity_code"] == "westfield"


def test_bad_filter_value_is_400(world, admin):
    response = admin.get("/api/accounts/", {"status": "sold"})
    assert response.status_code == 400
    assert "status" in response.json()
    assert admin.get("/api/findings/", {"run": "abc"}).status_code == 400
    assert admin.get("/api/findings/", {"run": str(2**70)}).status_code == 400


def test_pagination_pages_and_size(world, admin):
    first = admin.get("/api/accounts/", {"page_size": 2}).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"].endswith("page=2&page_size=2")
    second = admin.get("/api/accounts/", {"page_size": 2, "page": 2}).json()
    assert [item["account_id"] for item in second["results"]] == ["SS-000103"]
    assert admin.get("/api/accounts/", {"page": 9}).status_code == 404


# ---- account changes ----------------------------------------------------------------

def test_clerk_updates_winter_average(world):
    account = world.accounts[0]
    clerk = client_for(world.users[Role.BILLING_CLERK])
    response = clerk.patch(f"/api/accounts/{account.pk}/",
                           {"winter_average": "3.95", "meter_number": "48213399"},
                           format="json")
    assert response.status_code == 200
    assert response.json()["winter_average"] == "3.950"

    account.refresh_from_db()
    assert account.winter_average == Decimal("3.950")
    assert account.meter_number == "48213399"
    record = ChangeRecord.objects.get(object_type="profiles.account", object_id=str(account.pk))
    assert record.actor == world.users[Role.BILLING_CLERK]
    assert record.changes["winter_average"] == ["4.000", "3.950"]
    assert record.changes["meter_number"] == ["48213377", "48213399"]


def test_auditor_cannot_update_account(world):
    auditor = client_for(world.users[Role.AUDITOR])
    response = auditor.patch(f"/api/accounts/{world.accounts[0].pk}/",
                             {"owner_name": "X"}, format="json")
    assert response.status_code == 403
    assert "manage_profiles capability" in response.json()["detail"]
    world.accounts[0].refresh_from_db()
    assert world.accounts[0].owner_name == "GARCIA, MARIA"


@pytest.mark.parametrize("body", [
    {"winter_average": "-1"},
    {"winter_average": "many"},
    {"status": "sold"},
    {"extra": ["not", "an", "object"]},
    {"extra": {"outside_city": {"nested": True}}},
    {"account_id": "SS-999999"},
    {"entity": 2},
])
def test_invalid_account_change_is_400(world, admin, body):
    account = world.accounts[0]
    response = admin.patch(f"/api/accounts/{account.pk}/", body, format="json")
    assert response.status_code == 400
    assert set(body) <= set(response.json())
    assert not ChangeRecord.objects.filter(object_type="profiles.account").exists()


def test_put_is_not_offered(world, admin):
    response = admin.put(f"/api/accounts/{world.accounts[0].pk}/", {}, format="json")
    assert response.status_code == 405


# ---- rates ----------------------------------------------------------------------------

def rate_file(text: str, name: str = "sewer_rates.owrs") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="application/x-yaml")


def test_upload_rate_version(world):
    auditor = client_for(world.users[Role.AUDITOR])
    upload = RATES.replace("2016-01-01", "2018-07-01")
    response = auditor.post(f"/api/rate-schedules/{world.schedule.pk}/versions/",
                            {"file": rate_file(upload, "rates_2018.owrs")}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["effective_date"] == "2018-07-01"
    assert body["published"] is False
    assert body["file_name"] == "rates_2018.owrs"
    assert body["uploaded_by"] == "auditor"
    assert RateScheduleVersion.objects.get(pk=body["id"]).text == upload


def test_invalid_rate_file_lists_problems(world, admin):
    broken = RATES.replace("bill_unit: kgal", "bill_unit: furlongs")
    response = admin.post(f"/api/rate-schedules/{world.schedule.pk}/versions/",
                          {"file": rate_file(broken)}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["truncated"] is False
    assert len(body["problems"]) >= 1
    problem = body["problems"][0]
    assert set(problem) == {"code", "message", "file", "row", "line", "column", "value",
                            "expected", "hint"}
    assert problem["file"] == "sewer_rates.owrs"
    assert problem["line"] == 5            # the bill_unit line
    assert problem["value"] == "furlongs"
    assert RateScheduleVersion.objects.count() == 2


def test_same_effective_date_is_400(world, admin):
    response = admin.post(f"/api/rate-schedules/{world.schedule.pk}/versions/",
                          {"file": rate_file(RATES)}, format="multipart")
    assert response.status_code == 400
    assert [p["code"] for p in response.json()["problems"]] == ["version_exists"]


def test_upload_without_file_is_400(world, admin):
    response = admin.post(f"/api/rate-schedules/{world.schedule.pk}/versions/", {},
                          format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_oversized_rate_file_is_413(world, admin, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response = admin.post(f"/api/rate-schedules/{world.schedule.pk}/versions/",
                          {"file": rate_file(RATES_2017)}, format="multipart")
    assert response.status_code == 413
    assert "100 bytes" in response.json()["detail"]


def test_clerk_cannot_upload_rates(world):
    clerk = client_for(world.users[Role.BILLING_CLERK])
    response = clerk.post(f"/api/rate-schedules/{world.schedule.pk}/versions/",
                          {"file": rate_file(RATES_2017)}, format="multipart")
    assert response.status_code == 403


def test_publish_rate_version(world, admin):
    response = admin.post(f"/api/rate-versions/{world.draft.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["published"] is True
    world.draft.refresh_from_db()
    assert world.draft.published
    assert ChangeRecord.objects.filter(object_type="rates.ratescheduleversion",
                                       object_id=str(world.draft.pk),
                                       action="published").count() == 1


def test_rate_versions_filter_published(world, admin):
    published = admin.get("/api/rate-versions/", {"published": "true"})
    assert ids(published) == [world.version.pk]
    drafts = admin.get("/api/rate-versions/", {"published": "false"})
    assert ids(drafts) == [world.draft.pk]
    every = admin.get("/api/rate-versions/")
    assert sorted(ids(every)) == sorted([world.version.pk, world.draft.pk])
    assert "text" not in every.json()["results"][0]


def test_rate_version_detail_has_text(world, admin):
    body = admin.get(f"/api/rate-versions/{world.version.pk}/").json()
    assert body["text"] == RATES
    assert body["schedule_name"] == "Sewer rates (Ordinance 2225)"


def test_schedule_lists_its_versions(world, admin):
    body = admin.get(f"/api/rate-schedules/{world.schedule.pk}/").json()
    assert [v["effective_date"] for v in body["versions"]] == ["2017-01-01", "2016-01-01"]


# ---- imports --------------------------------------------------------------------------

def billing_upload(world, content: str = BILLING_CSV, **fields) -> dict:
    return {"file": SimpleUploadedFile("westfield-2016-02.csv", content.encode("utf-8"),
                                       content_type="text/csv"),
            "kind": "billing", "entity": world.entity.pk, "cycle": world.cycle.pk,
            "mapping_text": BILLING_MAPPING, **fields}


def test_import_upload_queues_a_job(world):
    clerk = client_for(world.users[Role.BILLING_CLERK])
    content = BILLING_CSV.replace("40.00", "41.00")
    response = clerk.post("/api/imports/", billing_upload(world, content), format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    batch = ImportBatch.objects.get(pk=body["id"])
    assert batch.sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert body["status"] == "pending"

    assert body["mapping_text"] == BILLING_MAPPING      # kept exactly, final newline too
    job = Job.objects.get(pk=body["job"])
    assert job.status == JobStatus.QUEUED
    assert job.task == "sewerline.apps.imports.actions.run_import"
    assert job.arguments == {"batch_id": batch.pk}
    assert job.object_id == str(batch.pk)
    assert job.created_by == world.users[Role.BILLING_CLERK]


def test_import_job_runs_the_import(world, admin):
    from sewerline.apps.jobs.runner import run_now

    content = BILLING_CSV.replace("40.00", "41.00")
    response = admin.post("/api/imports/", billing_upload(world, content), format="multipart")
    assert response.status_code == 202, response.content
    run_now(response.json()["job"])

    detail = admin.get(f"/api/imports/{response.json()['id']}/").json()
    assert detail["status"] == "done", detail
    assert detail["rows_stored"] == 3
    job = admin.get(f"/api/jobs/{response.json()['job']}/").json()
    assert job["status"] == "done"
    assert job["progress"] == 100


def test_same_file_twice_is_409_unless_forced(world, admin):
    content = BILLING_CSV.replace("35.00", "36.00")
    first = admin.post("/api/imports/", billing_upload(world, content), format="multipart")
    assert first.status_code == 202, first.content
    again = admin.post("/api/imports/", billing_upload(world, content), format="multipart")
    assert again.status_code == 409
    assert f"import {first.json()['id']}" in again.json()["detail"]
    forced = admin.post("/api/imports/", billing_upload(world, content, force="true"),
                        format="multipart")
    assert forced.status_code == 202
    assert forced.json()["forced"] is True


def test_file_of_earlier_import_is_409(world, admin):
    # The stored import of the test utility has the same SHA-256 as BILLING_CSV.
    response = admin.post("/api/imports/", billing_upload(world), format="multipart")
    assert response.status_code == 409
    assert f"import {world.batch.pk}" in response.json()["detail"]


def test_unsupported_file_type_is_400(world, admin):
    upload = billing_upload(world)
    upload["file"] = SimpleUploadedFile("export.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = admin.post("/api/imports/", upload, format="multipart")
    assert response.status_code == 400
    assert [p["code"] for p in response.json()["problems"]] == ["unsupported_file"]


def test_import_cycle_of_other_entity_is_400(world, admin):
    response = admin.post("/api/imports/", billing_upload(world, cycle=world.other_cycle.pk),
                          format="multipart")
    assert response.status_code == 400
    assert "cycle" in response.json()
    assert not ImportBatch.objects.exclude(pk=world.batch.pk).exists()


def test_billing_import_needs_cycle(world, admin):
    upload = billing_upload(world)
    del upload["cycle"]
    response = admin.post("/api/imports/", upload, format="multipart")
    assert response.status_code == 400
    assert "cycle" in response.json()


def test_customer_service_cannot_import(world):
    client = client_for(world.users[Role.CUSTOMER_SERVICE])
    response = client.post("/api/imports/", billing_upload(world), format="multipart")
    assert response.status_code == 403
    assert ImportBatch.objects.count() == 1


def test_import_detail_lists_problems(world, admin):
    body = admin.get(f"/api/imports/{world.batch.pk}/").json()
    assert body["problem_count"] == 1
    assert body["problems"][0]["row"] == 7
    assert body["problems"][0]["value"] == "13/45/2016"
    assert body["job"] == world.import_job.pk
    listed = admin.get("/api/imports/").json()["results"][0]
    assert "problems" not in listed
    assert listed["job"] == world.import_job.pk


# ---- audits ---------------------------------------------------------------------------

def test_start_audit_queues_a_run(world):
    auditor = client_for(world.users[Role.AUDITOR])
    response = auditor.post("/api/audit-runs/", {"cycle": world.cycle.pk,
                                                 "rate_version": world.version.pk,
                                                 "tolerance": "0.05"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["tolerance"] == "0.05"
    assert body["job"]["status"] == "queued"
    run = AuditRun.objects.get(pk=body["id"])
    assert run.created_by == world.users[Role.AUDITOR]
    assert run.job.task == "sewerline.apps.audits.actions.run_audit"


def test_audit_run_reports_findings(world, admin):
    from sewerline.apps.jobs.runner import run_now

    started = admin.post("/api/audit-runs/", {"cycle": world.cycle.pk,
                                              "rate_version": world.version.pk},
                         format="json")
    assert started.status_code == 202, started.content
    run_id = started.json()["id"]
    run_now(started.json()["job"]["id"])

    status = admin.get(f"/api/audit-runs/{run_id}/").json()
    assert status["job"]["status"] == "done", status["job"]
    assert status["job"]["progress"] == 100
    # Bills of $40.00 + $35.00 + $35.00; expected $20 + $5 x 4 kgal = $40.00 and
    # $20 + $5 x 6 kgal = $50.00 for the two linked bills.
    assert status["billed_total"] == "110.00"
    assert status["bills"] == 3
    assert status["matched"] == 2

    under = admin.get("/api/findings/", {"run": run_id, "finding_type": "underbilled"})
    [finding] = under.json()["results"]
    assert finding["account_id"] == "SS-000102"
    assert finding["expected_amount"] == "50.00"
    assert finding["billed_amount"] == "35.00"
    assert finding["difference"] == "-15.00"
    unknown = admin.get("/api/findings/", {"run": run_id, "finding_type": "unknown_customer"})
    assert [f["billed_account"] for f in unknown.json()["results"]] == ["0099999-01"]


def test_unpublished_version_is_400(world, admin):
    response = admin.post("/api/audit-runs/", {"cycle": world.cycle.pk,
                                               "rate_version": world.draft.pk}, format="json")
    assert response.status_code == 400
    assert "rate_version" in response.json()


def test_cycle_without_bills_is_409(world, admin):
    empty = BillingCycle.objects.create(entity=world.entity, code="2016-02")
    response = admin.post("/api/audit-runs/", {"cycle": empty.pk,
                                               "rate_version": world.version.pk}, format="json")
    assert response.status_code == 409
    assert "no billed charges" in response.json()["detail"]


@pytest.mark.parametrize("tolerance", ["-0.01", "ten", "0.001"])
def test_bad_tolerance_is_400(world, admin, tolerance):
    response = admin.post("/api/audit-runs/", {"cycle": world.cycle.pk,
                                               "rate_version": world.version.pk,
                                               "tolerance": tolerance}, format="json")
    assert response.status_code == 400
    assert "tolerance" in response.json()


def test_read_only_cannot_start_audit(world):
    client = client_for(world.users[Role.READ_ONLY])
    response = client.post("/api/audit-runs/", {"cycle": world.cycle.pk,
                                                "rate_version": world.version.pk},
                           format="json")
    assert response.status_code == 403
    assert AuditRun.objects.count() == 1


def test_audit_run_status_has_totals(world, admin):
    body = admin.get(f"/api/audit-runs/{world.run.pk}/").json()
    assert body["at_stake_total"] == "50.00"
    assert body["totals"]["count_by_type"] == {"underbilled": 1, "unknown_customer": 1}
    assert body["job"]["id"] == world.audit_job.pk
    assert body["cycle_code"] == "2016-01"


def test_findings_filters(world, admin):
    by_account = admin.get("/api/findings/", {"account_id": "SS-000102"})
    assert ids(by_account) == [world.findings[0].pk]
    by_billed = admin.get("/api/findings/", {"billed_account": "0099999-01"})
    assert ids(by_billed) == [world.findings[1].pk]
    # Largest revenue at stake first.
    assert ids(admin.get("/api/findings/", {"run": world.run.pk})) == [
        world.findings[1].pk, world.findings[0].pk]
    assert admin.get("/api/findings/", {"finding_type": "lost"}).status_code == 400


# ---- discrepancies --------------------------------------------------------------------

def test_discrepancy_detail_has_history(world, admin):
    body = admin.get(f"/api/discrepancies/{world.discrepancy.pk}/").json()
    assert body["account_id"] == "SS-000102"
    assert body["first_cycle"] == "2016-01"
    assert [event["note"] for event in body["events"]] == ["found by audit run"]


def test_confirm_discrepancy(world):
    clerk = client_for(world.users[Role.BILLING_CLERK])
    response = clerk.post(f"/api/discrepancies/{world.discrepancy.pk}/status/",
                          {"status": "confirmed", "note": "meter read checked"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["events"][-1]["old_status"] == "open"
    assert body["events"][-1]["new_status"] == "confirmed"
    assert body["events"][-1]["actor"] == "billing_clerk"
    assert body["events"][-1]["note"] == "meter read checked"


def test_invalid_transition_is_409(world, admin):
    response = admin.post(f"/api/discrepancies/{world.discrepancy.pk}/status/",
                          {"status": "closed"}, format="json")
    assert response.status_code == 409
    assert "cannot go from open to closed" in response.json()["detail"]
    world.discrepancy.refresh_from_db()
    assert world.discrepancy.status == "open"


def test_unknown_status_is_400(world, admin):
    response = admin.post(f"/api/discrepancies/{world.discrepancy.pk}/status/",
                          {"status": "forgotten"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_customer_service_cannot_change_status(world):
    client = client_for(world.users[Role.CUSTOMER_SERVICE])
    response = client.post(f"/api/discrepancies/{world.discrepancy.pk}/status/",
                           {"status": "confirmed"}, format="json")
    assert response.status_code == 403
    world.discrepancy.refresh_from_db()
    assert world.discrepancy.status == "open"


def test_discrepancy_filters(world, admin):
    assert ids(admin.get("/api/discrepancies/", {"status": "open"})) == [world.discrepancy.pk]
    assert ids(admin.get("/api/discrepancies/", {"status": "closed"})) == []
    assert ids(admin.get("/api/discrepancies/", {"entity": world.other_entity.pk})) == []
    assert ids(admin.get("/api/discrepancies/", {"account_id": "SS-000102"})) == [
        world.discrepancy.pk]


# ---- jobs and the schema --------------------------------------------------------------

def test_job_status(world, admin):
    body = admin.get(f"/api/jobs/{world.import_job.pk}/").json()
    assert body["status"] == "done"
    assert body["object_id"] == str(world.batch.pk)
    assert ids(admin.get("/api/jobs/", {"kind": "audit"})) == [world.audit_job.pk]


def test_schema_is_openapi_3(world, admin):
    response = admin.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/discrepancies/{id}/status/" in document["paths"]
    upload = document["components"]["schemas"]["ImportUploadRequest"]
    assert upload["properties"]["file"]["format"] == "binary"


def test_schema_needs_login(world):
    assert APIClient().get("/api/schema/").status_code == 401


def test_docs_page_is_not_served(world, admin):
    # Swagger UI would load from a CDN; the API serves only the schema document.
    assert admin.get("/api/docs/").status_code == 404


# ---- query counts ---------------------------------------------------------------------

# List URL -> queries of one request: the token with its user, the user's groups, the
# count and the page (plus one prefetch of the versions of the rate schedules).
LIST_QUERIES = {
    "/api/entities/": 4, "/api/cycles/": 4, "/api/accounts/": 4,
    "/api/rate-schedules/": 5, "/api/rate-versions/": 4, "/api/imports/": 4,
    "/api/audit-runs/": 4, "/api/findings/": 4, "/api/discrepancies/": 4, "/api/jobs/": 4,
}


def add_more_rows(world: World) -> None:
    """Add a second row of every listed kind, so a per-row query would show."""
    entity = BillingEntity.objects.create(name="Northgate Water", code="northgate")
    cycle = BillingCycle.objects.create(entity=entity, code="2016-01")
    account = Account.objects.create(entity=entity, account_id="NG-1", customer_class="C")
    schedule = RateSchedule.objects.create(name="Northgate rates")
    version = RateScheduleVersion.objects.create(schedule=schedule, text=RATES,
                                                 effective_date=dt.date(2016, 1, 1),
                                                 uploaded_by=world.users[Role.AUDITOR])
    batch = ImportBatch.objects.create(
        kind="billing", entity=entity, cycle=cycle, original="imports/n.csv",
        file_name="n.csv", sha256="0" * 64, size_bytes=1,
        created_by=world.users[Role.ADMINISTRATOR])
    Job.objects.create(kind="import", object_type="imports.importbatch",
                       object_id=str(batch.pk))
    job = Job.objects.create(kind="audit")
    run = AuditRun.objects.create(cycle=cycle, rate_version=version, job=job,
                                  created_by=world.users[Role.ADMINISTRATOR])
    Finding.objects.create(run=run, finding_type="not_billed", account=account,
                           match_method="none")
    Discrepancy.objects.create(entity=entity, finding_type="not_billed", key="NG-1",
                               account=account, first_cycle=cycle, last_cycle=cycle)


@pytest.mark.parametrize(("url", "queries"), LIST_QUERIES.items())
def test_list_queries_do_not_grow(world, admin, url, queries, django_assert_num_queries):
    with django_assert_num_queries(queries):
        assert admin.get(url).status_code == 200
    add_more_rows(world)
    with django_assert_num_queries(queries):
        response = admin.get(url)
    assert response.status_code == 200
    assert response.json()["count"] >= 2

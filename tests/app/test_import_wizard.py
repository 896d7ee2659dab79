"""The import wizard through the test client: upload, map, check, store, and who may."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import sewerline.sample
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity, SavedMapping
from sewerline.apps.imports.actions import create_import
from sewerline.apps.imports.models import BilledCharge, ImportBatch, ImportKind, ImportStatus
from sewerline.apps.jobs.models import Job, JobStatus
from sewerline.apps.jobs.runner import run_now
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion

pytestmark = pytest.mark.django_db

EXPORT = (
    "Acct No,Customer Name,Rate Code,Consumption (CCF),Sewer Amount,From,To\n"
    "000123,SMITH JOHN,WASF1,7,$45.10,01/01/2024,01/31/2024\n"
    "000124,O'BRIEN PAT,WANR5,12,\"1,234.50\",01/01/2024,01/31/2024\n"
    "000125,LEE ANN,WASF1,0,(12.50),01/01/2024,01/31/2024\n"
)
PROFILES = (
    "Account_ID,Water_Account,Customer_Class,Status,Winter_Average\n"
    "S-1,000123,RESIDENTIAL_SINGLE,active,4.5\n"
    "S-2,000124,COMMERCIAL,active,\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def user_with(role: Role, name: str) -> User:
    user = User.objects.create_user(name, password="x")
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


@pytest.fixture
def clerk_client(client):
    client.force_login(user_with(Role.BILLING_CLERK, "ana"))
    return client


@pytest.fixture
def entity():
    return BillingEntity.objects.create(name="Westfield Water", code="westfield")


@pytest.fixture
def cycle(entity):
    return BillingCycle.objects.create(entity=entity, code="2024-01")


def upload(client, entity, cycle, text=EXPORT, name="export.csv", kind="billing", **extra):
    data = {"entity": entity.pk, "kind": kind, "cycle": cycle.pk if cycle else "",
            "file": SimpleUploadedFile(name, text.encode("utf-8")), **extra}
    return client.post(reverse("imports:upload"), data)


def form_data(form) -> dict:
    """Return what the browser would post for a form as the page showed it."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


def run_latest_job(batch: ImportBatch) -> Job:
    job = Job.objects.filter(object_id=str(batch.pk)).order_by("-pk").first()
    assert job is not None and job.status == JobStatus.QUEUED
    return run_now(job.pk)


def test_wizard_stores_small_csv(clerk_client, entity, cycle):
    assert clerk_client.get(reverse("imports:upload")).status_code == 200

    response = upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("imports:map", args=[batch.pk])

    page = clerk_client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Consumption (CCF)" in html
    assert "O&#x27;BRIEN PAT" in html
    form = page.context["form"]
    # Guessed from the header names.
    assert form["column_billed_account"].value() == "Acct No"
    assert form["column_billed_amount"].value() == "Sewer Amount"
    assert form["column_usage"].value() == "Consumption (CCF)"
    assert form["usage_unit"].value() == "ccf"
    assert form["date_format"].value() == "%m/%d/%Y"
    codes = [row["code"] for row in page.context["rate_rows"]]
    assert codes == ["WANR5", "WASF1"]

    data = form_data(form)
    data.update({"rate_code_0": "WANR5", "rate_class_0": "COMMERCIAL",
                 "rate_code_1": "WASF1", "rate_class_1": "RESIDENTIAL_SINGLE",
                 "save_as": "Monthly CIS export"})
    response = clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    assert response.status_code == 302
    assert response.url == reverse("imports:detail", args=[batch.pk])
    assert SavedMapping.objects.filter(entity=entity, name="Monthly CIS export").exists()

    # Step 3: the check runs as a job.
    assert clerk_client.get(response.url).context["running"]
    assert run_latest_job(batch).status == JobStatus.DONE
    page = clerk_client.get(reverse("imports:detail", args=[batch.pk]))
    assert page.context["checked"]
    assert "Store 3 bills" in page.content.decode()
    assert BilledCharge.objects.count() == 0

    # Step 4: store.
    response = clerk_client.post(reverse("imports:confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert run_latest_job(batch).status == JobStatus.DONE
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    amounts = dict(cycle.charges.values_list("billed_account", "billed_amount"))
    assert amounts == {"000123": Decimal("45.10"), "000124": Decimal("1234.50"),
                       "000125": Decimal("-12.50")}
    # 12 ccf x 748.052 gallons
    assert cycle.charges.get(billed_account="000124").usage_gal == Decimal("8976.624")
    page = clerk_client.get(reverse("imports:detail", args=[batch.pk]))
    assert "$1,267.10" in page.content.decode()


def test_saved_mapping_fills_next_upload(clerk_client, entity, cycle):
    SavedMapping.objects.create(entity=entity, name="Monthly", text=(
        'layout: per_bill\ncolumns:\n  billed_account: "Acct No"\n'
        '  billed_amount: "Sewer Amount"\n  rate_code: "Rate Code"\n'
        "rate_codes:\n  WASF1: RESIDENTIAL_SINGLE\n  OLD9: COMMERCIAL\n"))
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    page = clerk_client.get(reverse("imports:map", args=[batch.pk]))
    form = page.context["form"]
    assert page.context["source"] == "the saved mapping 'Monthly'"
    assert form["column_billed_amount"].value() == "Sewer Amount"
    # Not in the saved mapping, so not guessed either.
    assert form["column_usage"].value() in (None, "")
    rows = {row["code"]: row for row in page.context["rate_rows"]}
    assert rows["WASF1"]["customer_class"] == "RESIDENTIAL_SINGLE"
    assert rows["WANR5"]["customer_class"] == ""
    assert rows["OLD9"]["in_file"] is False


def test_classes_come_from_published_rates(clerk_client, entity, cycle):
    rates_text = (Path(sewerline.sample.__file__).parent / "data/sewer_rates.owrs").read_text()
    schedule = RateSchedule.objects.create(name="Sewer rates")
    RateScheduleVersion.objects.create(schedule=schedule, effective_date=dt.date(2016, 1, 1),
                                       text=rates_text, published=True)
    draft = RateSchedule.objects.create(name="Draft rates")
    RateScheduleVersion.objects.create(schedule=draft, effective_date=dt.date(2017, 1, 1),
                                       text=rates_text.replace("COMMERCIAL", "SHOPS"))
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    page = clerk_client.get(reverse("imports:map", args=[batch.pk]))
    assert page.context["classes"] == ["COMMERCIAL", "RESIDENTIAL_MULTI", "RESIDENTIAL_SINGLE"]
    assert '<option value="RESIDENTIAL_MULTI">' in page.content.decode()


def test_missing_class_is_a_form_error(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data.update({"rate_code_0": "WANR5", "rate_class_0": "", "rate_code_1": "WASF1",
                 "rate_class_1": "RESIDENTIAL_SINGLE"})
    page = clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    assert page.status_code == 200
    assert "missing for WANR5" in page.content.decode()
    assert not Job.objects.exists()


def test_unmapped_amount_is_a_form_error(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data["column_billed_amount"] = ""
    page = clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    assert page.status_code == 200
    assert "Columns must map billed_amount." in page.content.decode()


def test_bad_row_is_shown_with_its_place(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle, text=EXPORT.replace("$45.10", "45.1O"))
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data.update({"rate_code_0": "WANR5", "rate_class_0": "COMMERCIAL",
                 "rate_code_1": "WASF1", "rate_class_1": "RESIDENTIAL_SINGLE"})
    clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    run_latest_job(batch)

    page = clerk_client.get(reverse("imports:detail", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    html = page.content.decode()
    assert "<code>45.1O</code>" in html
    assert "Invalid amount" in html
    assert page.context["problems"][0]["row"] == 2
    assert page.context["problems"][0]["column"] == "Sewer Amount"
    assert "Store" not in [button.strip() for button in html.split("<button")]
    response = clerk_client.post(reverse("imports:confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert Job.objects.filter(task__endswith="run_import").count() == 0


def test_reading_again_keeps_choices(clerk_client, entity, cycle):
    text = EXPORT.replace(",", ";").replace('"1;234.50"', "1234.50")
    upload(clerk_client, entity, cycle, text=text)
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data.update({"delimiter": ";", "refresh": "1", "save_as": "Semicolons"})
    page = clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    assert page.status_code == 200
    assert page.context["preview"].header[0] == "Acct No"
    assert page.context["form"]["save_as"].value() == "Semicolons"
    assert page.context["form"]["delimiter"].value() == ";"
    assert not Job.objects.exists()


def test_rate_code_table_follows_column(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    url = reverse("imports:rate_codes", args=[batch.pk])
    page = clerk_client.get(url, {"column_rate_code": "Customer Name",
                                  "rate_code_0": "WASF1", "rate_class_0": "RES"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "SMITH JOHN" in html
    assert "not in this file" in html   # WASF1 kept, with its class
    assert 'value="RES"' in html


def test_progress_fragment_polls_then_reloads(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(mapping_text=(
        "layout: per_bill\ncolumns: {billed_account: Acct No, billed_amount: Sewer Amount}\n"))
    clerk_client.post(reverse("imports:check", args=[batch.pk]))
    url = reverse("imports:progress", args=[batch.pk])
    waiting = clerk_client.get(url)
    assert 'hx-trigger="every 1s"' in waiting.content.decode()
    assert "HX-Refresh" not in waiting.headers
    run_latest_job(batch)
    assert clerk_client.get(url).headers["HX-Refresh"] == "true"


def test_duplicate_upload_offers_force(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    page = upload(clerk_client, entity, cycle)
    assert page.status_code == 200
    html = page.content.decode()
    first = ImportBatch.objects.get()
    assert f"import {first.pk}" in html
    assert "Import anyway" in html
    response = upload(clerk_client, entity, cycle, force="on")
    assert response.status_code == 302
    assert ImportBatch.objects.filter(forced=True).count() == 1


@pytest.mark.parametrize("size", [10_000, 200_000])
def test_upload_over_limit_is_refused(settings, clerk_client, entity, cycle, size):
    settings.UPLOAD_MAX_BYTES = 1024
    text = "Acct No,Sewer Amount\n" + "000123,45.10\n" * (size // 13)
    page = upload(clerk_client, entity, cycle, text=text)
    assert page.status_code == 413
    assert "larger than the limit" in page.content.decode()
    assert not ImportBatch.objects.exists()


def test_upload_checks_csrf(entity, cycle):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with(Role.BILLING_CLERK, "ana"))
    response = upload(client, entity, cycle)
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_billing_upload_needs_cycle(clerk_client, entity):
    page = upload(clerk_client, entity, None)
    assert page.status_code == 200
    assert "Choose the billing cycle" in page.content.decode()


def test_profiles_through_wizard(clerk_client, entity):
    response = upload(clerk_client, entity, None, text=PROFILES, name="profiles.csv",
                      kind="profiles")
    batch = ImportBatch.objects.get()
    assert response.url == reverse("imports:map", args=[batch.pk])
    form = clerk_client.get(response.url).context["form"]
    assert form["column_account_id"].value() == "Account_ID"
    assert form["column_winter_average"].value() == "Winter_Average"

    clerk_client.post(response.url, form_data(form))
    assert run_latest_job(batch).status == JobStatus.DONE
    batch.refresh_from_db()
    assert batch.summary["new"] == 2
    clerk_client.post(reverse("imports:confirm", args=[batch.pk]))
    run_latest_job(batch)
    assert Account.objects.get(account_id="S-1").winter_average == Decimal("4.500")
    assert Account.objects.filter(entity=entity).count() == 2


def test_read_only_can_list_but_not_import(client, entity, cycle):
    batch = create_import(None, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                          uploaded_file=SimpleUploadedFile("export.csv", EXPORT.encode()))
    client.force_login(user_with(Role.READ_ONLY, "rita"))
    assert client.get(reverse("imports:list")).status_code == 200
    assert client.get(reverse("imports:detail", args=[batch.pk])).status_code == 200
    assert client.get(reverse("imports:upload")).status_code == 403
    assert upload(client, entity, cycle, name="other.csv").status_code == 403
    assert client.get(reverse("imports:map", args=[batch.pk])).status_code == 403
    assert client.post(reverse("imports:check", args=[batch.pk])).status_code == 403
    assert client.post(reverse("imports:confirm", args=[batch.pk])).status_code == 403
    assert ImportBatch.objects.count() == 1
    assert not Job.objects.exists()


def test_list_page_queries_do_not_grow(clerk_client, entity, cycle, django_assert_num_queries):
    def add_imports(count: int) -> None:
        for index in range(count):
            create_import(None, kind=ImportKind.BILLING, entity=entity, cycle=cycle,
                          uploaded_file=SimpleUploadedFile(f"e{index}.csv",
                                                           f"{EXPORT}{index}\n".encode()),
                          force=True)

    add_imports(2)
    with CaptureQueriesContext(connection) as few:
        assert clerk_client.get(reverse("imports:list")).status_code == 200
    add_imports(8)
    # Four times as many imports, the same queries: none is made per row.
    with django_assert_num_queries(len(few.captured_queries)):
        page = clerk_client.get(reverse("imports:list"))
    assert len(page.context["imports"]) == 10


def test_rate_codes_drop_unclassed_codes_not_in_file(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    url = reverse("imports:rate_codes", args=[batch.pk])
    # Back on the rate code column after a look at the customer name column.
    page = clerk_client.get(url, {"column_rate_code": "Rate Code",
                                  "rate_code_0": "LEE ANN", "rate_class_0": "",
                                  "rate_code_1": "WASF1", "rate_class_1": "RES",
                                  "rate_code_2": "OLD", "rate_class_2": "COMMERCIAL"})
    codes = [row["code"] for row in page.context["rate_rows"]]
    html = page.content.decode()
    assert codes == ["WANR5", "WASF1", "OLD"]
    assert "LEE ANN" not in html
    assert 'name="rate_drop_2"' in html


def test_removed_rate_code_leaves_mapping(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data.update({"rate_code_0": "WANR5", "rate_class_0": "COMMERCIAL",
                 "rate_code_1": "WASF1", "rate_class_1": "RESIDENTIAL_SINGLE",
                 "rate_code_2": "SW", "rate_class_2": "", "rate_drop_2": "on"})
    response = clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    batch.refresh_from_db()
    assert response.status_code == 302
    assert 'WANR5: "COMMERCIAL"' in batch.mapping_text
    assert "SW:" not in batch.mapping_text


def test_missing_class_message_names_no_field(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data.update({"rate_code_0": "WANR5", "rate_class_0": "",
                 "rate_code_1": "WASF1", "rate_class_1": ""})
    page = clerk_client.post(reverse("imports:map", args=[batch.pk]), data)
    errors = page.context["form"].non_field_errors()
    assert list(errors) == ["Give a customer class to every rate code; missing for "
                            "WANR5, WASF1."]
    assert "rate_codes" not in page.content.decode().casefold()


def test_failed_save_shows_submitted_choices(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    form = clerk_client.get(reverse("imports:map", args=[batch.pk])).context["form"]
    data = form_data(form)
    data["column_billed_amount"] = ""
    html = clerk_client.post(reverse("imports:map", args=[batch.pk]), data).content.decode()
    assert "The choices below are the ones you submitted" in html
    assert "guessed from the column names" not in html


def test_column_labels_read_once(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    page = clerk_client.get(reverse("imports:map", args=[batch.pk]))
    form = page.context["form"]
    html = page.content.decode()
    assert form["column_billed_amount"].label == "Sewer amount"
    assert form["column_service_code"].label == "Service code"
    assert "(billed_amount)" not in html
    assert ") (" not in html


def test_preview_scrolls_inside_its_card(clerk_client, entity, cycle):
    upload(clerk_client, entity, cycle)
    batch = ImportBatch.objects.get()
    html = clerk_client.get(reverse("imports:map", args=[batch.pk])).content.decode()
    css = Path(finders.find("sewerline/staff-ui.css")).read_text(encoding="utf-8")
    assert '<div class="card preview-scroll">' in html
    assert '<table class="data preview">' in html
    assert re.search(r"\.preview-scroll\s*\{[^}]*overflow-x:\s*auto", css)
    assert re.search(r"table\.preview td[^{]*\{[^}]*white-space:\s*nowrap", css)

"""Profile list, search, edit form (with change records) and profile exports."""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.profiles.actions import update_account
from sewerline.apps.profiles.models import Account
from ui_world import FORMULA_OWNER, add_discrepancies, build_world, user_with

pytestmark = pytest.mark.django_db

LIST = reverse("profiles:list")
EXPORT = reverse("profiles:export")


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def clerk(client):
    client.force_login(user_with(Role.BILLING_CLERK, "ana"))
    return client


def ids_listed(response) -> list[str]:
    return [account.account_id for account in response.context["page"].object_list]


def text_of(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def edit_data(account: Account, **changes) -> dict:
    data = {
        "water_account": account.water_account, "owner_name": account.owner_name,
        "service_address": account.service_address, "parcel_id": account.parcel_id,
        "meter_number": account.meter_number, "customer_class": account.customer_class,
        "meter_size": account.meter_size, "status": account.status,
        "winter_average": "" if account.winter_average is None else account.winter_average,
        "dwelling_units": "" if account.dwelling_units is None else account.dwelling_units,
        "extra_text": "", "note": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["SS-010045", "SS-020001", "SS-030003"]),
    ({"q": "harbor"}, ["SS-020001"]),
    ({"q": "ocean park"}, ["SS-010045"]),
    ({"q": "60000003"}, ["SS-030003"]),
    ({"q": "4281-012"}, ["SS-010045"]),
    ({"q": "0098765"}, ["SS-020001"]),
    ({"customer_class": "commercial"}, ["SS-020001"]),
    ({"status": "septic"}, []),
])
def test_list_search_and_filters(clerk, world, query, expected):
    assert ids_listed(clerk.get(LIST, query)) == expected


def test_list_shows_profile_columns(clerk, world):
    text = text_of(clerk.get(LIST))
    assert ("SS-010045 0012345-01 PARK, DANIEL E 1234 Ocean Park Blvd 48213377 "
            "RESIDENTIAL_SINGLE Active 4.000 westfield") in text


def test_list_pages_and_query_count(clerk, world, django_assert_max_num_queries):
    add_discrepancies(world.entity, world.cycles[1], 60)
    with django_assert_max_num_queries(QUERIES) as few:
        response = clerk.get(LIST, {"page": 2})
    assert len(ids_listed(response)) == 13
    assert response.context["page"].paginator.count == 63
    add_discrepancies(world.entity, world.cycles[1], 200, start=1000)
    with django_assert_max_num_queries(QUERIES) as many:
        response = clerk.get(LIST, {"page": 2})
    assert len(ids_listed(response)) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


# Session, user, the user's groups (1), the entity choices, the page's count and rows.
QUERIES = 2 + 1 + 1 + 2


def test_edit_writes_change_record(clerk, world):
    url = reverse("profiles:edit", args=[world.residential.pk])
    assert clerk.get(url).status_code == 200
    response = clerk.post(url, edit_data(world.residential, winter_average="3.95",
                                         note="new winter reads"))
    assert response.status_code == 302
    assert response.url == reverse("profiles:detail", args=[world.residential.pk])

    account = Account.objects.get(pk=world.residential.pk)
    assert account.winter_average == Decimal("3.950")
    record = ChangeRecord.objects.get(object_type="profiles.account",
                                      object_id=str(account.pk))
    assert record.actor.username == "ana"
    assert record.action == "updated"
    assert record.changes == {"winter_average": ["4.000", "3.950"]}
    assert record.note == "new winter reads"


def test_edit_without_changes_writes_nothing(clerk, world):
    url = reverse("profiles:edit", args=[world.residential.pk])
    response = clerk.post(url, edit_data(world.residential, winter_average="4"))
    assert response.status_code == 302
    assert not ChangeRecord.objects.exists()


def test_edit_extra_columns(clerk, world):
    url = reverse("profiles:edit", args=[world.commercial.pk])
    clerk.post(url, edit_data(world.commercial, extra_text="outside_city = true\n\nBOD_mg_l=300"))
    account = Account.objects.get(pk=world.commercial.pk)
    assert account.extra == {"outside_city": "true", "bod_mg_l": "300"}
    record = ChangeRecord.objects.get(object_id=str(account.pk))
    assert record.changes == {"extra": ["", "bod_mg_l=300, outside_city=true"]}


def test_edit_rejects_bad_extra_line(clerk, world):
    url = reverse("profiles:edit", args=[world.commercial.pk])
    response = clerk.post(url, edit_data(world.commercial, extra_text="outside city"))
    assert response.status_code == 200
    assert "is not name=value" in text_of(response)


def test_edit_rejects_class_not_in_published_rates(clerk, world):
    url = reverse("profiles:edit", args=[world.residential.pk])
    response = clerk.post(url, edit_data(world.residential, customer_class="INDUSTRIAL"))
    assert response.status_code == 200
    assert ("Class INDUSTRIAL is not in any published rate schedule, so an audit could not "
            "rate this account. Choose one of: COMMERCIAL, RESIDENTIAL_SINGLE.") in \
        response.content.decode()
    assert Account.objects.get(pk=world.residential.pk).customer_class == "RESIDENTIAL_SINGLE"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CUSTOMER_SERVICE, Role.READ_ONLY])
def test_edit_refused_without_manage_profiles(client, world, role):
    client.force_login(user_with(role))
    url = reverse("profiles:edit", args=[world.residential.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, edit_data(world.residential, owner_name="X")).status_code == 403
    assert Account.objects.get(pk=world.residential.pk).owner_name == "PARK, DANIEL E"


def test_edit_redirects_anonymous(client, world):
    response = client.get(reverse("profiles:edit", args=[world.residential.pk]))
    assert response.status_code == 302


def test_update_account_rejects_other_fields(world):
    with pytest.raises(ValueError, match="account_id"):
        update_account(None, world.residential, account_id="SS-999")


def test_update_account_rejects_invalid_status(world):
    with pytest.raises(ValidationError):
        update_account(None, world.residential, status="sleeping")
    assert not ChangeRecord.objects.exists()


def test_export_csv_neutralizes_formulas(clerk, world):
    response = clerk.get(EXPORT, {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["account_id"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["SS-030003"]["owner_name"] == "'" + FORMULA_OWNER
    assert rows["SS-010045"]["winter_average_kgal"] == "4.000"
    assert rows["SS-010045"]["meter_size"] == '5/8"'
    assert '"\'=HYPERLINK(""http://example.invalid"",""click"")"' in body


def test_export_xlsx(clerk, world):
    response = clerk.get(EXPORT, {"format": "xlsx", "q": "SS-03"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert sheet.max_row == 2
    assert row["owner_name"] == "'" + FORMULA_OWNER
    assert row["winter_average_kgal"] == 3


def test_export_refused_without_export_capability(client, world):
    client.force_login(user_with(Role.CUSTOMER_SERVICE))
    assert client.get(EXPORT, {"format": "csv"}).status_code == 403

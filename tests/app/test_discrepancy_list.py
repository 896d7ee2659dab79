"""The discrepancy list: filters, search, sort, pages, bulk status change, exports, detail."""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from ui_world import FORMULA_OWNER, add_discrepancies, build_world, user_with

pytestmark = pytest.mark.django_db

LIST = reverse("discrepancies:list")
EXPORT = reverse("discrepancies:export")
BULK = reverse("discrepancies:bulk_status")


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def auditor(client):
    client.force_login(user_with(Role.AUDITOR))
    return client


def keys_listed(response) -> list[str]:
    """Return the account ids or keys of the listed rows, in page order."""
    return [discrepancy.key for discrepancy in response.context["page"].object_list]


def text_of(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def add_formula_discrepancy(world) -> Discrepancy:
    return Discrepancy.objects.create(
        entity=world.entity, finding_type="not_billed", key="SS-030003",
        account=world.formula_owner, first_cycle=world.cycles[1],
        last_cycle=world.cycles[1], revenue_at_stake=Decimal("1234.50"))


def test_list_sorted_by_amount_by_default(auditor, world):
    response = auditor.get(LIST)
    assert response.status_code == 200
    assert keys_listed(response) == ["0077777-01", "SS-010045", "SS-020001"]
    text = text_of(response)
    assert "3 found" in text
    assert ("Underbilled Open SS-010045 PARK, DANIEL E 1234 Ocean Park Blvd westfield 2016-02 2 "
            "$10.00") in text


@pytest.mark.parametrize(("query", "expected"), [
    ({"finding_type": "overbilled"}, ["SS-020001"]),
    ({"min_amount": "10"}, ["0077777-01", "SS-010045"]),
    ({"q": "park, daniel"}, ["SS-010045"]),
    ({"q": "ocean park"}, ["SS-010045"]),
    ({"q": "51000001"}, ["SS-020001"]),
    ({"q": "SS-0200"}, ["SS-020001"]),
    ({"q": "0077777"}, ["0077777-01"]),
    ({"status": "confirmed"}, []),
    ({"status": "unresolved"}, ["0077777-01", "SS-010045", "SS-020001"]),
    ({"age": "2-3"}, ["0077777-01", "SS-010045", "SS-020001"]),
    ({"age": "7+"}, []),
    ({"sort": "account_asc"}, ["0077777-01", "SS-010045", "SS-020001"]),
    ({"sort": "amount_asc"}, ["SS-020001", "SS-010045", "0077777-01"]),
])
def test_list_filters_search_and_sort(auditor, world, query, expected):
    assert keys_listed(auditor.get(LIST, query)) == expected


def test_list_filters_by_entity_and_cycle(auditor, world):
    assert keys_listed(auditor.get(LIST, {"entity": world.entity.pk}))[0] == "0077777-01"
    assert keys_listed(auditor.get(LIST, {"cycle": world.cycles[0].pk})) == []
    assert len(keys_listed(auditor.get(LIST, {"cycle": world.cycles[1].pk}))) == 3


def test_list_invalid_filter_shows_nothing(auditor, world):
    response = auditor.get(LIST, {"min_amount": "ten"})
    assert keys_listed(response) == []
    assert "min_amount" in text_of(response)


def test_list_pages_hold_fifty(auditor, world):
    add_discrepancies(world.entity, world.cycles[1], 120)
    response = auditor.get(LIST, {"page": 3})
    assert response.context["page"].paginator.count == 123
    assert len(keys_listed(response)) == 23
    assert "Page 3 of 3" in text_of(response)


def test_list_query_count_does_not_grow(auditor, world, django_assert_max_num_queries):
    add_discrepancies(world.entity, world.cycles[1], 60)
    with django_assert_max_num_queries(QUERIES) as few:
        auditor.get(LIST, {"q": "owner"})
    add_discrepancies(world.entity, world.cycles[1], 200, start=1000)
    with django_assert_max_num_queries(QUERIES) as many:
        response = auditor.get(LIST, {"q": "owner"})
    assert len(keys_listed(response)) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


# Session and user, the user's groups read once for the page and the menu (1), the filter
# form's entity and cycle choices (2), the page's count and rows (2).
QUERIES = 2 + 1 + 2 + 2


def test_bulk_status_change(auditor, world):
    ids = [world.underbilled.pk, world.overbilled.pk]
    response = auditor.post(BULK, {"ids": ids, "new_status": "confirmed", "note": "checked",
                                   "next": LIST + "?sort=account_asc"}, follow=True)
    assert response.redirect_chain[-1][0] == LIST + "?sort=account_asc"
    assert "2 discrepancies set to “Confirmed”." in text_of(response)
    assert set(Discrepancy.objects.filter(status="confirmed").values_list("pk", flat=True)) \
        == set(ids)
    assert Discrepancy.objects.get(pk=world.unknown.pk).status == "open"
    events = DiscrepancyEvent.objects.filter(new_status="confirmed")
    assert events.count() == 2
    assert {event.note for event in events} == {"checked"}
    assert ChangeRecord.objects.filter(action="confirmed").count() == 2


def test_bulk_invalid_transition_changes_nothing(auditor, world):
    response = auditor.post(BULK, {"ids": [world.underbilled.pk, world.overbilled.pk],
                                   "new_status": "acknowledged"}, follow=True)
    text = text_of(response)
    assert "No status was changed" in text
    assert "cannot go from open to acknowledged" in text
    assert not Discrepancy.objects.exclude(status="open").exists()


def test_bulk_without_selection_explains(auditor, world):
    response = auditor.post(BULK, {"new_status": "confirmed"}, follow=True)
    assert "Select at least one discrepancy" in text_of(response)


def test_bulk_ignores_foreign_next_url(auditor, world):
    response = auditor.post(BULK, {"ids": [world.underbilled.pk], "new_status": "confirmed",
                                   "next": "https://example.invalid/"})
    assert response.url == LIST


@pytest.mark.parametrize("role", [Role.READ_ONLY, Role.CUSTOMER_SERVICE])
def test_bulk_refused_without_review_capability(client, world, role):
    client.force_login(user_with(role))
    response = client.post(BULK, {"ids": [world.underbilled.pk], "new_status": "confirmed"})
    assert response.status_code == 403
    assert Discrepancy.objects.get(pk=world.underbilled.pk).status == "open"


def test_list_hides_bulk_controls_for_read_only(client, world):
    client.force_login(user_with(Role.READ_ONLY))
    html = client.get(LIST).content.decode()
    assert 'name="ids"' not in html
    assert "Export CSV" in html


def test_list_redirects_anonymous_to_login(client, world):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_list_refuses_user_without_role(client, world):
    client.force_login(user_with(None))
    assert client.get(LIST).status_code == 403


def test_export_csv_is_exact_and_neutralized(auditor, world):
    add_formula_discrepancy(world)
    response = auditor.get(EXPORT, {"format": "csv", "sort": "amount_desc"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["key"] for row in rows] == ["SS-030003", "0077777-01", "SS-010045",
                                             "SS-020001"]
    assert rows[0]["owner_name"] == "'" + FORMULA_OWNER
    assert rows[0]["revenue_at_stake"] == "1234.50"
    assert rows[2]["revenue_at_stake"] == "10.00"
    assert rows[2]["first_cycle"] == "2016-01"
    assert rows[1]["account_id"] == ""


def test_export_follows_filters(auditor, world):
    response = auditor.get(EXPORT, {"format": "csv", "finding_type": "underbilled"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert [row["key"] for row in csv.DictReader(io.StringIO(body))] == ["SS-010045"]


def test_export_xlsx_has_dollar_numbers(auditor, world):
    add_formula_discrepancy(world)
    response = auditor.get(EXPORT, {"format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="discrepancies-')
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, [cell for cell in sheet[2]], strict=True))
    assert first["owner_name"].value == "'" + FORMULA_OWNER
    assert first["owner_name"].data_type == "s"
    assert first["revenue_at_stake"].value == 1234.5
    assert "$" in first["revenue_at_stake"].number_format
    assert sheet.max_row == 5


def test_export_refused_without_export_capability(client, world):
    client.force_login(user_with(Role.CUSTOMER_SERVICE))
    assert client.get(EXPORT, {"format": "csv"}).status_code == 403


def test_detail_shows_findings_history_and_trace(auditor, world):
    response = auditor.get(reverse("discrepancies:detail", args=[world.underbilled.pk]))
    assert response.status_code == 200
    text = text_of(response)
    assert "Underbilled: SS-010045" in text
    # One finding per cycle, newest first: 6.000 kgal in 2016-02, 5.000 in 2016-01.
    assert "2016-02 0012345-01 Account 6.000 $30.00 $40.00 -$10.00 $10.00" in text
    assert "2016-01 0012345-01 Account 5.000 $30.00 $40.00 -$10.00 $10.00" in text
    assert "seen in 2016-01" in text
    # Recomputed: 20.00 + 5.00 * min(6, 4) = 40.00.
    assert "volume_charge = volume_rate * min(usage_ccf, winter_average)" in text
    assert "bill = service_charge + volume_charge = 20.00 + 20.00 = 40.00" in text
    assert [value for value, _ in response.context["next_statuses"]] == ["confirmed",
                                                                         "dismissed"]


def test_detail_of_unknown_customer_needs_no_trace(auditor, world):
    response = auditor.get(reverse("discrepancies:detail", args=[world.unknown.pk]))
    assert response.status_code == 200
    assert "No sewer account matches billed account 0077777-01." in text_of(response)
    assert response.context["explained"] is None


def test_detail_query_count_does_not_grow(auditor, world, django_assert_max_num_queries):
    url = reverse("discrepancies:detail", args=[world.overbilled.pk])
    with django_assert_max_num_queries(25) as first:
        auditor.get(url)
    for _ in range(5):
        DiscrepancyEvent.objects.create(discrepancy=world.overbilled, note="more")
    with django_assert_max_num_queries(25) as second:
        auditor.get(url)
    assert len(second.captured_queries) == len(first.captured_queries)


def test_detail_status_form_changes_status(auditor, world):
    url = reverse("discrepancies:status", args=[world.overbilled.pk])
    response = auditor.post(url, {"new_status": "dismissed", "note": "meter replaced"},
                            follow=True)
    assert "1 discrepancy set to “Dismissed as expected”." in text_of(response)
    assert Discrepancy.objects.get(pk=world.overbilled.pk).status == "dismissed"
    assert "meter replaced" in text_of(response)


def test_detail_status_refused_for_customer_service(client, world):
    client.force_login(user_with(Role.CUSTOMER_SERVICE))
    url = reverse("discrepancies:status", args=[world.overbilled.pk])
    assert client.post(url, {"new_status": "dismissed"}).status_code == 403


def test_detail_offers_statuses_in_workflow_order(auditor, world):
    Discrepancy.objects.filter(pk=world.underbilled.pk).update(status="confirmed")
    response = auditor.get(reverse("discrepancies:detail", args=[world.underbilled.pk]))
    html = response.content.decode()
    assert [value for value, _ in response.context["next_statuses"]] == ["reported", "open",
                                                                         "dismissed"]
    assert '<option value="" selected>' in html
    assert html.count(" selected>") == 1


def test_detail_status_needs_a_choice(auditor, world):
    url = reverse("discrepancies:status", args=[world.underbilled.pk])
    response = auditor.post(url, {"new_status": "", "note": ""}, follow=True)
    world.underbilled.refresh_from_db()
    assert world.underbilled.status == "open"
    assert "Choose the new status, then change it." in text_of(response)

"""Billing entity pages: list, detail, mappings, contacts, cycles and budgets."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import Role
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity, Contact
from ui_world import build_world, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def auditor(client):
    client.force_login(user_with(Role.AUDITOR, "sam"))
    return client


@pytest.fixture
def clerk(client):
    client.force_login(user_with(Role.BILLING_CLERK, "ana"))
    return client


def text_of(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def test_list_counts_accounts_cycles_and_unresolved(auditor, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(QUERIES) as few:
        response = auditor.get(reverse("entities:list"))
    assert "City of Westfield Water Department westfield 3.00% 3 2 3" in text_of(response)
    for number in range(5):
        BillingEntity.objects.create(name=f"Entity {number}", code=f"e{number}")
    with django_assert_max_num_queries(QUERIES) as many:
        response = auditor.get(reverse("entities:list"))
    assert "Entity 4 e4 0.00% 0 0 0" in text_of(response)
    assert len(many.captured_queries) == len(few.captured_queries)


# Session, user, the user's groups (1) and one query for the entities with their counts.
QUERIES = 2 + 1 + 1


def test_detail_shows_cycles_contacts_and_mappings(auditor, world):
    response = auditor.get(reverse("entities:detail", args=[world.entity.pk]))
    text = text_of(response)
    assert ("2016-02 Feb 1, 2016 – Feb 29, 2016 Mar 8, 2016 $170.00 $130.00 $250,000.00 "
            "$60.00") in text
    assert "Dana Ortiz billing supervisor dana@westfield.invalid" in text
    assert "Monthly CIS export" in text


def test_mapping_page_shows_yaml(auditor, world):
    mapping = world.entity.mappings.get()
    response = auditor.get(reverse("entities:mapping", args=[world.entity.pk, mapping.pk]))
    assert "2 columns:" in text_of(response)
    assert "3 billed_account: Account" in text_of(response)


def test_budget_edit_writes_change_record(auditor, world):
    cycle = world.cycles[1]
    url = reverse("entities:budget", args=[world.entity.pk, cycle.pk])
    assert auditor.get(url).status_code == 200
    response = auditor.post(url, {"budget": "262500.5"})
    assert response.url == reverse("entities:detail", args=[world.entity.pk])
    assert BillingCycle.objects.get(pk=cycle.pk).budget == Decimal("262500.50")
    record = ChangeRecord.objects.get(object_type="cycles.billingcycle")
    assert record.actor.username == "sam"
    assert record.changes == {"budget": ["250000.00", "262500.50"]}


def test_budget_can_be_cleared(auditor, world):
    url = reverse("entities:budget", args=[world.entity.pk, world.cycles[0].pk])
    auditor.post(url, {"budget": ""})
    assert BillingCycle.objects.get(pk=world.cycles[0].pk).budget is None


def test_budget_rejects_negative(auditor, world):
    url = reverse("entities:budget", args=[world.entity.pk, world.cycles[0].pk])
    response = auditor.post(url, {"budget": "-5"})
    assert response.status_code == 200
    assert BillingCycle.objects.get(pk=world.cycles[0].pk).budget == Decimal("240000.00")


@pytest.mark.parametrize("role", [Role.BILLING_CLERK, Role.CUSTOMER_SERVICE, Role.READ_ONLY])
def test_budget_refused_without_run_audit(client, world, role):
    client.force_login(user_with(role))
    url = reverse("entities:budget", args=[world.entity.pk, world.cycles[0].pk])
    assert client.post(url, {"budget": "1"}).status_code == 403
    assert BillingCycle.objects.get(pk=world.cycles[0].pk).budget == Decimal("240000.00")


def test_add_cycle_and_reject_duplicate_code(auditor, world):
    url = reverse("entities:cycle_create", args=[world.entity.pk])
    response = auditor.post(url, {"code": "2016-03", "period_start": "2016-03-01",
                                  "period_end": "2016-03-31", "budget": "255000"})
    assert response.status_code == 302
    cycle = BillingCycle.objects.get(entity=world.entity, code="2016-03")
    assert cycle.budget == Decimal("255000.00")
    assert ChangeRecord.objects.get(object_id=str(cycle.pk)).action == "created"

    response = auditor.post(url, {"code": "2016-03"})
    assert response.status_code == 400
    assert "already exists" in text_of(response)


def test_add_cycle_rejects_reversed_period(auditor, world):
    url = reverse("entities:cycle_create", args=[world.entity.pk])
    response = auditor.post(url, {"code": "2016-04", "period_start": "2016-04-30",
                                  "period_end": "2016-04-01"})
    assert response.status_code == 400
    assert "The period ends before it starts" in text_of(response)


def test_contact_create_edit_delete(clerk, world):
    create = reverse("entities:contact_create", args=[world.entity.pk])
    clerk.post(create, {"name": "Lee Chan", "email": "lee@westfield.invalid",
                        "phone": "555-0100", "role": "utility billing manager",
                        "receives_reports": "on"})
    contact = Contact.objects.get(name="Lee Chan")
    assert contact.receives_reports

    edit = reverse("entities:contact_edit", args=[world.entity.pk, contact.pk])
    clerk.post(edit, {"name": "Lee Chan", "email": "lee@westfield.invalid",
                      "phone": "555-0199", "role": "utility billing manager"})
    contact.refresh_from_db()
    assert contact.phone == "555-0199"
    assert not contact.receives_reports

    clerk.post(reverse("entities:contact_delete", args=[world.entity.pk, contact.pk]))
    assert not Contact.objects.filter(pk=contact.pk).exists()

    actions = list(ChangeRecord.objects.filter(object_type="entities.contact",
                                               object_id=str(contact.pk))
                   .order_by("at", "id").values_list("action", flat=True))
    assert actions == ["created", "updated", "deleted"]
    updated = ChangeRecord.objects.get(object_id=str(contact.pk), action="updated")
    assert updated.changes == {"phone": ["555-0100", "555-0199"],
                               "receives_reports": ["True", "False"]}


def test_contact_of_other_entity_not_found(clerk, world):
    other = BillingEntity.objects.create(name="Other Water", code="other")
    contact = world.entity.contacts.get()
    url = reverse("entities:contact_edit", args=[other.pk, contact.pk])
    assert clerk.get(url).status_code == 404


def test_entity_create_and_edit(clerk, world):
    clerk.post(reverse("entities:create"), {"name": "Eastfield Utilities", "code": "eastfield",
                                            "collection_fee_percent": "2.5", "notes": ""})
    entity = BillingEntity.objects.get(code="eastfield")
    assert entity.collection_fee_percent == Decimal("2.50")
    clerk.post(reverse("entities:edit", args=[entity.pk]), {
        "name": "Eastfield Utilities", "code": "eastfield", "collection_fee_percent": "3",
        "notes": "fee raised in 2017"})
    record = ChangeRecord.objects.get(object_type="entities.billingentity",
                                      object_id=str(entity.pk), action="updated")
    assert record.changes == {"collection_fee_percent": ["2.50", "3.00"],
                              "notes": ["", "fee raised in 2017"]}


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CUSTOMER_SERVICE])
def test_entity_and_contact_edits_refused_without_manage_profiles(client, world, role):
    client.force_login(user_with(role))
    assert client.get(reverse("entities:create")).status_code == 403
    assert client.post(reverse("entities:contact_create", args=[world.entity.pk]),
                       {"name": "X"}).status_code == 403
    assert world.entity.contacts.count() == 1


def test_entity_pages_redirect_anonymous(client, world):
    response = client.get(reverse("entities:detail", args=[world.entity.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_entity_pages_refuse_user_without_role(client, world):
    client.force_login(user_with(None))
    assert client.get(reverse("entities:list")).status_code == 403

"""Login, roles and the change record of the web application."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from sewerline.apps.core.changes import field_changes, record_change
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.roles import GRANTS, Capability, Role, has_capability

pytestmark = pytest.mark.django_db


def user_with(role: Role | None, name: str = "pat") -> User:
    user = User.objects.create_user(name, password="correct horse battery")
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def test_pages_require_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_health_needs_no_login(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_login_then_dashboard(client):
    user_with(Role.AUDITOR)
    response = client.post(reverse("login"), {"username": "pat",
                                              "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_user_without_role_is_refused(client):
    client.force_login(user_with(None))
    assert client.get(reverse("dashboard")).status_code == 403


@pytest.mark.parametrize("role", list(Role))
def test_capabilities_follow_the_grants(role):
    user = user_with(role)
    for capability in Capability:
        assert has_capability(user, capability) == (capability in GRANTS[role]), capability


def test_read_only_cannot_change_anything():
    user = user_with(Role.READ_ONLY)
    assert has_capability(user, Capability.VIEW)
    for capability in set(Capability) - {Capability.VIEW, Capability.EXPORT}:
        assert not has_capability(user, capability)


def test_change_record_stores_old_and_new():
    actor = user_with(Role.BILLING_CLERK)
    changes = field_changes({"winter_average": "4.100", "status": "active"},
                            {"winter_average": "3.950", "status": "active"})
    assert changes == {"winter_average": ["4.100", "3.950"]}
    record = record_change(actor, actor, "updated", changes)
    stored = ChangeRecord.objects.get(pk=record.pk)
    assert stored.actor == actor
    assert stored.changes == {"winter_average": ["4.100", "3.950"]}
    assert stored.object_type == "auth.user"

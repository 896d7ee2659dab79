"""Roles of the staff who use Sewerline, and what each may do.

A role is a Django group of the same name. Views and API endpoints ask for a
capability, never for a role, so the matrix below is the one place that grants
access. Superusers have every capability.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"          # users, settings, everything below
    AUDITOR = "auditor"                      # runs audits, reviews and reports findings
    BILLING_CLERK = "billing_clerk"          # imports exports, keeps profiles up to date
    CUSTOMER_SERVICE = "customer_service"    # looks up accounts and their history
    READ_ONLY = "read_only"                  # views what staff can view, changes nothing


class Capability(StrEnum):
    VIEW = "view"                            # dashboards, lists, account pages
    EXPORT = "export"                        # download findings and lists
    IMPORT_DATA = "import_data"              # upload billing exports and profile files
    MANAGE_PROFILES = "manage_profiles"      # edit profiles and billing entities
    MANAGE_RATES = "manage_rates"            # upload and publish rate schedules
    RUN_AUDIT = "run_audit"                  # start audit runs, set budgets
    REVIEW_DISCREPANCIES = "review_discrepancies"   # change discrepancy status
    MANAGE_USERS = "manage_users"


GRANTS: dict[Role, frozenset[Capability]] = {
    Role.ADMINISTRATOR: frozenset(Capability),
    Role.AUDITOR: frozenset({
        Capability.VIEW, Capability.EXPORT, Capability.RUN_AUDIT,
        Capability.REVIEW_DISCREPANCIES, Capability.MANAGE_RATES, Capability.IMPORT_DATA,
    }),
    Role.BILLING_CLERK: frozenset({
        Capability.VIEW, Capability.EXPORT, Capability.IMPORT_DATA,
        Capability.MANAGE_PROFILES, Capability.REVIEW_DISCREPANCIES,
    }),
    Role.CUSTOMER_SERVICE: frozenset({Capability.VIEW}),
    Role.READ_ONLY: frozenset({Capability.VIEW, Capability.EXPORT}),
}


def roles_of(user) -> set[Role]:
    """Return the roles of a user, from the names of the user's groups.

    The result is kept on the user object, which lives for one request, so a page that
    checks many capabilities reads the groups once.
    """
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_sewerline_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        user._sewerline_roles = cached
    return set(cached)


def has_capability(user, capability: Capability) -> bool:
    """Return whether the user may do what `capability` names."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(capability in GRANTS[role] for role in roles_of(user))

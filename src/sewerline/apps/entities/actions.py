"""Changes to billing entities, their contacts and their cycles' budgets, each recorded."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import models, transaction

from sewerline.apps.core.changes import field_changes, record_change
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity, Contact

logger = logging.getLogger(__name__)

ENTITY_FIELDS = ("name", "code", "collection_fee_percent", "notes")
CONTACT_FIELDS = ("name", "email", "phone", "role", "receives_reports")
CYCLE_FIELDS = ("code", "period_start", "period_end", "bill_date", "budget")


def save_entity(actor, entity: BillingEntity | None = None, **values) -> BillingEntity:
    """Create a billing entity (entity=None) or change one, with a change record."""
    return _save(actor, entity or BillingEntity(), ENTITY_FIELDS, values)


def save_contact(actor, entity: BillingEntity, contact: Contact | None = None,
                 **values) -> Contact:
    """Create a contact of `entity` (contact=None) or change one, with a change record."""
    contact = contact or Contact(entity=entity)
    if contact.entity_id != entity.pk:
        raise ValueError(f"contact pk={contact.pk} belongs to another entity")
    return _save(actor, contact, CONTACT_FIELDS, values)


def delete_contact(actor, contact: Contact) -> None:
    """Delete a contact and record the values it had."""
    with transaction.atomic():
        before = {name: getattr(contact, name) for name in CONTACT_FIELDS}
        record_change(actor, contact, "deleted", field_changes(before, {}))
        contact.delete()
    logger.info("contact of entity pk=%s deleted", contact.entity_id)


def create_cycle(actor, entity: BillingEntity, **values) -> BillingCycle:
    """Create a billing cycle of `entity`, with a change record."""
    return _save(actor, BillingCycle(entity=entity), CYCLE_FIELDS, values)


def set_budget(actor, cycle: BillingCycle, budget: Decimal | None) -> BillingCycle:
    """Set the budgeted sewer revenue of a cycle (None clears it), with a change record."""
    return _save(actor, cycle, ("budget",), {"budget": budget})


def _save(actor, instance: models.Model, allowed: tuple[str, ...], values: dict):
    """Validate and save `values` on `instance`, recording the fields that changed.

    Raises ValueError for a field outside `allowed` and ValidationError for an
    invalid value; nothing is written unless a value differs from the stored one.
    """
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"fields {unknown} cannot be set here; allowed: {', '.join(allowed)}")

    creating = instance.pk is None
    with transaction.atomic():
        if not creating:
            instance = type(instance).objects.select_for_update().get(pk=instance.pk)
        before = {} if creating else {name: getattr(instance, name) for name in values}
        for name, value in values.items():
            setattr(instance, name, _stored_form(instance, name, value))
        instance.full_clean()
        after = {name: getattr(instance, name) for name in values}
        changed = field_changes(before, after)
        if not creating and not changed:
            return instance
        instance.save()
        record_change(actor, instance, "created" if creating else "updated", changed)

    logger.info("%s pk=%s %s: %s", instance._meta.label_lower, instance.pk,
                "created" if creating else "updated", ", ".join(changed))
    return instance


def _stored_form(instance: models.Model, name: str, value):
    model_field = instance._meta.get_field(name)
    value = model_field.to_python(value)
    if isinstance(model_field, models.DecimalField) and value is not None:
        value = value.quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return value

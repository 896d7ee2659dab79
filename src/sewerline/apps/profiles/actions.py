"""Changes to sewer accounts; each writes a change record with the old and new values."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import models, transaction

from sewerline.apps.core.changes import field_changes, record_change
from sewerline.apps.profiles.models import Account

logger = logging.getLogger(__name__)

# Fields staff may change by hand; the account id and entity identify the account.
EDITABLE_FIELDS = (
    "water_account", "owner_name", "service_address", "parcel_id", "meter_number",
    "customer_class", "meter_size", "status", "winter_average", "dwelling_units", "extra",
)


def update_account(actor, account: Account, *, note: str = "", **changes) -> Account:
    """Change fields of an account and record who changed what, from what, to what.

    Only EDITABLE_FIELDS may be given; a value equal to the stored one is no change, and
    a call that changes nothing writes nothing. The row is locked for the update, so two
    clerks saving at once cannot lose each other's change from the record. Raises
    ValueError for a field that is not editable and ValidationError for an invalid value.
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(f"fields {unknown} of an account cannot be edited; "
                         f"editable fields: {', '.join(EDITABLE_FIELDS)}")

    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        before = {name: getattr(locked, name) for name in changes}
        for name, value in changes.items():
            setattr(locked, name, _stored_form(name, value))
        locked.full_clean()
        after = {name: getattr(locked, name) for name in changes}
        changed = field_changes(_comparable(before), _comparable(after))
        if not changed:
            return locked
        locked.save(update_fields=[*changed, "updated_at"])
        record_change(actor, locked, "updated", changed, note=note)

    logger.info("account pk=%s updated: %s", locked.pk, ", ".join(changed))
    return locked


def _stored_form(name: str, value):
    """Return a value as the database stores it: "4.1" becomes Decimal("4.100") for kgal."""
    model_field = Account._meta.get_field(name)
    value = model_field.to_python(value)
    if isinstance(model_field, models.DecimalField) and value is not None:
        value = value.quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return value


def _comparable(values: dict) -> dict:
    """Return values as field_changes compares them, extra columns as sorted name=value text."""
    comparable = dict(values)
    if "extra" in comparable:
        extra = comparable["extra"] or {}
        comparable["extra"] = ", ".join(f"{key}={extra[key]}" for key in sorted(extra))
    return comparable

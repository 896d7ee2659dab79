"""Write change records next to the changes they describe."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from sewerline.apps.core.models import ChangeRecord


def as_text(value) -> str | None:
    """Return a value as the text a change record stores (Decimal keeps its digits)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def field_changes(before: dict, after: dict) -> dict[str, list[str | None]]:
    """Return {field: [old, new]} for the fields whose text differs."""
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = as_text(before.get(name)), as_text(after.get(name))
        if old != new:
            changed[name] = [old, new]
    return changed


def record_change(actor, instance: models.Model, action: str,
                  changes: dict | None = None, note: str = "") -> ChangeRecord:
    """Write one change record for `instance`; call it inside the change's transaction."""
    return ChangeRecord.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        action=action,
        changes=changes or {},
        note=note,
    )

"""Turn a profile file the engine read into Account rows, with a change record each.

`plan_accounts` compares the file with the entity's accounts and lists the values that
cannot be stored. `store_accounts` then creates and updates the accounts and writes
their change records in bulk, inside the caller's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.utils import timezone

from sewerline.apps.core.changes import as_text, field_changes
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.imports.bulk import insert_rows
from sewerline.apps.profiles.models import Account
from sewerline.engine.errors import Problem
from sewerline.engine.ingest.problems import ProblemList, RowCheck
from sewerline.engine.money import DECIMAL
from sewerline.engine.schema import SOURCE_ROW, Profile

logger = logging.getLogger(__name__)

# Profile columns stored in the Account field of the same name, as text.
TEXT_FIELDS = (
    Profile.ACCOUNT_ID, Profile.WATER_ACCOUNT, Profile.OWNER, Profile.SERVICE_ADDRESS,
    Profile.PARCEL, Profile.METER, Profile.CLASS, Profile.METER_SIZE, Profile.STATUS,
)
NUMBER_FIELDS = ("winter_average", Profile.DWELLING_UNITS)
STORED_FIELDS = (*TEXT_FIELDS, *NUMBER_FIELDS, "extra")
EXTRA_PREFIX = "extra."

# Account.winter_average is in kgal with 3 decimals: one gallon.
_KGAL = Decimal(1000)
_WINTER_STEP = Decimal("0.001")
_DWELLING_STEP = Decimal("0.01")
# Accounts fetched per round trip when reading many accounts.
_LOOKUP_CHUNK = 50_000
_BULK_ROWS = 2_000


@dataclass
class AccountPlan:
    """The changes that storing a profile file makes: accounts to create and to update."""

    new: list[dict] = field(default_factory=list)
    changed: list[tuple[int, dict, dict]] = field(default_factory=list)  # pk, old, new
    unchanged: int = 0
    not_in_file: int = 0

    def summary(self) -> dict[str, int]:
        """Return the counts shown to the user."""
        return {"accounts": len(self.new) + len(self.changed) + self.unchanged,
                "new": len(self.new), "changed": len(self.changed),
                "unchanged": self.unchanged, "not_in_file": self.not_in_file}


def plan_accounts(profiles: pl.DataFrame, entity, file_name: str,
                  headers: dict[str, str], *, cap: int = 100) -> tuple[AccountPlan, ProblemList]:
    """Compare a Profile frame with the entity's accounts.

    `headers` maps a profile column to the file's header, for naming problem columns.
    Returns the plan and the problems that stop the import: a value longer than its
    Account field, a number too large for it, dwelling units with fractions of a
    hundredth, and an account id that belongs to another billing entity.
    """
    found = ProblemList(cap=cap)
    found.check_rows(_with_text(profiles), _fit_checks(profiles, file_name, headers))
    _check_other_entities(profiles, entity, file_name, headers, found)

    # Tuples rather than model instances: an entity may have a million accounts.
    existing = {
        values[1]: values
        for values in Account.objects.filter(entity=entity).values_list("pk", *STORED_FIELDS)
    }
    plan = AccountPlan()
    seen = set()
    extra_names = [name for name in profiles.columns if name not in Profile.SCHEMA]
    for row in profiles.iter_rows(named=True):
        values = account_values(row, extra_names)
        seen.add(values[Profile.ACCOUNT_ID])
        stored = existing.get(values[Profile.ACCOUNT_ID])
        if stored is None:
            plan.new.append(values)
            continue
        old = dict(zip(STORED_FIELDS, stored[1:], strict=True))
        if old == values:
            plan.unchanged += 1
        else:
            plan.changed.append((stored[0], old, values))
    plan.not_in_file = len(set(existing) - seen)
    return plan, found


def store_accounts(plan: AccountPlan, entity, actor) -> None:
    """Create and update the planned accounts, with one change record per account."""
    now = timezone.now()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    insert_rows(Account, plan.new, {"entity_id": entity.pk, "updated_at": now})
    new_ids = {values[Profile.ACCOUNT_ID] for values in plan.new}
    created_pks = {
        account_id: pk
        for account_id, pk in Account.objects.filter(entity=entity)
        .values_list(Profile.ACCOUNT_ID, "pk").iterator(chunk_size=_LOOKUP_CHUNK)
        if account_id in new_ids
    }
    records = [
        {"object_id": str(created_pks[values[Profile.ACCOUNT_ID]]), "action": "created",
         "changes": _changes({}, values)}
        for values in plan.new
    ]

    changed_fields: set[str] = set()
    accounts = []
    for pk, old, new in plan.changed:
        accounts.append(Account(pk=pk, entity=entity, updated_at=now, **new))
        changed_fields.update(name for name in STORED_FIELDS if old[name] != new[name])
        records.append({"object_id": str(pk), "action": "updated",
                        "changes": _changes(old, new)})
    if accounts:
        Account.objects.bulk_update(accounts, [*sorted(changed_fields), "updated_at"],
                                    batch_size=_BULK_ROWS)

    # The fields core.changes.record_change writes, for many accounts at once.
    insert_rows(ChangeRecord, records, {
        "actor_id": actor.pk if actor else None, "at": now,
        "object_type": Account._meta.label_lower, "note": "profile import",
    })
    logger.info("entity %s: %d accounts created, %d updated", entity.pk, len(plan.new),
                len(accounts))


def account_values(row: dict, extra_names: list[str]) -> dict:
    """Return the Account field values of one Profile row (empty text as "")."""
    values = {name: row.get(name) or "" for name in TEXT_FIELDS}
    gallons = row.get(Profile.WINTER_AVERAGE_GAL)
    values["winter_average"] = (
        None if gallons is None
        else (gallons / _KGAL).quantize(_WINTER_STEP, rounding=ROUND_HALF_UP)
    )
    units = row.get(Profile.DWELLING_UNITS)
    values[Profile.DWELLING_UNITS] = None if units is None else units.quantize(_DWELLING_STEP)
    values["extra"] = {name: row[name] for name in extra_names if row.get(name) is not None}
    return values


def _changes(old: dict, new: dict) -> dict:
    """Return {field: [old, new]} with each extra column as its own `extra.name` entry."""
    def flat(values: dict) -> dict:
        flattened = {name: value for name, value in values.items() if name != "extra"}
        for name, value in (values.get("extra") or {}).items():
            flattened[EXTRA_PREFIX + name] = value
        return flattened

    before = flat(old)
    after = flat(new)
    if not old:
        return {name: [None, as_text(value)] for name, value in after.items()
                if value not in (None, "")}
    return field_changes(before, after)


def _fit_checks(profiles: pl.DataFrame, file_name: str,
                headers: dict[str, str]) -> list[RowCheck]:
    def check(name: str, failing: pl.Expr, code: str, message: str, expected: str,
              hint: str) -> RowCheck:
        def make(row: int, value: str | None) -> Problem:
            return Problem(code=code, message=message, file=file_name, row=row,
                           column=headers.get(name, name), value=value, expected=expected,
                           hint=hint)
        return RowCheck(failing, f"{name}:text", make)

    checks = []
    for name in TEXT_FIELDS:
        max_length = Account._meta.get_field(name).max_length
        if name in profiles.columns:
            checks.append(check(
                name, pl.col(name).str.len_chars() > max_length, "too_long",
                f"the value is longer than {max_length} characters",
                f"at most {max_length} characters", "Shorten the value in the profile file.",
            ))
    winter_limit = pl.lit(10 ** 11 * 1000).cast(DECIMAL)   # 11 integer digits of kgal
    checks.append(check(
        Profile.WINTER_AVERAGE_GAL, pl.col(Profile.WINTER_AVERAGE_GAL).abs() >= winter_limit,
        "too_large", "the winter average is too large", "less than 100 billion kgal",
        "Check the value and the winter average unit of the mapping.",
    ))
    units = pl.col(Profile.DWELLING_UNITS)
    checks.append(check(
        Profile.DWELLING_UNITS, (units.abs() >= pl.lit(10 ** 6).cast(DECIMAL))
        | (units.round(2) != units),
        "invalid_value", "dwelling units must be below 1,000,000 with at most 2 decimals",
        "a number such as 1, 4 or 2.5", "Correct the number of dwelling units.",
    ))
    return checks


def _with_text(profiles: pl.DataFrame) -> pl.DataFrame:
    texts = []
    for name, dtype in Profile.SCHEMA.items():
        if name == SOURCE_ROW or name not in profiles.columns:
            continue
        text = pl.col(name).cast(pl.String)
        if dtype == DECIMAL:
            text = text.str.strip_chars_end("0").str.strip_chars_end(".")
        texts.append(text.alias(f"{name}:text"))
    return profiles.with_columns(texts)


def _check_other_entities(profiles: pl.DataFrame, entity, file_name: str,
                          headers: dict[str, str], found: ProblemList) -> None:
    """Add a problem for each account id that another billing entity's account has."""
    rows = dict(profiles.select(Profile.ACCOUNT_ID, SOURCE_ROW).iter_rows())
    # One pass over the other entities' ids: a million ids looked up in chunks of a
    # WHERE ... IN list took half a minute on PostgreSQL.
    others = (Account.objects.exclude(entity=entity)
              .values_list("account_id", "entity__name").iterator(chunk_size=_LOOKUP_CHUNK))
    for account_id, entity_name in others:
        if account_id not in rows:
            continue
        if len(found.problems) >= found.cap:
            found.total += 1   # counted, so the error reports that more exist
            continue
        found.add(Problem(
            code="account_of_other_entity",
            message=f"account {account_id} belongs to the billing entity {entity_name}",
            file=file_name, row=rows[account_id],
            column=headers.get(Profile.ACCOUNT_ID, Profile.ACCOUNT_ID), value=account_id,
            expected="an account id of this billing entity or a new one",
            hint="Import the file for the entity that bills this account, or correct "
                 "the account id.",
        ))

"""Read the engine's canonical tables (Profile, Billed) back from the database.

Decimal columns never pass through float on PostgreSQL: COPY prints numeric values as
exact text, which Polars parses into Decimal(38, 12). On SQLite, Django stores decimals
as SQLite numbers, exact to 15 significant digits, and returns them as Decimal.
"""

from __future__ import annotations

import logging

import polars as pl
from django.db import connection
from psycopg import sql

from sewerline.apps.imports import copy as pg_copy
from sewerline.apps.imports.models import BilledCharge, ImportBatch, ImportStatus
from sewerline.apps.profiles.models import Account
from sewerline.engine.money import DECIMAL
from sewerline.engine.schema import SOURCE_ROW, Billed, Profile
from sewerline.engine.units import UsageUnit, convert

logger = logging.getLogger(__name__)

# Rows fetched per round trip on databases without COPY.
_CHUNK_ROWS = 50_000

# Account fields read for the Profile columns, in Profile.SCHEMA order; the Account
# field winter_average is in kgal.
_TEXT_FIELDS = (
    Profile.ACCOUNT_ID, Profile.WATER_ACCOUNT, Profile.OWNER, Profile.SERVICE_ADDRESS,
    Profile.PARCEL, Profile.METER, Profile.CLASS, Profile.METER_SIZE, Profile.STATUS,
)
_ACCOUNT_FIELDS = (*_TEXT_FIELDS, "winter_average", Profile.DWELLING_UNITS)


def billed_frame(cycle) -> pl.DataFrame:
    """Return the cycle's stored bills as a Billed table (Billed.SCHEMA, in that order).

    Includes the charges of every completed import of the cycle, in import order and,
    within an import, in file order. Empty text is null, as the engine reads it.
    """
    columns = list(Billed.SCHEMA)
    charges = BilledCharge.objects.filter(cycle=cycle, batch__status=ImportStatus.DONE)
    if connection.vendor == "postgresql":
        table = BilledCharge._meta.db_table
        query = sql.SQL(
            "SELECT {columns} FROM {table} c JOIN {batches} b ON b.id = c.batch_id "
            "WHERE c.cycle_id = {cycle} AND b.status = {done} ORDER BY c.batch_id, c.id"
        ).format(
            columns=sql.SQL(", ").join(sql.Identifier("c", name) for name in columns),
            table=sql.Identifier(table),
            batches=sql.Identifier(ImportBatch._meta.db_table),
            cycle=sql.Literal(cycle.pk),
            done=sql.Literal(ImportStatus.DONE.value),
        )
        with connection.cursor() as cursor:
            text = pg_copy.copy_query_out(cursor, query, columns)
        frame = _typed(text, Billed.SCHEMA)
    else:
        rows = charges.order_by("batch_id", "id").values_list(*columns)
        frame = _from_rows(rows, Billed.SCHEMA)
    logger.info("cycle %s: read %d stored bills", cycle.pk, frame.height)
    return frame


def profiles_frame(entity=None) -> pl.DataFrame:
    """Return the accounts (of one billing entity, or all) as a Profile table.

    Columns are Profile.SCHEMA in order, then one text column per extra value that any
    account has (such as outside_city). Rows are in account id order. source_row is
    null: an account has no row in a file. The winter average, kept in kgal, is
    returned in gallons as the engine expects.
    """
    entity_id = None if entity is None else entity.pk
    extra_names = _extra_names(entity_id)
    schema = {name: Profile.SCHEMA.get(name, DECIMAL) for name in _ACCOUNT_FIELDS}
    schema.update(dict.fromkeys(extra_names, pl.String()))

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            text = pg_copy.copy_query_out(cursor, _profiles_query(entity_id, extra_names),
                                          list(schema))
        typed = _typed(text, schema)
    else:
        accounts = Account.objects.order_by(Profile.ACCOUNT_ID)
        if entity_id is not None:
            accounts = accounts.filter(entity_id=entity_id)
        typed = _profiles_from_rows(accounts, schema, extra_names)

    frame = typed.select(
        pl.lit(None, dtype=pl.Int64).alias(SOURCE_ROW),
        *[pl.col(name) for name in _TEXT_FIELDS],
        convert(pl.col("winter_average"), UsageUnit.KGAL, UsageUnit.GALLONS)
        .alias(Profile.WINTER_AVERAGE_GAL),
        pl.col(Profile.DWELLING_UNITS).cast(DECIMAL),
        *[pl.col(name) for name in extra_names],
    )
    logger.info("read %d accounts as profiles", frame.height)
    return frame


def _extra_names(entity_id: int | None) -> list[str]:
    """Return the sorted names of the extra values the accounts have."""
    if connection.vendor == "postgresql":
        query = sql.SQL("SELECT DISTINCT jsonb_object_keys(extra) FROM {table} {where}").format(
            table=sql.Identifier(Account._meta.db_table), where=_entity_filter(entity_id),
        )
        with connection.cursor() as cursor:
            cursor.execute(query.as_string(cursor.connection))
            names = {name for (name,) in cursor.fetchall()}
    else:
        accounts = Account.objects.all()
        if entity_id is not None:
            accounts = accounts.filter(entity_id=entity_id)
        names = set()
        for extra in accounts.values_list("extra", flat=True).iterator(chunk_size=_CHUNK_ROWS):
            names.update(extra or {})
    reserved = set(Profile.SCHEMA) | {"winter_average"}
    clashing = names & reserved
    if clashing:
        logger.warning("extra values named like profile columns are left out: %s",
                       sorted(clashing))
    return sorted(names - reserved)


def _profiles_query(entity_id: int | None, extra_names: list[str]) -> sql.Composable:
    """Compose the SELECT of the Account fields and of each extra value as text."""
    selected = [sql.Identifier(name) for name in _ACCOUNT_FIELDS]
    selected += [
        sql.SQL("extra ->> {name}").format(name=sql.Literal(name)) for name in extra_names
    ]
    return sql.SQL("SELECT {selected} FROM {table} {where} ORDER BY account_id").format(
        selected=sql.SQL(", ").join(selected),
        table=sql.Identifier(Account._meta.db_table),
        where=_entity_filter(entity_id),
    )


def _entity_filter(entity_id: int | None) -> sql.Composable:
    if entity_id is None:
        return sql.SQL("")
    return sql.SQL("WHERE entity_id = {entity}").format(entity=sql.Literal(entity_id))


def _profiles_from_rows(accounts, schema: dict, extra_names: list[str]) -> pl.DataFrame:
    chunks = []
    rows = []
    for values in accounts.values_list(*_ACCOUNT_FIELDS, "extra").iterator(
        chunk_size=_CHUNK_ROWS
    ):
        extra = values[-1] or {}
        rows.append((*values[:-1], *[_text_or_none(extra.get(name)) for name in extra_names]))
        if len(rows) == _CHUNK_ROWS:
            chunks.append(_frame(rows, schema))
            rows = []
    chunks.append(_frame(rows, schema))
    return _empty_text_to_null(pl.concat(chunks))


def _from_rows(rows, schema: dict) -> pl.DataFrame:
    chunks = []
    batch = []
    for values in rows.iterator(chunk_size=_CHUNK_ROWS):
        batch.append(values)
        if len(batch) == _CHUNK_ROWS:
            chunks.append(_frame(batch, schema))
            batch = []
    chunks.append(_frame(batch, schema))
    return _empty_text_to_null(pl.concat(chunks))


def _frame(rows: list[tuple], schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def _typed(text: pl.DataFrame, schema: dict) -> pl.DataFrame:
    """Parse COPY's text columns into the schema's types."""
    columns = []
    for name, dtype in schema.items():
        column = pl.col(name)
        if dtype == DECIMAL:
            column = column.str.to_decimal(scale=DECIMAL.scale).cast(DECIMAL)
        elif dtype == pl.Date():
            column = column.str.to_date("%Y-%m-%d")
        elif dtype != pl.String():
            column = column.cast(dtype)
        columns.append(column.alias(name))
    return _empty_text_to_null(text.select(columns))


def _empty_text_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    """Turn empty text into null: the engine reads an empty cell as a missing value."""
    return frame.with_columns(
        pl.when(pl.col(name).str.len_bytes() > 0).then(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items() if dtype == pl.String()
    )


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)

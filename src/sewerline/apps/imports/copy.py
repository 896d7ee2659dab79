"""PostgreSQL COPY: write a frame into a table and read a query's rows, as CSV.

COPY moves a million rows in seconds where INSERT statements take minutes. Values
travel as CSV text, so Decimal values keep every digit: Polars writes them exactly,
and PostgreSQL prints numeric values exactly. In this CSV an unquoted empty field is
NULL and a quoted one ("") an empty string, which is how Polars writes null and "".
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import polars as pl
from psycopg import sql

logger = logging.getLogger(__name__)

# Rows per CSV chunk sent to COPY: about 10 MB of text for a billing row.
CHUNK_ROWS = 50_000


def copy_frame_into(cursor, table: str, columns: Sequence[str], frame: pl.DataFrame) -> int:
    """Write the frame's rows into `table` with one COPY FROM STDIN; return the row count.

    `cursor` is a Django cursor on PostgreSQL (psycopg 3). `columns` names the table's
    columns in the frame's column order. Call it inside a transaction: a failure leaves
    the COPY's rows uncommitted, to be rolled back with the rest.
    """
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)").format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(sql.Identifier(name) for name in columns),
    )
    written = 0
    with cursor.copy(statement) as copy:
        for offset in range(0, frame.height, CHUNK_ROWS):
            chunk = frame.slice(offset, CHUNK_ROWS)
            write_chunk(copy, chunk)
            written += chunk.height
    logger.debug("copied %d rows into %s", written, table)
    return written


def write_chunk(copy, chunk: pl.DataFrame) -> None:
    """Send one chunk of rows to an open COPY as CSV text."""
    copy.write(chunk.write_csv(include_header=False))


def copy_query_out(cursor, query: sql.Composable, columns: Sequence[str]) -> pl.DataFrame:
    """Run `COPY (query) TO STDOUT` and return its rows as text columns named `columns`.

    Null values come back as nulls; empty strings come back as empty strings.
    """
    statement = sql.SQL("COPY ({query}) TO STDOUT WITH (FORMAT csv)").format(query=query)
    buffer = io.BytesIO()
    with cursor.copy(statement) as copy:
        for data in copy:
            buffer.write(data)
    schema = {name: pl.String() for name in columns}
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, schema=schema)

"""Storing a batch of completed responses: one statement per batch, whatever its size.

Group commit hands Repository.store_responses batches of up to a few hundred responses. Through
SQLAlchemy's executemany-with-RETURNING, every batch became a multi-row INSERT with nine bound
parameters per row; psycopg then re-parsed that long, never-repeated query text on every call
(measured: 125-150 us per response on PostgreSQL, most of it in psycopg's query splitter).

Here the text of each statement depends only on the dialect (PostgreSQL) or on the batch size
(SQLite), so it is parsed and planned once and reused:

- PostgreSQL: one statement for the whole batch, with one array parameter per column
  (`INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING`), and the drafts of the
  batch deleted in the same statement (a data-modifying WITH clause). psycopg prepares it
  server-side after a few calls.
- SQLite: a multi-row INSERT with RETURNING, its text cached per batch size (SQLite binds
  parameters cheaply; what cost was building the statement each time), and one DELETE.

Both run on the caller's SQLAlchemy connection, inside its transaction, so a lost connection is
still a DBAPIError (the repository turns it into StoreUnavailable) and nothing here commits.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine

from offramp.store.db import sqlite_file
from offramp.store.writer_turn import turn_of

if TYPE_CHECKING:
    from offramp.store.repository import NewResponse

_SQLITE_COLUMNS = (
    "submission_id, instrument_id, instrument_version, page_id, arm, language, day, seconds, sealed"
)

_PG_STORE = """
WITH given AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('responses', 'response_id')) AS response_id, u.*
    FROM unnest(%(submission_id)b::text[], %(instrument_id)b::text[],
                %(instrument_version)b::int[], %(page_id)b::text[], %(arm)b::text[],
                %(language)b::text[], %(day)b::date[], %(seconds)b::int[], %(sealed)b::bytea[])
         WITH ORDINALITY AS u(submission_id, instrument_id, instrument_version, page_id, arm,
                              language, day, seconds, sealed, position)
    ORDER BY u.position
), new AS (
    INSERT INTO responses (response_id, submission_id, instrument_id, instrument_version,
                           page_id, arm, language, day, seconds, sealed)
    SELECT response_id, submission_id, instrument_id, instrument_version, page_id, arm,
           language, day, seconds, sealed
    FROM given ORDER BY submission_id
    ON CONFLICT (submission_id) DO NOTHING
    RETURNING submission_id
), gone AS (
    DELETE FROM drafts WHERE token_hash = ANY(%(tokens)b::text[])
)
SELECT submission_id FROM new
"""
"""One statement: row ids are drawn in the order given (arrival order, as on SQLite), rows are
inserted in submission id order. Two transactions inserting the same ids (an idempotent resubmit
reaching two server workers) then wait for each other in one order, never in a deadlock.
%(name)b: each array is sent in PostgreSQL's binary format (no text escaping on either side)."""

SQLITE_MAX_ROWS = 500
"""Rows per SQLite INSERT: 9 x 500 parameters stay under SQLite's limit of 32,766."""


@functools.lru_cache(maxsize=64)
def _sqlite_insert(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return (
        f"INSERT INTO responses ({_SQLITE_COLUMNS}) VALUES {values}"  # noqa: S608 - no input
        " ON CONFLICT (submission_id) DO NOTHING RETURNING submission_id"
    )


@functools.lru_cache(maxsize=64)
def delete_drafts_sql(rows: int, placeholder: str = "?") -> str:
    """DELETE of `rows` drafts by token hash (`?` for SQLite, `%s` for psycopg)."""
    marks = ", ".join([placeholder] * rows)
    return f"DELETE FROM drafts WHERE token_hash IN ({marks})"  # noqa: S608 - no input


def store_batch(engine: Engine, items: Sequence[NewResponse], *,
                delete_drafts: bool = True) -> set[str]:
    """Durably insert the responses not stored yet and delete their drafts, all or nothing;
    the submission ids inserted. Returns only after the commit. With delete_drafts=False
    (SQLite only) the drafts are left for the caller to delete after the commit.

    PostgreSQL: the one statement runs on its own (autocommit), which makes it its own
    transaction: atomic, and committed (WAL flushed, synchronous_commit on) before the server
    answers it. That saves the BEGIN and COMMIT round trips of an explicit transaction.
    SQLite: the inserts and the delete in one transaction, in this process's turn among the
    writers of the file (store/writer_turn.py).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            return insert_responses(conn, items)
    database = sqlite_file(engine.url)
    with turn_of(database), engine.begin() as conn:
        return insert_responses(conn, items, delete_drafts=delete_drafts)


def insert_responses(conn: Connection, items: Sequence[NewResponse], *,
                     delete_drafts: bool = True) -> set[str]:
    """Insert the responses not stored yet and delete their drafts (unless told not to, on
    SQLite); the submission ids inserted.

    Runs on the caller's connection (in its transaction, if any). A submission id already
    stored, or repeated in `items`, is inserted once.
    """
    tokens = sorted(i.draft_token_hash for i in items if i.draft_token_hash is not None)
    if conn.dialect.name == "postgresql":
        params: dict[str, Any] = {
            "submission_id": [i.submission_id for i in items],
            "instrument_id": [i.instrument_id for i in items],
            "instrument_version": [i.instrument_version for i in items],
            "page_id": [i.page_id for i in items],
            "arm": [i.arm for i in items],
            "language": [i.language for i in items],
            "day": [i.day for i in items],
            "seconds": [i.seconds for i in items],
            "sealed": [i.sealed for i in items],
            "tokens": tokens,
        }
        return {str(row[0]) for row in conn.exec_driver_sql(_PG_STORE, params)}
    inserted: set[str] = set()
    for start in range(0, len(items), SQLITE_MAX_ROWS):
        chunk = items[start : start + SQLITE_MAX_ROWS]
        flat: list[Any] = []
        for i in chunk:
            flat += (i.submission_id, i.instrument_id, i.instrument_version, i.page_id, i.arm,
                     i.language, i.day.isoformat(), i.seconds, i.sealed)
        result = conn.exec_driver_sql(_sqlite_insert(len(chunk)), tuple(flat))
        inserted.update(str(row[0]) for row in result)
    for start in range(0, len(tokens) if delete_drafts else 0, SQLITE_MAX_ROWS):
        chunk_tokens = tokens[start : start + SQLITE_MAX_ROWS]
        conn.exec_driver_sql(delete_drafts_sql(len(chunk_tokens)), tuple(chunk_tokens))
    return inserted

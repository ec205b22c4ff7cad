"""Engines for SQLite (embedded default) and PostgreSQL (production), configured for durability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from offramp.errors import ConfigError

POOL_SIZE = 40
WAL_SIZE_LIMIT = 64 * 1024 * 1024
"""SQLite journal_size_limit: a write-ahead log that grew larger (a long burst of writes) is
trimmed to this when it starts over, so its disk space is returned."""
# Per worker process. PostgreSQL allows 100 connections by default: 20 per worker, and 6 more for
# drafts (store/drafts.py), leave room for three workers and the tools. Requests beyond it wait
# for a connection (each is held for a millisecond or so) instead of opening more; a wait past
# PG_POOL_TIMEOUT is a 503.
PG_POOL_SIZE = 16
PG_POOL_OVERFLOW = 4
PG_POOL_TIMEOUT = 10


def normalise_url(url: str) -> URL:
    """Accept the URLs people type and pick the drivers we ship (psycopg 3 for PostgreSQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"database_url {url!r} is not a database URL",
            hint="use sqlite:///path/to/file.sqlite or postgresql://user@host:5432/dbname",
        ) from exc
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "postgresql+psycopg"):
        raise ConfigError(
            f"database_url uses {parsed.drivername!r}",
            hint="offramp supports sqlite:/// and postgresql:// URLs",
        )
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for another database or a private in-memory one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; synchronous=FULL makes each commit durable on disk
    # before we tell a respondent "thank you".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def make_engine(url: str, *, autocheckpoint: bool = True) -> Engine:
    """An Engine with the durability settings offramp relies on.

    autocheckpoint=False (SQLite; the server): a commit never copies the write-ahead log into
    the database file itself. SQLite does that after a commit once the log passes 1,000 pages,
    inside the committing call, so one batch of completed responses in every few hundred waited
    tens of milliseconds more for its "thank you" (and, with several workers, so did the other
    workers' batches). The server checkpoints once a second in the background instead
    (DraftStore.checkpoint)."""
    parsed = normalise_url(url)
    if parsed.drivername == "sqlite":
        database = sqlite_file(parsed)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as the server's thread pool (40): a connection opened per request
        # beyond the pool would pay for opening the file and the PRAGMAs every time.
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False}, pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if not autocheckpoint:
            event.listen(engine, "connect", _no_autocheckpoint)
        return engine
    # pool_pre_ping: a connection that died with a PostgreSQL restart is replaced before use,
    # so after an outage respondents see the survey again, not one more error page.
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=PG_POOL_SIZE, max_overflow=PG_POOL_OVERFLOW,
        pool_timeout=PG_POOL_TIMEOUT,
    )

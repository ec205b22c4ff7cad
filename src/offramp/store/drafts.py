"""Drafts on the hot path: one read and one write per survey page, each a single short statement.

Every page a respondent posts loads their encrypted draft and saves it again, so this is the store
code that runs most. It bypasses SQLAlchemy's statement layer (a prepared Core statement costs
about five times the DBAPI call it wraps) and runs each statement in autocommit on a pool of its
own (on PostgreSQL, concurrent saves share one transaction: group commit), which also lets
drafts have their own durability:

- A draft is committed before its page is answered and survives a crash or SIGKILL of the server
  process on both databases, and a crash of the PostgreSQL server (a normal synchronous commit
  there: `synchronous_commit=off` was measured to lose drafts when PostgreSQL was killed).
- On SQLite a draft is not flushed to the disk before the reply (synchronous=NORMAL in WAL mode):
  a power cut or operating-system crash may lose the last moments of drafts, i.e. a respondent
  may have to answer their last page again. Completed responses never take this path:
  Repository.store_response keeps synchronous=FULL, so "thank you" follows a durable commit.

That trade is what lets a page be answered without waiting for an fsync (about 3.5 ms here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from anyio import to_thread
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from offramp.errors import StoreUnavailable
from offramp.store.bulk import delete_drafts_sql
from offramp.store.db import WAL_SIZE_LIMIT, sqlite_file
from offramp.store.group_commit import AsyncGroupCommitter, GroupCommitter
from offramp.store.writer_turn import turn_of

DraftRow = tuple[str, str, dt.date, bytes]
"""(token_hash, instrument_id, expires_day, sealed)"""

DRAFT_POOL_SIZE = 4
"""PostgreSQL connections per worker process for drafts, beside the main pool's 16 + 4 (see
store/db.py): each statement holds one for a round trip, and a wait for one is short."""
DRAFT_POOL_OVERFLOW = 2

SPIN_SECONDS = 0.0002
"""How long save_async keeps trying on the event loop, without yielding, while another writer
holds SQLite's lock. That writer is the other worker process in the middle of one short statement
(tens of microseconds), so the lock is nearly always free again within this; a save that instead
yielded would wait a whole round of the loop's other requests (8-15 ms under load, measured: the
largest share of the page p99)."""
NOWAIT_RETRY_DELAYS = (0.0, 0.0005, 0.001, 0.002, 0.004)
"""Then seconds save_async waits, yielding to other requests, before each further try (a writer
that holds the lock longer: a checkpoint, a completed response's fsync); after these, about 8 ms in
all, the save goes to a worker thread, which waits with SQLite's busy timeout."""

SETTLE_FRAMES = 4096
"""Write-ahead-log frames (pages) beyond which checkpoint() finishes its copy with writers held
off, so that the next write starts the log over (16 MB of 4 KB pages); below it a PASSIVE
checkpoint alone."""
CATCH_UP_PASSES = 3
SETTLE_REMAINDER = 256
"""Before settling, more PASSIVE passes (at most CATCH_UP_PASSES) while more than this many
frames are left to copy: the settle holds the writers off for as long as its copy takes."""
CHECKPOINT_WAIT_MS = 20
"""How long checkpoint() waits for SQLite's write lock to finish a copy (a draft save holds it
for microseconds); still busy after that, the next round tries again."""
DELETE_CHUNK = 32
"""Drafts deleted per statement by delete_discarded(). Each statement holds the response commits
off while it runs: 256 at a time took 12-16 ms under load (measured) and showed in the final
submits' p99; 32 take about as long as one commit."""
DELETE_PAUSE = 0.002
"""Seconds between two such statements: the turn is not handed out in order of asking (flock),
so without a pause the deletions could take it again and again before a waiting commit."""
_LOAD = "SELECT sealed FROM drafts WHERE token_hash = {p} AND expires_day >= {p}"
_SAVE_SAME_DAY = (
    "INSERT INTO drafts (token_hash, instrument_id, expires_day, sealed) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (token_hash) DO UPDATE SET sealed = excluded.sealed"
    " WHERE drafts.expires_day = excluded.expires_day"
    " AND drafts.instrument_id = excluded.instrument_id"
)
"""SQLite's save of a page on the event loop. A draft's expiry day changes once a day at most,
but an upsert that assigns it rewrites its index entry every time: two pages written per save
instead of one. This one assigns only the draft itself; when it changes nothing (a new day, or
another instrument), the full upsert follows."""
_LOAD_MANY = (
    "SELECT token_hash, sealed FROM drafts WHERE token_hash = ANY(%s) AND expires_day >= %s"
)
_SAVE = (
    "INSERT INTO drafts (token_hash, instrument_id, expires_day, sealed)"
    " VALUES ({p}, {p}, {p}, {p})"
    " ON CONFLICT (token_hash) DO UPDATE SET instrument_id = excluded.instrument_id,"
    " expires_day = excluded.expires_day, sealed = excluded.sealed"
)


def _sqlite_draft_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def draft_engine(main: Engine) -> Engine:
    """A second engine on the same database with draft durability (see the module docstring)."""
    url = main.url
    if url.get_backend_name() == "sqlite":
        if sqlite_file(url) is None:
            return main  # a private in-memory database cannot be opened twice
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, isolation_level="AUTOCOMMIT",
            pool_size=40, max_overflow=40, pool_reset_on_return=None,
        )
        event.listen(engine, "connect", _sqlite_draft_pragmas)
        return engine
    return create_engine(
        url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
        pool_size=DRAFT_POOL_SIZE, max_overflow=DRAFT_POOL_OVERFLOW, pool_timeout=10,
    )


class DraftStore:
    """load/save of one draft by its token hash; StoreUnavailable when the database is gone."""

    def __init__(self, main: Engine) -> None:
        self._main = main
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        sqlite = main.url.get_backend_name() == "sqlite"
        placeholder = self._placeholder = "?" if sqlite else "%s"
        self._load_sql = _LOAD.format(p=placeholder)
        self._save_sql = _SAVE.format(p=placeholder)
        # sqlite3's own date adapter is deprecated; SQLAlchemy stores dates as ISO text there.
        self._day: Callable[[dt.date], Any] = dt.date.isoformat if sqlite else (lambda d: d)
        self._nowait = threading.local()
        self._nowait_connections: list[sqlite3.Connection] = []
        self._checkpointer: sqlite3.Connection | None = None
        self._gate: sqlite3.Connection | None = None
        # Drafts of responses already committed, deleted a batch at a time (discard_later).
        self._discarded: list[str] = []
        self._discard_lock = threading.Lock()
        # Its own lock: a checkpoint can take a while, and a loop thread opening its connection
        # (self._lock) must not wait for one.
        self._checkpoint_lock = threading.Lock()
        self._sqlite_file = sqlite_file(main.url)
        # SQLite drafts do not wait for the disk, so grouping them saves nothing there.
        self._committer: GroupCommitter[DraftRow, None] | None = (
            None if sqlite else GroupCommitter(self._save_many)
        )
        # The same for pages on an event loop (PostgreSQL): concurrent pages' saves share one
        # transaction and their reads one statement, each batch one trip to a worker thread,
        # instead of a worker thread parked per page (which fought the loop for the interpreter).
        self._async_saver: AsyncGroupCommitter[DraftRow, None] | None = (
            None if sqlite else AsyncGroupCommitter(self._save_many)
        )
        self._async_loader: AsyncGroupCommitter[tuple[str, dt.date], bytes | None] | None = (
            None if sqlite else AsyncGroupCommitter(self._load_many)
        )
        # Whoever disposes of the store's engine closes the draft connections too.
        event.listen(main, "engine_disposed", lambda _: self.dispose())

    @property
    def reads_never_wait(self) -> bool:
        """True on a SQLite file in WAL mode: a read never waits for a writer or for the disk,
        so a caller may run it where blocking would hurt (an event loop)."""
        return self._sqlite_file is not None

    @property
    def engine(self) -> Engine:
        # Made on first use: the command-line tools share Repository but never touch drafts.
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = draft_engine(self._main)
        return self._engine

    def load(self, token_hash: str, today: dt.date) -> bytes | None:
        params = (token_hash, self._day(today))
        row: Any = None
        if self.reads_never_wait:
            # A connection of this thread's own, outside the pool: a pool checkout and return
            # cost more than this read. busy_timeout=0, so a rare busy answer (a database being
            # recovered) goes the ordinary way below instead of waiting here.
            try:
                row = self._nowait_connection().execute(self._load_sql, params).fetchone()
                return None if row is None else bytes(row[0])
            except sqlite3.OperationalError:
                pass
        row = self._run(self._load_sql, params, fetch=True)
        return None if row is None else bytes(row[0])

    async def load_async(self, token_hash: str, today: dt.date) -> bytes | None:
        """load() for an event loop: on the loop itself where a read never waits (SQLite in WAL
        mode), else in a worker thread, sharing one statement with concurrent pages' reads."""
        if self.reads_never_wait:
            return self.load(token_hash, today)
        if self._async_loader is None:  # an in-memory SQLite database
            return await to_thread.run_sync(self.load, token_hash, today)
        return await self._async_loader.submit((token_hash, today))

    def _load_many(self, keys: Sequence[tuple[str, dt.date]]) -> list[bytes | None]:
        """Several pages' drafts in one statement (PostgreSQL)."""
        found: dict[tuple[str, dt.date], bytes] = {}
        for today in {day for _, day in keys}:
            hashes = sorted({token for token, day in keys if day == today})

            def read(cursor: Any, hashes: list[str] = hashes, today: dt.date = today) -> None:
                cursor.execute(_LOAD_MANY, (hashes, today))
                for token, sealed in cursor.fetchall():
                    found[(token, today)] = bytes(sealed)

            self._with_cursor(read)
        return [found.get(key) for key in keys]

    def save(self, token_hash: str, instrument_id: str, expires_day: dt.date,
             sealed: bytes) -> None:
        """Committed before it returns; on PostgreSQL concurrent saves share one commit."""
        if self._committer is not None:
            self._committer.submit((token_hash, instrument_id, expires_day, sealed))
            return
        self._run(self._save_sql, (token_hash, instrument_id, self._day(expires_day), sealed))

    def save_nowait(self, token_hash: str, instrument_id: str, expires_day: dt.date,
                    sealed: bytes) -> bool:
        """Save without ever waiting, for a lock or for the disk; True if it is saved.

        False where that cannot be promised (PostgreSQL, an in-memory database, or another
        writer holding SQLite's lock at this moment): the caller then calls save() where waiting
        does no harm. This lets an event loop save a draft itself, which costs less than handing
        it to a worker thread, without ever stalling on a busy database."""
        if not self.reads_never_wait:
            return False
        connection = self._nowait_connection()
        params = (token_hash, instrument_id, self._day(expires_day), sealed)
        try:
            if connection.execute(_SAVE_SAME_DAY, params).rowcount != 1:
                connection.execute(self._save_sql, params)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY,
                                                          sqlite3.SQLITE_LOCKED):
                return False
            raise _unavailable(exc) from exc
        return True

    async def save_async(self, token_hash: str, instrument_id: str, expires_day: dt.date,
                         sealed: bytes) -> None:
        """save() for an event loop: committed before it returns, and the loop never blocks.

        On SQLite the loop saves itself (save_nowait). When another writer holds the lock, it tries
        again at once for up to SPIN_SECONDS, then a few times more while yielding to other
        requests (NOWAIT_RETRY_DELAYS). Only then the save goes to a worker thread. On PostgreSQL
        it always does, sharing one transaction with concurrent pages' saves."""
        if self._async_saver is not None:
            await self._async_saver.submit((token_hash, instrument_id, expires_day, sealed))
            return
        if self.reads_never_wait:
            row = (token_hash, instrument_id, expires_day, sealed)
            deadline = time.perf_counter() + SPIN_SECONDS
            while not self.save_nowait(*row):
                if time.perf_counter() > deadline:
                    break
            else:
                return
            for delay in NOWAIT_RETRY_DELAYS:
                await asyncio.sleep(delay)
                if self.save_nowait(*row):
                    return
        await to_thread.run_sync(self.save, token_hash, instrument_id, expires_day, sealed)

    def _nowait_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._nowait, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                str(self._sqlite_file), isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=0")  # busy: say so at once, never wait
            # Never checkpoint here (that writes the database file): checkpoint() does, elsewhere.
            connection.execute("PRAGMA wal_autocheckpoint=0")
            connection.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            self._nowait.connection = connection
            with self._lock:
                self._nowait_connections.append(connection)
        return connection

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database file (SQLite; a no-op elsewhere). Run
        every second or so off the request path: the server's connections never do it inline.

        A PASSIVE checkpoint blocks no one, but under a steady stream of writes it never catches
        up with the end of the log, and SQLite starts the log over only once a checkpoint has:
        the file grew by about 25 MB a second under load (measured), without bound. So once the
        log holds more than SETTLE_FRAMES, the frames written while the PASSIVE copy ran are
        copied too, with the writers held off for that moment (settle); the next write then
        starts the log from its beginning.

        An earlier version used SQLite's RESTART checkpoint for that. It holds the write lock
        while it waits for readers, sleeping 1, 2, 5... ms in SQLite's busy handler: 26-39 ms
        under 2,000 final submits a second (measured), and 72-81% of the slowest 1% of final submits
        overlapped one. Holding writers off only while copying what is left takes a few ms."""
        if not self.reads_never_wait:
            return
        with self._checkpoint_lock:
            try:
                connection = self._checkpoint_connection()
                _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames > SETTLE_FRAMES:
                    # Catch up without holding anyone off first: each pass copies what came in
                    # during the one before, so the settle has only a little left to copy.
                    for _ in range(CATCH_UP_PASSES):
                        if frames - copied <= SETTLE_REMAINDER:
                            break
                        _, frames, copied = connection.execute(
                            "PRAGMA wal_checkpoint(PASSIVE)"
                        ).fetchone()
                    self._settle(connection)
            except sqlite3.Error as exc:
                raise _unavailable(exc) from exc

    def _settle(self, connection: sqlite3.Connection) -> None:
        """Copy the rest of the log with every writer held off: the group commits of every worker
        wait for their turn (store/writer_turn.py, woken the moment it is free), and drafts saves
        see SQLite's write lock taken by the gate connection (save_async retries them). Readers
        never wait. Whether the log is then started over is up to the next writer: SQLite does
        it when no reader still uses the old log (one that began before the copy ended)."""
        if self._gate is None:
            self._gate = self._waiting_connection()
        with turn_of(self._sqlite_file):
            try:
                self._gate.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                    return  # a long write; the next round settles instead
                raise
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                self._gate.execute("ROLLBACK")

    def _checkpoint_connection(self) -> sqlite3.Connection:
        if self._checkpointer is None:
            self._checkpointer = self._waiting_connection()
        return self._checkpointer

    def _waiting_connection(self) -> sqlite3.Connection:
        """A connection of the checkpoint's own, outside the pool, that waits for SQLite's lock
        at most CHECKPOINT_WAIT_MS."""
        connection = sqlite3.connect(
            str(self._sqlite_file), isolation_level=None, check_same_thread=False
        )
        connection.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        return connection

    def discard_later(self, token_hashes: Iterable[str]) -> None:
        """Delete these drafts at the next delete_discarded(): their responses are committed.

        The server's final submits on SQLite take this way instead of deleting the draft in the
        response's own transaction. Each deletion writes pages at random places (the drafts'
        index by token hash, the row's page): in the commit they were half the log each
        response wrote (about 10,000 frames a second at 2,000 final submits a second, 5,000
        without them, measured), written while every waiting respondent waited for that fsync.
        Deleted in short batches off the path of the reply, the final submits' p99 was lower
        (docs/data.md). A stop in between leaves a draft whose response is stored: a resubmit
        of it is answered "thank you" without storing anything twice, and
        Repository.purge_drafts deletes such drafts at the next start."""
        with self._discard_lock:
            self._discarded.extend(token_hashes)

    def delete_discarded(self) -> int:
        """Delete the drafts given to discard_later(); how many were given. Those not deleted
        because the database cannot be reached stay listed for the next call."""
        with self._discard_lock:
            pending, self._discarded = sorted(set(self._discarded)), []
        left: list[str] = []
        try:
            self.delete(pending, unfinished=left)
        finally:
            if left:
                with self._discard_lock:
                    self._discarded.extend(left)
        return len(pending)

    def delete(self, token_hashes: Sequence[str], unfinished: list[str] | None = None) -> int:
        """Delete these drafts, DELETE_CHUNK per statement; how many rows were deleted. When the
        database cannot be reached, those not deleted are added to `unfinished` (if given)
        before StoreUnavailable is raised."""
        deleted = 0
        for start in range(0, len(token_hashes), DELETE_CHUNK):
            if start:
                time.sleep(DELETE_PAUSE)
            try:
                deleted += self._delete(token_hashes[start : start + DELETE_CHUNK])
            except StoreUnavailable:
                if unfinished is not None:
                    unfinished.extend(token_hashes[start:])
                raise
        return deleted

    def _delete(self, token_hashes: Sequence[str]) -> int:
        sql = delete_drafts_sql(len(token_hashes), self._placeholder)

        def statement(cursor: Any) -> int:
            cursor.execute(sql, tuple(token_hashes))
            return int(cursor.rowcount)

        # On SQLite, the response commits wait their turn rather than SQLite's sleeps.
        with turn_of(self._sqlite_file):
            return int(self._with_cursor(statement))

    def dispose(self) -> None:
        if self._engine is not None and self._engine is not self._main:
            self._engine.dispose()  # (disposing of the main engine itself would recurse)
        with self._lock:
            connections, self._nowait_connections = self._nowait_connections, []
        with self._checkpoint_lock:
            for connection in (self._checkpointer, self._gate):
                if connection is not None:
                    connections.append(connection)
            self._checkpointer = self._gate = None
        for connection in connections:
            connection.close()
        self._nowait = threading.local()

    def _run(self, sql: str, params: tuple[Any, ...], *, fetch: bool = False) -> Any:
        """One statement; a connection broken by a database restart is replaced and retried once."""

        def statement(cursor: Any) -> Any:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None

        return self._with_cursor(statement)

    def _save_many(self, rows: Sequence[DraftRow]) -> list[None]:
        """Several pages' drafts in one transaction: one WAL flush for all (the last of a token
        wins). PostgreSQL's commit waits for its WAL flush; without this, each page post would
        hold a connection for one, and the pool would bound the pages a worker answers."""
        latest = {row[0]: row for row in rows}

        def batch(cursor: Any) -> None:
            cursor.execute("BEGIN")
            cursor.executemany(self._save_sql, [
                (token, instrument_id, self._day(expires), sealed)
                for token, instrument_id, expires, sealed in latest.values()
            ])
            cursor.execute("COMMIT")

        self._with_cursor(batch)
        return [None] * len(rows)

    def _with_cursor(self, work: Callable[[Any], Any]) -> Any:
        """work(cursor) on a pooled connection; a connection broken by a database restart is
        replaced and the work retried once; anything else is StoreUnavailable."""
        driver_errors = self._driver_errors
        checkout_errors: tuple[type[Exception], ...] = (
            DBAPIError, DisconnectionError, PoolTimeout, *driver_errors
        )
        for attempt in (1, 2):
            try:
                connection = self.engine.raw_connection()
            except checkout_errors as exc:
                # raw_connection() lets the driver's own connect error through unwrapped.
                raise _unavailable(exc) from exc
            try:
                cursor = connection.cursor()
                result = work(cursor)
                cursor.close()
                # A no-op in autocommit; commits when an in-memory database shares the main engine.
                connection.commit()
                return result
            except driver_errors as exc:
                connection.invalidate()  # never hand a broken connection to the next page
                if attempt == 2 or not self._is_disconnect(exc):
                    raise _unavailable(exc) from exc
            finally:
                connection.close()
        raise AssertionError("unreachable")

    @functools.cached_property
    def _driver_errors(self) -> tuple[type[Exception], ...]:
        return (self.engine.dialect.loaded_dbapi.Error,)

    def _is_disconnect(self, exc: Any) -> bool:
        return bool(self.engine.dialect.is_disconnect(exc, None, None))


def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        "the response store cannot be reached", hint=type(exc.__cause__ or exc).__name__
    )

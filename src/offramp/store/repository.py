"""The only code that reads and writes the tables; the same statements run on SQLite and PostgreSQL.

Every public method is one transaction. A method that a respondent's request waits on turns a lost
database connection into StoreUnavailable (the web tier answers 503), never into "thank you".
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from anyio import to_thread
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from offramp.errors import StoreUnavailable
from offramp.store.bulk import store_batch
from offramp.store.db import sqlite_file
from offramp.store.drafts import DraftRow, DraftStore
from offramp.store.group_commit import AsyncGroupCommitter, GroupCommitter
from offramp.store.tables import counters, drafts, instruments, key_sets, purges, responses

log = logging.getLogger("offramp.store")

# What a lost or overloaded database raises. A constraint violation (IntegrityError) is a bug or a
# race handled where it happens, so it is not among them.
_UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, DisconnectionError, PoolTimeout)


class StoredResponse(NamedTuple):
    """A response row as the store keeps it: context in clear, answers sealed.

    Immutable; a named tuple because export makes one per record, and a frozen dataclass's
    constructor cost five times as much (measured 2.7 us, beside about 40 us to open a record).
    """

    response_id: int
    instrument_id: str
    instrument_version: int
    page_id: str
    arm: str
    language: str
    day: dt.date
    seconds: int
    sealed: bytes
    submission_id: str = ""
    """The hash of the respondent's form token; bound into records sealed in format 2."""


@dataclass(frozen=True)
class NewResponse:
    """One response on its way into the store (see Repository.store_response)."""

    submission_id: str
    instrument_id: str
    instrument_version: int
    page_id: str
    arm: str
    language: str
    day: dt.date
    seconds: int
    sealed: bytes
    draft_token_hash: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "instrument_id": self.instrument_id,
            "instrument_version": self.instrument_version,
            "page_id": self.page_id,
            "arm": self.arm,
            "language": self.language,
            "day": self.day,
            "seconds": self.seconds,
            "sealed": self.sealed,
        }


@dataclass(frozen=True)
class CounterRow:
    day: dt.date
    language: str
    arm: str
    event: str
    link: str
    count: int


@dataclass(frozen=True)
class KeySet:
    key_set_id: str
    fingerprints: tuple[str, ...]
    first_day: dt.date


@dataclass(frozen=True)
class PurgeRecord:
    day: dt.date
    kind: str
    instrument_id: str | None
    from_day: dt.date | None
    to_day: dt.date | None
    count: int


@dataclass(frozen=True)
class ResponsePurge:
    deleted: int
    kept_unexported: int


@dataclass(frozen=True)
class StoreCounts:
    """What `offramp store verify` reports besides the records themselves."""

    instruments: list[tuple[str, int]]
    responses: list[tuple[str, int, int, int]]  # instrument, version, records, exported
    drafts_live: int
    drafts_expired: int
    counter_rows: int




def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        "the response store cannot be reached", hint=f"{type(exc.__cause__ or exc).__name__}"
    )


def key_set_id(fingerprints: Iterable[str]) -> str:
    """A short stable name for a set of keys, whatever order the config lists them in."""
    joined = "\n".join(sorted(fingerprints)).encode("ascii")
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


class Repository:
    """Typed access to the store.

    `group_commit=True` (the default) lets concurrent store_response calls share a commit; each
    still returns only after its own row is durable. False gives one commit per response, the
    naive baseline the benchmarks compare against.

    `defer_draft_deletes=True` (the server, on a SQLite file) deletes a stored response's draft
    after its commit, a batch at a time, whenever drafts.delete_discarded() runs (every second
    in the server) instead of in the response's transaction: see DraftStore.discard_later.
    Ignored on PostgreSQL, where the one statement that stores a batch deletes its drafts.
    """

    def __init__(self, engine: Engine, *, group_commit: bool = True,
                 defer_draft_deletes: bool = False) -> None:
        self.engine = engine
        self._defer_draft_deletes = defer_draft_deletes and sqlite_file(engine.url) is not None
        self._committer: GroupCommitter[NewResponse, bool] | None = (
            # One batch in flight on both databases: on PostgreSQL two (max_in_flight=2) gave
            # smaller batches and fewer responses/s on this 2-core machine (measured, see
            # docs/data.md); SQLite has one writer anyway.
            GroupCommitter(self.store_responses) if group_commit else None
        )
        # The same for callers on an event loop (the survey's final page), without a thread each.
        self._async_committer: AsyncGroupCommitter[NewResponse, bool] | None = (
            AsyncGroupCommitter(self.store_responses) if group_commit else None
        )
        # Survey pages load and save a draft on every page: a fast path of their own.
        self.drafts = DraftStore(engine)

    # -- instruments --------------------------------------------------------------------------
    def publish_instrument(
        self, instrument_id: str, source_hash: str, definition: str, *, day: dt.date | None = None
    ) -> int:
        """Store a new immutable version unless this exact source is already published.

        Several workers starting at once may race to publish the same source; the loser's insert
        fails on a unique constraint and it reads the winner's version instead.
        """
        for _ in range(5):
            try:
                return self._publish_once(instrument_id, source_hash, definition, day)
            except SAIntegrityError:
                continue
        return self._publish_once(instrument_id, source_hash, definition, day)

    def _publish_once(
        self, instrument_id: str, source_hash: str, definition: str, day: dt.date | None
    ) -> int:
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(instruments.c.version).where(
                    instruments.c.instrument_id == instrument_id,
                    instruments.c.source_hash == source_hash,
                )
            ).scalar()
            if existing is not None:
                return int(existing)
            latest = conn.execute(
                select(func.max(instruments.c.version)).where(
                    instruments.c.instrument_id == instrument_id
                )
            ).scalar()
            version = int(latest or 0) + 1
            conn.execute(
                insert(instruments).values(
                    instrument_id=instrument_id,
                    version=version,
                    source_hash=source_hash,
                    definition=definition,
                    published_day=day or dt.date.today(),
                )
            )
            return version

    def instrument_definition(self, instrument_id: str, version: int) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(instruments.c.definition).where(
                    instruments.c.instrument_id == instrument_id,
                    instruments.c.version == version,
                )
            ).scalar()
            return None if value is None else str(value)

    def instrument_versions(self) -> list[tuple[str, int, str]]:
        """(id, version, definition) of every published instrument version."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    instruments.c.instrument_id, instruments.c.version, instruments.c.definition
                ).order_by(instruments.c.instrument_id, instruments.c.version)
            ).all()
        return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]

    # -- drafts -------------------------------------------------------------------------------
    def save_draft(
        self, token_hash: str, instrument_id: str, expires_day: dt.date, sealed: bytes
    ) -> None:
        """Create or replace a draft (an upsert, so a double-clicked page cannot collide).

        Committed before it returns, with drafts' durability (store/drafts.py)."""
        self.drafts.save(token_hash, instrument_id, expires_day, sealed)

    def upsert_drafts(self, rows: Sequence[DraftRow]) -> list[None]:
        """Create or replace many drafts in one transaction (the last row of a token wins)."""
        latest = {row[0]: row for row in rows}
        if not latest:
            return []
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    _hot(conn).upsert_drafts,
                    [
                        {"token_hash": t, "instrument_id": i, "expires_day": e, "sealed": b}
                        for t, i, e, b in latest.values()
                    ],
                )
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
        return [None] * len(rows)

    def load_draft(self, token_hash: str, today: dt.date | None = None) -> bytes | None:
        return self.drafts.load(token_hash, today or dt.date.today())

    def save_drafts(self, rows: Sequence[tuple[str, str, dt.date, bytes]]) -> None:
        """Insert many new drafts (token_hash, instrument_id, expires_day, sealed) at once.

        For loading test fixtures and benchmarks; the survey saves one draft per page.
        """
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(
                insert(drafts),
                [
                    {"token_hash": t, "instrument_id": i, "expires_day": e, "sealed": s}
                    for t, i, e, s in rows
                ],
            )

    def purge_drafts(self, today: dt.date | None = None) -> int:
        """Delete drafts past their expiry day, and drafts whose response is already stored (a
        stop between a response's commit and its draft's deferred deletion leaves one; see
        DraftStore.discard_later); logs and records the count, returns it."""
        today = today or dt.date.today()
        with self.engine.connect() as conn:
            # Read first, delete by key after: the scan holds no lock that writers wait for.
            submitted = conn.execute(
                select(drafts.c.token_hash).where(
                    select(responses.c.response_id)
                    .where(responses.c.submission_id == drafts.c.token_hash)
                    .exists()
                )
            ).scalars().all()
        count = self.drafts.delete(sorted(submitted))
        with self.engine.begin() as conn:
            expired = int(
                conn.execute(delete(drafts).where(drafts.c.expires_day < today)).rowcount or 0
            )
            if count + expired:
                _log_purge(conn, PurgeRecord(today, "drafts", None, None, None, count + expired))
        if count + expired:
            log.info("purged %d expired drafts and %d drafts of stored responses", expired, count)
        return count + expired

    # -- responses ----------------------------------------------------------------------------
    def store_response(
        self,
        *,
        submission_id: str,
        instrument_id: str,
        instrument_version: int,
        page_id: str,
        arm: str,
        language: str,
        day: dt.date,
        seconds: int,
        sealed: bytes,
        draft_token_hash: str | None = None,
    ) -> bool:
        """Commit one response durably; False when this submission was already stored.

        Returns only after the commit. The draft is deleted in the same transaction (or, with
        defer_draft_deletes, after it), so a crash leaves the draft or the response or both,
        never neither.
        """
        item = NewResponse(
            submission_id, instrument_id, instrument_version, page_id, arm, language, day,
            seconds, sealed, draft_token_hash,
        )
        if self._committer is None:
            return self.store_responses([item])[0]
        return self._committer.submit(item)

    async def store_response_async(self, item: NewResponse) -> bool:
        """store_response for an event loop: returns only after the commit, and blocks nothing
        while it waits (AsyncGroupCommitter)."""
        if self._async_committer is None:
            return (await to_thread.run_sync(self.store_responses, [item]))[0]
        return await self._async_committer.submit(item)

    def store_responses(self, items: Sequence[NewResponse]) -> list[bool]:
        """Commit many responses in one transaction; for each, False if it was stored already."""
        if not items:
            return []
        try:
            # One statement per batch (store/bulk.py); RETURNING names the rows inserted.
            inserted = store_batch(self.engine, items,
                                   delete_drafts=not self._defer_draft_deletes)
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
        if self._defer_draft_deletes:
            self.drafts.discard_later(
                i.draft_token_hash for i in items if i.draft_token_hash is not None
            )
        results = []
        for item in items:
            # Two copies of one submission in a batch: the first is the one stored.
            results.append(item.submission_id in inserted)
            inserted.discard(item.submission_id)
        return results

    @property
    def group_commit_stats(self) -> tuple[int, int]:
        """(commits, responses) through group commit so far, for benchmarks."""
        if self._committer is None or self._async_committer is None:
            return (0, 0)
        return (self._committer.commits + self._async_committer.commits,
                self._committer.items + self._async_committer.items)

    def has_submission(self, submission_id: str) -> bool:
        try:
            with self.engine.connect() as conn:
                found = conn.execute(
                    _hot(conn).has_submission, {"submission_id": submission_id}
                ).first()
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc
        return found is not None

    def iter_responses(
        self,
        instrument_id: str | None = None,
        *,
        batch: int = 2000,
        first_id: int = 1,
        last_id: int | None = None,
    ) -> Iterator[StoredResponse]:
        """Every stored response in arrival order, streamed in batches (bounded memory); only
        those with first_id <= response_id <= last_id when given (see response_id_ranges)."""
        # Plain text SQL read as plain tuples: SQLAlchemy's per-row Row objects, name lookups
        # and date parsing cost as much as opening a record at export (measured, 20 us a row).
        statement = _READ_ALL if instrument_id is None else _READ_ONE
        params: dict[str, Any] = {
            "after": first_id - 1, "batch": batch, "instrument": instrument_id,
            "last_id": _NO_LAST_ID if last_id is None else last_id,
        }
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(statement, params).all()
            for rid, iid, version, page, arm, language, day, seconds, sealed, sid in rows:
                yield StoredResponse(
                    int(rid), str(iid), int(version), str(page), str(arm), str(language),
                    day if isinstance(day, dt.date) else dt.date.fromisoformat(day),
                    int(seconds), bytes(sealed), str(sid),
                )
            if len(rows) < batch:
                return
            params["after"] = int(rows[-1][0])

    def response_id_ranges(
        self, instrument_id: str | None = None, *, size: int = 2000
    ) -> list[tuple[int, int]]:
        """(first_id, last_id) ranges of at most `size` responses each, in order, covering every
        response (of one instrument): work units that export processes read on their own."""
        query = select(responses.c.response_id).order_by(responses.c.response_id)
        if instrument_id is not None:
            query = query.where(responses.c.instrument_id == instrument_id)
        with self.engine.connect() as conn:
            ids = conn.execute(query).scalars().all()
        return [
            (int(ids[start]), int(ids[min(start + size, len(ids)) - 1]))
            for start in range(0, len(ids), size)
        ]

    def count_responses(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(responses)).scalar() or 0)

    def mark_exported(self, response_ids: Iterable[int], day: dt.date | None = None) -> int:
        """Record that these responses were opened and exported (enables their purge)."""
        day = day or dt.date.today()
        ids = list(response_ids)
        marked = 0
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                result = conn.execute(
                    update(responses)
                    .where(responses.c.response_id.in_(ids[start : start + 500]))
                    .values(exported_day=day)
                )
                marked += int(result.rowcount or 0)
        return marked

    def purge_responses(
        self,
        instrument_id: str,
        from_day: dt.date,
        to_day: dt.date,
        *,
        include_unexported: bool = False,
        today: dt.date | None = None,
    ) -> ResponsePurge:
        """Delete an instrument's responses from `from_day` to `to_day` (inclusive).

        Only records already exported are deleted unless `include_unexported`; how many were kept
        is returned so the operator sees it. The count is logged and recorded in `purges`.
        """
        where = (
            responses.c.instrument_id == instrument_id,
            responses.c.day >= from_day,
            responses.c.day <= to_day,
        )
        with self.engine.begin() as conn:
            condition = where if include_unexported else (
                *where, responses.c.exported_day.is_not(None)
            )
            deleted = int(conn.execute(delete(responses).where(*condition)).rowcount or 0)
            kept = int(
                conn.execute(select(func.count()).select_from(responses).where(*where)).scalar()
                or 0
            )
            _log_purge(
                conn,
                PurgeRecord(today or dt.date.today(), "responses", instrument_id, from_day,
                            to_day, deleted),
            )
        log.info("purged %d responses of %s from %s to %s (%d not exported kept)",
                 deleted, instrument_id, from_day, to_day, kept)
        return ResponsePurge(deleted, kept)

    def count_in_range(
        self, instrument_id: str, from_day: dt.date, to_day: dt.date
    ) -> tuple[int, int]:
        """(exported, never exported) responses of an instrument between two days, inclusive."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(func.count(responses.c.exported_day), func.count()).where(
                    responses.c.instrument_id == instrument_id,
                    responses.c.day >= from_day,
                    responses.c.day <= to_day,
                )
            ).one()
        exported, total = int(row[0] or 0), int(row[1] or 0)
        return exported, total - exported

    def purge_log(self) -> list[PurgeRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(purges).order_by(purges.c.purge_id)).all()
        return [
            PurgeRecord(
                r.day, str(r.kind), r.instrument_id, r.from_day, r.to_day, int(r._mapping["count"])
            )
            for r in rows
        ]

    # -- key sets -----------------------------------------------------------------------------
    def register_key_set(self, fingerprints: Sequence[str], day: dt.date | None = None) -> KeySet:
        """Note the key set a server seals to (first day it was seen); idempotent."""
        ident = key_set_id(fingerprints)
        values = {"key_set_id": ident, "fingerprints": "\n".join(fingerprints),
                  "first_day": day or dt.date.today()}
        with self.engine.begin() as conn:
            conn.execute(_dialect_insert(conn, key_sets).on_conflict_do_nothing(), values)
            row = conn.execute(select(key_sets).where(key_sets.c.key_set_id == ident)).one()
        return KeySet(ident, tuple(str(row.fingerprints).split("\n")), row.first_day)

    def key_sets(self) -> list[KeySet]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(key_sets).order_by(key_sets.c.first_day, key_sets.c.key_set_id)
            ).all()
        return [
            KeySet(str(r.key_set_id), tuple(str(r.fingerprints).split("\n")), r.first_day)
            for r in rows
        ]

    # -- verification -------------------------------------------------------------------------
    def counts(self, today: dt.date | None = None) -> StoreCounts:
        today = today or dt.date.today()
        with self.engine.connect() as conn:
            published = conn.execute(
                select(instruments.c.instrument_id, func.count())
                .group_by(instruments.c.instrument_id)
                .order_by(instruments.c.instrument_id)
            ).all()
            per_version = conn.execute(
                select(
                    responses.c.instrument_id,
                    responses.c.instrument_version,
                    func.count(),
                    func.count(responses.c.exported_day),
                )
                .group_by(responses.c.instrument_id, responses.c.instrument_version)
                .order_by(responses.c.instrument_id, responses.c.instrument_version)
            ).all()
            live = conn.execute(
                select(func.count()).select_from(drafts).where(drafts.c.expires_day >= today)
            ).scalar()
            expired = conn.execute(
                select(func.count()).select_from(drafts).where(drafts.c.expires_day < today)
            ).scalar()
            counter_rows = conn.execute(select(func.count()).select_from(counters)).scalar()
        return StoreCounts(
            [(str(i), int(n)) for i, n in published],
            [(str(i), int(v), int(n), int(e)) for i, v, n, e in per_version],
            int(live or 0),
            int(expired or 0),
            int(counter_rows or 0),
        )

    def orphan_versions(self) -> list[tuple[str, int, int]]:
        """(instrument, version, records) of responses whose instrument version is unknown."""
        joined = responses.outerjoin(
            instruments,
            (instruments.c.instrument_id == responses.c.instrument_id)
            & (instruments.c.version == responses.c.instrument_version),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(responses.c.instrument_id, responses.c.instrument_version, func.count())
                .select_from(joined)
                .where(instruments.c.version.is_(None))
                .group_by(responses.c.instrument_id, responses.c.instrument_version)
            ).all()
        return [(str(i), int(v), int(n)) for i, v, n in rows]

    # -- counters -----------------------------------------------------------------------------
    def add_counts(self, rows: Iterable[CounterRow]) -> None:
        """Add aggregated increments in one transaction (upsert: count = count + n)."""
        values = [
            {
                "day": r.day,
                "language": r.language,
                "arm": r.arm,
                "event": r.event,
                "link": r.link,
                "count": r.count,
            }
            for r in rows
            if r.count
        ]
        if not values:
            return
        with self.engine.begin() as conn:
            stmt = _dialect_insert(conn, counters)
            stmt = stmt.on_conflict_do_update(
                index_elements=["day", "language", "arm", "event", "link"],
                set_={"count": counters.c.count + stmt.excluded.count},
            )
            conn.execute(stmt, values)

    def read_counts(self) -> list[CounterRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(counters).order_by(
                    counters.c.day, counters.c.language, counters.c.arm, counters.c.event,
                    counters.c.link,
                )
            ).all()
        return [
            CounterRow(
                r.day, str(r.language), str(r.arm), str(r.event), str(r.link),
                int(r._mapping["count"]),
            )
            for r in rows
        ]


_READ = (
    "SELECT response_id, instrument_id, instrument_version, page_id, arm, language, day, seconds,"
    " sealed, submission_id FROM responses WHERE response_id > :after AND response_id <= :last_id"
)
_READ_ALL = text(_READ + " ORDER BY response_id LIMIT :batch")
_READ_ONE = text(_READ + " AND instrument_id = :instrument ORDER BY response_id LIMIT :batch")
_NO_LAST_ID = 2**62


def _dialect_insert(conn: Connection, table: Any) -> Any:
    """INSERT with ON CONFLICT support: both dialects spell it the same way."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@dataclass(frozen=True)
class _HotStatements:
    """The statements every survey request runs, built once per dialect.

    Building a SQLAlchemy statement costs about three times as much as executing a prepared one
    (measured: 143 vs 48 microseconds for load_draft on SQLite), and a survey page runs several.
    """

    has_submission: Any
    upsert_drafts: Any


@functools.cache
def _hot_statements(dialect: str) -> _HotStatements:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert_(drafts)
    return _HotStatements(
        has_submission=select(responses.c.response_id).where(
            responses.c.submission_id == bindparam("submission_id")
        ),
        upsert_drafts=upsert.on_conflict_do_update(
            index_elements=["token_hash"],
            set_={
                "instrument_id": upsert.excluded.instrument_id,
                "expires_day": upsert.excluded.expires_day,
                "sealed": upsert.excluded.sealed,
            },
        ),
    )


def _hot(conn: Connection) -> _HotStatements:
    return _hot_statements(conn.dialect.name)


def _log_purge(conn: Connection, record: PurgeRecord) -> None:
    conn.execute(
        insert(purges).values(
            day=record.day, kind=record.kind, instrument_id=record.instrument_id,
            from_day=record.from_day, to_day=record.to_day, count=record.count,
        )
    )

"""The only code that reads and writes the tables; the same statements run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.exc import InterfaceError, OperationalError

from offramp.errors import StoreUnavailable
from offramp.store.tables import counters, drafts, instruments, responses


@dataclass(frozen=True)
class StoredResponse:
    """A response row as the store keeps it: context in clear, answers sealed."""

    response_id: int
    instrument_id: str
    instrument_version: int
    page_id: str
    arm: str
    language: str
    day: dt.date
    seconds: int
    sealed: bytes


@dataclass(frozen=True)
class CounterRow:
    day: dt.date
    language: str
    arm: str
    event: str
    link: str
    count: int


def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        "the response store cannot be reached", hint=f"{type(exc.__cause__ or exc).__name__}"
    )


class Repository:
    """Typed access to the store. Every public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- instruments --------------------------------------------------------------------------
    def publish_instrument(
        self, instrument_id: str, source_hash: str, definition: str, *, day: dt.date | None = None
    ) -> int:
        """Store a new immutable version unless this exact source is already published."""
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
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(drafts).where(drafts.c.token_hash == token_hash))
                conn.execute(
                    insert(drafts).values(
                        token_hash=token_hash,
                        instrument_id=instrument_id,
                        expires_day=expires_day,
                        sealed=sealed,
                    )
                )
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def load_draft(self, token_hash: str, today: dt.date | None = None) -> bytes | None:
        today = today or dt.date.today()
        try:
            with self.engine.connect() as conn:
                value = conn.execute(
                    select(drafts.c.sealed).where(
                        drafts.c.token_hash == token_hash, drafts.c.expires_day >= today
                    )
                ).scalar()
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc
        return None if value is None else bytes(value)

    def purge_drafts(self, today: dt.date | None = None) -> int:
        """Delete expired drafts; returns how many went."""
        today = today or dt.date.today()
        with self.engine.begin() as conn:
            result = conn.execute(delete(drafts).where(drafts.c.expires_day < today))
            return int(result.rowcount or 0)

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

        The draft is deleted in the same transaction, so a crash leaves either the draft or the
        response, never neither.
        """
        try:
            with self.engine.begin() as conn:
                inserted = _insert_ignore_duplicate(
                    conn,
                    {
                        "submission_id": submission_id,
                        "instrument_id": instrument_id,
                        "instrument_version": instrument_version,
                        "page_id": page_id,
                        "arm": arm,
                        "language": language,
                        "day": day,
                        "seconds": seconds,
                        "sealed": sealed,
                    },
                )
                if draft_token_hash is not None:
                    conn.execute(delete(drafts).where(drafts.c.token_hash == draft_token_hash))
                return inserted
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def has_submission(self, submission_id: str) -> bool:
        try:
            with self.engine.connect() as conn:
                found = conn.execute(
                    select(responses.c.response_id).where(
                        responses.c.submission_id == submission_id
                    )
                ).first()
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc
        return found is not None

    def iter_responses(self, instrument_id: str | None = None) -> Iterator[StoredResponse]:
        query = select(responses).order_by(responses.c.response_id)
        if instrument_id is not None:
            query = query.where(responses.c.instrument_id == instrument_id)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield StoredResponse(
                    response_id=int(row.response_id),
                    instrument_id=str(row.instrument_id),
                    instrument_version=int(row.instrument_version),
                    page_id=str(row.page_id),
                    arm=str(row.arm),
                    language=str(row.language),
                    day=row.day,
                    seconds=int(row.seconds),
                    sealed=bytes(row.sealed),
                )

    def count_responses(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(responses)).scalar() or 0)

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
            dialect = conn.dialect.name
            stmt: Any
            if dialect == "postgresql":
                stmt = postgresql.insert(counters)
            else:
                stmt = sqlite.insert(counters)
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
            CounterRow(r.day, str(r.language), str(r.arm), str(r.event), str(r.link), int(r.count))
            for r in rows
        ]


def _insert_ignore_duplicate(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert unless the submission id exists; portable across both databases."""
    stmt: Any
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(responses).on_conflict_do_nothing(
            index_elements=["submission_id"]
        )
    else:
        stmt = sqlite.insert(responses).on_conflict_do_nothing(index_elements=["submission_id"])
    try:
        result = conn.execute(stmt, values)
    except SAIntegrityError:
        return False
    return bool(result.rowcount)

"""The database schema, as SQLAlchemy Core tables.

What is *not* here matters as much as what is: no column can hold a respondent's address, browser,
cookie or a time finer than the day. Sealed responses are opaque bytes the server cannot read.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

instruments = Table(
    "instruments",
    metadata,
    Column("instrument_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("definition", Text, nullable=False, doc="the Instrument as JSON"),
    Column("published_day", Date, nullable=False),
    PrimaryKeyConstraint("instrument_id", "version"),
    UniqueConstraint("instrument_id", "source_hash", name="uq_instruments_source"),
)

responses = Table(
    "responses",
    metadata,
    Column("response_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("submission_id", String(64), nullable=False, unique=True,
           doc="hash of the respondent's random form token: makes the final submit idempotent"),
    Column("instrument_id", String(100), nullable=False),
    Column("instrument_version", Integer, nullable=False),
    Column("page_id", String(100), nullable=False),
    Column("arm", String(50), nullable=False),
    Column("language", String(20), nullable=False),
    Column("day", Date, nullable=False),
    Column("seconds", Integer, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("exported_day", Date, nullable=True,
           doc="set by `offramp export --mark-exported`; only exported records can be purged"),
    Index("ix_responses_instrument_day", "instrument_id", "day"),
)

drafts = Table(
    "drafts",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("instrument_id", String(100), nullable=False),
    Column("expires_day", Date, nullable=False),
    Column("sealed", LargeBinary, nullable=False,
           doc="encrypted under a key only the form carries"),
    Index("ix_drafts_expires_day", "expires_day"),
)

counters = Table(
    "counters",
    metadata,
    Column("day", Date, nullable=False),
    Column("language", String(20), nullable=False),
    Column("arm", String(50), nullable=False),
    Column("event", String(50), nullable=False),
    Column("link", String(100), nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "language", "arm", "event", "link"),
)

key_sets = Table(
    "key_sets",
    metadata,
    Column("key_set_id", String(32), primary_key=True, doc="hash of the sorted key ids"),
    Column("fingerprints", Text, nullable=False, doc="space-separated groups, one key a line"),
    Column("first_day", Date, nullable=False, doc="the day a server first sealed to this set"),
)

purges = Table(
    "purges",
    metadata,
    Column("purge_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("day", Date, nullable=False),
    Column("kind", String(20), nullable=False, doc="drafts or responses"),
    Column("instrument_id", String(100), nullable=True),
    Column("from_day", Date, nullable=True),
    Column("to_day", Date, nullable=True),
    Column("count", BigInteger, nullable=False),
)

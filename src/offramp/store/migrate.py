"""Apply Alembic migrations from inside the package, so `serve` and `demo` need no alembic.ini.

Several server workers start at once and each calls upgrade(); a lock makes the first one migrate
while the others wait and then find nothing to do (a PostgreSQL advisory lock, or an exclusive
lock on a file beside the SQLite database).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from offramp.store.db import sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0002"
"""The newest revision. Alembic itself is imported only when a store is behind it: every server
worker checks at start-up, and importing Alembic costs more than the rest of the check
(tests/store/test_migrations.py checks this equals the scripts' head)."""
_ADVISORY_LOCK = 0x0FF4A3_5107E  # any constant shared by every offramp process


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise schema changes across processes sharing one database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK})
                conn.commit()
        return
    database = sqlite_file(engine.url)
    if database is None:
        yield
        return
    lock_path = database.with_name(database.name + ".migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision (None for an empty database), read without Alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def head_revision() -> str | None:
    """The newest revision according to the migration scripts themselves."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent, safe to call from many workers at once)."""
    with migration_lock(engine):
        if revision == "head" and current_revision(engine) == HEAD:
            return
        from alembic import command

        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)

"""Backups of the SQLite store, taken while the server runs.

SQLite's online backup API copies the database page by page under its own locks, so the copy is
a consistent snapshot even while respondents are submitting; copying the file (and its -wal) by
hand is not. The copy is written beside its destination, checked with `PRAGMA integrity_check`,
made durable and only then renamed into place.

PostgreSQL has its own tool for this; see `PG_DUMP_RECIPE`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from offramp.errors import InputError, OfframpError
from offramp.store.db import normalise_url

PG_DUMP_RECIPE = (
    "pg_dump --format=custom --no-owner --file=offramp-$(date +%F).dump \"$DATABASE_URL\"  "
    "(restore with: pg_restore --no-owner --dbname=\"$NEW_DATABASE_URL\" offramp-DATE.dump)"
)


class BackupError(OfframpError):
    """A backup could not be made or did not check out."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    responses: int
    pages: int


def backup_sqlite(db_url: str, out: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the live SQLite store at `db_url` to `out`; checks the copy before keeping it."""
    url = normalise_url(db_url)
    if url.drivername != "sqlite":
        raise InputError(
            "offramp store backup copies SQLite stores; PostgreSQL has pg_dump",
            hint=PG_DUMP_RECIPE,
        )
    source_path = Path(str(url.database or ""))
    if not source_path.is_file():
        raise InputError("no such database file", file=str(source_path))
    if out.exists() and not overwrite:
        raise InputError(f"{out} exists already", hint="choose another --out or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.partial")
    temporary.unlink(missing_ok=True)
    # Read-only: a backup must never change the live store, not even create it.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(temporary)
    try:
        source.execute("PRAGMA busy_timeout=10000")
        # Many small steps: the server's writers are blocked only for one step at a time.
        source.backup(target, pages=256)
        # A backup file is read alone, later: keep it a single file, not WAL + database.
        target.execute("PRAGMA journal_mode=DELETE")
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
        pages = int(target.execute("PRAGMA page_count").fetchone()[0])
        try:
            responses = int(target.execute("SELECT count(*) FROM responses").fetchone()[0])
        except sqlite3.OperationalError:
            responses = 0  # a store that has never been migrated
    except sqlite3.Error as exc:
        target.close()
        temporary.unlink(missing_ok=True)
        raise BackupError(f"backup of {source_path} failed: {exc}") from exc
    except BaseException:
        target.close()
        temporary.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    target.close()
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, out)
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return BackupResult(out, responses, pages)

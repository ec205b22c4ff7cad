"""Drafts take a fast path with their own durability; completed responses must not share it."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from offramp.errors import StoreUnavailable
from offramp.store import Repository, make_engine

DAY = dt.date(2026, 3, 4)


def _durability(connection: object, backend: str) -> str:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA synchronous" if backend == "sqlite" else "SHOW synchronous_commit")
    value = str(cursor.fetchone()[0])
    cursor.close()
    return value


def test_drafts_skip_the_fsync_but_responses_keep_it(repo: Repository) -> None:
    repo.save_draft("t1", "demo", DAY, b"draft")  # opens the draft pool
    backend = repo.engine.url.get_backend_name()
    draft_connection = repo.drafts.engine.raw_connection()
    main_connection = repo.engine.raw_connection()
    try:
        if backend == "sqlite":  # 1 = NORMAL, 2 = FULL
            assert _durability(draft_connection, backend) == "1"
            assert _durability(main_connection, backend) == "2"
        else:  # an asynchronous commit loses drafts when PostgreSQL is killed
            assert _durability(draft_connection, backend) == "on"
            assert _durability(main_connection, backend) == "on"
    finally:
        draft_connection.close()
        main_connection.close()


def test_a_draft_is_visible_to_the_main_engine_at_once(repo: Repository) -> None:
    """Autocommit: the page's save is committed before the page is answered."""
    repo.save_draft("t1", "demo", DAY, b"one")
    repo.save_draft("t1", "demo", DAY, b"two")
    assert repo.load_draft("t1", today=DAY) == b"two"
    assert repo.load_draft("t1", today=DAY + dt.timedelta(days=1)) is None  # expired
    assert repo.counts().drafts_live + repo.counts().drafts_expired == 1


def test_disposing_the_store_closes_the_draft_connections(repo: Repository) -> None:
    repo.save_draft("t1", "demo", DAY, b"draft")
    assert repo.drafts.engine is not repo.engine
    assert repo.drafts.engine.pool.checkedin() >= 1
    repo.engine.dispose()
    assert repo.drafts.engine.pool.checkedin() == 0


def test_an_unreachable_database_is_store_unavailable(tmp_path) -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable):
        Repository(engine).load_draft("t1")
    engine.dispose()


def test_save_nowait_saves_when_free_and_declines_when_another_writer_holds_the_lock(
    repo: Repository,
) -> None:
    if repo.engine.url.get_backend_name() != "sqlite":
        assert repo.drafts.save_nowait("t1", "demo", DAY, b"x") is False  # always waits there
        return
    assert repo.drafts.save_nowait("t1", "demo", DAY, b"one") is True
    assert repo.load_draft("t1", today=DAY) == b"one"
    import sqlite3

    other = sqlite3.connect(str(repo.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        started = time.perf_counter()
        assert repo.drafts.save_nowait("t1", "demo", DAY, b"two") is False
        assert time.perf_counter() - started < 0.05  # said so at once
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert repo.load_draft("t1", today=DAY) == b"one"  # nothing half-written
    repo.save_draft("t1", "demo", DAY, b"two")  # the waiting path takes it
    repo.drafts.checkpoint()
    assert repo.load_draft("t1", today=DAY) == b"two"


def test_concurrent_saves_on_postgresql_share_commits_and_all_land(repo: Repository) -> None:
    import threading

    tokens = [f"t{i}" for i in range(24)]

    def save(token: str) -> None:
        for page in range(3):
            repo.save_draft(token, "demo", DAY, f"{token}-{page}".encode())

    threads = [threading.Thread(target=save, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(repo.load_draft(t, today=DAY) == f"{t}-2".encode() for t in tokens)
    committer = repo.drafts._committer
    if repo.engine.url.get_backend_name() == "sqlite":
        assert committer is None  # nothing to gain: SQLite drafts do not wait for the disk
    else:
        assert committer is not None and committer.items == 72

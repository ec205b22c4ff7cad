"""Drafts take a fast path with their own durability; completed responses must not share it."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
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


def _hold_write_lock(path: str, seconds: float) -> threading.Thread:
    """Another writer (as the other worker process would be) holds SQLite's lock for `seconds`."""
    import sqlite3

    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    return thread


@pytest.mark.parametrize(("lock_seconds", "via_thread"), [(0.0, False), (0.003, False),
                                                          (0.3, True)])
def test_save_async_waits_out_a_short_lock_on_the_loop_and_a_long_one_in_a_thread(
    repo: Repository, monkeypatch: pytest.MonkeyPatch, lock_seconds: float, via_thread: bool,
) -> None:
    from offramp.store import drafts

    handed: list[object] = []
    real = drafts.to_thread.run_sync

    async def recording(func, *args):  # type: ignore[no-untyped-def]
        handed.append(func)
        return await real(func, *args)

    monkeypatch.setattr(drafts.to_thread, "run_sync", recording)
    # Waits on the loop of about 85 ms in all (the real ones add up to about 8 ms), so that a
    # slow test machine cannot turn the short lock into a long one.
    monkeypatch.setattr(drafts, "NOWAIT_RETRY_DELAYS", (0.0, 0.005, 0.01, 0.02, 0.05))
    sqlite = repo.engine.url.get_backend_name() == "sqlite"
    holder = (_hold_write_lock(str(repo.engine.url.database), lock_seconds)
              if sqlite and lock_seconds else None)
    started = time.perf_counter()
    asyncio.run(repo.drafts.save_async("t1", "demo", DAY, b"saved"))
    elapsed = time.perf_counter() - started
    if holder is not None:
        holder.join()
    assert repo.load_draft("t1", today=DAY) == b"saved"
    if not sqlite:
        assert len(handed) == 1  # PostgreSQL: a network round trip, always in a worker thread
        return
    assert bool(handed) is via_thread
    if lock_seconds:
        assert elapsed >= lock_seconds * 0.9  # it waited for the lock, it did not skip the save


def test_checkpoint_settles_so_that_the_next_write_starts_the_log_over(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under steady traffic a write lands while a PASSIVE checkpoint copies, so the log is never
    wholly copied and SQLite never starts it over: it grows without bound. Past SETTLE_FRAMES
    the checkpoint copies the rest with the writers held off, and the next write starts the log
    from its beginning."""
    if repo.engine.url.get_backend_name() != "sqlite":
        repo.drafts.checkpoint()  # a no-op there
        return
    import sqlite3

    from offramp.store import drafts

    path = str(repo.engine.url.database)
    monkeypatch.setattr(drafts, "SETTLE_FRAMES", 8)
    original_settle = drafts.DraftStore._settle

    def log_frames_after(settle: bool) -> int:
        for i in range(60):
            repo.save_draft(f"t{i}", "demo", DAY, b"x" * 500)
        # A write that began before the PASSIVE copy ended and commits after it.
        late = sqlite3.connect(path, isolation_level=None)
        late.execute("BEGIN")
        late.execute("SELECT count(*) FROM drafts").fetchone()

        def a_write_lands_first(store: drafts.DraftStore, connection: sqlite3.Connection) -> None:
            late.execute("INSERT OR REPLACE INTO drafts VALUES ('late', 'demo', ?, x'00')",
                         (DAY.isoformat(),))
            late.execute("COMMIT")
            if settle:
                original_settle(store, connection)

        monkeypatch.setattr(drafts.DraftStore, "_settle", a_write_lands_first)
        repo.drafts.checkpoint()
        late.close()
        repo.save_draft("t0", "demo", DAY, b"after")  # the write that may start the log over
        probe = sqlite3.connect(path)
        try:
            return int(probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        finally:
            probe.close()

    assert log_frames_after(settle=False) >= 60  # PASSIVE only: the log grew on
    assert log_frames_after(settle=True) <= 4  # started over: only the last write is in it
    assert repo.load_draft("t0", today=DAY) == b"after"
    assert repo.load_draft("t59", today=DAY) == b"x" * 500
    assert repo.load_draft("late", today=DAY) is not None


def test_a_settling_checkpoint_gives_up_on_a_long_write_and_blocks_no_one_for_long(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holding SQLite's lock: the settle waits CHECKPOINT_WAIT_MS at most, raises
    nothing, and the next round tries again; the writers were never held off."""
    if repo.engine.url.get_backend_name() != "sqlite":
        return
    import sqlite3

    from offramp.store import drafts

    monkeypatch.setattr(drafts, "SETTLE_FRAMES", 0)
    for i in range(10):
        repo.save_draft(f"t{i}", "demo", DAY, b"x" * 500)
    other = sqlite3.connect(str(repo.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        repo.drafts.checkpoint()
        assert time.perf_counter() - started < 1.0
    finally:
        other.execute("ROLLBACK")
        other.close()
    repo.drafts.checkpoint()  # free again: settles
    repo.save_draft("t0", "demo", DAY, b"after")
    assert repo.load_draft("t0", today=DAY) == b"after"


def test_a_save_on_a_later_day_moves_the_expiry_and_one_for_another_instrument_moves_it_over(
    repo: Repository,
) -> None:
    """The loop's save writes only the draft when its expiry day is unchanged; on another day,
    or for another instrument, the whole row must still be replaced."""
    later = DAY + dt.timedelta(days=3)
    save = repo.drafts.save_nowait if repo.engine.url.get_backend_name() == "sqlite" else None
    if save is None:  # PostgreSQL has no such path; the ordinary save must behave the same
        def save(*row: object) -> bool:
            repo.save_draft(*row)  # type: ignore[arg-type]
            return True
    assert save("t1", "demo", DAY, b"one")
    assert save("t1", "demo", DAY, b"two")  # same day: only the draft changes
    assert repo.load_draft("t1", today=DAY) == b"two"
    assert save("t1", "demo", later, b"three")  # a later day: the expiry moves too
    assert repo.load_draft("t1", today=later) == b"three"
    assert save("t1", "other", later, b"four")  # another instrument's form took the token
    assert repo.load_draft("t1", today=later) == b"four"
    with repo.engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(text("SELECT instrument_id FROM drafts WHERE token_hash = 't1'")).one()
    assert row[0] == "other"


def test_concurrent_loads_and_saves_on_an_event_loop_each_get_their_own_draft(
    repo: Repository,
) -> None:
    """Pages on an event loop: on PostgreSQL their reads share statements and their saves share
    transactions (one worker-thread trip per batch); each page still gets exactly its draft."""
    later = DAY + dt.timedelta(days=5)
    tokens = [f"t{i}" for i in range(40)]

    async def pages() -> list[bytes | None]:
        await asyncio.gather(*(repo.drafts.save_async(t, "demo", DAY, t.encode()) for t in tokens))
        await repo.drafts.save_async("t0", "demo", DAY, b"second")  # the last save wins
        # Reads on two days at once: on the later one every draft has expired.
        return list(await asyncio.gather(
            *(repo.drafts.load_async(t, DAY) for t in [*tokens, "missing"]),
            *(repo.drafts.load_async(t, later) for t in tokens[:5]),
        ))

    found = asyncio.run(pages())
    assert found[0] == b"second"
    assert found[1:40] == [t.encode() for t in tokens[1:]]
    assert found[40] is None  # never saved
    assert found[41:] == [None] * 5  # expired by then
    if repo.engine.url.get_backend_name() != "sqlite":
        loader, saver = repo.drafts._async_loader, repo.drafts._async_saver
        assert loader is not None and saver is not None
        assert loader.items == 46 and loader.commits < 46  # reads shared statements
        assert saver.items == 41 and saver.commits < 41  # saves shared transactions

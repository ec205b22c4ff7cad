"""The Repository on both databases: the same statements must behave the same on each."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from offramp.store import CounterRow, Repository, make_engine, upgrade
from offramp.store.repository import NewResponse, PurgeRecord, key_set_id

DAY = dt.date(2024, 3, 1)


def _response(repo: Repository, submission_id: str, **overrides: object) -> bool:
    values: dict[str, object] = {
        "submission_id": submission_id,
        "instrument_id": "demo",
        "instrument_version": 1,
        "page_id": "p3",
        "arm": "none",
        "language": "en",
        "day": DAY,
        "seconds": 42,
        "sealed": b"OFR1" + submission_id.encode(),
    }
    values.update(overrides)
    return repo.store_response(**values)  # type: ignore[arg-type]


def test_publish_gives_versions_and_is_idempotent_per_source(repo: Repository) -> None:
    assert repo.publish_instrument("demo", "a" * 64, '{"v": 1}', day=DAY) == 1
    assert repo.publish_instrument("demo", "a" * 64, '{"v": 1}', day=DAY) == 1
    assert repo.publish_instrument("demo", "b" * 64, '{"v": 2}', day=DAY) == 2
    assert repo.publish_instrument("other", "b" * 64, '{"o": 1}', day=DAY) == 1
    # Going back to an earlier source is the earlier version, not a third one.
    assert repo.publish_instrument("demo", "a" * 64, '{"v": 1}', day=DAY) == 1
    assert repo.instrument_definition("demo", 2) == '{"v": 2}'
    assert repo.instrument_definition("demo", 3) is None
    assert repo.instrument_versions() == [
        ("demo", 1, '{"v": 1}'), ("demo", 2, '{"v": 2}'), ("other", 1, '{"o": 1}')
    ]


def test_store_response_is_idempotent_on_submission_id(repo: Repository) -> None:
    assert _response(repo, "s1") is True
    assert _response(repo, "s1", sealed=b"a different body") is False
    assert _response(repo, "s2") is True
    assert repo.count_responses() == 2
    stored = list(repo.iter_responses())
    assert [s.sealed for s in stored] == [b"OFR1s1", b"OFR1s2"]  # the first body stays
    assert repo.has_submission("s1") and not repo.has_submission("s3")


def test_iter_responses_keeps_context_and_filters_by_instrument(repo: Repository) -> None:
    _response(repo, "s1", instrument_id="alpha", arm="b", language="fr", seconds=7)
    _response(repo, "s2", instrument_id="beta")
    (only,) = list(repo.iter_responses("alpha"))
    assert (only.instrument_id, only.arm, only.language, only.day, only.seconds) == (
        "alpha", "b", "fr", DAY, 7
    )
    assert isinstance(only.day, dt.date) and not isinstance(only.day, dt.datetime)
    assert [s.instrument_id for s in repo.iter_responses()] == ["alpha", "beta"]


def test_store_response_deletes_its_draft_in_the_same_transaction(repo: Repository) -> None:
    repo.save_draft("t1", "demo", DAY, b"draft one")
    repo.save_draft("t2", "demo", DAY, b"draft two")
    _response(repo, "s1", draft_token_hash="t1")
    assert repo.load_draft("t1", today=DAY) is None
    assert repo.load_draft("t2", today=DAY) == b"draft two"


def test_drafts_replace_expire_and_purge(repo: Repository) -> None:
    repo.save_draft("t1", "demo", DAY, b"first")
    repo.save_draft("t1", "demo", DAY, b"second")
    assert repo.load_draft("t1", today=DAY) == b"second"
    assert repo.load_draft("t1", today=DAY + dt.timedelta(days=1)) is None  # past its day
    repo.save_draft("t2", "demo", DAY + dt.timedelta(days=5), b"later")
    assert repo.purge_drafts(today=DAY + dt.timedelta(days=1)) == 1
    assert repo.purge_drafts(today=DAY + dt.timedelta(days=1)) == 0
    assert repo.load_draft("t2", today=DAY) == b"later"


def test_counters_add_up_across_flushes(repo: Repository) -> None:
    row = CounterRow(DAY, "en", "a", "click", "help", 3)
    repo.add_counts([row, CounterRow(DAY, "en", "b", "view", "-", 1)])
    repo.add_counts([CounterRow(DAY, "en", "a", "click", "help", 4)])
    repo.add_counts([CounterRow(DAY, "en", "a", "click", "help", 0)])  # zero rows are skipped
    repo.add_counts([])
    assert repo.read_counts() == [
        CounterRow(DAY, "en", "a", "click", "help", 7),
        CounterRow(DAY, "en", "b", "view", "-", 1),
    ]


def _new(submission_id: str, **overrides: object) -> NewResponse:
    values: dict[str, object] = {
        "submission_id": submission_id, "instrument_id": "demo", "instrument_version": 1,
        "page_id": "p3", "arm": "none", "language": "en", "day": DAY, "seconds": 1,
        "sealed": submission_id.encode(),
    }
    values.update(overrides)
    return NewResponse(**values)  # type: ignore[arg-type]


def test_store_responses_in_one_transaction_reports_each(repo: Repository) -> None:
    _response(repo, "old")
    repo.save_draft("t1", "demo", DAY, b"d1")
    results = repo.store_responses(
        [_new("a", draft_token_hash="t1"), _new("old"), _new("b"), _new("a")]
    )
    assert results == [True, False, True, False]
    assert repo.count_responses() == 3
    assert repo.load_draft("t1", today=DAY) is None


def test_concurrent_store_response_shares_commits_and_loses_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    repo = Repository(engine)
    ids = [f"s{i}" for i in range(400)]

    def submit(sid: str) -> bool:
        return _response(repo, sid)

    with ThreadPoolExecutor(16) as pool:
        first = list(pool.map(submit, ids))
        again = list(pool.map(submit, ids))  # every resubmit is recognised
    assert first == [True] * 400 and again == [False] * 400
    assert repo.count_responses() == 400
    assert sorted(s.sealed for s in repo.iter_responses(batch=64)) == sorted(
        b"OFR1" + i.encode() for i in ids
    )
    commits, items = repo.group_commit_stats
    assert items == 800 and commits <= items
    engine.dispose()


def test_iter_responses_streams_across_batches(repo: Repository) -> None:
    repo.store_responses([_new(f"s{i:03d}") for i in range(25)])
    seen = [s.sealed for s in repo.iter_responses(batch=7)]
    assert seen == [f"s{i:03d}".encode() for i in range(25)]
    assert [s.sealed for s in repo.iter_responses("nothing", batch=7)] == []


def test_purge_responses_deletes_only_exported_records_in_range(repo: Repository) -> None:
    days = [DAY + dt.timedelta(days=d) for d in range(5)]
    repo.store_responses([_new(f"s{d}", day=day) for d, day in enumerate(days)])
    repo.store_responses([_new("other", instrument_id="other", day=days[1])])
    ids = {s.sealed.decode(): s.response_id for s in repo.iter_responses()}
    assert repo.mark_exported([ids["s0"], ids["s1"], ids["s2"], ids["other"]], day=days[4]) == 4
    result = repo.purge_responses("demo", days[1], days[3], today=days[4])
    # s1 and s2 were exported and in range; s3 is in range but was never exported: kept.
    assert (result.deleted, result.kept_unexported) == (2, 1)
    assert sorted(s.sealed for s in repo.iter_responses()) == [b"other", b"s0", b"s3", b"s4"]
    forced = repo.purge_responses("demo", days[3], days[3], include_unexported=True, today=days[4])
    assert (forced.deleted, forced.kept_unexported) == (1, 0)
    repo.save_draft("t", "demo", days[0], b"x")
    assert repo.purge_drafts(today=days[2]) == 1
    assert repo.purge_log() == [
        PurgeRecord(days[4], "responses", "demo", days[1], days[3], 2),
        PurgeRecord(days[4], "responses", "demo", days[3], days[3], 1),
        PurgeRecord(days[2], "drafts", None, None, None, 1),
    ]


def test_key_sets_register_once_whatever_the_order(repo: Repository) -> None:
    first = repo.register_key_set(["aaaa bbbb", "cccc dddd"], day=DAY)
    again = repo.register_key_set(["cccc dddd", "aaaa bbbb"], day=DAY + dt.timedelta(days=3))
    assert again == first and first.first_day == DAY
    later = repo.register_key_set(["eeee ffff"], day=DAY + dt.timedelta(days=9))
    assert repo.key_sets() == [first, later]
    assert first.key_set_id == key_set_id(["cccc dddd", "aaaa bbbb"]) != later.key_set_id


def test_counts_and_orphans_for_verify(repo: Repository) -> None:
    repo.publish_instrument("demo", "a" * 64, "{}", day=DAY)
    repo.store_responses([_new("a"), _new("b"), _new("c", instrument_version=7)])
    repo.mark_exported([next(repo.iter_responses()).response_id])
    repo.save_draft("live", "demo", DAY + dt.timedelta(days=1), b"x")
    repo.save_draft("dead", "demo", DAY - dt.timedelta(days=1), b"x")
    counts = repo.counts(today=DAY)
    assert counts.instruments == [("demo", 1)]
    assert counts.responses == [("demo", 1, 2, 1), ("demo", 7, 1, 0)]
    assert (counts.drafts_live, counts.drafts_expired, counts.counter_rows) == (1, 1, 0)
    assert repo.orphan_versions() == [("demo", 7, 1)]


def test_publish_race_between_workers_gives_one_version(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    repos = [Repository(engine) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        versions = list(pool.map(lambda r: r.publish_instrument("demo", "h" * 64, "{}"), repos))
    assert versions == [1] * 6
    assert [v for _, v, _ in repos[0].instrument_versions()] == [1]
    engine.dispose()


def test_a_large_batch_keeps_every_field_and_deletes_every_draft(repo: Repository) -> None:
    # More rows than one SQLite statement takes (store/bulk.py splits them), out of order, with
    # repeats inside the batch and ids already stored.
    _response(repo, "s0007")
    tokens = [f"t{i}" for i in range(0, 1200, 3)]
    repo.save_drafts([(t, "demo", DAY, b"draft") for t in tokens])
    items = [
        _new(f"s{i:04d}", day=DAY + dt.timedelta(days=i % 9), seconds=i, arm=f"arm{i % 3}",
             language="de" if i % 2 else "en", page_id=f"p{i % 4}", instrument_version=1 + i % 2,
             sealed=bytes([i % 256]) * (1 + i % 700),
             draft_token_hash=f"t{i}" if i % 3 == 0 else None)
        for i in reversed(range(1200))
    ]
    items.insert(600, _new("s0001", seconds=1))  # a repeat: the first copy in the batch counts
    results = repo.store_responses(items)
    seen = {"s0007"}
    expected = []
    for item in items:
        expected.append(item.submission_id not in seen)
        seen.add(item.submission_id)
    assert results == expected and results[600] and not results[-2]
    assert sum(results) == 1199
    stored = {s.submission_id: s for s in repo.iter_responses()}
    assert len(stored) == 1200
    for i in range(1200):
        s = stored[f"s{i:04d}"]
        if i in (1, 7):  # stored from the repeat / before the batch
            assert s.sealed == f"s{i:04d}".encode() or s.sealed.startswith(b"OFR1")
            continue
        assert (s.day, s.seconds, s.arm, s.language, s.page_id, s.instrument_version) == (
            DAY + dt.timedelta(days=i % 9), i, f"arm{i % 3}", "de" if i % 2 else "en",
            f"p{i % 4}", 1 + i % 2,
        )
        assert s.sealed == bytes([i % 256]) * (1 + i % 700)
    assert all(repo.load_draft(t, today=DAY) is None for t in tokens)


def test_two_workers_storing_the_same_batch_in_opposite_orders_store_each_once(
    db_url: str,
) -> None:
    """Two server workers (two repositories) commit batches holding the same submissions in
    opposite orders at the same moment (idempotent resubmits): no deadlock, each stored once."""
    engines = [make_engine(db_url) for _ in range(2)]
    upgrade(engines[0])
    repos = [Repository(engine) for engine in engines]
    for round_ in range(8):
        ids = [f"r{round_}-{i:03d}" for i in range(200)]
        barrier = threading.Barrier(2)

        def store(worker: int, ids: list[str] = ids, barrier: threading.Barrier = barrier) -> int:
            batch = [_new(sid) for sid in (ids if worker == 0 else reversed(ids))]
            barrier.wait()
            return sum(repos[worker].store_responses(batch))

        with ThreadPoolExecutor(2) as pool:
            stored = list(pool.map(store, [0, 1]))
        assert sum(stored) == 200, stored
    assert repos[0].count_responses() == 1600
    for engine in engines:
        engine.dispose()


def test_id_ranges_cover_every_response_once_and_read_alone(repo: Repository) -> None:
    repo.store_responses([_new(f"a{i:02d}", instrument_id="one" if i % 3 else "two",
                               day=DAY + dt.timedelta(days=i)) for i in range(23)])
    everything = list(repo.iter_responses(batch=4))
    assert [s.submission_id for s in everything] == [f"a{i:02d}" for i in range(23)]
    assert everything[5].day == DAY + dt.timedelta(days=5) and everything[5].seconds == 1
    for instrument in (None, "one", "two"):
        expected = [s for s in everything if instrument in (None, s.instrument_id)]
        ranges = repo.response_id_ranges(instrument, size=5)
        assert all(first <= last for first, last in ranges)
        assert len(ranges) == -(-len(expected) // 5)
        read = [s for first, last in ranges
                for s in repo.iter_responses(instrument, batch=2, first_id=first, last_id=last)]
        assert read == expected
    assert repo.response_id_ranges("none") == []


def test_deferred_draft_deletes_go_after_the_commit_in_short_batches(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server (defer_draft_deletes) on a SQLite file deletes a stored response's draft after
    its commit, at the next delete_discarded(); on PostgreSQL the storing statement still does."""
    from offramp.store import drafts as drafts_module

    monkeypatch.setattr(drafts_module, "DELETE_CHUNK", 3)  # several statements for 8 drafts
    engine = make_engine(db_url)
    upgrade(engine)
    repo = Repository(engine, defer_draft_deletes=True)
    try:
        tokens = [f"t{i}" for i in range(8)]
        for token in [*tokens, "kept"]:
            repo.save_draft(token, "demo", DAY, b"draft")
        results = repo.store_responses([_new(f"s{t}", draft_token_hash=t) for t in tokens])
        assert all(results) and repo.count_responses() == 8
        deferred = engine.url.get_backend_name() == "sqlite"
        assert (repo.load_draft("t0", today=DAY) is not None) is deferred
        assert repo.drafts.delete_discarded() == (8 if deferred else 0)
        assert all(repo.load_draft(t, today=DAY) is None for t in tokens)
        assert repo.load_draft("kept", today=DAY) == b"draft"  # no response: stays
        assert repo.drafts.delete_discarded() == 0  # nothing listed twice
    finally:
        engine.dispose()


def test_deferred_draft_deletes_that_fail_stay_listed_for_the_next_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offramp.errors import StoreUnavailable
    from offramp.store.drafts import DraftStore

    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    upgrade(engine)
    repo = Repository(engine, defer_draft_deletes=True)
    try:
        repo.save_draft("t1", "demo", DAY, b"draft")
        repo.store_responses([_new("s1", draft_token_hash="t1")])
        original = DraftStore._delete

        def unreachable(store: DraftStore, token_hashes: object) -> None:
            raise StoreUnavailable("the response store cannot be reached")

        monkeypatch.setattr(DraftStore, "_delete", unreachable)
        with pytest.raises(StoreUnavailable):
            repo.drafts.delete_discarded()
        monkeypatch.setattr(DraftStore, "_delete", original)
        assert repo.load_draft("t1", today=DAY) == b"draft"
        assert repo.drafts.delete_discarded() == 1
        assert repo.load_draft("t1", today=DAY) is None
    finally:
        engine.dispose()


def test_purge_deletes_drafts_whose_response_a_stopped_server_stored(db_url: str) -> None:
    """A stop between a response's commit and its draft's deferred deletion leaves both; the
    purge at the next start deletes such drafts, and only those."""
    engine = make_engine(db_url)
    upgrade(engine)
    stopped = Repository(engine, defer_draft_deletes=True)
    for token in ("t1", "t2", "t3"):
        stopped.save_draft(token, "demo", DAY, b"draft")
    # On PostgreSQL the drafts go with the commit; a left-over one is made by hand there.
    stopped.store_responses([_new("t1", draft_token_hash="t1"), _new("s2")])
    stopped.save_draft("t1", "demo", DAY, b"left over")
    restarted = Repository(engine)
    try:
        assert restarted.purge_drafts(today=DAY) == 1
        assert restarted.load_draft("t1", today=DAY) is None
        # t2's response has another submission id: its draft is no stored response's.
        assert restarted.load_draft("t2", today=DAY) == b"draft"
        assert restarted.load_draft("t3", today=DAY) == b"draft"
        assert restarted.purge_log()[-1] == PurgeRecord(DAY, "drafts", None, None, None, 1)
    finally:
        engine.dispose()

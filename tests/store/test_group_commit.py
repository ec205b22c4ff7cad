"""Group commit: no caller returns before the commit that holds its item, and errors reach all."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from offramp.store.group_commit import AsyncGroupCommitter, GroupCommitter


class FakeStore:
    """Commits slowly, like an fsync, and remembers what is durable."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.durable: set[int] = set()
        self.batches: list[list[int]] = []
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def commit(self, items: Sequence[int]) -> list[int]:
        time.sleep(0.002)
        if self.fail_on is not None and self.fail_on in items:
            raise ConnectionError("lost the database")
        with self.lock:
            self.durable.update(items)
            self.batches.append(list(items))
        return [i * 10 for i in items]


def test_every_caller_returns_after_its_item_is_durable() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.commit, max_batch=16)

    def submit(i: int) -> int:
        result = committer.submit(i)
        assert i in store.durable  # checked by the caller, right when it is released
        return result

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(submit, range(500)))
    assert results == [i * 10 for i in range(500)]
    assert sorted(i for batch in store.batches for i in batch) == list(range(500))
    assert max(len(b) for b in store.batches) <= 16
    assert len(store.batches) < 500  # commits were shared
    assert (committer.commits, committer.items) == (len(store.batches), 500)


def test_a_lone_caller_commits_at_once() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.commit)
    assert committer.submit(7) == 70
    assert store.batches == [[7]]


def test_a_failed_commit_fails_every_caller_in_it_and_the_next_one_works() -> None:
    store = FakeStore(fail_on=13)
    committer = GroupCommitter(store.commit, max_batch=64)
    outcomes: dict[int, object] = {}
    barrier = threading.Barrier(40)

    def submit(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = committer.submit(i)
        except ConnectionError as exc:
            outcomes[i] = exc

    with ThreadPoolExecutor(40) as pool:
        list(pool.map(submit, range(40)))
    failed = {i for i, o in outcomes.items() if isinstance(o, ConnectionError)}
    assert 13 in failed
    # Whoever was told "failed" is not durable; whoever got a result is.
    assert not failed & store.durable
    assert set(outcomes) - failed == store.durable
    store.fail_on = None
    assert committer.submit(13) == 130


def test_a_result_list_of_the_wrong_length_is_an_error_not_a_silent_loss() -> None:
    committer: GroupCommitter[int, int] = GroupCommitter(lambda items: [])
    with pytest.raises(RuntimeError, match="wrong number of results"):
        committer.submit(1)


def test_several_commits_in_flight_never_more_than_allowed() -> None:
    store = FakeStore()
    running = 0
    peak = 0
    lock = threading.Lock()

    def commit(items: Sequence[int]) -> list[int]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            return store.commit(items)
        finally:
            with lock:
                running -= 1

    committer = GroupCommitter(commit, max_batch=8, max_in_flight=2)

    def submit(i: int) -> int:
        result = committer.submit(i)
        assert i in store.durable
        return result

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(submit, range(600)))
    assert results == [i * 10 for i in range(600)]
    assert sorted(i for batch in store.batches for i in batch) == list(range(600))
    assert peak == 2  # overlapping commits happened, and never more than two
    assert max(len(b) for b in store.batches) <= 8
    assert (committer.commits, committer.items) == (len(store.batches), 600)
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommitter(commit, max_in_flight=0)


# -- AsyncGroupCommitter: the same promises for callers on an event loop -----------------------
def test_async_callers_each_return_after_their_item_is_durable_and_share_commits() -> None:
    store = FakeStore()
    committer = AsyncGroupCommitter(store.commit, max_batch=16)

    async def submit(i: int) -> int:
        result = await committer.submit(i)
        assert i in store.durable  # checked by the caller, right when it is resumed
        return result

    async def many() -> list[int]:
        return list(await asyncio.gather(*(submit(i) for i in range(300))))

    assert asyncio.run(many()) == [i * 10 for i in range(300)]
    assert sorted(i for batch in store.batches for i in batch) == list(range(300))
    assert max(len(b) for b in store.batches) <= 16
    assert len(store.batches) < 300 / 8  # commits were shared
    assert (committer.commits, committer.items) == (len(store.batches), 300)


def test_an_async_lone_caller_commits_at_once_and_each_event_loop_works() -> None:
    store = FakeStore()
    committer = AsyncGroupCommitter(store.commit)
    for item in (7, 8):  # asyncio.run makes a new loop each time
        started = time.perf_counter()
        assert asyncio.run(committer.submit(item)) == item * 10
        assert time.perf_counter() - started < 1.0  # no timer waits for company
    assert store.batches == [[7], [8]]


def test_an_async_failed_commit_fails_every_caller_in_it_and_the_next_one_works() -> None:
    store = FakeStore(fail_on=13)
    committer = AsyncGroupCommitter(store.commit, max_batch=4)

    async def run() -> list[int | BaseException]:
        first = await asyncio.gather(*(committer.submit(i) for i in range(12, 16)),
                                     return_exceptions=True)
        return [*first, await committer.submit(20)]

    results = asyncio.run(run())
    assert all(isinstance(r, ConnectionError) for r in results[:4])  # 12-15 shared the batch
    assert results[4] == 200
    assert store.durable == {20}


def test_an_async_caller_that_stops_waiting_still_has_its_item_committed() -> None:
    store = FakeStore()
    committer = AsyncGroupCommitter(store.commit)

    async def run() -> None:
        waiting = asyncio.ensure_future(committer.submit(5))
        await asyncio.sleep(0)  # the batch is on its way to the database
        waiting.cancel()  # the respondent closed the tab
        assert await committer.submit(6) == 60

    asyncio.run(run())
    assert store.durable == {5, 6}


def test_async_results_of_the_wrong_length_are_an_error_not_a_silent_loss() -> None:
    committer = AsyncGroupCommitter(lambda items: [])
    with pytest.raises(RuntimeError, match="wrong number"):
        asyncio.run(committer.submit(1))
    with pytest.raises(ValueError, match="at least 1"):
        AsyncGroupCommitter(lambda items: [], max_batch=0)

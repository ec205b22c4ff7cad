"""Group commit: many concurrent writers share one transaction, and none returns before it commits.

A durable commit costs one fsync (SQLite WAL with synchronous=FULL) or one WAL flush (PostgreSQL),
whatever it contains. When many respondents finish at once, each waiting for a commit of its own
caps throughput at the disk's flush rate. Here a caller that finds fewer than `max_in_flight`
commits under way becomes a leader: it takes its own item and every item queued so far, writes
them in one transaction, commits, and only then hands each caller its result. Callers that arrive
while every slot is busy queue for the next commit; when a leader finishes, the first of them
leads the next one. A lone caller commits at once (there is no timer), so low load pays no extra
latency.

`max_in_flight` > 1 lets several transactions run at once on separate connections: while one
waits for its WAL flush, the next one's statement already runs (PostgreSQL, whose own group
commit then flushes several commit records at once; SQLite has one writer at a time). Measured on
this project's 2-core machine it did not pay on PostgreSQL either (smaller batches, more commits,
fewer responses/s), so the Repository uses 1; it is kept for a machine where the WAL flush, not
the CPU, is the limit.

The promise the survey relies on is unchanged: `submit` returns only after the transaction holding
its item has committed, and raises if that commit failed, so "thank you" still means stored.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from anyio import to_thread

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Ticket(Generic[Item, Result]):
    __slots__ = ("done", "error", "item", "result", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.result: Result | None = None
        self.error: BaseException | None = None
        # Each waiter sleeps on a lock of its own, released exactly once: when a leader took its
        # item and committed it (done), or when it is asked to lead the next commit (not done).
        # A ticket in the queue is in no batch, and leaving the queue is one of those two events,
        # so it is never released twice. Waking exactly the callers whose batch committed costs
        # far less than waking every waiter after every commit.
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommitter(Generic[Item, Result]):
    """Runs `commit(items) -> results` for batches of concurrently submitted items."""

    def __init__(
        self,
        commit: Callable[[Sequence[Item]], Sequence[Result]],
        *,
        max_batch: int = 256,
        max_in_flight: int = 1,
    ) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self._commit = commit
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._queue: deque[_Ticket[Item, Result]] = deque()
        self._leaders = 0
        self.commits = 0
        self.items = 0

    def submit(self, item: Item) -> Result:
        """Block until `item` is committed; its result, or the exception its batch raised."""
        ticket: _Ticket[Item, Result] = _Ticket(item)
        with self._lock:
            lead = self._leaders < self._max_in_flight
            if lead:
                self._leaders += 1
            else:
                self._queue.append(ticket)
        if not lead:
            ticket.wake.acquire()
            if ticket.done:
                return self._outcome(ticket)
            # Not done: a finishing leader took this ticket out of the queue to lead next.
        with self._lock:
            batch = [ticket]
            queue = self._queue
            while queue and len(batch) < self._max_batch:  # FIFO
                batch.append(queue.popleft())
        self._run(batch)
        with self._lock:
            successor = self._queue.popleft() if self._queue else None
            if successor is None:
                self._leaders -= 1  # the slot passes to the successor otherwise
        if successor is not None:
            successor.wake.release()  # not done: it leads the next commit
        return self._outcome(ticket)

    def _run(self, batch: list[_Ticket[Item, Result]]) -> None:
        try:
            results = self._commit([t.item for t in batch])
            if len(results) != len(batch):
                raise RuntimeError("group commit returned the wrong number of results")
        except BaseException as exc:  # every waiter in the batch learns that it failed
            for ticket in batch:
                ticket.error = exc
        else:
            for ticket, result in zip(batch, results, strict=True):
                ticket.result = result
        with self._lock:  # several leaders may finish at once
            self.commits += 1
            self.items += len(batch)
        leader = batch[0]
        for ticket in batch:
            ticket.done = True
            if ticket is not leader:
                ticket.wake.release()

    @staticmethod
    def _outcome(ticket: _Ticket[Item, Result]) -> Result:
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]


class AsyncGroupCommitter(Generic[Item, Result]):
    """Group commit for callers on an event loop: the same promise as GroupCommitter, without a
    thread per caller.

    With GroupCommitter, each respondent's final page parked a worker thread until its batch
    committed: under load 30-odd threads per worker process contended with the event loop for
    the interpreter, and each hand-off (loop to thread, thread to commit, back to the loop) took
    several milliseconds (measured: 5-7 ms median to reach the thread, batches of only 2-3, a
    commit of ~4 ms median and ~25 ms p99 for a 0.1 ms fsync). Here callers wait on futures on the
    loop; one task per loop hands whole batches to a worker thread, one at a time, and resolves
    every future of a batch when it has committed. Items that arrive while a batch commits form
    the next one; a lone caller commits at once.
    """

    def __init__(
        self, commit: Callable[[Sequence[Item]], Sequence[Result]], *, max_batch: int = 256
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._commit = commit
        self._max_batch = max_batch
        # Per event loop (a test client and a server may each run one): its queue and whether a
        # batch is being committed for it.
        self._loops: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, _LoopQueue[Item, Result]
        ] = weakref.WeakKeyDictionary()
        self.commits = 0
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """Wait until `item` is committed; its result, or the exception its batch raised."""
        loop = asyncio.get_running_loop()
        queue = self._loops.get(loop)
        if queue is None:
            queue = self._loops[loop] = _LoopQueue()
        future: asyncio.Future[Result] = loop.create_future()
        queue.waiting.append((item, future))
        if queue.leader is None:
            queue.leader = loop.create_task(self._lead(queue))
        # A caller that is cancelled (the client went away) stops waiting; its item is still
        # committed with its batch, as it would have been from a thread.
        return await future

    async def _lead(self, queue: _LoopQueue[Item, Result]) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while queue.waiting:
                batch = queue.waiting[: self._max_batch]
                del queue.waiting[: self._max_batch]
                try:
                    results = await to_thread.run_sync(self._commit, [item for item, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError("group commit returned the wrong number of results")
                except Exception as exc:  # every waiter in the batch learns that it failed
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)
                self.commits += 1
                self.items += len(batch)
        finally:
            queue.leader = None
            # Cancelled (the loop is shutting down): no waiter may be told its item is stored.
            for _, future in [*batch, *queue.waiting]:
                future.cancel()  # a no-op for the futures already resolved
            queue.waiting.clear()


class _LoopQueue(Generic[Item, Result]):
    __slots__ = ("leader", "waiting")

    def __init__(self) -> None:
        self.waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self.leader: asyncio.Task[None] | None = None

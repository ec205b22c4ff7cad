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

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

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

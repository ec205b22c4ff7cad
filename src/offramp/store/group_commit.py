"""Group commit: many concurrent writers share one transaction, and none returns before it commits.

A durable commit costs one fsync (SQLite WAL with synchronous=FULL) or one WAL flush (PostgreSQL),
whatever it contains. When many respondents finish at once, each waiting for a commit of its own
caps throughput at the disk's flush rate. Here the first caller to find no commit under way becomes
the leader: it takes every item queued so far, writes them in one transaction, commits, and only
then hands each caller its result. Callers that arrive meanwhile queue for the next commit. A lone
caller commits at once (there is no timer), so low load pays no extra latency.

The promise the survey relies on is unchanged: `submit` returns only after the transaction holding
its item has committed, and raises if that commit failed, so "thank you" still means stored.
"""

from __future__ import annotations

import threading
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
        # Each waiter sleeps on its own event: waking exactly the callers whose batch committed
        # (and one new leader) costs far less than waking every waiter after every commit.
        self.wake = threading.Event()


class GroupCommitter(Generic[Item, Result]):
    """Runs `commit(items) -> results` for batches of concurrently submitted items."""

    def __init__(
        self, commit: Callable[[Sequence[Item]], Sequence[Result]], *, max_batch: int = 256
    ) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Ticket[Item, Result]] = []
        self._leader_active = False
        self.commits = 0
        self.items = 0

    def submit(self, item: Item) -> Result:
        """Block until `item` is committed; its result, or the exception its batch raised."""
        ticket: _Ticket[Item, Result] = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            follow = self._leader_active
            self._leader_active = True
        if follow:
            ticket.wake.wait()
            if ticket.done:
                return self._outcome(ticket)
            # Woken without a result: the previous leader handed over; lead from here.
        while not ticket.done:
            with self._lock:
                # FIFO: a ticket waits for at most len(queue) / max_batch commits.
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            self._run(batch)
        with self._lock:
            if self._queue:
                successor = self._queue[0]
            else:
                successor = None
                self._leader_active = False
        if successor is not None:
            successor.wake.set()  # not done: it leads the next commit
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
        self.commits += 1  # only the leader writes these: one leader at a time
        self.items += len(batch)
        for ticket in batch:
            ticket.done = True
            ticket.wake.set()

    @staticmethod
    def _outcome(ticket: _Ticket[Item, Result]) -> Result:
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

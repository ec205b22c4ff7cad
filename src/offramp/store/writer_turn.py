"""Whose turn it is to write a SQLite file, across the server's worker processes.

Each worker commits completed responses through one group-commit leader at a time; with two or
more workers the leaders contend for SQLite's write lock, which is held through the commit's fsync
(several milliseconds). SQLite's busy handler retries after sleeping 1, 2, 5, 10, 15... ms, so a
leader that found the lock taken slept on well after it was free, while the disk idled and the
other worker's next leader, awake, took the lock again: batches waited 5-20 ms for nothing, and
unevenly. Here the leaders queue on a file lock (flock) beside the database instead, which the
kernel hands to a waiter the moment it is released. SQLite's own lock still guards the data; this
only decides who asks for it next.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

_opening = threading.Lock()


def _after_fork_in_child() -> None:
    global _opening
    _opening = threading.Lock()  # a parent thread may have held it at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


class WriterTurn:
    """A lock shared by every thread and process that writes responses to one SQLite file."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".write-lock")
        self._pid = -1

    def _open(self) -> None:
        # Per process: a child made by fork would otherwise share its parent's open file (and so
        # its flock) and inherit a thread lock that some parent thread may hold forever.
        self._threads = threading.Lock()  # flock is per open file: threads queue here first
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._pid = os.getpid()
        # Closed with the object (a turn dropped from writer_turn's cache, a test's database).
        weakref.finalize(self, os.close, self._fd)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self._pid != os.getpid():
            with _opening:
                if self._pid != os.getpid():
                    self._open()
        with self._threads:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=16)
def writer_turn(database: Path) -> WriterTurn:
    """The WriterTurn of this process for a database file. Should one be dropped from the cache
    while in use, a second one for the same file still excludes it: flock locks conflict between
    two open files of one process too; the per-object thread lock only saves the system call."""
    return WriterTurn(database.resolve())


def turn_of(database: Path | None) -> contextlib.AbstractContextManager[None]:
    """Hold this process's turn to write a SQLite file; nothing to wait for on another database
    (PostgreSQL, an in-memory SQLite), where `database` is None."""
    return writer_turn(database).held() if database is not None else contextlib.nullcontext()

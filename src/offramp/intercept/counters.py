"""Aggregate counters kept in memory and flushed in batches: no database write per page view.

Only (day, language, arm, event, link) -> count is ever kept; nothing about a visitor.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from offramp.store.repository import CounterRow, Repository

Key = tuple[dt.date, str, str, str, str]


class CounterBuffer:
    def __init__(self) -> None:
        self._counts: Counter[Key] = Counter()
        self._lock = threading.Lock()

    def add(self, *, language: str, arm: str, event: str, link: str = "-", n: int = 1) -> None:
        key = (dt.date.today(), language, arm, event, link)
        with self._lock:
            self._counts[key] += n

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def flush(self, repository: Repository) -> int:
        """Write what has accumulated; on failure the counts go back so none are lost."""
        with self._lock:
            batch, self._counts = self._counts, Counter()
        if not batch:
            return 0
        try:
            repository.add_counts(CounterRow(*key, count) for key, count in batch.items())
        except Exception:
            with self._lock:
                self._counts.update(batch)
            raise
        return sum(batch.values())

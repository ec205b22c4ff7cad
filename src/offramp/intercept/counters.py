"""Aggregate counters kept in memory and flushed in batches: no database write per page view.

Only (day, language, arm, event, link) -> count is ever kept; nothing about a visitor.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import threading
from collections import Counter
from pathlib import Path

from offramp.store.repository import CounterRow, Repository

Key = tuple[dt.date, str, str, str, str]
SPILL_PREFIX = "offramp-counters-"
SPILL_SUFFIX = ".spill.json"

log = logging.getLogger("offramp.intercept")


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

    def spill(self, folder: Path) -> int:
        """Write the counts still pending to a file of their own in `folder` (at a stop, when the
        database cannot take them), durably, and forget them; returns how many there were."""
        with self._lock:
            batch, self._counts = self._counts, Counter()
        if not batch:
            return 0
        rows = [[key[0].isoformat(), *key[1:], count] for key, count in sorted(batch.items())]
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{SPILL_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{SPILL_SUFFIX}"
        partial = folder / (name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            json.dump({"counts": rows}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, folder / name)
        _fsync_folder(folder)
        return sum(batch.values())

    def take_spilled(self, folder: Path) -> int:
        """Add the counts that stopped servers left in `folder` and delete their files.

        Each file is claimed by renaming it first, so of several workers starting at once exactly
        one takes it. A file that cannot be read is left in place under its claimed name and
        logged, never deleted: counts are only ever added, never lost or doubled."""
        taken = 0
        if not folder.is_dir():
            return 0
        for path in sorted(folder.glob(f"{SPILL_PREFIX}*{SPILL_SUFFIX}")):
            claimed = path.with_name(path.name + f".taken-{os.getpid()}")
            try:
                os.replace(path, claimed)
            except OSError:
                continue  # another worker took it
            try:
                rows = json.loads(claimed.read_text(encoding="utf-8"))["counts"]
                batch: Counter[Key] = Counter()
                for day, language, arm, event, link, count in rows:
                    batch[(dt.date.fromisoformat(day), language, arm, event, link)] += int(count)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("could not read spilled counts %s (%s); left in place", claimed,
                            type(exc).__name__)
                continue
            with self._lock:
                self._counts.update(batch)
            claimed.unlink()
            taken += sum(batch.values())
        return taken


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

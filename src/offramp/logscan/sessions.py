"""Session metrics with memory bounded however many sessions a log holds.

A session may be spread over many partitions (and files), so per-session partial sums are merged
across the whole run. Held in memory up to a limit, they are then spilled to disk in buckets by
hash, and each bucket is merged on its own at the end: memory is bounded by one bucket, not by the
number of sessions. Only 64-bit hashes of session ids are kept (in memory or in the spill files,
which live in a private temporary folder and are deleted afterwards); ids never reach the output.

Definitions (a session is "warned" at its first CSAM-seeking search, the moment the intercept
would have shown the warning):
    seeking share      sessions with >= 1 blocked search / sessions
    repeat share       warned sessions with >= 2 blocked searches / warned sessions
                       (the metric a large search engine used to evaluate its warning)
    continued share    warned sessions with any search later than the first blocked one /
                       warned sessions (needs timestamps)
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from offramp.logscan.partial import SESSIONS_SCHEMA, merge_sessions


@dataclass(frozen=True, slots=True)
class SessionCounts:
    sessions: int
    seeking: int  # sessions with >= 1 blocked search (= warned sessions)
    repeat: int  # warned sessions with >= 2 blocked searches
    continued: int  # warned sessions with a search after the first blocked one

    def __add__(self, other: SessionCounts) -> SessionCounts:
        return SessionCounts(
            self.sessions + other.sessions,
            self.seeking + other.seeking,
            self.repeat + other.repeat,
            self.continued + other.continued,
        )


def count_sessions(merged: pl.DataFrame) -> SessionCounts:
    """The metric counts of fully merged per-session rows."""
    if merged.height == 0:
        return SessionCounts(0, 0, 0, 0)
    row = merged.select(
        pl.len().alias("sessions"),
        (pl.col("blocked") >= 1).sum().alias("seeking"),
        (pl.col("blocked") >= 2).sum().alias("repeat"),
        (pl.col("last") > pl.col("first_blocked")).fill_null(False).sum().alias("continued"),
    ).row(0)
    return SessionCounts(*(int(x) for x in row))


class SessionStore:
    """Accumulates per-session partial rows; spills to hash buckets past ``memory_rows``."""

    def __init__(self, spill_dir: Path | None = None, *, memory_rows: int = 4_000_000,
                 buckets: int = 32) -> None:
        self._frames: list[pl.DataFrame] = []
        self._rows = 0
        self._memory_rows = memory_rows
        self._buckets = buckets
        self._spill_root = spill_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._spills = 0

    @property
    def spilled(self) -> int:
        return self._spills

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        self._frames.append(frame)
        self._rows += frame.height
        if self._rows > self._memory_rows:
            merged = merge_sessions(self._frames)
            self._frames, self._rows = [merged], merged.height
            if merged.height > self._memory_rows // 2:
                self._spill(merged)

    def _folder(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=".offramp-sessions-",
                                                    dir=self._spill_root)
        return Path(self._tmp.name)

    def _spill(self, frame: pl.DataFrame) -> None:
        folder = self._folder()
        bucket = (pl.col("session") % self._buckets).alias("_bucket")
        for (number,), part in frame.with_columns(bucket).partition_by(
            "_bucket", as_dict=True
        ).items():
            part.drop("_bucket").write_ipc(folder / f"b{number:03d}-{self._spills:06d}.arrow")
        self._spills += 1
        self._frames, self._rows = [], 0

    def finish(self) -> SessionCounts:
        """Merge everything and count; removes the spill files."""
        try:
            if self._tmp is None:
                return count_sessions(merge_sessions(self._frames))
            if self._frames:
                self._spill(merge_sessions(self._frames))
            folder = Path(self._tmp.name)
            total = SessionCounts(0, 0, 0, 0)
            for number in range(self._buckets):
                files = sorted(folder.glob(f"b{number:03d}-*.arrow"))
                if files:
                    parts = [pl.read_ipc(f).cast(SESSIONS_SCHEMA)  # type: ignore[arg-type]
                             for f in files]
                    total = total + count_sessions(merge_sessions(parts))
            return total
        finally:
            self.close()

    def close(self) -> None:
        self._frames = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

"""Session metrics with memory bounded however many sessions a log holds.

A session may be spread over many partitions (and files), so per-session rows are merged across
the whole run. They are held in memory up to a limit, then spilled to disk in buckets by hash,
and each bucket is merged on its own at the end: memory is bounded by one bucket, not by the
number of sessions. Two kinds of rows are kept: every session with the time of its latest search
(``seen``), and the few sessions with flagged searches, with their count and the time of the
first (``flagged``). Only 64-bit hashes of session ids are kept (in memory or in the spill
files, which live in a private temporary folder and are deleted afterwards); ids never reach
the output.

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

from offramp.logscan.partial import FLAGGED_SCHEMA, SEEN_SCHEMA, merge_flagged, merge_seen

KINDS = ("seen", "flagged")


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


def count_sessions(seen: pl.DataFrame, flagged: pl.DataFrame) -> SessionCounts:
    """The metric counts of fully merged rows (every session of a bucket in one row)."""
    continued = (
        flagged.join(seen, on="session", how="inner")
        .filter(pl.col("last") > pl.col("first_blocked"))
        .height
    )
    repeat = int((flagged.get_column("blocked") >= 2).sum())
    return SessionCounts(seen.height, flagged.height, repeat, continued)


class SessionStore:
    """Accumulates per-session rows; spills both kinds to hash buckets past ``memory_rows``."""

    def __init__(self, spill_dir: Path | None = None, *, memory_rows: int = 4_000_000,
                 buckets: int = 32) -> None:
        self._frames: dict[str, list[pl.DataFrame]] = {kind: [] for kind in KINDS}
        self._rows = 0
        self._memory_rows = memory_rows
        self._buckets = buckets
        self._spill_root = spill_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._spills = 0

    @property
    def spilled(self) -> int:
        return self._spills

    def add(self, seen: list[pl.DataFrame], flagged: list[pl.DataFrame]) -> None:
        for kind, frames in (("seen", seen), ("flagged", flagged)):
            for frame in frames:
                if frame.height:
                    self._frames[kind].append(frame)
                    self._rows += frame.height
        if self._rows > self._memory_rows:
            self._spill()

    def _folder(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=".offramp-sessions-",
                                                    dir=self._spill_root)
        return Path(self._tmp.name)

    def _spill(self) -> None:
        folder = self._folder()
        for kind, frames in self._frames.items():
            if not frames:
                continue
            frame = pl.concat(frames, how="vertical")
            bucket = (pl.col("session") % self._buckets).alias("_bucket")
            parts = frame.with_columns(bucket).partition_by("_bucket", as_dict=True)
            for (number,), part in parts.items():
                part.drop("_bucket").write_ipc(
                    folder / f"{kind}-{number:03d}-{self._spills:06d}.arrow"
                )
        self._spills += 1
        self._frames = {kind: [] for kind in KINDS}
        self._rows = 0

    def finish(self) -> SessionCounts:
        """Merge everything and count; removes the spill files."""
        try:
            if self._tmp is None:
                return count_sessions(merge_seen(self._frames["seen"]),
                                      merge_flagged(self._frames["flagged"]))
            if self._rows:
                self._spill()
            folder = Path(self._tmp.name)
            total = SessionCounts(0, 0, 0, 0)
            for number in range(self._buckets):
                parts = {
                    kind: [pl.read_ipc(f).cast(schema)  # type: ignore[arg-type]
                           for f in sorted(folder.glob(f"{kind}-{number:03d}-*.arrow"))]
                    for kind, schema in (("seen", SEEN_SCHEMA), ("flagged", FLAGGED_SCHEMA))
                }
                total = total + count_sessions(merge_seen(parts["seen"]),
                                               merge_flagged(parts["flagged"]))
            return total
        finally:
            self.close()

    def close(self) -> None:
        self._frames = {kind: [] for kind in KINDS}
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

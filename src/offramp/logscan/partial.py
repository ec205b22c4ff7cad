"""What one partition hands back: counts that add up, whatever the order partitions finish in.

Every field merges by summing (or min/max for times), so the local loop and a Dask cluster that
returns partitions in any order arrive at the same integers, and every figure in the output is
computed from those integers at the very end.

    counts    day, language, vkey, n        per day and language: all searches (vkey ""), and
                                            the flagged ones by verdict (vkey not "")
    sessions  session, searches, blocked,   per hashed session id (optional)
              first_blocked, last
    matched   query, vkey, n                matched query texts (only with --include-queries)

A ``vkey`` is a verdict without the query: "" for a clear search, else a JSON array
[rules, categories, age]. There are few distinct vkeys, so grouping on them is cheap. In
``counts`` the row with vkey "" holds *all* searches of its day and language (``TOTAL``), so the
common case, a clear search, never needs a verdict key of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from offramp.logscan.problems import Problems

COUNTS_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Date(),
    "language": pl.String(),
    "vkey": pl.String(),
    "n": pl.Int64(),
}
SESSIONS_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.UInt64(),
    "searches": pl.Int64(),
    "blocked": pl.Int64(),
    "first_blocked": pl.Datetime("us"),
    "last": pl.Datetime("us"),
}
MATCHED_SCHEMA: dict[str, pl.DataType] = {
    "query": pl.String(),
    "vkey": pl.String(),
    "n": pl.Int64(),
}
CLEAR = ""  # the verdict key of a query that is not flagged
TOTAL = ""  # in counts: the row counting all searches of a day and language


def verdict_key(rules: list[str], categories: list[str], age: str | None) -> str:
    return json.dumps([sorted(rules), sorted(categories), age], ensure_ascii=False)


def parse_key(vkey: str) -> tuple[list[str], list[str], str | None]:
    """(rules, categories, age) of a blocked verdict's key."""
    rules, categories, age = json.loads(vkey)
    return list(rules), list(categories), age


def sum_counts(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=COUNTS_SCHEMA)
    return (
        pl.concat(frames, how="vertical")
        .group_by(["day", "language", "vkey"])
        .agg(pl.col("n").sum())
        .cast(COUNTS_SCHEMA)  # type: ignore[arg-type]
    )


def merge_sessions(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=SESSIONS_SCHEMA)
    return (
        pl.concat(frames, how="vertical")
        .group_by("session")
        .agg(
            pl.col("searches").sum(),
            pl.col("blocked").sum(),
            pl.col("first_blocked").min(),
            pl.col("last").max(),
        )
        .cast(SESSIONS_SCHEMA)  # type: ignore[arg-type]
    )


def sum_matched(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=MATCHED_SCHEMA)
    return (
        pl.concat(frames, how="vertical")
        .group_by(["query", "vkey"])
        .agg(pl.col("n").sum())
        .cast(MATCHED_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass
class Partial:
    """The mergeable result of one partition (or of several, once merged)."""

    problems: Problems
    counts: list[pl.DataFrame] = field(default_factory=list)
    sessions: list[pl.DataFrame] = field(default_factory=list)
    matched: list[pl.DataFrame] = field(default_factory=list)
    rows: int = 0  # rows screened (after bad rows were dropped)
    rows_by_file: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # time spent inside the partition function
    partitions: int = 0

    def compact(self) -> Partial:
        """Collapse the lists of frames into one frame each (call before shipping or storing)."""
        self.counts = [sum_counts(self.counts)]
        if self.sessions:
            self.sessions = [merge_sessions(self.sessions)]
        if self.matched:
            self.matched = [sum_matched(self.matched)]
        return self

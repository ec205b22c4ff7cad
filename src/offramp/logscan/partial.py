"""What one partition hands back: counts that add up, whatever the order partitions finish in.

Every field merges by summing (or min/max for times), so the local loop and a Dask cluster that
returns partitions in any order arrive at the same integers, and every figure in the output is
computed from those integers at the very end.

    counts    day, language, vkey, n        per day and language: all searches (vkey ""), and
                                            the flagged ones by verdict (vkey not "")
    seen      session, last                 every hashed session id and its latest search
    flagged   session, blocked,             sessions with flagged searches: how many, and the
              first_blocked                 time of the first (both only with a session id)
    matched   query, vkey, n                matched query texts (only with --include-queries)

A ``vkey`` is a verdict without the query: "" for a clear search, else a JSON object
{"rules": [...], "categories": [...], "age": ...} with sorted lists. There are few distinct
vkeys, so grouping on them is cheap. In ``counts`` the row with vkey "" holds *all* searches
of its day and language (``TOTAL``), so the common case, a clear search, never needs a verdict
key of its own.
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
SEEN_SCHEMA: dict[str, pl.DataType] = {"session": pl.UInt64(), "last": pl.Datetime("us")}
FLAGGED_SCHEMA: dict[str, pl.DataType] = {
    "session": pl.UInt64(),
    "blocked": pl.Int64(),
    "first_blocked": pl.Datetime("us"),
}
MATCHED_SCHEMA: dict[str, pl.DataType] = {
    "query": pl.String(),
    "vkey": pl.String(),
    "n": pl.Int64(),
}
CLEAR = ""  # the verdict key of a query that is not flagged
TOTAL = ""  # in counts: the row counting all searches of a day and language


def verdict_key(rules: list[str], categories: list[str], age: str | None) -> str:
    """The key ``partition.verdict_keys`` builds in Polars, built here in Python (for tests)."""
    return json.dumps(
        {"rules": sorted(rules), "categories": sorted(categories), "age": age},
        ensure_ascii=False, separators=(",", ":"),
    )


def parse_key(vkey: str) -> tuple[list[str], list[str], str | None]:
    """(rules, categories, age) of a blocked verdict's key."""
    data = json.loads(vkey)
    return list(data["rules"]), list(data["categories"]), data["age"]


def sum_counts(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=COUNTS_SCHEMA)
    return (
        pl.concat(frames, how="vertical")
        .group_by(["day", "language", "vkey"])
        .agg(pl.col("n").sum())
        .cast(COUNTS_SCHEMA)  # type: ignore[arg-type]
    )


def merge_seen(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=SEEN_SCHEMA)
    return (
        pl.concat(frames, how="vertical").group_by("session").agg(pl.col("last").max())
        .cast(SEEN_SCHEMA)  # type: ignore[arg-type]
    )


def merge_flagged(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=FLAGGED_SCHEMA)
    return (
        pl.concat(frames, how="vertical")
        .group_by("session")
        .agg(pl.col("blocked").sum(), pl.col("first_blocked").min())
        .cast(FLAGGED_SCHEMA)  # type: ignore[arg-type]
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
    seen: list[pl.DataFrame] = field(default_factory=list)
    flagged: list[pl.DataFrame] = field(default_factory=list)
    matched: list[pl.DataFrame] = field(default_factory=list)
    rows: int = 0  # rows screened (after bad rows were dropped)
    rows_by_file: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # time spent inside the partition function
    partitions: int = 0

    def compact(self) -> Partial:
        """Collapse the lists of frames into one frame each (call before shipping or storing).

        ``seen`` is only concatenated: sessions rarely repeat across batches of a time-ordered
        log, so grouping here would cost more than it saves; the run merges them at the end.
        """
        self.counts = [sum_counts(self.counts)]
        if len(self.seen) > 1:
            self.seen = [pl.concat(self.seen, how="vertical")]
        if self.flagged:
            self.flagged = [merge_flagged(self.flagged)]
        if self.matched:
            self.matched = [sum_matched(self.matched)]
        return self

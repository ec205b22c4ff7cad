"""The one function every partition goes through, in the local loop and on Dask workers alike.

``scan_chunk(chunk, job)`` reads a partition in batches, drops bad rows, screens the queries and
returns a ``Partial`` of counts. Screening goes through the screen stage's public batch API on the
*distinct* queries of a batch only, with a per-process memo of verdicts (bounded), because search
logs repeat their popular queries heavily and the verdict of a query does not change within a run.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from offramp.logscan.options import ScanOptions
from offramp.logscan.partial import CLEAR, TOTAL, Partial, verdict_key
from offramp.logscan.problems import Problems
from offramp.logscan.readers import read_chunk
from offramp.logscan.sources import Chunk
from offramp.logscan.standardize import standardize
from offramp.screen import Screener, screen_batch


@dataclass(frozen=True, slots=True)
class TermSource:
    """A term list as bytes, so a worker on another machine can load exactly the same list."""

    name: str  # the file name; its suffix tells the loader which list format it is
    data: bytes

    @classmethod
    def from_path(cls, path: str | Path) -> TermSource:
        path = Path(path)
        return cls(path.name, path.read_bytes())

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class Job:
    """What every partition needs besides its chunk. Sent once to each Dask worker."""

    terms: TermSource
    roles: dict[str, str | None]
    options: ScanOptions


_SCREENERS: dict[str, Screener] = {}
_MEMOS: dict[str, dict[str, str]] = {}


def remember_screener(terms: TermSource, screener: Screener) -> None:
    """Let this process reuse a screener it already loaded from the same bytes."""
    _SCREENERS[terms.digest] = screener


def screener_for(terms: TermSource) -> Screener:
    """The screener for these bytes, loaded once per process through ``Screener.from_file``."""
    screener = _SCREENERS.get(terms.digest)
    if screener is None:
        with tempfile.TemporaryDirectory(prefix="offramp-terms-") as folder:
            path = Path(folder) / terms.name
            path.write_bytes(terms.data)
            screener = Screener.from_file(path)
        _SCREENERS[terms.digest] = screener
    return screener


def verdict_keys(
    screener: Screener, queries: list[str], memo: dict[str, str], capacity: int
) -> list[str]:
    """The verdict key of each (distinct) query; unseen queries go through ``screen_batch``."""
    keys = [memo.get(q) for q in queries]
    unseen = [q for q, k in zip(queries, keys, strict=True) if k is None]
    if not unseen:
        return keys  # type: ignore[return-value]
    verdicts = screen_batch(screener, pl.Series("query", unseen, dtype=pl.String))
    fresh: dict[str, str] = {}
    interned: dict[str, str] = {}
    for query, blocked, categories, rules, age in zip(
        unseen,
        verdicts.get_column("blocked").to_list(),
        verdicts.get_column("categories").to_list(),
        verdicts.get_column("rules").to_list(),
        verdicts.get_column("age").to_list(),
        strict=True,
    ):
        key = verdict_key(rules, categories, age) if blocked else CLEAR
        fresh[query] = interned.setdefault(key, key)
    room = capacity - len(memo)
    if room >= len(fresh):
        memo.update(fresh)
    elif room > 0:
        for query in unseen[:room]:
            memo[query] = fresh[query]
    return [k if k is not None else fresh[q] for q, k in zip(queries, keys, strict=True)]


def screen_frame(
    frame: pl.DataFrame, screener: Screener, memo: dict[str, str], job: Job, partial: Partial
) -> None:
    """Screen one standardized batch and add its counts to ``partial``.

    All searches are counted by day and language without looking at verdicts; only the rows of
    flagged queries (a few percent) get a verdict key, so the expensive string work is confined
    to them.
    """
    query = frame.get_column("query")
    distinct = query.unique()
    keys = pl.Series("vkey", verdict_keys(screener, distinct.to_list(), memo,
                                          job.options.cache_queries), dtype=pl.String)
    hit = keys != CLEAR
    total = (
        frame.group_by(["day", "language"])
        .agg(pl.lit(TOTAL, dtype=pl.String).alias("vkey"), pl.len().cast(pl.Int64).alias("n"))
    )
    partial.counts.append(total)
    if bool(hit.any()):
        flagged_queries = distinct.filter(hit)
        flagged = query.is_in(flagged_queries.implode())
        partial.counts.append(
            frame.filter(flagged)
            .with_columns(
                pl.col("query").replace_strict(
                    flagged_queries, keys.filter(hit), return_dtype=pl.String
                ).alias("vkey")
            )
            .group_by(["day", "language", "vkey"])
            .agg(pl.len().cast(pl.Int64).alias("n"))
        )
    else:
        flagged = pl.Series("flagged", [False] * frame.height, dtype=pl.Boolean)
    if job.roles.get("session") is not None:
        blocked = pl.col("_flagged")
        partial.sessions.append(
            frame.with_columns(flagged.alias("_flagged"))
            .filter(pl.col("session").is_not_null())
            .group_by("session")
            .agg(
                pl.len().cast(pl.Int64).alias("searches"),
                blocked.sum().cast(pl.Int64).alias("blocked"),
                pl.col("ts").filter(blocked).min().alias("first_blocked"),
                pl.col("ts").max().alias("last"),
            )
        )
    if job.options.include_queries and bool(hit.any()):
        partial.matched.append(
            frame.filter(flagged)
            .group_by("query")
            .agg(pl.len().cast(pl.Int64).alias("n"))
            .with_columns(
                pl.col("query").replace_strict(
                    distinct.filter(hit), keys.filter(hit), return_dtype=pl.String
                ).alias("vkey")
            )
            .select("query", "vkey", "n")
        )
    partial.rows += frame.height


def scan_chunk(chunk: Chunk, job: Job) -> Partial:
    """Read, check, screen and count one partition. The same code path locally and on Dask."""
    started = time.perf_counter()
    options = job.options
    problems = Problems(options.on_error, options.max_examples)
    partial = Partial(problems)
    screener = screener_for(job.terms)
    memo = _MEMOS.setdefault(job.terms.digest, {})
    rows_before = 0
    for raw in read_chunk(chunk, job.roles, options, problems):
        frame = standardize(raw, job.roles, options.columns, problems)
        if frame.height:
            screen_frame(frame, screener, memo, job, partial)
        if len(partial.counts) >= 64:
            partial.compact()
    partial.compact()
    partial.rows_by_file[chunk.path] = partial.rows - rows_before
    partial.partitions = 1
    partial.seconds = time.perf_counter() - started
    return partial

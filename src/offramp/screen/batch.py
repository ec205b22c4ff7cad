"""The batch path: screen a whole column of queries at once, with the verdicts of ``check``.

Most rows of a search log contain no listed term. For those, the work is columnar (Polars, on
all cores): split into tokens, hash them, and join the hashes with a table of the flags of
every token seen before (``Screener._token_flags``, the same flags ``check`` uses; Python is
asked only about tokens never seen). Only rows with a token that could take part in a match,
or with two one-letter tokens (spaced-out letters), are kept; those rows (and rows longer than
``MAX_QUERY_CHARS``) go through ``check`` itself. So both paths give the same verdict for every
row by construction; ``tests/screen/test_properties.py`` checks it on generated queries.
"""

from __future__ import annotations

import gc
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeAlias

import polars as pl
import pyarrow as pa

from offramp.screen.matcher import (
    AGE,
    AGEW,
    COMPLEX,
    FIRST,
    HIT,
    MAX_QUERY_CHARS,
    NUM,
    NUMS,
    SINGLE,
    TOKEN_CACHE_SIZE,
    UNIT,
    Screener,
)
from offramp.screen.verdict import Verdict

Column: TypeAlias = pl.Series | pa.Array | pa.ChunkedArray | Sequence[str | None]

SCHEMA: dict[str, pl.DataType] = {
    "blocked": pl.Boolean(),
    "categories": pl.List(pl.String()),
    "rules": pl.List(pl.String()),
    "age": pl.String(),
}


_SURROGATES = re.compile("[\ud800-\udfff]")


def _as_series(column: Column) -> pl.Series:
    if isinstance(column, pl.Series):
        series = column
    elif isinstance(column, pa.Array | pa.ChunkedArray):
        series = pl.Series("query", column)
    else:
        values = list(column)
        try:
            series = pl.Series("query", values, dtype=pl.String())
        except UnicodeEncodeError:
            # Lone surrogates cannot be UTF-8. fold() reads each as a space, so a space in
            # their place gives the same verdicts.
            series = pl.Series(
                "query",
                [v if v is None else _SURROGATES.sub(" ", v) for v in values],
                dtype=pl.String(),
            )
    return series.cast(pl.String()).fill_null("").alias("query")


class _TokenTable:
    """Flags of every token a screener has seen in batches, keyed by a seeded 64-bit hash.

    Looking a token's hash up column-wise (a join on integers) replaces asking Python about
    each distinct token. The seed is random per screener, so nobody can craft a token whose
    hash collides with a harmless one; an accidental collision among 2**64 values is a chance
    of about one in 10**8 for a billion distinct tokens.
    """

    def __init__(self) -> None:
        self.seed = secrets.randbits(64)
        self.frame = pl.DataFrame(schema={"h": pl.UInt64(), "f": pl.Int64()})


def _table(screener: Screener) -> _TokenTable:
    table = getattr(screener, "_batch_tokens", None)
    if table is None:
        table = _TokenTable()
        screener._batch_tokens = table  # type: ignore[attr-defined]
    return table


_HOT = HIT | COMPLEX | FIRST | NUM | UNIT | SINGLE | AGE | AGEW | NUMS


def candidate_rows(screener: Screener, queries: pl.Series) -> pl.Series:
    """Row numbers whose verdict may differ from "not blocked, no age" (a sound superset).

    Rows are split at ASCII spaces only. That is exact for any text: ``fold`` of a query is the
    folds of these tokens joined by spaces, a token that folds to several tokens (another kind
    of space, an unspaced script, a control character) has the flag COMPLEX, and one that folds
    to nothing has EMPTY, as in ``check``.
    """
    frame = pl.DataFrame({"q": queries}).with_row_index("row")
    long_rows = frame.filter(pl.col("q").str.len_chars() > MAX_QUERY_CHARS)["row"]
    tokens = frame.select("row", pl.col("q").str.split(" ").alias("tok")).explode("tok")
    table = _table(screener)
    tokens = tokens.with_columns(pl.col("tok").hash(table.seed).alias("h"))
    tokens = tokens.join(table.frame, on="h", how="left")
    unknown = tokens.filter(pl.col("f").is_null())
    if len(unknown):
        new = unknown.select("tok", "h").unique("h")
        cache = screener._cache
        flags = []
        for tok in new["tok"].to_list():
            f = cache.get(tok)
            flags.append(screener._token_flags(tok) if f is None else f)
        learned = new.select("h").with_columns(pl.Series("f", flags, dtype=pl.Int64()))
        # one assignment publishes the grown table; two batches on two threads may each drop
        # the other's new tokens, which are then learned again: harmless, and no lock is
        # needed (the screener stays picklable)
        grown = pl.concat([table.frame, learned]).unique("h")
        table.frame = grown if len(grown) <= TOKEN_CACHE_SIZE else learned
        tokens = pl.concat(
            [
                tokens.filter(pl.col("f").is_not_null()),
                unknown.drop("f").join(learned, on="h", how="left"),
            ]
        )
    fc = pl.col("f")
    per_row = (
        tokens.filter((fc & _HOT) != 0)
        .group_by("row")
        .agg(fc.bitwise_or().alias("any"), ((fc & SINGLE) != 0).sum().alias("singles"))
    )
    a = pl.col("any")
    picked = per_row.filter(
        ((a & (HIT | COMPLEX | FIRST)) != 0)
        | ((a & AGE) != 0)
        | (((a & NUM) != 0) & ((a & UNIT) != 0))
        | (((a & AGEW) != 0) & ((a & NUMS) != 0))
        | (pl.col("singles") >= 2)
    )["row"]
    return pl.concat([long_rows, picked]).unique().sort()


#: Rows per chunk: the columnar step of one chunk runs (GIL released) while ``check`` runs on
#: the candidate rows of the chunk before, so the two cores are busy at once.
CHUNK_ROWS = 200_000


def _check_rows(screener: Screener, queries: pl.Series) -> list[Verdict]:
    # The loop allocates many small objects while large ones are alive; the cyclic garbage
    # collector would walk them all again and again (it made this loop 3x slower).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [screener.check(q) for q in queries.to_list()]
    finally:
        if enabled:
            gc.enable()


def screen_batch(screener: Screener, column: Column) -> pl.DataFrame:
    """One row per input, same order: blocked, categories, rules, age. Nulls screen as ""."""
    queries = _as_series(column)
    n = len(queries)
    starts = list(range(0, n, CHUNK_ROWS))
    found_rows: list[pl.Series] = []
    verdicts: list[Verdict] = []
    if len(starts) <= 1:
        rows = candidate_rows(screener, queries) if n else pl.Series("row", [], pl.UInt32())
        found_rows.append(rows)
        verdicts = _check_rows(screener, queries.gather(rows))
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            futures = [
                pool.submit(candidate_rows, screener, queries.slice(start, CHUNK_ROWS))
                for start in starts
            ]
            for start, future in zip(starts, futures, strict=True):
                rows = future.result() + start
                found_rows.append(rows)
                verdicts += _check_rows(screener, queries.gather(rows))
    rows = pl.concat(found_rows) if found_rows else pl.Series("row", [], pl.UInt32())
    # Lists go through Arrow: Polars builds a list column from Python lists one Series at a time.
    strings = pa.list_(pa.string())
    found = pl.from_arrow(
        pa.table(
            {
                "row": pa.array(rows.to_numpy(), type=pa.uint32()),
                "blocked": pa.array([v.blocked for v in verdicts], type=pa.bool_()),
                "categories": pa.array([list(v.categories) for v in verdicts], type=strings),
                "rules": pa.array([list(v.rules) for v in verdicts], type=strings),
                "age": pa.array([v.age for v in verdicts], type=pa.string()),
            }
        )
    )
    assert isinstance(found, pl.DataFrame)
    found = found.cast({"categories": pl.List(pl.String()), "rules": pl.List(pl.String())})
    out = (
        pl.DataFrame({"row": pl.arange(0, n, dtype=pl.UInt32(), eager=True)})
        .join(found, on="row", how="left", maintain_order="left")
        .select(
            pl.col("blocked").fill_null(False),
            pl.col("categories").fill_null([]),
            pl.col("rules").fill_null([]),
            pl.col("age"),
        )
    )
    return out

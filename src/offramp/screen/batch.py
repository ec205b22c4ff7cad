"""The batch path: screen a whole column of queries at once, with the verdicts of ``check``.

Most rows of a search log contain no listed term. For those, the work is columnar (Polars,
chunks on all cores at once): split into tokens, hash them, and drop every token whose hash is
in the table of tokens seen before and whose flags (``Screener._token_flags``, the same flags
``check`` uses) cannot make a row a candidate, with one ``is_in``; Python is asked only about
tokens never seen. Only rows with a token that could take part in a match, or with two
one-letter tokens (spaced-out letters), are kept; those rows (and rows longer than
``MAX_QUERY_CHARS``) go through ``check`` itself. So both paths give the same verdict for every
row by construction; ``tests/screen/test_properties.py`` checks it on generated queries.
"""

from __future__ import annotations

import gc
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
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


@dataclass(frozen=True, slots=True)
class _Tokens:
    """One published state of a token table (replaced whole, never changed in place)."""

    frame: pl.DataFrame  # h (hash), f (flags) of every token seen
    known: pl.Series  # every h, imploded: the operand of ``is_in``
    hot: pl.DataFrame  # h, f of the tokens whose flags can make a row a candidate
    hot_h: pl.Series  # their h, imploded


def _tokens(frame: pl.DataFrame) -> _Tokens:
    hot = frame.filter((pl.col("f") & _HOT) != 0)
    return _Tokens(frame, frame.get_column("h").implode(), hot, hot.get_column("h").implode())


class _TokenTable:
    """Flags of every token a screener has seen in batches, keyed by a seeded 64-bit hash.

    Looking a token's hash up column-wise (``is_in`` on integers) replaces asking Python about
    each distinct token. The seed is random per screener, so nobody can craft a token whose
    hash collides with a harmless one; an accidental collision among 2**64 values is a chance
    of about one in 10**8 for a billion distinct tokens.
    """

    def __init__(self) -> None:
        self.seed = secrets.randbits(64)
        self.state = _tokens(pl.DataFrame(schema={"h": pl.UInt64(), "f": pl.Int64()}))


def _table(screener: Screener) -> _TokenTable:
    table = getattr(screener, "_batch_tokens", None)
    if table is None:
        table = _TokenTable()
        screener._batch_tokens = table  # type: ignore[attr-defined]
    return table


_HOT = HIT | COMPLEX | FIRST | NUM | UNIT | SINGLE | AGE | AGEW | NUMS


def _learn(screener: Screener, table: _TokenTable, new: pl.DataFrame) -> pl.DataFrame:
    """Flags (h, f) of tokens the table does not know, from ``check``'s own token analysis;
    the table grows by them."""
    token_flags = screener.raw_token_flags
    flags = [token_flags(tok) for tok in new.get_column("tok").to_list()]
    learned = new.select("h").with_columns(pl.Series("f", flags, dtype=pl.Int64()))
    # one assignment publishes the grown table; two batches on two threads may each drop
    # the other's new tokens, which are then learned again: harmless, and no lock is
    # needed (the screener stays picklable)
    grown = pl.concat([table.state.frame, learned]).unique("h")
    table.state = _tokens(grown if len(grown) <= TOKEN_CACHE_SIZE else learned)
    return learned


def candidate_rows(screener: Screener, queries: pl.Series) -> pl.Series:
    """Row numbers whose verdict may differ from "not blocked, no age" (a sound superset).

    Rows are split at ASCII spaces only. That is exact for any text: ``fold`` of a query is the
    folds of these tokens joined by spaces, a token that folds to several tokens (another kind
    of space, an unspaced script, a control character) has the flag COMPLEX, and one that folds
    to nothing has EMPTY, as in ``check``. Only the few tokens that are new or *hot* (flags that
    can make a row a candidate) leave Polars; every other token is dropped by one ``is_in``.
    """
    table = _table(screener)
    state = table.state
    seed = table.seed
    # a row longer than MAX_QUERY_CHARS characters has more bytes than that (cheap test first)
    long_rows = (queries.str.len_bytes() > MAX_QUERY_CHARS).arg_true()
    if len(long_rows):
        long_rows = long_rows.filter(queries.gather(long_rows).str.len_chars() > MAX_QUERY_CHARS)
    split = queries.str.split(" ")  # never an empty list: "" splits into [""]
    hashes = split.list.eval(pl.element().hash(seed)).explode()
    known = hashes.is_in(state.known)
    where = (hashes.is_in(state.hot_h) | ~known).arg_true()  # token positions, few
    ends = split.list.len().cum_sum().to_numpy()
    rows = np.searchsorted(ends, where.to_numpy(), side="right")
    tokens = pl.DataFrame({"row": rows.astype(np.uint32), "h": hashes.gather(where)})
    flags = state.hot
    if not known.all():
        # the texts of the new tokens, from the rows that hold one
        texts = split.gather(rows[~known.gather(where).to_numpy()]).explode()
        new = pl.DataFrame({"tok": texts, "h": texts.hash(seed)})
        new = new.filter(~pl.col("h").is_in(state.known)).unique("h")
        flags = pl.concat([flags, _learn(screener, table, new)])
    fc = pl.col("f")
    per_row = (
        tokens.select("row", "h")
        .join(flags, on="h", how="inner")
        .filter((fc & _HOT) != 0)
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
    return pl.concat([long_rows.cast(pl.UInt32), picked.cast(pl.UInt32)]).unique().sort()


#: Rows per chunk. Chunks are screened column-wise on ``pl.thread_pool_size()`` threads at
#: once (Polars releases the GIL), while this thread runs ``check`` on the candidate rows of
#: the chunks already done, so every core is busy.
CHUNK_ROWS = 100_000


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
        workers = max(1, min(pl.thread_pool_size(), len(starts)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(candidate_rows, screener, queries.slice(start, CHUNK_ROWS))
                for start in starts
            ]
            for start, future in zip(starts, futures, strict=True):
                rows = future.result() + start
                found_rows.append(rows)
                verdicts += _check_rows(screener, queries.gather(rows))
    rows = pl.concat(found_rows) if found_rows else pl.Series("row", [], pl.UInt32())
    return _assemble(n, rows, verdicts)


def _lists(name: str, items: list[tuple[str, ...]]) -> pl.Series:
    """A list-of-strings column from tuples, built from offsets (Polars would build one Series
    per row; ``pa.array`` of Python lists would import pandas, a second at cold start)."""
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)), out=offsets[1:])
    values = pl.Series([x for t in items for x in t], dtype=pl.String()).to_arrow()
    array = pa.LargeListArray.from_arrays(pl.Series(offsets).to_arrow(), values)
    return pl.Series(name, array).cast(pl.List(pl.String()))


def _assemble(n: int, rows: pl.Series, verdicts: list[Verdict]) -> pl.DataFrame:
    """The output: row ``rows[i]`` gets ``verdicts[i]``, every other row "not blocked"."""
    # Few distinct verdicts: a small frame of those (the first row is "not blocked, no age"),
    # placed with one gather.
    codes: dict[tuple[bool, tuple[str, ...], tuple[str, ...], str | None], int] = {
        (False, (), (), None): 0
    }
    picked = np.fromiter(
        (codes.setdefault((v.blocked, v.categories, v.rules, v.age), len(codes)) for v in verdicts),
        dtype=np.uint32,
        count=len(verdicts),
    )
    distinct = list(codes)
    frame = pl.DataFrame(
        [
            pl.Series("blocked", [d[0] for d in distinct], dtype=pl.Boolean()),
            _lists("categories", [d[1] for d in distinct]),
            _lists("rules", [d[2] for d in distinct]),
            pl.Series("age", [d[3] for d in distinct], dtype=pl.String()),
        ]
    )
    where = np.zeros(n, dtype=np.uint32)
    where[rows.to_numpy()] = picked
    return frame[where]

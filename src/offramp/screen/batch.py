"""The batch path: screen a whole column of queries at once, with the verdicts of ``check``.

Most rows of a search log are plain printable ASCII and contain no listed term. For those,
the work is columnar (Polars, on all cores): split into tokens, find the distinct tokens, ask
the screener's per-token flags once per *distinct* token (``Screener._token_flags``, the same
flags ``check`` uses), and keep only the rows with a token that could take part in a match, or
two one-letter tokens in a row (spaced-out letters). Those rows, and every row that is not
plain ASCII, go through ``check`` itself. So both paths give the same verdict for every row by
construction; ``tests/screen/test_properties.py`` checks it on generated queries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeAlias

import polars as pl
import pyarrow as pa

from offramp.screen.matcher import (
    COMPLEX,
    EMPTY,
    FIRST,
    HIT,
    MAX_QUERY_CHARS,
    NUM,
    SINGLE,
    UNIT,
    Screener,
)
from offramp.screen.normalize import fold_char

Column: TypeAlias = pl.Series | pa.Array | pa.ChunkedArray | Sequence[str | None]

SCHEMA: dict[str, pl.DataType] = {
    "blocked": pl.Boolean(),
    "categories": pl.List(pl.String()),
    "rules": pl.List(pl.String()),
    "age": pl.String(),
}


def _as_series(column: Column) -> pl.Series:
    if isinstance(column, pl.Series):
        series = column
    elif isinstance(column, pa.Array | pa.ChunkedArray):
        series = pl.Series("query", column)
    else:
        series = pl.Series("query", list(column), dtype=pl.String())
    return series.cast(pl.String()).fill_null("").alias("query")


def _alternation(tokens: list[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))


@lru_cache(maxsize=1)
def _latin_table() -> tuple[list[str], list[str]]:
    """Accented Latin letters and what ``fold`` makes of each (one ASCII letter or two).

    Replacing them column-wise lets most non-ASCII rows of European languages take the
    columnar path; it is exact because ``fold`` of the result equals ``fold`` of the original.
    """
    keys, values = [], []
    for cp in range(0x80, 0x250):
        c = chr(cp)
        folded = fold_char(c)
        if folded and folded.isascii() and folded.isalpha():
            keys.append(c)
            values.append(folded)
    return keys, values


def candidate_rows(screener: Screener, queries: pl.Series) -> pl.Series:
    """Row numbers whose verdict may differ from "not blocked, no age" (a sound superset)."""
    plain_pattern = r"^[ -~]*$"
    text = queries
    plain = text.str.contains(plain_pattern)
    if not plain.all():
        keys, values = _latin_table()
        text = pl.select(
            pl.when(plain).then(text).otherwise(text.str.replace_many(keys, values))
        ).to_series()
        plain = text.str.contains(plain_pattern)
    plain = plain & (queries.str.len_chars() <= MAX_QUERY_CHARS)
    frame = pl.DataFrame({"low": text.str.to_lowercase(), "plain": plain}).with_row_index("row")
    other_rows = frame.filter(~pl.col("plain"))["row"]
    simple = frame.filter(pl.col("plain")).select("row", "low")
    tokens = simple.select("row", pl.col("low").str.split(" ").alias("tok")).explode("tok")
    tokens = tokens.filter(pl.col("tok") != "")

    cache = screener._cache  # shared with check(): flags for a token are computed once
    hot: dict[str, int] = {}
    singles: list[str] = []
    empties: list[str] = []
    for tok in tokens["tok"].unique().to_list():
        flags = cache.get(tok)
        if flags is None:
            flags = screener._token_flags(tok)
        if flags & (HIT | COMPLEX | FIRST | NUM | UNIT):
            hot[tok] = flags
        if flags & SINGLE:
            singles.append(tok)
        elif flags & EMPTY:
            empties.append(tok)

    picked = [other_rows]
    if hot:
        found = (
            tokens.filter(pl.col("tok").is_in(list(hot)))
            .with_columns(pl.col("tok").replace_strict(hot, return_dtype=pl.Int64).alias("f"))
            .group_by("row")
            .agg(pl.col("f").bitwise_or())
        )
        f = pl.col("f")
        strong = (f & (HIT | COMPLEX | FIRST)) != 0
        age = ((f & NUM) != 0) & ((f & UNIT) != 0)
        picked.append(found.filter(strong | age)["row"])
    if singles:
        one = _alternation(singles)
        gap = rf"(?: +(?:{_alternation(empties)}))*" if empties else ""
        pattern = rf"(?:^| )(?:{one}){gap} +(?:{one})(?: |$)"
        picked.append(simple.filter(pl.col("low").str.contains(pattern))["row"])
    return pl.concat(picked).unique().sort()


def screen_batch(screener: Screener, column: Column) -> pl.DataFrame:
    """One row per input, same order: blocked, categories, rules, age. Nulls screen as ""."""
    queries = _as_series(column)
    n = len(queries)
    rows = candidate_rows(screener, queries) if n else pl.Series("row", [], dtype=pl.UInt32())
    verdicts = [screener.check(q) for q in queries.gather(rows).to_list()]
    found = pl.DataFrame(
        {
            "row": rows,
            "blocked": [v.blocked for v in verdicts],
            "categories": [list(v.categories) for v in verdicts],
            "rules": [list(v.rules) for v in verdicts],
            "age": [v.age for v in verdicts],
        },
        schema={"row": pl.UInt32(), **SCHEMA},
    )
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

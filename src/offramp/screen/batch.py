"""The batch path: screen a whole column of queries (first version: a loop over check)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import polars as pl
import pyarrow as pa

from offramp.screen.matcher import Screener

Column: TypeAlias = pl.Series | pa.Array | pa.ChunkedArray | Sequence[str | None]

SCHEMA: dict[str, pl.DataType] = {
    "blocked": pl.Boolean(),
    "categories": pl.List(pl.String()),
    "rules": pl.List(pl.String()),
    "age": pl.String(),
}


def _as_list(column: Column) -> list[str | None]:
    if isinstance(column, pl.Series):
        values: list[str | None] = column.cast(pl.String).to_list()
        return values
    if isinstance(column, pa.Array | pa.ChunkedArray):
        converted: list[str | None] = pl.Series(column).cast(pl.String).to_list()
        return converted
    return list(column)


def screen_batch(screener: Screener, column: Column) -> pl.DataFrame:
    """One row per input, same order: blocked, categories, rules, age. Nulls screen as ""."""
    verdicts = [screener.check(q or "") for q in _as_list(column)]
    return pl.DataFrame(
        {
            "blocked": [v.blocked for v in verdicts],
            "categories": [list(v.categories) for v in verdicts],
            "rules": [list(v.rules) for v in verdicts],
            "age": [v.age for v in verdicts],
        },
        schema=SCHEMA,
    )

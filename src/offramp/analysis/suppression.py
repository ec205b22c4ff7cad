"""Small-cell suppression: a published cell resting on fewer than k respondents is blanked.

Why: in a survey of people who searched for abuse material, a cell of 3 ("women over 60 in
region X who said yes") can identify someone. Primary suppression blanks every cell with
0 < n < k (an empty cell reveals no person and is kept). Secondary suppression then blanks the
smallest other cell of any row or column group where exactly one cell was blanked, because a
shown total would let a reader subtract the blanked cell back. This simple rule is what most
statistical offices start from; it is not an optimal (least-loss) pattern.

Counts are unweighted respondents, since it is people that must not be singled out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

DEFAULT_MIN_CELL = 10


def suppression_mask(
    n: npt.NDArray[np.int64], groups: Sequence[Sequence[int]], k: int
) -> npt.NDArray[np.bool_]:
    """Which cells to suppress: primary (0 < n < k) plus secondary within each group of cells."""
    mask = (n > 0) & (n < k)
    changed = True
    while changed:
        changed = False
        for group in groups:
            idx = np.asarray(group, dtype=np.int64)
            if idx.size < 2:
                continue
            hidden = mask[idx]
            if hidden.sum() != 1:
                continue
            candidates = idx[~hidden & (n[idx] > 0)]
            if candidates.size == 0:
                continue
            mask[candidates[np.argmin(n[candidates])]] = True
            changed = True
    return mask


def apply_mask(
    table: pl.DataFrame, mask: npt.NDArray[np.bool_], columns: Sequence[str]
) -> pl.DataFrame:
    """Blank the given columns where mask is true and add a boolean ``suppressed`` column."""
    flag = pl.Series("suppressed", mask.astype(bool))
    out = table.with_columns(flag)
    return out.with_columns(
        [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in columns]
    )

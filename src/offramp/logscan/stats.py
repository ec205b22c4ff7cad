"""Wilson intervals and small-cell suppression for prevalence tables.

Wilson rather than the normal (Wald) interval because prevalences here are small (a few percent,
often far less in one day or one category) and Wald intervals misbehave near 0. The interval
treats searches as independent; searches cluster in sessions, so read it as a lower bound on the
uncertainty (docs/logscan.md).

Suppression: a cell resting on fewer than ``k`` searches is blanked (its count, its share and its
interval), because a handful of searches can point at one person. When a table's rows partition a
total that is published elsewhere (days, languages, age bands), blanking one row alone would let a
reader subtract it back, so the next smallest row is blanked too.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import polars as pl

DEFAULT_MIN_CELL = 10
DEFAULT_LEVEL = 0.95

FloatArray = npt.NDArray[np.float64]


def wilson(
    successes: npt.ArrayLike, trials: npt.ArrayLike, level: float = DEFAULT_LEVEL
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper Wilson score bounds, elementwise; NaN where there are no trials."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def with_share(
    table: pl.DataFrame,
    numerator: str,
    denominator: str,
    name: str,
    level: float,
) -> pl.DataFrame:
    """Add ``name`` (= numerator / denominator) and its Wilson interval ``name_ci_low/high``."""
    x = table.get_column(numerator).to_numpy().astype(np.float64)
    n = table.get_column(denominator).to_numpy().astype(np.float64)
    low, high = wilson(x, n, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, x / n, np.nan)
    prefix = "" if name == "prevalence" else f"{name}_"
    return table.with_columns(
        pl.Series(name, share).fill_nan(None),
        pl.Series(f"{prefix}ci_low", low).fill_nan(None),
        pl.Series(f"{prefix}ci_high", high).fill_nan(None),
    )


def suppression_mask(
    numerator: Sequence[int], denominator: Sequence[int], k: int, *, partition: bool
) -> npt.NDArray[np.bool_]:
    """Cells to blank: 0 < count < k for numerator or denominator, plus the secondary cell."""
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    mask = ((num > 0) & (num < k)) | ((den > 0) & (den < k))
    if partition and int(mask.sum()) == 1:
        others = np.flatnonzero(~mask & (num > 0))
        if others.size:
            mask[others[np.argmin(num[others])]] = True
    return mask


def suppress(
    table: pl.DataFrame,
    numerator: str,
    denominator: str,
    k: int,
    *,
    partition: bool,
    derived: Sequence[str],
) -> pl.DataFrame:
    """Blank numerator and ``derived`` columns of small cells; add a ``suppressed`` column.

    The denominator is blanked too where it is itself small.
    """
    num = table.get_column(numerator).to_list()
    den = table.get_column(denominator).to_list()
    mask = suppression_mask(num, den, k, partition=partition)
    small_den = pl.Series((np.asarray(den) > 0) & (np.asarray(den) < k))
    flag = pl.Series("suppressed", mask)
    blank = [numerator, *derived]
    out = table.with_columns(flag)
    out = out.with_columns(
        [pl.when(flag).then(None).otherwise(pl.col(c)).alias(c) for c in blank]
    )
    return out.with_columns(
        pl.when(small_den).then(None).otherwise(pl.col(denominator)).alias(denominator)
    )

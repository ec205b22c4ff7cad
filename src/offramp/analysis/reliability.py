"""Scoring a Likert battery and reporting its internal consistency.

- Cronbach's alpha, with Feldt's (1965) F-based confidence interval, and per item the corrected
  item-total correlation and alpha if the item were dropped.
- McDonald's omega (total) from a one-factor maximum-likelihood model of the items' correlation
  matrix (statsmodels' Factor): omega = (sum of loadings)^2 / ((sum of loadings)^2 + sum of
  uniquenesses). Alpha equals omega only when every item loads equally (tau-equivalence), which is
  why both are reported.

Respondents need a valid answer to every item (listwise deletion); "prefer not to say" is not a
midpoint and is never imputed as one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats
from statsmodels.multivariate.factor import Factor

from offramp.analysis import _columns as cols
from offramp.analysis._result import Result
from offramp.analysis._survey import FloatArray
from offramp.errors import InputError


@dataclass(kw_only=True)
class ReliabilityResult(Result):
    """Internal consistency of a battery. ``table`` columns: item, reversed, mean, sd,
    item_total_r, alpha_if_deleted, loading, uniqueness."""

    KIND = "reliability"

    alpha: float
    alpha_ci: tuple[float, float]
    standardized_alpha: float
    omega: float
    k: int
    n_excluded: dict[str, int]
    level: float

    def statistics(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "alpha_ci_low": self.alpha_ci[0],
            "alpha_ci_high": self.alpha_ci[1],
            "standardized_alpha": self.standardized_alpha,
            "omega": self.omega,
            "k": self.k,
            "n_excluded": self.n_excluded,
            "level": self.level,
        }


def cronbach_alpha(x: FloatArray) -> float:
    """k/(k-1) * (1 - sum of item variances / variance of the total), rows = respondents."""
    k = x.shape[1]
    total_var = x.sum(axis=1).var(ddof=1)
    if k < 2 or total_var == 0:
        return math.nan
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))


def alpha_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's interval: (1 - alpha) / (1 - true alpha) follows F(n-1, (n-1)(k-1))."""
    if n < 3 or k < 2 or not math.isfinite(alpha):
        return math.nan, math.nan
    d1, d2 = n - 1, (n - 1) * (k - 1)
    a = 1 - level
    return (
        float(1 - (1 - alpha) * stats.f.ppf(1 - a / 2, d1, d2)),
        float(1 - (1 - alpha) * stats.f.ppf(a / 2, d1, d2)),
    )


def omega_total(x: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """McDonald's omega from a one-factor ML fit; returns (omega, loadings, uniquenesses)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = Factor(x, n_factor=1, method="ml").fit()
    loadings = np.asarray(fitted.loadings).ravel()
    unique = np.asarray(fitted.uniqueness).ravel()
    if caught or not np.all(np.isfinite(loadings)):
        return math.nan, loadings, unique
    if loadings.sum() < 0:  # the sign of a factor is arbitrary; make the common direction positive
        loadings = -loadings
    s = loadings.sum() ** 2
    return float(s / (s + unique.sum())), loadings, unique


def _matrix(
    data: pl.DataFrame,
    items: Sequence[str],
    reverse: Sequence[str],
    scale: tuple[float, float] | None,
) -> tuple[FloatArray, npt.NDArray[np.bool_], dict[str, int]]:
    if len(items) < 2:
        raise InputError("a reliability analysis needs at least two items")
    cols.require_columns(data, items, role="item")
    stray = [r for r in reverse if r not in items]
    if stray:
        raise InputError(f"reverse-scored item(s) {stray} are not among the items {list(items)}")
    for item in items:
        dtype = data.schema[item]
        if not dtype.is_numeric():
            raise InputError(
                f"item {item!r} is {dtype}, not numbers; a Likert battery needs numeric scores"
            )
    ok = cols.valid_mask(data, items)
    excluded = cols.exclusion_counts(data, items)
    x = data.select([pl.col(i).cast(pl.Float64) for i in items]).filter(pl.Series(ok)).to_numpy()
    if x.shape[0] < 3:
        raise InputError(
            f"only {x.shape[0]} respondent(s) answered all of {list(items)}; reliability needs more"
        )
    lo, hi = scale if scale is not None else (float(x.min()), float(x.max()))
    for j, item in enumerate(items):
        if item in reverse:
            x[:, j] = lo + hi - x[:, j]
    const = [items[j] for j in range(x.shape[1]) if x[:, j].std() == 0]
    if const:
        raise InputError(f"item(s) {const} have the same answer from everyone; drop them")
    return x, ok, excluded


def reliability(
    data: pl.DataFrame,
    items: Sequence[str],
    *,
    reverse: Sequence[str] = (),
    scale: tuple[float, float] | None = None,
    level: float = 0.95,
    title: str | None = None,
) -> ReliabilityResult:
    """Cronbach's alpha (with CI) and McDonald's omega for a battery of numeric items.

    ``reverse`` items are rescored as (min + max - x), with min/max from ``scale`` (e.g. (1, 5))
    or else the observed range.
    """
    x, _, excluded = _matrix(data, items, reverse, scale)
    n, k = x.shape
    alpha = cronbach_alpha(x)
    corr = np.corrcoef(x, rowvar=False)
    mean_r = (corr.sum() - k) / (k * (k - 1))
    std_alpha = float(k * mean_r / (1 + (k - 1) * mean_r))
    omega, loadings, unique = omega_total(x)
    rows = []
    total = x.sum(axis=1)
    for j, item in enumerate(items):
        rest = total - x[:, j]
        rows.append(
            {
                "item": item,
                "reversed": item in reverse,
                "mean": float(x[:, j].mean()),
                "sd": float(x[:, j].std(ddof=1)),
                "item_total_r": float(np.corrcoef(x[:, j], rest)[0, 1]),
                "alpha_if_deleted": cronbach_alpha(np.delete(x, j, axis=1)) if k > 2 else math.nan,
                "loading": float(loadings[j]),
                "uniqueness": float(unique[j]),
            }
        )
    notes = [
        f"{c} respondent(s) excluded: {cols.KIND_LABELS[kd].lower()}" for kd, c in excluded.items()
    ]
    if math.isnan(omega):
        notes.append("the one-factor model did not converge; omega is not reported")
    return ReliabilityResult(
        table=pl.DataFrame(rows),
        variables=list(items),
        n=n,
        title=title or f"Reliability of {', '.join(items)}",
        notes=notes,
        alpha=alpha,
        alpha_ci=alpha_interval(alpha, n, k, level),
        standardized_alpha=std_alpha,
        omega=omega,
        k=k,
        n_excluded=excluded,
        level=level,
    )


def scale_score(
    data: pl.DataFrame,
    items: Sequence[str],
    *,
    reverse: Sequence[str] = (),
    scale: tuple[float, float] | None = None,
    name: str = "score",
) -> pl.Series:
    """Mean item score per respondent (after reversing); null where an item lacks a valid answer."""
    x, ok, _ = _matrix(data, items, reverse, scale)
    out = np.full(data.height, np.nan)
    out[ok] = x.mean(axis=1)
    return pl.Series(name, out).fill_nan(None)

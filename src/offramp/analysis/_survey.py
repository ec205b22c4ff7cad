"""Design-based variance for weighted survey estimates, and the Wilson interval.

Why hand-written rather than a survey package: offramp's designs are single-stage (one row per
respondent, optional strata and clusters), and the estimator needed is the textbook Taylor
linearisation of a ratio (Hajek) mean; about thirty lines of numpy, checked in the tests against
statsmodels' sandwich covariance of the same weighted mean. svy (the maintained successor of
samplics) computes the same thing but brings a compiled engine and four more dependencies.

Conventions
- Weights are treated as fixed: after raking or post-stratification the variance ignores the
  calibration step, which is slightly conservative for the calibration variables themselves.
- With-replacement approximation at the first stage (no finite population correction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats

from offramp.analysis._columns import require_columns
from offramp.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Design:
    """The sampling design of a dataset: weights, and optionally strata and clusters (PSUs)."""

    weights: FloatArray | None
    strata: npt.NDArray[np.int64] | None = None
    clusters: npt.NDArray[np.int64] | None = None

    @property
    def weighted(self) -> bool:
        return self.weights is not None

    def w(self, n: int) -> FloatArray:
        return self.weights if self.weights is not None else np.ones(n)


def design_from(
    data: pl.DataFrame,
    weights: str | None,
    *,
    strata: str | None = None,
    cluster: str | None = None,
) -> Design:
    """Validate the design columns once, with messages that say which rows are wrong."""
    w: FloatArray | None = None
    if weights is not None:
        require_columns(data, [weights], role="weight variable")
        col = data[weights]
        if not col.dtype.is_numeric():
            raise InputError(f"weight variable {weights!r} must be numeric, not {col.dtype}")
        arr = col.cast(pl.Float64).to_numpy()
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"weight variable {weights!r} has {int(bad.sum())} missing, negative or infinite "
                f"values (first at row {first + 1}); every respondent needs a weight >= 0"
            )
        if not (arr > 0).any():
            raise InputError(f"weight variable {weights!r} is zero for every respondent")
        w = arr.astype(np.float64)
    s = _codes(data, strata, "strata variable") if strata else None
    c = _codes(data, cluster, "cluster variable") if cluster else None
    return Design(weights=w, strata=s, clusters=c)


def _codes(data: pl.DataFrame, name: str, role: str) -> npt.NDArray[np.int64]:
    require_columns(data, [name], role=role)
    col = data[name]
    if col.null_count():
        raise InputError(f"{role} {name!r} has {col.null_count()} empty values")
    return col.rank("dense").cast(pl.Int64).to_numpy()


def total_covariance(z: FloatArray, design: Design) -> FloatArray:
    """Covariance of the column sums of z (n rows x p scores) under the design.

    z holds already-weighted linearised scores, one row per respondent. Stratified,
    with-replacement PSU formula: sum over strata of n_h/(n_h-1) * sum_i (z_hi - zbar_h)(...)'
    where z_hi are PSU totals. Without clusters each respondent is a PSU.
    """
    z2 = z.reshape(z.shape[0], -1)
    n = z2.shape[0]
    p = z2.shape[1]
    if design.strata is None and design.clusters is None:
        if n < 2:
            return np.zeros((p, p))
        d = z2 - z2.mean(axis=0)
        out: FloatArray = n / (n - 1) * (d.T @ d)
        return out
    strata = design.strata if design.strata is not None else np.zeros(n, dtype=np.int64)
    psu = design.clusters if design.clusters is not None else np.arange(n, dtype=np.int64)
    # PSU ids are often only unique within a stratum
    key = strata.astype(np.int64) * (int(psu.max()) + 1) + psu
    uniq, inverse = np.unique(key, return_inverse=True)
    totals = np.zeros((uniq.shape[0], p))
    np.add.at(totals, inverse, z2)
    psu_stratum = strata[np.unique(inverse, return_index=True)[1]]
    cov = np.zeros((p, p))
    for h in np.unique(psu_stratum):
        t = totals[psu_stratum == h]
        nh = t.shape[0]
        if nh < 2:
            continue  # a singleton stratum contributes nothing (certainty unit)
        d = t - t.mean(axis=0)
        cov += nh / (nh - 1) * (d.T @ d)
    return cov


def total_variance(z: FloatArray, design: Design) -> float:
    """Variance of sum(z) under the design (see total_covariance)."""
    return float(total_covariance(z, design)[0, 0])


def mean_and_variance(y: FloatArray, domain: BoolArray, design: Design) -> tuple[float, float]:
    """The weighted mean of y over a domain and its linearised variance.

    The Hajek (ratio) mean sum(w d y)/sum(w d) has the influence values
    z = w d (y - mean) / sum(w d); rows outside the domain keep z = 0 but still count in their PSU,
    which is what makes the domain variance correct.
    """
    w = design.w(y.shape[0])
    wd = w * domain
    total = float(wd.sum())
    if total <= 0:
        return math.nan, math.nan
    yd = np.where(domain, y, 0.0)
    mean = float((wd * yd).sum() / total)
    z = wd * (yd - mean) / total
    return mean, total_variance(z, design)


def kish_effective_n(weights: FloatArray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2: the n a simple random sample would need."""
    s = float(weights.sum())
    s2 = float((weights**2).sum())
    return s * s / s2 if s2 > 0 else 0.0


def z_value(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion p on n (possibly effective, non-integer) cases."""
    if not n > 0 or math.isnan(p):
        return math.nan, math.nan
    z = z_value(level)
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1 - p), 0.0) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def effective_n(
    p: float, variance: float, n_domain: int, kish_n: float, method: str
) -> tuple[float, float]:
    """(effective n, design effect) for a weighted proportion.

    method "linearised": n_eff = p(1-p)/variance (the Korn-Graubard effective sample size), falling
    back to Kish when p is 0 or 1 (no variance to learn from); "kish": Kish's n for the domain.
    """
    if method == "kish" or p <= 0 or p >= 1 or not variance > 0:
        deff = n_domain / kish_n if kish_n > 0 else math.nan
        return kish_n, deff
    n_eff = p * (1 - p) / variance
    return n_eff, n_domain / n_eff

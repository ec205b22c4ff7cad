"""Agreement between coders: Cohen's kappa (two coders) and Krippendorff's alpha (any number).

Both are written out here because they are short and their definitions are exact:
- Cohen (1960) kappa = (p_o - p_e) / (1 - p_e), optionally weighted (linear or quadratic) for
  ordered codes; its standard error is the large-sample one of Fleiss, Cohen and Everitt (1969).
- Krippendorff's alpha = 1 - D_o / D_e from the coincidence matrix (Krippendorff 2011, "Computing
  Krippendorff's Alpha-Reliability"), for nominal, ordinal, interval and ratio data, with missing
  codings allowed; units coded by fewer than two coders are not pairable and drop out.
The tests check both against published worked examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offramp.analysis._survey import FloatArray, z_value
from offramp.errors import InputError

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class Kappa:
    kappa: float
    std_error: float
    ci_low: float
    ci_high: float
    observed_agreement: float
    expected_agreement: float
    n: int


def _pair_table(
    a: Sequence[object], b: Sequence[object], categories: Sequence[object] | None
) -> tuple[FloatArray, list[object]]:
    if len(a) != len(b):
        raise InputError(f"the two coders rated different numbers of units ({len(a)} and {len(b)})")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if not pairs:
        raise InputError("the two coders have no unit in common")
    cats = (
        list(categories)
        if categories is not None
        else sorted(
            {x for p in pairs for x in p},
            key=lambda v: (str(type(v)), v),  # type: ignore[arg-type,return-value]
        )
    )
    index = {c: i for i, c in enumerate(cats)}
    unknown = {x for p in pairs for x in p if x not in index}
    if unknown:
        raise InputError(f"code(s) {sorted(map(str, unknown))} are not among the categories {cats}")
    table = np.zeros((len(cats), len(cats)))
    for x, y in pairs:
        table[index[x], index[y]] += 1
    return table, cats


def cohen_kappa(
    a: Sequence[object],
    b: Sequence[object],
    *,
    categories: Sequence[object] | None = None,
    weights: str | None = None,
    level: float = 0.95,
) -> Kappa:
    """Cohen's kappa for two coders' codes of the same units (None = unit not coded).

    ``weights``: None (unweighted), "linear" or "quadratic" for ordered categories, in the order
    given by ``categories``.
    """
    table, _ = _pair_table(a, b, categories)
    return kappa_from_table(table, weights=weights, level=level)


def kappa_from_table(
    table: FloatArray, *, weights: str | None = None, level: float = 0.95
) -> Kappa:
    """Kappa from a square table of counts (rows coder A, columns coder B)."""
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise InputError("kappa needs a square table of counts")
    n = float(t.sum())
    k = t.shape[0]
    if weights is None:
        w = np.eye(k)
    elif weights in ("linear", "quadratic"):
        i, j = np.indices((k, k))
        d = np.abs(i - j) / max(k - 1, 1)
        w = 1 - (d if weights == "linear" else d**2)
    else:
        raise InputError(f"kappa weights must be None, 'linear' or 'quadratic', not {weights!r}")
    p = t / n
    r = p.sum(axis=1)
    c = p.sum(axis=0)
    po = float((w * p).sum())
    pe = float((w * np.outer(r, c)).sum())
    if pe >= 1:
        return Kappa(math.nan, math.nan, math.nan, math.nan, po, pe, int(n))
    kappa = (po - pe) / (1 - pe)
    # Fleiss, Cohen & Everitt (1969), variance under the alternative
    wr = w @ c  # weighted mean over columns for each row category
    wc = w.T @ r
    term = (p * (w - np.add.outer(wr, wc) * (1 - kappa)) ** 2).sum()
    var = (term - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    z = z_value(level)
    return Kappa(kappa, se, kappa - z * se, kappa + z * se, po, pe, int(n))


def krippendorff_alpha(
    reliability_data: Sequence[Sequence[object]] | npt.NDArray[np.float64],
    level: str = "nominal",
) -> float:
    """Krippendorff's alpha. ``reliability_data`` has one row per coder and one column per unit;
    None or NaN marks a unit that coder did not code. Ordinal, interval and ratio levels need
    numeric values; the ordinal metric uses the rank order of the values."""
    if level not in LEVELS:
        raise InputError(f"level of measurement must be one of {LEVELS}, not {level!r}")
    rows = [list(r) for r in reliability_data]
    if len(rows) < 2:
        raise InputError("Krippendorff's alpha needs at least two coders")
    n_units = len(rows[0])
    if any(len(r) != n_units for r in rows):
        raise InputError("every coder's row must have one entry per unit")

    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    values = sorted({v for r in rows for v in r if not missing(v)}, key=lambda v: (str(type(v)), v))  # type: ignore[arg-type,return-value]
    if level != "nominal" and not all(isinstance(v, int | float) for v in values):
        raise InputError(f"{level} alpha needs numeric codes")
    index = {v: i for i, v in enumerate(values)}
    m = len(values)
    o = np.zeros((m, m))  # coincidence matrix
    for u in range(n_units):
        unit = [index[r[u]] for r in rows if not missing(r[u])]
        mu = len(unit)
        if mu < 2:
            continue
        counts = np.bincount(unit, minlength=m).astype(np.float64)
        o += (np.outer(counts, counts) - np.diag(counts)) / (mu - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n == 0 or m < 2:
        return math.nan if n == 0 else 1.0
    delta = _metric(level, np.asarray(values if level != "nominal" else range(m), float), n_c)
    d_o = (o * delta).sum() / n
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    return float(1 - d_o / d_e) if d_e > 0 else math.nan


def _metric(level: str, v: FloatArray, n_c: FloatArray) -> FloatArray:
    m = v.shape[0]
    if level == "nominal":
        out: FloatArray = 1.0 - np.eye(m)
        return out
    if level == "interval":
        return np.subtract.outer(v, v) ** 2
    if level == "ratio":
        s = np.add.outer(v, v)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(s != 0, np.subtract.outer(v, v) / s, 0.0) ** 2
        return r
    # ordinal: (sum of n_g for g from c to k, minus half the end counts)^2
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    d = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            lo, hi = min(i, j), max(i, j)
            d[i, j] = (cum[hi + 1] - cum[lo] - (n_c[lo] + n_c[hi]) / 2) ** 2
    return d

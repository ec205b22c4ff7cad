"""Survey weights: post-stratification to known cell totals and raking to known margins.

Both return a new weight column; the estimators take it by name like any design weight. The
variance formulas treat the result as fixed weights (see _survey), the usual and slightly
conservative practice.

Failures a researcher can act on are InputErrors: a margin category nobody in the sample has (an
empty cell cannot be weighted up), a sample category the margins forget, a respondent whose
weighting variable is missing, or raking that does not converge (margins that contradict each
other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from offramp.analysis import _columns as cols
from offramp.analysis._survey import FloatArray, design_from
from offramp.errors import InputError

Margin = Mapping[object, float]


def _base(data: pl.DataFrame, base_weights: str | None) -> FloatArray:
    return design_from(data, base_weights).w(data.height).astype(np.float64)


def _keys(
    data: pl.DataFrame, var: str, purpose: str
) -> np.ndarray[tuple[int], np.dtype[np.object_]]:
    cols.require_columns(data, [var], role=f"{purpose} variable")
    kind = cols.kinds(data, var)
    bad = kind != cols.VALID
    if bad.any():
        raise InputError(
            f"{purpose} variable {var!r} is missing ({kind[bad][0]}) for {int(bad.sum())} "
            "respondent(s); weighting needs a value for everyone",
            hint="impute it or give those respondents their own category in the targets",
        )
    series = data[var]
    if isinstance(series.dtype, pl.Categorical | pl.Enum):
        series = series.cast(pl.String)
    return cols.keys_of(series)


def _normalise(margin: Margin, var: str, total: float | None) -> tuple[dict[str, float], float]:
    target = {cols.value_key(k): float(v) for k, v in margin.items()}
    if any(v < 0 or not np.isfinite(v) for v in target.values()):
        raise InputError(f"targets for {var!r} must be finite and not negative")
    s = sum(target.values())
    if s <= 0:
        raise InputError(f"targets for {var!r} add up to zero")
    return target, s


def poststratify(
    data: pl.DataFrame,
    by: str | Sequence[str],
    population: Mapping[object, float] | pl.DataFrame,
    base_weights: str | None = None,
    *,
    total: float | None = None,
    name: str = "weight",
) -> pl.Series:
    """Weights that reproduce the population's distribution over the cells of ``by``.

    ``population`` is either a mapping from cell value (a single ``by`` variable) to a count or
    share, or a DataFrame with the ``by`` columns and a ``population`` column. Shares are scaled to
    ``total`` (default: the sample size, so weights average 1).
    """
    names = [by] if isinstance(by, str) else list(by)
    w0 = _base(data, base_weights)
    parts = [_keys(data, v, "post-stratification") for v in names]
    cell = np.array(["\x1f".join(t) for t in zip(*parts, strict=True)], dtype=object)
    if isinstance(population, pl.DataFrame):
        missing = [c for c in [*names, "population"] if c not in population.columns]
        if missing:
            raise InputError(f"population table lacks column(s) {missing}")
        target: dict[str, float] = {}
        for row in population.iter_rows(named=True):
            key = "\x1f".join(cols.value_key(row[v]) for v in names)
            target[key] = float(row["population"])
        s = sum(target.values())
    else:
        if len(names) != 1:
            raise InputError("a mapping of targets needs exactly one post-stratification variable")
        target, s = _normalise(population, names[0], total)
    scale = (total if total is not None else (s if s > 1.5 else float(data.height))) / s
    w = w0.copy()
    present = set(cell.tolist())
    _check_cells(present, set(target), ", ".join(names))
    for key, pop in target.items():
        hit = cell == key
        w[hit] = w0[hit] * pop * scale / w0[hit].sum()
    return pl.Series(name, w)


def _check_cells(present: set[str], wanted: set[str], var: str) -> None:
    extra = sorted(present - wanted)
    if extra:
        raise InputError(
            f"sample has {var!r} value(s) {[e.replace(chr(31), '/') for e in extra]} "
            "that the population targets do not mention"
        )
    empty = sorted(wanted - present)
    if empty:
        raise InputError(
            f"no respondent has {var!r} = {[e.replace(chr(31), '/') for e in empty]}: an empty "
            "cell cannot be weighted up",
            hint="collapse it with a neighbouring category in both the data and the targets",
        )


def rake(
    data: pl.DataFrame,
    margins: Mapping[str, Margin],
    base_weights: str | None = None,
    *,
    total: float | None = None,
    max_iter: int = 200,
    tol: float = 1e-8,
    name: str = "weight",
) -> pl.Series:
    """Iterative proportional fitting of the weights to each variable's margin in turn.

    Each margin is a mapping from category to population count or share; every margin is scaled
    to the same total (``total``, else the first margin's sum when it holds counts, else the
    sample size). Stops when no weighted margin is off by more than ``tol`` (relative).
    """
    if not margins:
        raise InputError("raking needs at least one margin")
    w = _base(data, base_weights)
    keys: list[np.ndarray[tuple[int], np.dtype[np.object_]]] = []
    targets: list[dict[str, float]] = []
    first_sum: float | None = None
    for var, margin in margins.items():
        k = _keys(data, var, "raking")
        target, s = _normalise(margin, var, total)
        _check_cells(set(k.tolist()), set(target), var)
        first_sum = s if first_sum is None else first_sum
        keys.append(k)
        targets.append({c: v / s for c, v in target.items()})
    grand = (
        total
        if total is not None
        else (first_sum if first_sum and first_sum > 1.5 else float(data.height))
    )
    index = []
    for k, target in zip(keys, targets, strict=True):
        cats = list(target)
        lookup = {c: i for i, c in enumerate(cats)}
        idx = np.fromiter((lookup[v] for v in k), dtype=np.int64, count=k.shape[0])
        index.append((idx, np.array([target[c] * grand for c in cats])))
    for _ in range(max_iter):
        worst = 0.0
        for idx, goal in index:
            current = np.bincount(idx, weights=w, minlength=goal.shape[0])
            worst = max(worst, float(np.max(np.abs(current - goal) / np.maximum(goal, 1e-12))))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, goal / current, 0.0)
            w = w * factor[idx]
        if worst < tol:
            return pl.Series(name, w)
    raise InputError(
        f"raking did not converge in {max_iter} iterations (largest margin error {worst:.2g})",
        hint="check that the margins describe the same population and that no combination of "
        "categories the margins need is empty in the sample",
    )

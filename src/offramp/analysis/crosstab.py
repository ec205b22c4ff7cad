"""Two-way tables: percentages, the test of independence, effect size, and which cells drive it.

- Pearson's chi-square (scipy, no continuity correction). When the table is 2x2, Fisher's exact
  test is also computed; when expected counts are small (any below 1, or more than 20% below 5,
  Cochran's rule) the reported ``p_value`` is Fisher's (exact for 2x2, Monte Carlo with a fixed
  seed for larger tables).
- Cramér's V, with a confidence interval by inverting the noncentral chi-square distribution
  (the method of Smithson 2003, as in R's confintr).
- Adjusted standardised residuals (Haberman 1973): roughly standard normal under independence, so
  |r| > 1.96 marks a cell that departs from independence.
- With weights, the weighted table is rescaled to Kish's effective sample size before testing,
  a first-order design-effect correction in the spirit of Rao and Scott; Fisher's test then uses
  the unweighted counts and says so in a note.
- ``adjust_pvalues`` applies Holm or Benjamini-Hochberg across a family of tables (statsmodels).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

from offramp.analysis import _columns as cols
from offramp.analysis._result import Result
from offramp.analysis._survey import design_from, kish_effective_n
from offramp.analysis.suppression import DEFAULT_MIN_CELL, apply_mask, suppression_mask
from offramp.errors import InputError

MONTE_CARLO_RESAMPLES = 10_000
_ADJUST_METHODS = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni"}


@dataclass(kw_only=True)
class CrosstabResult(Result):
    """A two-way table in long form, one row per cell. ``table`` columns: row, row_label, col,
    col_label, n, count, row_percent, col_percent, total_percent, expected, adj_residual,
    suppressed. ``p_value`` is Fisher's when expected counts are small, else chi-square's."""

    KIND = "crosstab"

    chi2: float
    dof: int
    p_value: float
    test: str
    chi2_p_value: float
    fisher_p_value: float | None
    odds_ratio: float | None
    cramers_v: float
    cramers_v_ci: tuple[float, float]
    min_expected: float
    share_expected_below_5: float
    effective_n: float
    level: float
    row_totals: dict[str, int | None]
    col_totals: dict[str, int | None]
    p_adjusted: float | None = None
    adjustment: str | None = None

    def statistics(self) -> dict[str, Any]:
        return {
            "chi2": self.chi2,
            "dof": self.dof,
            "p_value": self.p_value,
            "test": self.test,
            "chi2_p_value": self.chi2_p_value,
            "fisher_p_value": self.fisher_p_value,
            "odds_ratio": self.odds_ratio,
            "cramers_v": self.cramers_v,
            "cramers_v_ci_low": self.cramers_v_ci[0],
            "cramers_v_ci_high": self.cramers_v_ci[1],
            "min_expected": self.min_expected,
            "share_expected_below_5": self.share_expected_below_5,
            "effective_n": self.effective_n,
            "level": self.level,
            "row_totals": self.row_totals,
            "col_totals": self.col_totals,
            "p_adjusted": self.p_adjusted,
            "adjustment": self.adjustment,
        }

    def wide(self, values: str = "col_percent") -> pl.DataFrame:
        """The familiar layout: one row per row category, one column per column category."""
        return self.table.pivot(on="col", index="row", values=values, sort_columns=False)


def cramers_v_ci(
    chi2: float, n: float, dof: int, k: int, level: float = 0.95
) -> tuple[float, float]:
    """Confidence interval for Cramér's V by inverting the noncentral chi-square in its
    noncentrality lambda; V = sqrt(lambda / (n (k - 1))) with k = min(rows, cols)."""
    if not (n > 0 and dof > 0 and k > 1) or not math.isfinite(chi2):
        return math.nan, math.nan
    alpha = 1 - level

    def ncp_for(prob: float) -> float:
        # cdf(chi2; dof, lam) falls from cdf(chi2; dof, 0) towards 0 as lam grows
        if stats.chi2.cdf(chi2, dof) <= prob:
            return 0.0
        hi = max(10.0, 2 * chi2)
        while stats.ncx2.cdf(chi2, dof, hi) > prob:
            hi *= 2
        return float(optimize.brentq(lambda lam: stats.ncx2.cdf(chi2, dof, lam) - prob, 0.0, hi))

    lo = ncp_for(1 - alpha / 2)
    hi = ncp_for(alpha / 2)
    scale = n * (k - 1)
    return min(1.0, math.sqrt(lo / scale)), min(1.0, math.sqrt(hi / scale))


def adjusted_residuals(observed: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(O - E) / sqrt(E (1 - row share) (1 - column share)), Haberman's adjusted residuals."""
    n = observed.sum()
    r = observed.sum(axis=1, keepdims=True)
    c = observed.sum(axis=0, keepdims=True)
    e = r @ c / n
    with np.errstate(divide="ignore", invalid="ignore"):
        out: npt.NDArray[np.float64] = (observed - e) / np.sqrt(e * (1 - r / n) * (1 - c / n))
    return out


def crosstab(
    data: pl.DataFrame,
    row: str,
    col: str,
    weights: str | None = None,
    *,
    labels: cols.Labels | None = None,
    level: float = 0.95,
    min_cell: int | None = DEFAULT_MIN_CELL,
    exact: bool | str = "auto",
    max_categories: int | None = None,
    title: str | None = None,
    seed: int = 20240601,
) -> CrosstabResult:
    """Cross-tabulate two categorical variables over respondents with valid answers to both.

    ``exact``: "auto" (Fisher when 2x2, and reported when expected counts are small), True (always
    report Fisher) or False (never). ``seed`` fixes the Monte Carlo Fisher test for larger tables.
    """
    cols.require_columns(data, [row, col])
    if row == col:
        raise InputError(f"a crosstab needs two different variables, got {row!r} twice")
    for name in (row, col):
        cols.check_not_free_text(data, name, max_distinct=max_categories)
    design = design_from(data, weights)
    ok = cols.valid_mask(data, [row, col])
    if design.weights is not None:
        ok &= design.weights > 0  # a zero weight stands for nobody in the population
    excluded = cols.exclusion_counts(data, [row, col])
    sub = data.select(row, col).filter(pl.Series(ok))
    w = design.w(data.height)[ok]
    row_vals = [cols.value_key(v) for v in cols.category_values(sub, row)]
    col_vals = [cols.value_key(v) for v in cols.category_values(sub, col)]
    for name, vals in ((row, row_vals), (col, col_vals)):
        if len(vals) < 2:
            raise InputError(
                f"cannot cross-tabulate {name!r}: it has {len(vals)} category among the "
                f"{sub.height} respondents with answers to both {row!r} and {col!r} (and a "
                "weight above 0); a test of independence needs at least two"
            )
    ri = _index(sub, row, row_vals)
    ci = _index(sub, col, col_vals)
    shape = (len(row_vals), len(col_vals))
    flat = ri * shape[1] + ci
    counts = np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape).astype(np.float64)
    wcounts = np.bincount(flat, weights=w, minlength=shape[0] * shape[1]).reshape(shape)
    n = int(counts.sum())
    notes: list[str] = []
    if design.weighted:
        n_eff = kish_effective_n(w)
        tested = wcounts / wcounts.sum() * n_eff
        notes.append(
            f"weighted table rescaled to Kish effective n = {n_eff:.1f} for the chi-square test"
        )
    else:
        n_eff = float(n)
        tested = counts
    chi2, chi2_p, dof, expected = stats.chi2_contingency(tested, correction=False)
    chi2 = float(chi2)
    chi2_p = float(chi2_p)
    dof = int(dof)
    min_expected = float(expected.min())
    share_small = float((expected < 5).mean())
    small = min_expected < 1 or share_small > 0.2

    fisher_p: float | None = None
    odds_ratio: float | None = None
    test = "chi2"
    p_value = chi2_p
    is_2x2 = shape == (2, 2)
    if exact is True or (exact == "auto" and (is_2x2 or small)):
        table_int = counts.astype(np.int64)
        if is_2x2:
            res = stats.fisher_exact(table_int)
            fisher_p = float(res.pvalue)
            odds_ratio = float(res.statistic)
            kind = "fisher"
        else:
            method = stats.MonteCarloMethod(
                n_resamples=MONTE_CARLO_RESAMPLES, rng=np.random.default_rng(seed)
            )
            fisher_p = float(stats.fisher_exact(table_int, method=method).pvalue)
            kind = "fisher_monte_carlo"
        if small or exact is True:
            test = kind
            p_value = fisher_p
        if design.weighted:
            notes.append("Fisher's exact test uses the unweighted counts")
    if small:
        notes.append(
            f"small expected counts (minimum {min_expected:.2f}; "
            f"{100 * share_small:.0f}% below 5): "
            f"p-value from Fisher's exact test"
        )
    k = min(shape)
    v = math.sqrt(chi2 / (n_eff * (k - 1))) if n_eff > 0 else math.nan
    v_ci = cramers_v_ci(chi2, n_eff, dof, k, level)
    resid = adjusted_residuals(tested)

    total = wcounts.sum()
    row_tot = wcounts.sum(axis=1, keepdims=True)
    col_tot = wcounts.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        row_pct = 100 * wcounts / row_tot
        col_pct = 100 * wcounts / col_tot
    records: list[dict[str, Any]] = []
    for i, rv in enumerate(row_vals):
        for j, cv in enumerate(col_vals):
            records.append(
                {
                    "row": rv,
                    "row_label": cols.value_label(labels, row, rv),
                    "col": cv,
                    "col_label": cols.value_label(labels, col, cv),
                    "n": int(counts[i, j]),
                    "count": float(wcounts[i, j]),
                    "row_percent": float(row_pct[i, j]),
                    "col_percent": float(col_pct[i, j]),
                    "total_percent": float(100 * wcounts[i, j] / total),
                    "expected": float(expected[i, j]),
                    "adj_residual": float(resid[i, j]),
                }
            )
    table = pl.DataFrame(records, schema=_SCHEMA, orient="row")
    row_n = counts.sum(axis=1).astype(np.int64)
    col_n = counts.sum(axis=0).astype(np.int64)
    suppressed = 0
    if min_cell:
        groups = [[i * shape[1] + j for j in range(shape[1])] for i in range(shape[0])]
        groups += [[i * shape[1] + j for i in range(shape[0])] for j in range(shape[1])]
        mask = suppression_mask(counts.ravel().astype(np.int64), groups, min_cell)
        suppressed = int(mask.sum())
        table = apply_mask(table, mask, _VALUE_COLUMNS)
        if suppressed:
            notes.append(
                f"{suppressed} cell(s) based on fewer than {min_cell} respondents suppressed"
            )
    else:
        table = table.with_columns(pl.lit(False).alias("suppressed"))
    for kind_name, count in excluded.items():
        notes.append(f"{count} respondent(s) excluded: {cols.KIND_LABELS[kind_name].lower()}")

    def totals(values: list[str], ns: npt.NDArray[np.int64]) -> dict[str, int | None]:
        return {
            v: (None if min_cell and 0 < int(c) < min_cell else int(c))
            for v, c in zip(values, ns, strict=True)
        }

    return CrosstabResult(
        table=table,
        variables=[row, col],
        n=n,
        weights=weights,
        title=title or _title(labels, row, col),
        notes=notes,
        min_cell=min_cell,
        suppressed_cells=suppressed,
        chi2=chi2,
        dof=dof,
        p_value=p_value,
        test=test,
        chi2_p_value=chi2_p,
        fisher_p_value=fisher_p,
        odds_ratio=odds_ratio,
        cramers_v=v,
        cramers_v_ci=v_ci,
        min_expected=min_expected,
        share_expected_below_5=share_small,
        effective_n=n_eff,
        level=level,
        row_totals=totals(row_vals, row_n),
        col_totals=totals(col_vals, col_n),
    )


def _index(sub: pl.DataFrame, name: str, values: Sequence[str]) -> npt.NDArray[np.int64]:
    lookup = {v: i for i, v in enumerate(values)}
    keys = pl.Series(cols.keys_of(sub[name]), dtype=pl.String)
    out: npt.NDArray[np.int64] = keys.replace_strict(lookup, return_dtype=pl.Int64).to_numpy()
    return out


def _title(labels: cols.Labels | None, row: str, col: str) -> str:
    return f"{cols.variable_label(labels, row) or row} by {cols.variable_label(labels, col) or col}"


def adjust_pvalues(results: Sequence[CrosstabResult], method: str = "holm") -> list[CrosstabResult]:
    """Holm ("holm"), Benjamini-Hochberg ("bh") or Bonferroni across a family of tables.

    Returns copies with ``p_adjusted`` and ``adjustment`` set; the raw ``p_value`` is kept.
    """
    if method not in _ADJUST_METHODS:
        raise InputError(
            f"unknown p-value adjustment {method!r}; use one of {sorted(_ADJUST_METHODS)}"
        )
    if not results:
        return []
    pvals = np.array([r.p_value for r in results], dtype=np.float64)
    adjusted = multipletests(pvals, method=_ADJUST_METHODS[method])[1]
    label = f"{method} over {len(results)} tests"
    return [
        dataclasses.replace(r, p_adjusted=float(p), adjustment=label)
        for r, p in zip(results, adjusted, strict=True)
    ]


_SCHEMA: dict[str, Any] = {
    "row": pl.String,
    "row_label": pl.String,
    "col": pl.String,
    "col_label": pl.String,
    "n": pl.Int64,
    "count": pl.Float64,
    "row_percent": pl.Float64,
    "col_percent": pl.Float64,
    "total_percent": pl.Float64,
    "expected": pl.Float64,
    "adj_residual": pl.Float64,
}
_VALUE_COLUMNS = [
    "n",
    "count",
    "row_percent",
    "col_percent",
    "total_percent",
    "expected",
    "adj_residual",
]

"""Crosstabs against scipy and statsmodels, Fisher's tea-tasting example, Holm and BH."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.stats.contingency import association
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.multitest import multipletests

from offramp.analysis import adjust_pvalues, crosstab
from offramp.errors import InputError


def _from_counts(table: list[list[int]], rows: str = "r", cols: str = "c") -> pl.DataFrame:
    r, c = [], []
    for i, line in enumerate(table):
        for j, count in enumerate(line):
            r += [f"r{i}"] * count
            c += [f"c{j}"] * count
    return pl.DataFrame({rows: r, cols: c})


COUNTS = [[30, 12, 18], [15, 25, 20], [10, 14, 36]]


def test_chi_square_residuals_and_v_match_references() -> None:
    res = crosstab(_from_counts(COUNTS), "r", "c", min_cell=None)
    chi2, p, dof, expected = stats.chi2_contingency(np.array(COUNTS), correction=False)
    assert res.chi2 == pytest.approx(chi2)
    assert res.p_value == pytest.approx(p)
    assert res.dof == dof
    assert res.test == "chi2"
    assert res.cramers_v == pytest.approx(association(np.array(COUNTS), method="cramer"))
    resid = Table(np.array(COUNTS)).standardized_resids
    got = res.wide("adj_residual").drop("row").to_numpy()
    np.testing.assert_allclose(got, np.asarray(resid), rtol=1e-10)
    np.testing.assert_allclose(res.wide("expected").drop("row").to_numpy(), expected)
    lo, hi = res.cramers_v_ci
    assert lo < res.cramers_v < hi


def test_percentages() -> None:
    res = crosstab(_from_counts(COUNTS), "r", "c", min_cell=None)
    row = res.table.filter((pl.col("row") == "r0") & (pl.col("col") == "c2")).row(0, named=True)
    assert row["n"] == 18
    assert row["row_percent"] == pytest.approx(100 * 18 / 60)
    assert row["col_percent"] == pytest.approx(100 * 18 / 74)
    assert row["total_percent"] == pytest.approx(100 * 18 / 180)


def test_fisher_lady_tasting_tea() -> None:
    # Fisher (1935): 3 of 4 cups right each way; one-sided p = 17/70, two-sided p = 34/70
    res = crosstab(_from_counts([[3, 1], [1, 3]]), "r", "c", min_cell=None)
    assert res.fisher_p_value == pytest.approx(34 / 70)
    assert res.test == "fisher"  # expected counts of 2 are too small for chi-square
    assert res.p_value == pytest.approx(34 / 70)
    assert res.odds_ratio == pytest.approx(9.0)


def test_large_2x2_reports_fisher_but_uses_chi_square() -> None:
    res = crosstab(_from_counts([[60, 40], [35, 65]]), "r", "c", min_cell=None)
    assert res.test == "chi2"
    assert res.fisher_p_value == pytest.approx(stats.fisher_exact([[60, 40], [35, 65]]).pvalue)


def test_small_expected_rxc_uses_monte_carlo_fisher() -> None:
    res = crosstab(_from_counts([[8, 1, 0], [2, 6, 1], [0, 1, 7]]), "r", "c", min_cell=None)
    assert res.test == "fisher_monte_carlo"
    assert res.p_value < 0.01
    assert any("small expected" in n for n in res.notes)


def test_cramers_v_interval_coverage() -> None:
    rng = np.random.default_rng(11)
    probs = np.array([[0.2, 0.1], [0.15, 0.25], [0.1, 0.2]])
    r_ = probs.sum(axis=1, keepdims=True)
    c_ = probs.sum(axis=0, keepdims=True)
    true_v = np.sqrt(((probs - r_ * c_) ** 2 / (r_ * c_)).sum() / 1)
    hits = 0
    for _ in range(500):
        cells = rng.multinomial(400, probs.ravel()).reshape(3, 2)
        lo, hi = crosstab(_from_counts(cells.tolist()), "r", "c", min_cell=None).cramers_v_ci
        hits += lo <= true_v <= hi
    assert 0.93 <= hits / 500 <= 0.97


def test_weights_equal_to_one_change_nothing_and_unequal_weights_rescale() -> None:
    df = _from_counts(COUNTS).with_columns(w=pl.lit(1.0))
    a = crosstab(df, "r", "c", min_cell=None)
    b = crosstab(df, "r", "c", "w", min_cell=None)
    assert a.chi2 == pytest.approx(b.chi2)
    rng = np.random.default_rng(0)
    df = df.with_columns(w=pl.Series(rng.uniform(0.2, 5, df.height)))
    c = crosstab(df, "r", "c", "w", min_cell=None)
    assert c.effective_n < df.height
    assert any("Kish" in n for n in c.notes)


def test_missing_codes_excluded_and_reported() -> None:
    df = pl.DataFrame(
        {
            "r": [1, 2] * 30 + [-97] * 3 + [1] * 2,
            "c": ["x", "y", "y"] * 20 + ["x"] * 3 + ["-99"] * 2,
        }
    )
    res = crosstab(df, "r", "c", min_cell=None)
    assert res.n == 60
    assert any("prefer not to say" in n for n in res.notes)
    assert any("not shown" in n for n in res.notes)


def test_suppression_blanks_cells_and_margins() -> None:
    res = crosstab(_from_counts([[40, 3], [30, 30]]), "r", "c")
    rows = {(r["row"], r["col"]): r for r in res.table.iter_rows(named=True)}
    assert rows[("r0", "c1")]["suppressed"] and rows[("r0", "c1")]["n"] is None
    # one blank per row and column would be recoverable from the totals: a second goes too
    assert sum(r["suppressed"] for r in rows.values()) >= 3
    assert res.col_totals["c1"] == 33


def test_holm_and_bh_match_statsmodels() -> None:
    tables = [[[30, 20], [20, 30]], [[25, 25], [24, 26]], [[40, 10], [20, 30]]]
    results = [crosstab(_from_counts(t), "r", "c", min_cell=None) for t in tables]
    raw = np.array([r.p_value for r in results])
    for method, sm_name in (("holm", "holm"), ("bh", "fdr_bh")):
        adjusted = adjust_pvalues(results, method)
        np.testing.assert_allclose(
            [r.p_adjusted for r in adjusted], multipletests(raw, method=sm_name)[1]
        )
        assert [r.p_value for r in adjusted] == list(raw)
    # Holm by hand on three p-values: sorted p * (3, 2, 1), made monotone
    order = np.argsort(raw)
    holm = np.maximum.accumulate(np.minimum(1, raw[order] * np.array([3, 2, 1])))
    expect = np.empty(3)
    expect[order] = holm
    np.testing.assert_allclose([r.p_adjusted for r in adjust_pvalues(results, "holm")], expect)
    with pytest.raises(InputError, match="unknown p-value adjustment"):
        adjust_pvalues(results, "magic")


def test_bad_input() -> None:
    df = pl.DataFrame(
        {"a": ["x", "y"] * 10, "b": ["p"] * 20, "t": [f"free answer {i}" for i in range(20)]}
    )
    with pytest.raises(InputError, match="at least two"):
        crosstab(df, "a", "b")
    with pytest.raises(InputError, match="did you mean 'a'"):
        crosstab(df, "aa", "b")
    big = pl.DataFrame({"a": ["x", "y"] * 40, "t": [f"free answer {i}" for i in range(80)]})
    with pytest.raises(InputError, match="free text"):
        crosstab(big, "a", "t")
    with pytest.raises(InputError, match="two different"):
        crosstab(df, "a", "a")


def test_zero_weights_leave_the_table() -> None:
    df = _from_counts(COUNTS).with_columns(w=pl.Series([0.0, 1.0, 2.0] * 60))
    res = crosstab(df, "r", "c", "w", min_cell=None)
    assert res.n == 120

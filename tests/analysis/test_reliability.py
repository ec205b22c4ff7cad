"""Cronbach's alpha against Hoyt's ANOVA, omega against a known one-factor structure."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from offramp.analysis import reliability, scale_score
from offramp.errors import InputError


def _exact_one_factor(loadings: np.ndarray, n: int = 400, seed: int = 0) -> np.ndarray:
    """Data whose sample correlation matrix is exactly L L' + diag(1 - L^2)."""
    rng = np.random.default_rng(seed)
    target = np.outer(loadings, loadings)
    np.fill_diagonal(target, 1.0)
    z = rng.normal(size=(n, loadings.shape[0]))
    z -= z.mean(axis=0)
    whiten = np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)))
    return z @ whiten.T @ np.linalg.cholesky(target).T


def test_alpha_equals_hoyt_anova() -> None:
    rng = np.random.default_rng(5)
    n, k = 120, 5
    trait = rng.normal(size=n)
    x = np.clip(np.round(3 + trait[:, None] + rng.normal(size=(n, k))), 1, 5)
    df = pl.DataFrame({f"i{j}": x[:, j].astype(int) for j in range(k)})
    res = reliability(df, [f"i{j}" for j in range(k)])
    long = df.with_row_index("person").unpivot(index="person", variable_name="item").to_pandas()
    table = anova_lm(smf.ols("value ~ C(person) + C(item)", data=long).fit())
    ms_person = table.loc["C(person)", "mean_sq"]
    ms_error = table.loc["Residual", "mean_sq"]
    assert res.alpha == pytest.approx(1 - ms_error / ms_person, rel=1e-9)
    lo, hi = res.alpha_ci
    assert lo < res.alpha < hi


def test_omega_recovers_known_loadings() -> None:
    loadings = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    x = _exact_one_factor(loadings)
    df = pl.DataFrame({f"i{j}": x[:, j] for j in range(5)})
    res = reliability(df, [f"i{j}" for j in range(5)])
    s = loadings.sum() ** 2
    assert res.omega == pytest.approx(s / (s + (1 - loadings**2).sum()), abs=1e-3)
    np.testing.assert_allclose(res.table["loading"], loadings, atol=2e-3)
    assert res.omega > res.alpha  # unequal loadings: alpha underestimates


def test_alpha_equals_omega_when_tau_equivalent() -> None:
    x = _exact_one_factor(np.full(4, 0.6))
    df = pl.DataFrame({f"i{j}": x[:, j] for j in range(4)})
    res = reliability(df, [f"i{j}" for j in range(4)])
    assert res.omega == pytest.approx(res.standardized_alpha, abs=1e-3)


def test_reverse_scoring_and_missing_codes() -> None:
    rng = np.random.default_rng(2)
    trait = rng.normal(size=200)
    items = {
        f"i{j}": np.clip(np.round(3 + trait + rng.normal(size=200)), 1, 5).astype(int)
        for j in range(3)
    }
    items["neg"] = 6 - items["i0"]
    df = pl.DataFrame(items).with_columns(
        i1=pl.when(pl.int_range(pl.len()) < 4).then(-98).otherwise(pl.col("i1"))
    )
    res = reliability(df, ["i0", "i1", "i2", "neg"], reverse=["neg"], scale=(1, 5))
    assert res.n == 196 and res.n_excluded == {"dont_know": 4}
    assert res.table.filter(pl.col("item") == "neg")["item_total_r"][0] > 0.5
    score = scale_score(df, ["i0", "i1", "i2", "neg"], reverse=["neg"], scale=(1, 5))
    assert score[:4].null_count() == 4
    row = df.row(10, named=True)
    expect = (row["i0"] + row["i1"] + row["i2"] + 6 - row["neg"]) / 4
    assert score[10] == pytest.approx(expect)


def test_bad_input() -> None:
    df = pl.DataFrame({"a": [1, 2, 3, 4], "b": [1, 1, 1, 1], "t": ["x", "y", "z", "w"]})
    with pytest.raises(InputError, match="at least two items"):
        reliability(df, ["a"])
    with pytest.raises(InputError, match="same answer from everyone"):
        reliability(df, ["a", "b"])
    with pytest.raises(InputError, match="not numbers"):
        reliability(df, ["a", "t"])
    with pytest.raises(InputError, match="not among the items"):
        reliability(df, ["a", "b"], reverse=["c"])

"""Raking and post-stratification: margins met, and raking equals minimum-entropy calibration."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import optimize

from offramp.analysis import frequencies, poststratify, rake
from offramp.errors import InputError


def _sample(n: int = 600, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n, p=[0.35, 0.65]),
            "age": rng.choice([1, 2, 3], n, p=[0.5, 0.3, 0.2]),
            "d": rng.uniform(0.5, 2.0, n),
        }
    )


MARGINS = {"sex": {"f": 0.5, "m": 0.5}, "age": {1: 0.3, 2: 0.3, 3: 0.4}}


def test_rake_meets_margins() -> None:
    df = _sample()
    w = rake(df, MARGINS, total=1000)
    out = df.with_columns(w)
    by_sex = dict(out.group_by("sex").agg(pl.col("weight").sum()).iter_rows())
    by_age = dict(out.group_by("age").agg(pl.col("weight").sum()).iter_rows())
    assert by_sex["f"] == pytest.approx(500) and by_sex["m"] == pytest.approx(500)
    assert by_age[3] == pytest.approx(400)
    r = frequencies(out, "sex", "weight", min_cell=None)
    assert r.table["valid_percent"].to_list() == pytest.approx([50.0, 50.0])


def test_rake_equals_exponential_calibration() -> None:
    """Raking converges to w = d exp(x'lambda) meeting the margins (Deville & Sarndal 1992);
    solve that system directly with scipy as an independent reference."""
    df = _sample()
    d = df["d"].to_numpy()
    sex = df["sex"].to_numpy()
    age = df["age"].to_numpy()
    x = np.column_stack([sex == "f", sex == "m", age == 2, age == 3]).astype(float)
    target = np.array([0.5, 0.5, 0.3, 0.4]) * 1000

    def gap(lam: np.ndarray) -> np.ndarray:
        return x.T @ (d * np.exp(x @ lam)) - target

    sol = optimize.root(gap, np.zeros(4), tol=1e-12)
    assert sol.success
    ref = d * np.exp(x @ sol.x)
    w = rake(df, MARGINS, "d", total=1000).to_numpy()
    np.testing.assert_allclose(w, ref, rtol=1e-6)


def test_poststratify_cells() -> None:
    df = _sample()
    w = poststratify(df, "sex", {"f": 3000, "m": 7000}, "d")
    out = df.with_columns(w)
    by = dict(out.group_by("sex").agg(pl.col("weight").sum()).iter_rows())
    assert by["f"] == pytest.approx(3000) and by["m"] == pytest.approx(7000)
    # within a cell the design weights keep their ratios
    f = out.filter(pl.col("sex") == "f")
    np.testing.assert_allclose(f["weight"] / f["d"], (f["weight"] / f["d"])[0])
    pop = pl.DataFrame(
        {
            "sex": ["f", "f", "f", "m", "m", "m"],
            "age": [1, 2, 3] * 2,
            "population": [10, 20, 30, 40, 50, 60],
        }
    )
    w2 = poststratify(df, ["sex", "age"], pop)
    assert w2.sum() == pytest.approx(210)


def test_weighting_errors() -> None:
    df = _sample()
    with pytest.raises(InputError, match="empty cell"):
        rake(df, {"sex": {"f": 1, "m": 1, "x": 1}})
    with pytest.raises(InputError, match="do not mention"):
        rake(df, {"sex": {"f": 1}})
    missing = df.with_columns(
        sex=pl.when(pl.int_range(pl.len()) < 3).then(pl.lit("-97")).otherwise(pl.col("sex"))
    )
    with pytest.raises(InputError, match=r"missing .refused. for 3"):
        rake(missing, {"sex": {"f": 1, "m": 1}})
    with pytest.raises(InputError, match="did not converge"):
        # contradictory margins on the same variable twice cannot both be met
        tiny = pl.DataFrame({"a": ["x", "y"], "b": ["x", "y"]})
        rake(tiny, {"a": {"x": 0.2, "y": 0.8}, "b": {"x": 0.8, "y": 0.2}}, max_iter=50)

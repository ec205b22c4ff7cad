"""logit and ologit against statsmodels, weighted fits against replicated data, bad input."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

from offramp.analysis import logit, ologit
from offramp.errors import InputError


def _data(n: int = 800, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(["north", "south", "west"], n)
    eta = -0.2 + 0.7 * x + np.where(g == "south", 0.6, 0.0) + np.where(g == "west", -0.5, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    latent = eta + rng.logistic(size=n)
    o = np.digitize(latent, [-1.0, 0.0, 1.0]) + 1
    w = rng.integers(1, 4, n).astype(float)
    return pl.DataFrame({"y": y, "x": x, "g": g, "o": o, "w": w})


def _x(df: pl.DataFrame, const: bool = True) -> np.ndarray:
    g = df["g"].to_numpy()
    cols = [df["x"].to_numpy(), (g == "south").astype(float), (g == "west").astype(float)]
    x = np.column_stack(cols)
    return sm.add_constant(x) if const else x


def test_logit_matches_statsmodels() -> None:
    df = _data()
    res = logit(df, "y", ["x", "g"])
    ref = sm.Logit(df["y"].to_numpy(), _x(df)).fit(disp=0)
    assert res.table["term"].to_list() == ["const", "x", "g[south]", "g[west]"]
    np.testing.assert_allclose(res.table["estimate"], ref.params, rtol=1e-6)
    np.testing.assert_allclose(res.table["std_error"], ref.bse, rtol=1e-5)
    np.testing.assert_allclose(res.table["p_value"], ref.pvalues, rtol=1e-4)
    ci = ref.conf_int()
    np.testing.assert_allclose(res.table["ci_low"], ci[:, 0], rtol=1e-5)
    np.testing.assert_allclose(res.table["odds_ratio"], np.exp(ref.params), rtol=1e-6)
    np.testing.assert_allclose(res.table["or_ci_high"], np.exp(ci[:, 1]), rtol=1e-5)
    assert res.log_likelihood == pytest.approx(ref.llf)
    assert res.pseudo_r2 == pytest.approx(ref.prsquared)
    assert res.reference == {"g": "north"}


def test_weighted_logit_point_estimates_equal_replicated_data() -> None:
    df = _data()
    res = logit(df, "y", ["x", "g"], "w")
    rep = df.select(pl.all().repeat_by(pl.col("w").cast(pl.Int64)).explode())
    ref = sm.Logit(rep["y"].to_numpy(), _x(rep)).fit(disp=0)
    np.testing.assert_allclose(res.table["estimate"], ref.params, rtol=1e-6)


def test_weighted_logit_se_is_the_design_sandwich() -> None:
    df = _data()
    res = logit(df, "y", ["x", "g"], "w")
    n = df.height
    glm = sm.GLM(
        df["y"].to_numpy(), _x(df), family=sm.families.Binomial(), var_weights=df["w"].to_numpy()
    ).fit(cov_type="HC0")
    np.testing.assert_allclose(res.table["std_error"], glm.bse * np.sqrt(n / (n - 1)), rtol=1e-5)
    assert "sandwich" in res.covariance


def test_reference_level_and_event() -> None:
    df = _data().with_columns(
        answer=pl.when(pl.col("y") == 1).then(pl.lit("yes")).otherwise(pl.lit("no"))
    )
    res = logit(df, "answer", ["x", "g"], event="yes", reference={"g": "west"})
    assert res.table["term"].to_list() == ["const", "x", "g[north]", "g[south]"]
    base = logit(df, "y", ["x", "g"])
    # switching the reference moves only the intercept and the contrasts
    assert res.table["estimate"][1] == pytest.approx(base.table["estimate"][1], rel=1e-6)


def test_ologit_matches_statsmodels() -> None:
    df = _data()
    res = ologit(df, "o", ["x", "g"])
    ref = OrderedModel(df["o"].to_numpy(), _x(df, const=False), distr="logit").fit(
        method="bfgs", disp=False
    )
    np.testing.assert_allclose(res.table["estimate"][:3], ref.params[:3], rtol=1e-4)
    np.testing.assert_allclose(res.table["std_error"][:3], ref.bse[:3], rtol=1e-3)
    cuts = ref.model.transform_threshold_params(ref.params)[1:-1]
    np.testing.assert_allclose(res.table["estimate"][3:], cuts, rtol=1e-4)
    assert res.table["term"].to_list()[3:] == ["cut[1|2]", "cut[2|3]", "cut[3|4]"]
    assert res.table["odds_ratio"][3] is None
    assert res.log_likelihood == pytest.approx(ref.llf, rel=1e-8)


def test_weighted_ologit_equals_replicated_data() -> None:
    df = _data()
    res = ologit(df, "o", ["x", "g"], "w")
    rep = df.select(pl.all().repeat_by(pl.col("w").cast(pl.Int64)).explode())
    ref = OrderedModel(rep["o"].to_numpy(), _x(rep, const=False), distr="logit").fit(
        method="bfgs", disp=False
    )
    np.testing.assert_allclose(res.table["estimate"][:3], ref.params[:3], rtol=1e-3)


@pytest.mark.slow
def test_logit_coefficient_coverage_500_simulations() -> None:
    rng = np.random.default_rng(7)
    n, beta = 300, 0.8
    hits = 0
    for _ in range(500):
        x = rng.normal(size=n)
        y = (rng.random(n) < 1 / (1 + np.exp(-(-0.3 + beta * x)))).astype(int)
        row = logit(pl.DataFrame({"y": y, "x": x}), "y", ["x"]).table.row(1, named=True)
        hits += row["ci_low"] <= beta <= row["ci_high"]
    assert 0.93 <= hits / 500 <= 0.97


def test_missing_codes_are_dropped_and_counted() -> None:
    df = _data(200).with_columns(
        y=pl.when(pl.int_range(pl.len()) < 7).then(-97).otherwise(pl.col("y")),
        g=pl.when(pl.int_range(pl.len()) >= 195).then(pl.lit("-99")).otherwise(pl.col("g")),
    )
    res = logit(df, "y", ["x", "g"])
    assert res.n == 188
    assert res.n_excluded == {"refused": 7, "not_shown": 5}


def test_perfect_separation_is_an_error() -> None:
    df = _data().with_columns(y=pl.when(pl.col("g") == "west").then(0).otherwise(pl.col("y")))
    with pytest.raises(InputError, match="perfect separation: every respondent with g = west"):
        logit(df, "y", ["x", "g"])
    df = _data().with_columns(y=(pl.col("x") > 0.1).cast(pl.Int64))
    with pytest.raises(InputError, match="completely predicted by x"):
        logit(df, "y", ["x", "g"])
    df = _data().with_columns(o=pl.when(pl.col("g") == "south").then(4).otherwise(pl.col("o")))
    with pytest.raises(InputError, match="separation"):
        ologit(df, "o", ["x", "g"])


def test_empty_group_and_degenerate_outcomes() -> None:
    df = _data()
    with pytest.raises(InputError, match=r"empty group: no respondent .* g = 'east'"):
        logit(df, "y", ["x", "g"], reference={"g": "east"})
    with pytest.raises(InputError, match="empty group: predictor 'g' takes only"):
        logit(df.filter(pl.col("g") == "north"), "y", ["x", "g"])
    with pytest.raises(InputError, match="nothing to model"):
        logit(df.with_columns(y=pl.lit(1)), "y", ["x"])
    with pytest.raises(InputError, match="name the event"):
        logit(df, "o", ["x"])
    with pytest.raises(InputError, match="empty group"):
        ologit(df, "o", ["x"], order=[1, 2, 3, 4, 5])
    with pytest.raises(InputError, match="collinear"):
        logit(df.with_columns(x2=pl.col("x") * 2), "y", ["x", "x2"])
    with pytest.raises(InputError, match="did you mean 'x'"):
        logit(df, "y", ["xx"])


def test_weighted_ologit_se_is_the_sandwich() -> None:
    rng = np.random.default_rng(1)
    n = 800
    x = rng.normal(size=n)
    o = np.digitize(0.7 * x + rng.logistic(size=n), [-1, 0, 1]) + 1
    res = ologit(pl.DataFrame({"o": o, "x": x, "w": np.ones(n)}), "o", ["x"], "w")
    ref = OrderedModel(o, x[:, None], distr="logit").fit(method="bfgs", disp=False, cov_type="HC0")
    assert res.table["std_error"][0] == pytest.approx(ref.bse[0] * np.sqrt(n / (n - 1)), rel=1e-6)

"""Frequencies: bases and missing kinds, Wilson intervals, design-based weighted intervals."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from offramp.analysis import frequencies
from offramp.errors import InputError


def _answers() -> pl.DataFrame:
    # 30 yes, 20 no, 5 refused, 3 don't know, 2 blank, 10 not shown
    q = [1] * 30 + [2] * 20 + [-97] * 5 + [-98] * 3 + [None] * 2 + [-99] * 10
    return pl.DataFrame({"q": q}, schema={"q": pl.Int64})


def test_bases_keep_missing_kinds_distinct() -> None:
    r = frequencies(_answers(), "q", min_cell=None)
    t = {row["kind"] + ":" + str(row["value"]): row for row in r.table.iter_rows(named=True)}
    assert r.n_shown == 60 and r.n_valid == 50 and r.n_not_shown == 10
    assert t["valid:1"]["n"] == 30
    assert t["valid:1"]["percent"] == pytest.approx(100 * 30 / 60)
    assert t["valid:1"]["valid_percent"] == pytest.approx(100 * 30 / 50)
    assert t["refused:-97"]["n"] == 5 and t["refused:-97"]["valid_percent"] is None
    assert t["dont_know:-98"]["n"] == 3
    assert t["unanswered:None"]["n"] == 2
    assert "not_shown" not in r.table["kind"].to_list()
    assert r.table["percent"].sum() == pytest.approx(100.0)


def test_text_columns_use_string_codes() -> None:
    df = pl.DataFrame({"s": ["a"] * 12 + ["b"] * 11 + ["-97"] * 2 + ["-99"] * 4 + [None]})
    r = frequencies(df, "s", min_cell=None)
    kinds = dict(zip(r.table["value"].to_list(), r.table["kind"].to_list(), strict=True))
    assert kinds == {"a": "valid", "b": "valid", "-97": "refused", None: "unanswered"}
    assert r.n_not_shown == 4 and r.n_valid == 23


def test_wilson_interval_matches_statsmodels() -> None:
    r = frequencies(_answers(), "q", min_cell=None)
    row = r.table.filter(pl.col("value") == "1").row(0, named=True)
    lo, hi = proportion_confint(30, 50, alpha=0.05, method="wilson")
    assert row["ci_low"] == pytest.approx(100 * lo)
    assert row["ci_high"] == pytest.approx(100 * hi)


def test_labels_and_unpicked_choices() -> None:
    labels = {
        "q": {"label": "Did you seek help?", "values": {"1": "Yes", "2": "No", "3": "Unsure"}}
    }
    r = frequencies(_answers(), "q", labels=labels, min_cell=None)
    assert r.title == "Did you seek help?"
    rows = {row["value"]: row for row in r.table.iter_rows(named=True)}
    assert rows["1"]["label"] == "Yes"
    assert rows["3"]["n"] == 0 and rows["3"]["label"] == "Unsure"
    assert rows["-97"]["label"] == "Prefer not to say"


def test_weighted_variance_matches_statsmodels_sandwich() -> None:
    rng = np.random.default_rng(3)
    n = 400
    w = rng.uniform(0.3, 3.0, n)
    y = (rng.random(n) < 0.2 + 0.1 * w).astype(int)
    df = pl.DataFrame({"y": y, "w": w})
    r = frequencies(df, "y", "w", min_cell=None)
    row = r.table.filter(pl.col("value") == "1").row(0, named=True)
    # reference: intercept-only WLS, HC1 sandwich = linearised variance of the Hajek mean
    fit = sm.WLS(y.astype(float), np.ones((n, 1)), weights=w).fit(cov_type="HC1")
    p = float(fit.params[0])
    var = float(fit.bse[0]) ** 2
    assert row["valid_percent"] == pytest.approx(100 * p)
    n_eff = p * (1 - p) / var
    assert row["deff"] == pytest.approx(n / n_eff)
    lo, hi = proportion_confint(p * n_eff, n_eff, method="wilson")
    assert row["ci_low"] == pytest.approx(100 * lo)
    assert row["ci_high"] == pytest.approx(100 * hi)


def test_cluster_variance_matches_statsmodels_cluster_robust() -> None:
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(40), 10)
    effect = rng.normal(0, 1, 40)[g]
    y = (effect + rng.normal(size=400) > 0.5).astype(int)
    w = rng.uniform(0.5, 2, 400)
    df = pl.DataFrame({"y": y, "w": w, "g": g})
    r = frequencies(df, "y", "w", cluster="g", min_cell=None)
    row = r.table.filter(pl.col("value") == "1").row(0, named=True)
    fit = sm.WLS(y.astype(float), np.ones((400, 1)), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": g, "use_correction": False}
    )
    var = float(fit.bse[0]) ** 2 * 40 / 39  # with-replacement PSU formula: G/(G-1)
    p = float(fit.params[0])
    assert row["deff"] == pytest.approx(400 * var / (p * (1 - p)))
    assert row["deff"] > 1.5  # clustering of this strength must show


def test_kish_design_effect_option() -> None:
    w = np.array([1.0] * 50 + [3.0] * 50)
    df = pl.DataFrame({"y": [0, 1] * 50, "w": w})
    r = frequencies(df, "y", "w", design_effect="kish", min_cell=None)
    kish = w.sum() ** 2 / (w**2).sum()
    assert r.effective_n == pytest.approx(kish)
    assert r.table["deff"][0] == pytest.approx(100 / kish)


def test_small_cells_suppressed_with_secondary() -> None:
    df = pl.DataFrame({"q": [1] * 40 + [2] * 30 + [3] * 4})
    r = frequencies(df, "q")
    rows = {row["value"]: row for row in r.table.iter_rows(named=True)}
    assert rows["3"]["suppressed"] and rows["3"]["n"] is None and rows["3"]["percent"] is None
    # the next smallest is blanked too, or 74 - 40 - 30 would give the 4 back
    assert rows["2"]["suppressed"] and not rows["1"]["suppressed"]
    assert r.suppressed_cells == 2
    assert frequencies(df, "q", min_cell=None).table["suppressed"].sum() == 0


WEIGHT_LEVELS = np.array([0.5, 1.0, 4.0])


def _q(w: np.ndarray, p: float) -> np.ndarray:
    """Chance of answering yes for a respondent of weight w: informative weights."""
    return p * (0.6 + 0.3 * w) / (0.6 + 0.3 * WEIGHT_LEVELS.mean())


@pytest.mark.parametrize(("p", "n", "weighted"), [(0.3, 200, False), (0.3, 300, True)])
def test_interval_coverage_500_simulations(p: float, n: int, weighted: bool) -> None:
    rng = np.random.default_rng(20240601)
    # each respondent of weight w stands for w people, so the population share is E[w q(w)]/E[w]
    truth = float((WEIGHT_LEVELS * _q(WEIGHT_LEVELS, p)).mean() / WEIGHT_LEVELS.mean())
    hits = 0
    for _ in range(500):
        if weighted:
            w = rng.choice(WEIGHT_LEVELS, n)
            y = (rng.random(n) < _q(w, p)).astype(int)
            r = frequencies(pl.DataFrame({"y": y, "w": w}), "y", "w", min_cell=None)
            target = truth
        else:
            y = (rng.random(n) < p).astype(int)
            r = frequencies(pl.DataFrame({"y": y}), "y", min_cell=None)
            target = p
        row = r.table.filter(pl.col("value") == "1")
        hits += row["ci_low"][0] / 100 <= target <= row["ci_high"][0] / 100
    assert 0.93 <= hits / 500 <= 0.97


@pytest.mark.parametrize(("p", "n"), [(0.15, 250), (0.3, 200), (0.1, 400), (0.5, 100)])
def test_wilson_exact_coverage(p: float, n: int) -> None:
    """Coverage computed exactly over the binomial distribution, free of simulation noise."""
    from scipy import stats

    from offramp.analysis._survey import wilson

    covered = 0.0
    for k in range(n + 1):
        lo, hi = wilson(k / n, n)
        if lo <= p <= hi:
            covered += float(stats.binom.pmf(k, n, p))
    assert 0.93 <= covered <= 0.97


def test_bad_input() -> None:
    df = pl.DataFrame({"age": [1, 2], "w": [1.0, -1.0], "txt": ["a", "b"]})
    with pytest.raises(InputError, match="did you mean 'age'"):
        frequencies(df, "agee")
    with pytest.raises(InputError, match="negative"):
        frequencies(df, "age", "w")
    free = pl.DataFrame({"txt": [f"answer number {i}" for i in range(80)]})
    with pytest.raises(InputError, match="free text"):
        frequencies(free, "txt")
    with pytest.raises(InputError, match="design_effect"):
        frequencies(df, "age", design_effect="magic")


def test_degenerate_columns_give_tables_not_errors_or_nan() -> None:
    df = pl.DataFrame({"skipped": [-99] * 12, "blank": [None] * 12, "flag": [True, False] * 6})
    skipped = frequencies(df, "skipped")
    assert skipped.table.height == 0 and skipped.n_not_shown == 12
    blank = frequencies(df, "blank")
    assert blank.table["kind"].to_list() == ["unanswered"] and blank.n_valid == 0
    flag = frequencies(df, "flag", min_cell=None)
    assert flag.table["value"].to_list() == ["false", "true"]
    mr = pl.DataFrame({"m__a": [-99] * 5, "m__b": [-99] * 5})
    from offramp.analysis import multiple_response

    empty = multiple_response(mr, "m")
    assert empty.n_cases == 0 and empty.n_not_shown == 5
    assert empty.table["percent_of_cases"].null_count() == 2  # null, never NaN

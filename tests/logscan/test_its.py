"""Segmented regression: coefficients and Newey-West errors checked by a hand computation."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from offramp.errors import InputError
from offramp.logscan import segmented_regression
from offramp.logscan.its import default_maxlags


def _series(days: int, change: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    p = 0.03 + 0.0001 * t - 0.01 * (t >= change) - 0.0002 * (t - change) * (t >= change)
    searches = rng.integers(5_000, 6_000, size=days)
    blocked = rng.binomial(searches, p)
    start = date(2024, 1, 1)
    return pl.DataFrame({
        "day": [start + timedelta(days=int(i)) for i in t],
        "searches": searches, "blocked": blocked,
    })


def _newey_west(x: np.ndarray, e: np.ndarray, lags: int) -> np.ndarray:
    n, k = x.shape
    bread = np.linalg.inv(x.T @ x)
    scores = x * e[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        weight = 1 - lag / (lags + 1)
        gamma = scores[lag:].T @ scores[:-lag]
        meat += weight * (gamma + gamma.T)
    return bread @ meat @ bread * n / (n - k)


def test_coefficients_and_hac_errors_match_a_hand_computation() -> None:
    daily = _series(120, 70)
    result = segmented_regression(daily, date(2024, 1, 1) + timedelta(days=70), maxlags=5)
    t = np.arange(120, dtype=float)
    post = (t >= 70).astype(float)
    x = np.column_stack([np.ones(120), t, post, (t - 70) * post])
    y = daily["blocked"].to_numpy() / daily["searches"].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    se = np.sqrt(np.diag(_newey_west(x, y - x @ beta, 5)))
    np.testing.assert_allclose(result.table["estimate"].to_numpy(), beta, rtol=1e-9)
    np.testing.assert_allclose(result.table["std_error"].to_numpy(), se, rtol=1e-9)
    assert result.table["term"].to_list() == ["const", "time", "level_change", "slope_change"]
    assert result.days_before == 70 and result.days_after == 50
    # the planted changes lie inside the intervals
    level = result.table.filter(pl.col("term") == "level_change").row(0, named=True)
    slope = result.table.filter(pl.col("term") == "slope_change").row(0, named=True)
    assert level["ci_low"] < -0.01 < level["ci_high"]
    assert slope["ci_low"] < -0.0002 < slope["ci_high"]
    assert result.counterfactual_at_change == pytest.approx(beta[0] + beta[1] * 70)


def test_weekday_effects_add_six_terms() -> None:
    result = segmented_regression(_series(60, 30), date(2024, 1, 31), weekday=True)
    assert result.table.height == 10
    assert result.table["term"].to_list()[-1] == "weekday_6"


def test_default_lag_rule() -> None:
    assert default_maxlags(100) == 4
    assert default_maxlags(90) == 3
    assert default_maxlags(5) == 2  # 4 * 0.05 ** (2/9) = 2.05
    assert default_maxlags(1) == 1


def test_too_few_days_on_one_side() -> None:
    with pytest.raises(InputError, match="found 2 before and 58 after"):
        segmented_regression(_series(60, 2), date(2024, 1, 3))

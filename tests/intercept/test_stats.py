"""The experiment statistics, checked against statsmodels and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import beta
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from offramp.intercept import stats

CASES = [(0, 10), (1, 10), (9, 10), (10, 10), (37, 412), (160, 1000), (90, 1000), (3, 250_000)]


@pytest.mark.parametrize(("x", "n"), CASES)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(x: int, n: int, confidence: float) -> None:
    low, high = stats.wilson_interval(x, n, confidence)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)


@pytest.mark.parametrize(
    ("a", "b"), [((160, 1000), (90, 1000)), ((5, 40), (9, 38)), ((1234, 20000), (1180, 19500)),
                 ((0, 50), (3, 60))],
)
def test_ztest_matches_statsmodels(a: tuple[int, int], b: tuple[int, int]) -> None:
    z, p = stats.two_proportion_ztest(a[0], a[1], b[0], b[1])
    ref_z, ref_p = proportions_ztest([a[0], b[0]], [a[1], b[1]])
    assert z == pytest.approx(ref_z, rel=1e-10)
    assert p == pytest.approx(ref_p, rel=1e-9)


def test_ztest_degenerate_is_nan() -> None:
    assert all(math.isnan(v) for v in stats.two_proportion_ztest(0, 10, 0, 10))
    assert all(math.isnan(v) for v in stats.two_proportion_ztest(0, 0, 1, 10))


def test_holm_matches_statsmodels() -> None:
    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 5, 12):
        p = list(rng.uniform(0, 0.2, size))
        p[0] = p[-1]  # ties
        assert stats.holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert math.isnan(stats.holm([math.nan, 0.01, 0.04])[0])
    assert stats.holm([math.nan, 0.01, 0.04])[1:] == pytest.approx([0.02, 0.04])


def _prob_by_integration(xa: int, na: int, xc: int, nc: int) -> float:
    arm, control = beta(xa + 1, na - xa + 1), beta(xc + 1, nc - xc + 1)
    # P(arm > control) = integral of f_arm(p) * F_control(p) dp
    value, _ = integrate.quad(lambda p: arm.pdf(p) * control.cdf(p), 0, 1, limit=500)
    return float(value)


@pytest.mark.parametrize(
    "counts", [(16, 100, 9, 100), (3, 20, 5, 20), (160, 1000, 90, 1000), (50, 500, 50, 500),
               (0, 10, 0, 10)],
)
def test_prob_beats_exact_matches_integration(counts: tuple[int, int, int, int]) -> None:
    assert stats.prob_beats(*counts) == pytest.approx(_prob_by_integration(*counts), abs=1e-6)


def test_prob_beats_monte_carlo_is_repeatable_and_close(monkeypatch: pytest.MonkeyPatch) -> None:
    exact = stats.prob_beats(160, 1000, 140, 1000)
    monkeypatch.setattr(stats, "EXACT_TERMS_LIMIT", 10)
    first = stats.prob_beats(160, 1000, 140, 1000)
    assert first == stats.prob_beats(160, 1000, 140, 1000)  # fixed seed
    assert first == pytest.approx(exact, abs=0.005)


@pytest.mark.parametrize(
    ("p0", "lift", "alpha", "power", "ratio"),
    [(0.09, 0.78, 0.05, 0.8, 1.0), (0.1, 0.2, 0.05, 0.8, 1.0), (0.02, 0.1, 0.01, 0.9, 1.0),
     (0.3, -0.2, 0.05, 0.8, 2.0), (0.5, 0.05, 0.025, 0.95, 0.5)],
)
def test_sample_size_matches_statsmodels(
    p0: float, lift: float, alpha: float, power: float, ratio: float
) -> None:
    effect = proportion_effectsize(p0 * (1 + lift), p0)
    expected = NormalIndPower().solve_power(effect, alpha=alpha, power=power, ratio=ratio)
    assert stats.sample_size(p0, lift, alpha=alpha, power=power, ratio=ratio) == math.ceil(expected)


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="clicks <= impressions"):
        stats.wilson_interval(11, 10)
    with pytest.raises(ValueError):
        stats.sample_size(0.5, 1.5)

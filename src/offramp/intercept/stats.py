"""Statistics for message experiments on aggregate counts (clicks out of impressions per arm).

Each function is small and checked in tests against statsmodels (proportion_confint,
proportions_ztest, multipletests, NormalIndPower) or against numerical integration. They are
written out here rather than imported so that the report states exactly which test it ran, and so
the server's operator page needs no statsmodels import (slow, heavy) to render.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from scipy.special import betaln

_NORMAL = NormalDist()
EXACT_TERMS_LIMIT = 2_000_000
MONTE_CARLO_DRAWS = 400_000
MONTE_CARLO_SEED = 20240611


def wilson_interval(clicks: int, impressions: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; good coverage even at small counts or rates near 0.

    Same as statsmodels' ``proportion_confint(clicks, impressions, alpha, method="wilson")``.
    """
    _check_counts(clicks, impressions)
    if impressions == 0:
        return (0.0, 1.0)
    z = _NORMAL.inv_cdf(1 - (1 - confidence) / 2)
    p = clicks / impressions
    denominator = 1 + z * z / impressions
    centre = (p + z * z / (2 * impressions)) / denominator
    half = z * math.sqrt(p * (1 - p) / impressions + z * z / (4 * impressions**2)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_ztest(
    clicks_a: int, impressions_a: int, clicks_b: int, impressions_b: int
) -> tuple[float, float]:
    """Two-sided z-test of equal rates with the pooled variance; returns (z, p) for a minus b.

    Same as statsmodels' ``proportions_ztest([clicks_a, clicks_b], [imp_a, imp_b])``.
    """
    _check_counts(clicks_a, impressions_a)
    _check_counts(clicks_b, impressions_b)
    if impressions_a == 0 or impressions_b == 0:
        return (math.nan, math.nan)
    pooled = (clicks_a + clicks_b) / (impressions_a + impressions_b)
    variance = pooled * (1 - pooled) * (1 / impressions_a + 1 / impressions_b)
    if variance == 0:
        return (math.nan, math.nan)
    z = (clicks_a / impressions_a - clicks_b / impressions_b) / math.sqrt(variance)
    return (z, 2 * _NORMAL.cdf(-abs(z)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error), in the input order; NaN stays NaN.

    Same as statsmodels' ``multipletests(p, method="holm")[1]`` on the non-NaN values.
    """
    indexed = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    m = len(indexed)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def prob_beats(
    clicks_arm: int, impressions_arm: int, clicks_control: int, impressions_control: int,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """P(rate_arm > rate_control) under independent Beta posteriors (uniform prior by default).

    Exact (Evan Miller's closed-form sum, in log space) when the arm's posterior alpha is a whole
    number of manageable size; otherwise Monte Carlo with a fixed seed, so a report is repeatable.
    """
    _check_counts(clicks_arm, impressions_arm)
    _check_counts(clicks_control, impressions_control)
    a_b = clicks_arm + prior[0]
    b_b = impressions_arm - clicks_arm + prior[1]
    a_a = clicks_control + prior[0]
    b_a = impressions_control - clicks_control + prior[1]
    if float(a_b).is_integer() and a_b <= EXACT_TERMS_LIMIT:
        i = np.arange(int(a_b), dtype=np.float64)
        terms = (
            betaln(a_a + i, b_a + b_b)
            - np.log(b_b + i)
            - betaln(1 + i, b_b)
            - betaln(a_a, b_a)
        )
        top = float(terms.max())
        return float(min(1.0, max(0.0, math.exp(top) * np.exp(terms - top).sum())))
    rng = np.random.default_rng(MONTE_CARLO_SEED)
    arm = rng.beta(a_b, b_b, MONTE_CARLO_DRAWS)
    control = rng.beta(a_a, b_a, MONTE_CARLO_DRAWS)
    return float((arm > control).mean())


def cohens_h(p1: float, p2: float) -> float:
    """Effect size for two proportions (arcsine), as statsmodels' proportion_effectsize."""
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def sample_size(
    baseline: float, lift: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> int:
    """Impressions per arm (control gets n, the arm n*ratio) to detect a relative `lift`.

    Two-sided z-test on the arcsine scale, power counting both tails, solved exactly: equals
    ``NormalIndPower().solve_power(proportion_effectsize(p1, p0), alpha=, power=, ratio=)``
    rounded up. For k arms compared with Holm, pass alpha / k to be conservative.
    """
    if not 0 < baseline < 1:
        raise ValueError("baseline rate must be between 0 and 1")
    target = baseline * (1 + lift)
    if not 0 < target < 1 or lift == 0:
        raise ValueError("baseline * (1 + lift) must be between 0 and 1 and differ from baseline")
    if not (0 < alpha < 1 and 0 < power < 1 and ratio > 0):
        raise ValueError("alpha and power must be between 0 and 1, ratio positive")
    h = abs(cohens_h(target, baseline))
    crit = _NORMAL.inv_cdf(1 - alpha / 2)

    def achieved(n: float) -> float:
        shift = h * math.sqrt(n) / math.sqrt(1 + 1 / ratio)
        return _NORMAL.cdf(shift - crit) + _NORMAL.cdf(-shift - crit)

    low, high = 1e-9, ((crit + _NORMAL.inv_cdf(power)) / h) ** 2 * (1 + 1 / ratio) * 2 + 10
    for _ in range(200):  # bisection: power rises monotonically with n
        middle = (low + high) / 2
        if achieved(middle) < power:
            low = middle
        else:
            high = middle
    return math.ceil(high - 1e-9)


def _check_counts(successes: int, trials: int) -> None:
    if successes < 0 or trials < 0 or successes > trials:
        raise ValueError(f"need 0 <= clicks <= impressions, got {successes} of {trials}")

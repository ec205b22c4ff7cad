"""Interrupted time series: did prevalence change at a date (say, when intercepting started)?

Segmented regression of daily prevalence on time, with a level change and a slope change at the
intervention date:

    prevalence_t = b0 + b1 * t + b2 * after_t + b3 * (t - t0) * after_t  [+ weekday effects] + e_t

``level_change`` (b2) is the jump at the date, ``slope_change`` (b3) the change in the daily trend
after it. Daily series are autocorrelated (and weekly seasonal), so standard errors are
Newey-West (HAC) through statsmodels, with the usual lag rule floor(4 (n/100)^(2/9)) unless given.
Days are weighted equally; a day with no searches is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from offramp.errors import InputError

MIN_DAYS_EACH_SIDE = 3
TERMS = ("const", "time", "level_change", "slope_change")


@dataclass(frozen=True, slots=True)
class ITSResult:
    """Coefficients table (term, estimate, std_error, ci_low, ci_high, p_value) and context."""

    table: pl.DataFrame
    change: date
    days_before: int
    days_after: int
    maxlags: int
    counterfactual_at_change: float  # the pre-period line extended to the change date
    fitted: pl.DataFrame  # day, prevalence, fitted, counterfactual

    def estimate(self, term: str) -> float:
        row = self.table.filter(pl.col("term") == term)
        return float(row["estimate"][0])

    @property
    def relative_level_change(self) -> float | None:
        if self.counterfactual_at_change == 0:
            return None
        return self.estimate("level_change") / self.counterfactual_at_change

    def summary(self) -> dict[str, object]:
        return {
            "change_date": self.change.isoformat(),
            "days_before": self.days_before,
            "days_after": self.days_after,
            "hac_maxlags": self.maxlags,
            "counterfactual_at_change": self.counterfactual_at_change,
            "relative_level_change": self.relative_level_change,
            "coefficients": self.table.to_dicts(),
        }


def default_maxlags(n: int) -> int:
    return max(1, math.floor(4 * math.pow(n / 100, 2 / 9)))


def segmented_regression(
    daily: pl.DataFrame,
    change: date,
    *,
    maxlags: int | None = None,
    weekday: bool = False,
    level: float = 0.95,
) -> ITSResult:
    """Fit the model to ``daily`` (columns day, searches, blocked)."""
    data = daily.filter(pl.col("searches") > 0).sort("day")
    days = data.get_column("day").to_list()
    before = sum(1 for d in days if d < change)
    after = len(days) - before
    if before < MIN_DAYS_EACH_SIDE or after < MIN_DAYS_EACH_SIDE:
        raise InputError(
            f"an interrupted time series needs at least {MIN_DAYS_EACH_SIDE} days with searches "
            f"on each side of {change.isoformat()}; found {before} before and {after} after"
        )
    first = days[0]
    t = np.array([(d - first).days for d in days], dtype=np.float64)
    t0 = float((change - first).days)
    post = np.array([d >= change for d in days], dtype=np.float64)
    y = (data["blocked"].to_numpy() / data["searches"].to_numpy()).astype(np.float64)
    columns = [np.ones_like(t), t, post, (t - t0) * post]
    names = list(TERMS)
    if weekday:
        dow = np.array([d.weekday() for d in days])
        for k in range(1, 7):
            columns.append((dow == k).astype(np.float64))
            names.append(f"weekday_{k}")
    design = np.column_stack(columns)
    lags = maxlags if maxlags is not None else default_maxlags(len(y))
    from statsmodels.regression.linear_model import OLS  # imported here: slow to import

    fit = OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
    ci = np.asarray(fit.conf_int(alpha=1 - level))
    table = pl.DataFrame(
        {
            "term": names,
            "estimate": np.asarray(fit.params, dtype=np.float64),
            "std_error": np.asarray(fit.bse, dtype=np.float64),
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
            "p_value": np.asarray(fit.pvalues, dtype=np.float64),
        }
    )
    b = np.asarray(fit.params, dtype=np.float64)
    fitted = design @ b
    counterfactual = fitted - b[2] * post - b[3] * (t - t0) * post
    return ITSResult(
        table=table,
        change=change,
        days_before=before,
        days_after=after,
        maxlags=lags,
        counterfactual_at_change=float(b[0] + b[1] * t0),
        fitted=pl.DataFrame(
            {"day": days, "prevalence": y, "fitted": fitted, "counterfactual": counterfactual}
        ),
    )

"""Logistic and proportional-odds (ordinal logistic) regression, with odds ratios.

statsmodels fits the models; this module owns what a survey analyst needs around them:
- listwise deletion that reports how many respondents each missing kind removed;
- categorical predictors dummy-coded against a reference level (first in codebook order unless
  given), terms named ``var[level]``, the intercept ``const``;
- weights as survey weights: the pseudo-likelihood is weighted and the covariance is the
  linearised (sandwich) estimator over the design, not the inverse Hessian of frequency weights;
- problems that make estimates meaningless are errors, not NaN: an outcome with one value, an
  empty group, collinear predictors, and perfect or quasi-complete separation (detected exactly
  for logit with Konis' linear program, and from divergence for ologit).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

from offramp.analysis import _columns as cols
from offramp.analysis._result import Result
from offramp.analysis._survey import Design, FloatArray, design_from, total_covariance, z_value
from offramp.errors import InputError

_DIVERGED = 15.0  # |log-odds| beyond this on standardised data means the MLE ran off to infinity


@dataclass(kw_only=True)
class RegressionResult(Result):
    """A fitted model. ``table`` columns: term, estimate, std_error, ci_low, ci_high, p_value,
    odds_ratio, or_ci_low, or_ci_high (estimates on the log-odds scale; cut points of an ordinal
    model have null odds ratios)."""

    KIND = "logit"

    outcome: str
    predictors: list[str]
    event: str | None
    levels: list[str]
    reference: dict[str, str]
    n_excluded: dict[str, int]
    log_likelihood: float
    null_log_likelihood: float
    pseudo_r2: float
    converged: bool
    level: float
    covariance: str
    group_sizes: dict[str, dict[str, int]] = field(default_factory=dict)

    def statistics(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "predictors": self.predictors,
            "event": self.event,
            "levels": self.levels,
            "reference": self.reference,
            "n_excluded": self.n_excluded,
            "log_likelihood": self.log_likelihood,
            "null_log_likelihood": self.null_log_likelihood,
            "pseudo_r2": self.pseudo_r2,
            "converged": self.converged,
            "level": self.level,
            "covariance": self.covariance,
            "group_sizes": self.group_sizes,
        }


@dataclass(kw_only=True)
class OrdinalResult(RegressionResult):
    KIND = "ologit"


@dataclass
class _Design:
    x: FloatArray
    terms: list[str]
    reference: dict[str, str]
    group_sizes: dict[str, dict[str, int]]


def _predictor_matrix(
    sub: pl.DataFrame,
    predictors: Sequence[str],
    categorical: Sequence[str],
    reference: Mapping[str, object],
) -> _Design:
    columns: list[FloatArray] = []
    terms: list[str] = []
    refs: dict[str, str] = {}
    sizes: dict[str, dict[str, int]] = {}
    for var in predictors:
        dtype = sub.schema[var]
        if cols.is_text(dtype) or var in categorical or var in reference:
            series = sub[var]
            if isinstance(dtype, pl.Categorical | pl.Enum):
                series = series.cast(pl.String)
            keys = cols.keys_of(series)
            levels = [cols.value_key(v) for v in cols.category_values(sub, var)]
            sizes[var] = {lv: int((keys == lv).sum()) for lv in levels}
            ref = (
                cols.value_key(reference[var]) if var in reference else levels[0] if levels else ""
            )
            if ref not in levels:
                raise InputError(
                    f"empty group: no respondent in the analysis has {var} = {ref!r}, so it "
                    "cannot be the reference level",
                    hint=f"choose one of {levels}",
                )
            if len(levels) < 2:
                raise InputError(
                    f"empty group: predictor {var!r} takes only the value {ref!r} among the "
                    f"{sub.height} respondents in the analysis, so it has no effect to estimate"
                )
            refs[var] = ref
            for lv in levels:
                if lv != ref:
                    columns.append((keys == lv).astype(np.float64))
                    terms.append(f"{var}[{lv}]")
        elif dtype == pl.Boolean or dtype.is_numeric():
            values = sub[var].cast(pl.Float64).to_numpy()
            if np.unique(values).shape[0] < 2:
                raise InputError(
                    f"predictor {var!r} is constant ({values[0]:g}) among the {sub.height} "
                    "respondents in the analysis"
                )
            columns.append(values)
            terms.append(var)
        else:
            raise InputError(f"predictor {var!r} has type {dtype}, which cannot enter a model")
    x = np.column_stack(columns) if columns else np.empty((sub.height, 0))
    return _Design(x=x, terms=terms, reference=refs, group_sizes=sizes)


def _check_rank(x: FloatArray, terms: list[str]) -> None:
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        # find the first column that adds nothing to those before it
        for j in range(1, x.shape[1] + 1):
            if np.linalg.matrix_rank(x[:, :j]) < j:
                raise InputError(
                    f"predictor term {terms[j - 1]!r} is a linear combination of earlier terms "
                    "(collinear), so its effect cannot be separated from theirs",
                    hint="drop one of the overlapping predictors",
                )


def separation_direction(x: FloatArray, y: npt.NDArray[np.float64]) -> FloatArray | None:
    """A direction b with (2y-1) * x b >= 0 for every row and > 0 for some, or None.

    Such a b exists exactly when the logit MLE does not (complete or quasi-complete separation;
    Konis 2007). The linear program maximises the total margin with b in a box; columns are
    standardised so that the tolerance means the same for every predictor.
    """
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale
    a = (2 * y - 1)[:, None] * xs
    res = optimize.linprog(
        c=-a.sum(axis=0),
        A_ub=-a,
        b_ub=np.zeros(a.shape[0]),
        bounds=[(-1.0, 1.0)] * a.shape[1],
        method="highs",
    )
    if res.status != 0 or res.x is None:
        return None
    margin = a @ res.x
    if -res.fun > 1e-6 * a.shape[0] ** 0.5 and margin.min() > -1e-9:
        direction: FloatArray = res.x
        return direction
    return None


def _separation_message(
    sub: pl.DataFrame,
    outcome: str,
    design: _Design,
    y: npt.NDArray[np.float64],
    direction: FloatArray,
) -> str:
    involved = [design.terms[j - 1] for j in range(1, len(direction)) if abs(direction[j]) > 1e-6]
    constant = _constant_level(design, y, extremes_only=False)
    if constant:
        return constant.format(outcome=outcome)
    names = ", ".join(involved) if involved else "the predictors"
    return f"perfect separation: {outcome!r} is completely predicted by {names}"


def _constant_level(design: _Design, y: npt.NDArray[Any], *, extremes_only: bool) -> str | None:
    """The first predictor category (or reference level) in which every respondent gives the
    same answer: the commonest cause of separation, worth naming exactly."""
    lo, hi = y.min(), y.max()
    groups: list[tuple[str, npt.NDArray[np.bool_]]] = []
    for j, term in enumerate(design.terms):
        if "[" in term:
            groups.append((term.replace("[", " = ").rstrip("]"), design.x[:, j] == 1.0))
    for var, ref in design.reference.items():
        cols_of_var = [j for j, t in enumerate(design.terms) if t.startswith(f"{var}[")]
        groups.append((f"{var} = {ref}", ~(design.x[:, cols_of_var] == 1.0).any(axis=1)))
    for name, hit in groups:
        if not hit.any():
            continue
        values = np.unique(y[hit])
        if values.shape[0] == 1 and (not extremes_only or values[0] in (lo, hi)):
            return (
                f"perfect separation: every respondent with {name} gives the same "
                "{outcome!r} answer, so its odds ratio is infinite"
            )
    return None


def _outcome_binary(
    sub: pl.DataFrame, outcome: str, event: object | None
) -> tuple[npt.NDArray[np.float64], str]:
    series = sub[outcome]
    if isinstance(series.dtype, pl.Categorical | pl.Enum):
        series = series.cast(pl.String)
    keys = cols.keys_of(series)
    values = [cols.value_key(v) for v in cols.category_values(sub, outcome)]
    if event is None:
        if len(values) != 2:
            raise InputError(
                f"logit outcome {outcome!r} has {len(values)} distinct answers "
                f"({values[:6]}); name the event value (event=...) to model it against the rest"
                if len(values) > 2
                else f"logit outcome {outcome!r} has only the value {values} among the "
                f"{sub.height} "
                "respondents in the analysis: nothing to model"
            )
        event_key = "1" if set(values) == {"0", "1"} else "true" if "true" in values else values[1]
    else:
        event_key = cols.value_key(event)
        if event_key not in values:
            raise InputError(
                f"event value {event_key!r} never occurs in {outcome!r} (values: {values[:10]})"
            )
    y = (keys == event_key).astype(np.float64)
    if y.min() == y.max():
        raise InputError(
            f"logit outcome {outcome!r} is {'always' if y[0] else 'never'} {event_key!r} among the "
            f"{sub.height} respondents in the analysis: nothing to model"
        )
    return y, event_key


def _prepare(
    data: pl.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    weights: str | None,
    strata: str | None,
    cluster: str | None,
) -> tuple[pl.DataFrame, npt.NDArray[np.bool_], Design, dict[str, int]]:
    if not predictors:
        raise InputError("a regression needs at least one predictor")
    names = [outcome, *predictors]
    cols.require_columns(data, names)
    dup = {p for p in predictors if list(predictors).count(p) > 1 or p == outcome}
    if dup:
        raise InputError(f"variable(s) {sorted(dup)} appear twice in the model")
    for name in names:
        if cols.is_text(data.schema[name]):
            cols.check_not_free_text(data, name)
    design = design_from(data, weights, strata=strata, cluster=cluster)
    ok = cols.valid_mask(data, names)
    if design.weights is not None:
        ok &= design.weights > 0
    excluded = cols.exclusion_counts(data, names)
    sub = data.select(names).filter(pl.Series(ok))
    if sub.height == 0:
        raise InputError(
            f"no respondent has valid answers to all of {names}; nothing to fit",
            hint=f"excluded: {excluded}",
        )
    return sub, ok, design, excluded


def _fit_quietly(fit: Any, what: str) -> Any:
    """Run a statsmodels fit, turning its warnings (overflow, non-convergence) into one error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            result = fit()
    trouble = [
        w
        for w in caught
        if (issubclass(w.category, Warning) and "converge" in str(w.message).lower())
        or "separation" in str(w.message).lower()
    ]
    if trouble:
        raise InputError(
            f"{what} did not converge ({trouble[0].message}); estimates would be meaningless",
            hint="check for a predictor category where everyone gives the same answer, "
            "or merge sparse categories",
        )
    return result


def _sandwich(
    bread: FloatArray, scores: FloatArray, ok: npt.NDArray[np.bool_], design: Design
) -> FloatArray:
    """Linearised covariance H^-1 V H^-1, V the design covariance of the weighted score totals.

    Rows outside the analysis keep zero scores but stay in their PSU (domain estimation)."""
    full = np.zeros((ok.shape[0], scores.shape[1]))
    full[ok] = scores
    v = total_covariance(full, design)
    inv = np.linalg.inv(bread)
    cov: FloatArray = inv @ v @ inv
    return cov


def _table(
    terms: list[str], est: FloatArray, se: FloatArray, level: float, odds: list[bool]
) -> pl.DataFrame:
    z = z_value(level)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        zstat = est / se
        p = 2 * stats.norm.sf(np.abs(zstat))
        lo = est - z * se
        hi = est + z * se
    rows = []
    for i, term in enumerate(terms):
        rows.append(
            {
                "term": term,
                "estimate": float(est[i]),
                "std_error": float(se[i]),
                "ci_low": float(lo[i]),
                "ci_high": float(hi[i]),
                "p_value": float(p[i]),
                "odds_ratio": math.exp(est[i]) if odds[i] else None,
                "or_ci_low": math.exp(lo[i]) if odds[i] else None,
                "or_ci_high": math.exp(hi[i]) if odds[i] else None,
            }
        )
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")


_SCHEMA: dict[str, Any] = {
    "term": pl.String,
    "estimate": pl.Float64,
    "std_error": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "odds_ratio": pl.Float64,
    "or_ci_low": pl.Float64,
    "or_ci_high": pl.Float64,
}


def _small_group_notes(sizes: dict[str, dict[str, int]], min_cell: int | None) -> list[str]:
    notes = []
    if min_cell:
        for var, levels in sizes.items():
            small = [lv for lv, c in levels.items() if c < min_cell]
            if small:
                notes.append(
                    f"{var}: level(s) {small} have fewer than {min_cell} respondents; "
                    "their estimates are unstable and may identify people"
                )
    return notes


def _exclusion_notes(excluded: dict[str, int]) -> list[str]:
    return [
        f"{c} respondent(s) excluded: {cols.KIND_LABELS[k].lower()}" for k, c in excluded.items()
    ]


def logit(
    data: pl.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    weights: str | None = None,
    *,
    event: object | None = None,
    categorical: Sequence[str] = (),
    reference: Mapping[str, object] | None = None,
    level: float = 0.95,
    strata: str | None = None,
    cluster: str | None = None,
    min_cell: int | None = 10,
    title: str | None = None,
) -> RegressionResult:
    """Binary logistic regression of ``outcome`` (== ``event``) on ``predictors``.

    Text predictors, and numeric ones listed in ``categorical``, are dummy-coded against
    ``reference[var]`` (default: the first level). With ``weights`` the covariance is linearised
    over the design (``strata``/``cluster``); without, it is the usual inverse information.
    """
    reference = dict(reference or {})
    sub, ok, design, excluded = _prepare(data, outcome, predictors, weights, strata, cluster)
    y, event_key = _outcome_binary(sub, outcome, event)
    pm = _predictor_matrix(sub, predictors, categorical, reference)
    x = np.column_stack([np.ones(sub.height), pm.x])
    terms = ["const", *pm.terms]
    _check_rank(x, terms)
    direction = separation_direction(x, y)
    if direction is not None:
        raise InputError(
            _separation_message(sub, outcome, pm, y, direction),
            hint="merge or drop the category, or use penalised (Firth) regression",
        )
    w = design.weights[ok] if design.weights is not None else None
    if w is None and design.strata is None and design.clusters is None:
        fitted = _fit_quietly(
            lambda: sm.Logit(y, x).fit(disp=0, method="newton", maxiter=100), "logit"
        )
        params = np.asarray(fitted.params)
        se = np.asarray(fitted.bse)
        converged = bool(fitted.mle_retvals.get("converged", True))
        llf = float(fitted.llf)
        llnull = float(fitted.llnull)
        covariance = "inverse information"
    else:
        ww = w if w is not None else np.ones(sub.height)
        fitted = _fit_quietly(
            lambda: sm.GLM(y, x, family=sm.families.Binomial(), var_weights=ww).fit(maxiter=100),
            "weighted logit",
        )
        params = np.asarray(fitted.params)
        prob = 1 / (1 + np.exp(-(x @ params)))
        bread = (x * (ww * prob * (1 - prob))[:, None]).T @ x
        scores = x * (ww * (y - prob))[:, None]
        cov = _sandwich(bread, scores, ok, design)
        se = np.sqrt(np.diag(cov))
        converged = bool(fitted.converged)
        llf = float(np.sum(ww * (y * np.log(prob) + (1 - y) * np.log1p(-prob))))
        p0 = float(np.sum(ww * y) / np.sum(ww))
        llnull = float(np.sum(ww * (y * math.log(p0) + (1 - y) * math.log1p(-p0))))
        covariance = "linearised (sandwich) over the design"
    if np.any(np.abs(params[1:] * x[:, 1:].std(axis=0)) > _DIVERGED) or not converged:
        raise InputError(
            "logit estimates diverged (quasi-complete separation or a near-empty group)",
            hint="merge sparse categories",
        )
    table = _table(terms, params, se, level, [True] * len(terms))
    return RegressionResult(
        table=table,
        variables=[outcome, *predictors],
        n=sub.height,
        weights=weights,
        title=title or f"{outcome} ({event_key}) by {', '.join(predictors)}",
        notes=_exclusion_notes(excluded) + _small_group_notes(pm.group_sizes, min_cell),
        outcome=outcome,
        predictors=list(predictors),
        event=event_key,
        levels=["other", event_key],
        reference=pm.reference,
        n_excluded=excluded,
        log_likelihood=llf,
        null_log_likelihood=llnull,
        pseudo_r2=1 - llf / llnull if llnull else math.nan,
        converged=converged,
        level=level,
        covariance=covariance,
        group_sizes=pm.group_sizes,
    )


class _WeightedOrderedModel(OrderedModel):  # type: ignore[misc]
    """OrderedModel whose log-likelihood contributions are multiplied by survey weights."""

    obs_weights: FloatArray | None = None

    def loglikeobs(self, params: FloatArray) -> FloatArray:
        ll: FloatArray = super().loglikeobs(params)
        return ll if self.obs_weights is None else ll * self.obs_weights


def ologit(
    data: pl.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    weights: str | None = None,
    *,
    order: Sequence[object] | None = None,
    categorical: Sequence[str] = (),
    reference: Mapping[str, object] | None = None,
    level: float = 0.95,
    strata: str | None = None,
    cluster: str | None = None,
    min_cell: int | None = 10,
    title: str | None = None,
) -> OrdinalResult:
    """Proportional-odds (cumulative logit) regression: P(y <= j) = F(cut_j - x b).

    A positive estimate moves respondents towards higher categories; its odds ratio is the
    common odds ratio of answering above any cut point. ``order`` lists the outcome's categories
    from lowest to highest (default: numeric or alphabetical order of the values present).
    The cut points are reported as ``cut[a|b]`` on the log-odds scale.
    """
    reference = dict(reference or {})
    sub, ok, design, excluded = _prepare(data, outcome, predictors, weights, strata, cluster)
    series = sub[outcome]
    if isinstance(series.dtype, pl.Categorical | pl.Enum):
        series = series.cast(pl.String)
    keys = cols.keys_of(series)
    present = [cols.value_key(v) for v in cols.category_values(sub, outcome)]
    levels = [cols.value_key(v) for v in order] if order is not None else present
    unknown = sorted(set(present) - set(levels))
    if unknown:
        raise InputError(f"outcome {outcome!r} has value(s) {unknown} missing from the given order")
    empty = [lv for lv in levels if lv not in present]
    if empty:
        raise InputError(
            f"empty group: no respondent in the analysis answered {outcome!r} = {empty}; "
            "the cut points around an empty category cannot be estimated",
            hint="merge it with a neighbouring category",
        )
    if len(levels) < 2:
        raise InputError(f"ordinal outcome {outcome!r} has a single category: nothing to model")
    y = np.fromiter(
        ({lv: i for i, lv in enumerate(levels)}[k] for k in keys),
        dtype=np.int64,
        count=keys.shape[0],
    )
    pm = _predictor_matrix(sub, predictors, categorical, reference)
    _check_rank(np.column_stack([np.ones(sub.height), pm.x]), ["const", *pm.terms])
    constant = _constant_level(pm, y, extremes_only=True)
    if constant:
        raise InputError(
            constant.format(outcome=outcome) + " (at the end of the scale)",
            hint="merge the category with another, or merge the outcome's extreme categories",
        )
    model = _WeightedOrderedModel(y, pm.x, distr="logit")
    w = design.weights[ok] if design.weights is not None else None
    model.obs_weights = w
    fitted = _fit_quietly(
        lambda: model.fit(method="bfgs", disp=False, maxiter=2000), "ordinal logit"
    )
    params = np.asarray(fitted.params)
    k = pm.x.shape[1]
    converged = bool(fitted.mle_retvals.get("converged", True))
    beta = params[:k]
    if not converged or np.any(np.abs(beta * pm.x.std(axis=0)) > _DIVERGED):
        raise InputError(
            f"ordinal logit for {outcome!r} diverged: some predictor category (nearly) perfectly "
            "predicts the answer (separation)",
            hint="merge sparse categories of the predictors or the outcome",
        )
    if w is None and design.strata is None and design.clusters is None:
        cov = np.asarray(fitted.cov_params())
        covariance = "inverse information"
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            bread = -np.asarray(model.hessian(params))
            scores = np.asarray(model.score_obs(params))
        cov = _sandwich(bread, scores, ok, design)
        covariance = "linearised (sandwich) over the design"
    # cut points: statsmodels stores the first and then log increments; report the cuts themselves
    raw = params[k:]
    with np.errstate(over="ignore"):
        increments = np.exp(raw[1:])
    if not np.all(np.isfinite(increments)) or not np.all(np.isfinite(cov)):
        raise InputError(
            f"ordinal logit for {outcome!r} diverged: its cut points are not identified",
            hint="merge sparse categories of the outcome",
        )
    cuts = np.cumsum(np.concatenate([[raw[0]], increments]))
    jac = np.zeros((len(raw), len(raw)))
    for i in range(len(raw)):
        jac[i, 0] = 1.0
        jac[i, 1 : i + 1] = increments[:i]
    cov_beta = cov[:k, :k]
    cov_cuts = jac @ cov[k:, k:] @ jac.T
    est = np.concatenate([beta, cuts])
    se = np.sqrt(np.concatenate([np.diag(cov_beta), np.diag(cov_cuts)]))
    cut_terms = [f"cut[{levels[i]}|{levels[i + 1]}]" for i in range(len(levels) - 1)]
    table = _table([*pm.terms, *cut_terms], est, se, level, [True] * k + [False] * len(cut_terms))
    llf = float(fitted.llf)
    counts = np.bincount(y, weights=w, minlength=len(levels)).astype(np.float64)
    shares = counts / counts.sum()
    ww = w if w is not None else np.ones(sub.height)
    llnull = float(np.sum(ww * np.log(shares[y])))
    return OrdinalResult(
        table=table,
        variables=[outcome, *predictors],
        n=sub.height,
        weights=weights,
        title=title or f"{outcome} by {', '.join(predictors)}",
        notes=_exclusion_notes(excluded) + _small_group_notes(pm.group_sizes, min_cell),
        outcome=outcome,
        predictors=list(predictors),
        event=None,
        levels=levels,
        reference=pm.reference,
        n_excluded=excluded,
        log_likelihood=llf,
        null_log_likelihood=llnull,
        pseudo_r2=1 - llf / llnull if llnull else math.nan,
        converged=converged,
        level=level,
        covariance=covariance,
        group_sizes=pm.group_sizes,
    )

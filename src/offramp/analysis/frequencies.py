"""One-way frequency tables and multiple-response tables, weighted or not, with honest intervals.

Bases, because they are what readers misread most:
- "not shown" (skip logic) is outside the base entirely: those people were never asked;
- ``percent`` is of everyone shown the question, so "prefer not to say", "don't know" and
  "no answer" appear as rows and add up with the answers to 100;
- ``valid_percent`` and its interval are of substantive answers only.

Intervals are Wilson score intervals. With weights, the proportion's variance is linearised
(offramp.analysis._survey) and the Wilson interval uses the matching effective sample size, so the
design effect of unequal weights, strata and clusters widens the interval as it should.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from offramp.analysis import _columns as cols
from offramp.analysis._result import Result
from offramp.analysis._survey import (
    Design,
    design_from,
    effective_n,
    kish_effective_n,
    mean_and_variance,
    wilson,
)
from offramp.analysis.suppression import DEFAULT_MIN_CELL, apply_mask, suppression_mask
from offramp.errors import InputError

_MISSING_ROWS = (cols.REFUSED_KIND, cols.DONT_KNOW_KIND, cols.UNANSWERED)
_CODE_OF_KIND = {v: str(k) for k, v in cols.KIND_OF_CODE.items()}
_DEFF_METHODS = ("linearised", "kish")


@dataclass(kw_only=True)
class FrequencyResult(Result):
    """A one-way table. ``table`` columns: value, label, kind, n, count, percent, valid_percent,
    ci_low, ci_high, deff, suppressed (percentages and interval bounds on the 0-100 scale)."""

    KIND = "frequencies"

    n_shown: int
    n_valid: int
    n_not_shown: int
    weighted_base: float
    weighted_valid: float
    effective_n: float
    ci_method: str
    level: float

    def statistics(self) -> dict[str, Any]:
        return {
            "n_shown": self.n_shown,
            "n_valid": self.n_valid,
            "n_not_shown": self.n_not_shown,
            "weighted_base": self.weighted_base,
            "weighted_valid": self.weighted_valid,
            "effective_n": self.effective_n,
            "ci_method": self.ci_method,
            "level": self.level,
        }


@dataclass(kw_only=True)
class MultipleResponseResult(Result):
    """A multiple-response table over ``var__choice`` 0/1 columns. ``table`` columns: choice,
    column, label, n, count, percent_of_cases, percent_of_responses, ci_low, ci_high, suppressed."""

    KIND = "multiple_response"

    n_cases: int
    n_responses: int
    n_no_selection: int
    n_not_shown: int
    n_refused: int
    n_dont_know: int
    n_unanswered: int
    weighted_cases: float
    ci_method: str
    level: float

    def statistics(self) -> dict[str, Any]:
        return {
            "n_cases": self.n_cases,
            "n_responses": self.n_responses,
            "n_no_selection": self.n_no_selection,
            "n_not_shown": self.n_not_shown,
            "n_refused": self.n_refused,
            "n_dont_know": self.n_dont_know,
            "n_unanswered": self.n_unanswered,
            "weighted_cases": self.weighted_cases,
            "ci_method": self.ci_method,
            "level": self.level,
        }


def _proportion_ci(
    indicator: np.ndarray[Any, np.dtype[np.float64]],
    domain: np.ndarray[Any, np.dtype[np.bool_]],
    design: Design,
    count: float,
    base: float,
    n_domain: int,
    kish_n: float,
    deff_method: str,
    level: float,
) -> tuple[float, float, float]:
    """(ci_low, ci_high, deff) for the proportion count/base, in proportions."""
    if base <= 0 or n_domain == 0:
        return math.nan, math.nan, math.nan
    if not design.weighted:
        lo, hi = wilson(count / base, base, level)
        return lo, hi, math.nan
    p, var = mean_and_variance(indicator, domain, design)
    n_eff, deff = effective_n(p, var, n_domain, kish_n, deff_method)
    lo, hi = wilson(p, n_eff, level)
    return lo, hi, deff


def frequencies(
    data: pl.DataFrame,
    var: str,
    weights: str | None = None,
    *,
    labels: cols.Labels | None = None,
    level: float = 0.95,
    min_cell: int | None = DEFAULT_MIN_CELL,
    design_effect: str = "linearised",
    strata: str | None = None,
    cluster: str | None = None,
    max_categories: int | None = None,
    title: str | None = None,
) -> FrequencyResult:
    """Counts, percent of those shown, valid percent and its Wilson interval for one variable.

    ``weights`` names a column of design (or raked) weights; ``strata``/``cluster`` name design
    columns for the linearised variance. ``design_effect`` is "linearised" (per-category
    Korn-Graubard effective n) or "kish" (one effective n from the weights alone). ``min_cell``
    suppresses cells of fewer respondents (None turns suppression off).
    """
    cols.require_columns(data, [var])
    if design_effect not in _DEFF_METHODS:
        raise InputError(f"design_effect must be one of {_DEFF_METHODS}, not {design_effect!r}")
    cols.check_not_free_text(data, var, max_distinct=max_categories)
    design = design_from(data, weights, strata=strata, cluster=cluster)
    w = design.w(data.height)
    kind = cols.kinds(data, var)
    shown = kind != cols.NOT_SHOWN_KIND
    valid = kind == cols.VALID
    n_valid = int(valid.sum())
    w_shown = float(w[shown].sum())
    w_valid = float(w[valid].sum())
    kish_n = kish_effective_n(w[valid]) if n_valid else 0.0

    series = data[var]
    if isinstance(series.dtype, pl.Categorical | pl.Enum):
        series = series.cast(pl.String)
    keys = cols.keys_of(series)
    values = cols.category_values(data, var)
    value_keys = [cols.value_key(v) for v in values]
    if labels and var in labels:  # choices nobody picked are information too
        for key in labels[var].get("values") or {}:
            key = str(key)
            if key not in value_keys and key not in _CODE_OF_KIND.values():
                value_keys.append(key)

    rows: list[dict[str, Any]] = []
    for key in value_keys:
        hit = valid & (keys == key)
        n = int(hit.sum())
        count = float(w[hit].sum())
        lo, hi, deff = _proportion_ci(
            hit.astype(np.float64),
            valid,
            design,
            count,
            w_valid if design.weighted else n_valid,
            n_valid,
            kish_n,
            design_effect,
            level,
        )
        rows.append(
            {
                "value": key,
                "label": cols.value_label(labels, var, key),
                "kind": cols.VALID,
                "n": n,
                "count": count,
                "percent": 100 * count / w_shown if w_shown else math.nan,
                "valid_percent": 100 * count / w_valid if w_valid else math.nan,
                "ci_low": 100 * lo,
                "ci_high": 100 * hi,
                "deff": deff,
            }
        )
    for missing in _MISSING_ROWS:
        hit = kind == missing
        n = int(hit.sum())
        if n == 0:
            continue
        count = float(w[hit].sum())
        code = _CODE_OF_KIND.get(missing)
        rows.append(
            {
                "value": code,
                "label": cols.value_label(labels, var, code) if code else None,
                "kind": missing,
                "n": n,
                "count": count,
                "percent": 100 * count / w_shown if w_shown else math.nan,
                "valid_percent": None,
                "ci_low": None,
                "ci_high": None,
                "deff": None,
            }
        )
    for row in rows:
        if row["label"] is None and row["kind"] != cols.VALID:
            row["label"] = cols.KIND_LABELS[row["kind"]]
    table = pl.DataFrame(rows, schema=_FREQ_SCHEMA, orient="row") if rows else _empty_freq()

    notes: list[str] = []
    suppressed = 0
    if min_cell:
        n_arr = table["n"].to_numpy().astype(np.int64)
        valid_idx = [i for i, k in enumerate(table["kind"].to_list()) if k == cols.VALID]
        mask = suppression_mask(n_arr, [valid_idx, list(range(table.height))], min_cell)
        suppressed = int(mask.sum())
        table = apply_mask(table, mask, _FREQ_VALUE_COLUMNS)
        if suppressed:
            notes.append(
                f"{suppressed} cell(s) based on fewer than {min_cell} respondents suppressed"
            )
    else:
        table = table.with_columns(pl.lit(False).alias("suppressed"))
    n_not_shown = int((~shown).sum())
    if n_not_shown:
        notes.append(f"{n_not_shown} respondent(s) not shown the question are outside the base")
    if not design.weighted:
        table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias("deff"))
    return FrequencyResult(
        table=table,
        variables=[var],
        n=int(shown.sum()),
        weights=weights,
        title=title or cols.variable_label(labels, var) or var,
        notes=notes,
        min_cell=min_cell,
        suppressed_cells=suppressed,
        n_shown=int(shown.sum()),
        n_valid=n_valid,
        n_not_shown=n_not_shown,
        weighted_base=w_shown,
        weighted_valid=w_valid,
        effective_n=kish_n if design.weighted else float(n_valid),
        ci_method=_ci_method(design, design_effect),
        level=level,
    )


def _ci_method(design: Design, deff_method: str) -> str:
    if not design.weighted:
        return "wilson"
    return f"wilson, effective n ({deff_method})"


_FREQ_SCHEMA: dict[str, Any] = {
    "value": pl.String,
    "label": pl.String,
    "kind": pl.String,
    "n": pl.Int64,
    "count": pl.Float64,
    "percent": pl.Float64,
    "valid_percent": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "deff": pl.Float64,
}
_FREQ_VALUE_COLUMNS = ["n", "count", "percent", "valid_percent", "ci_low", "ci_high", "deff"]


def _empty_freq() -> pl.DataFrame:
    return pl.DataFrame(schema=_FREQ_SCHEMA)


def choice_columns(data: pl.DataFrame, var: str) -> list[str]:
    """The ``var__choice`` dummy columns of a multi-select question, in dataset order."""
    prefix = f"{var}__"
    found = [c for c in data.columns if c.startswith(prefix)]
    if not found:
        candidates = sorted({c.split("__", 1)[0] for c in data.columns if "__" in c})
        message = cols.unknown_column_message(var, candidates, role="multiple-response variable")
        raise InputError(
            message.replace("the dataset has no such column", f"no columns named {prefix}<choice>")
        )
    return found


def multiple_response(
    data: pl.DataFrame,
    var: str,
    weights: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    labels: cols.Labels | None = None,
    level: float = 0.95,
    min_cell: int | None = DEFAULT_MIN_CELL,
    design_effect: str = "linearised",
    strata: str | None = None,
    cluster: str | None = None,
    title: str | None = None,
) -> MultipleResponseResult:
    """Percent of cases and percent of responses for a multi-select question.

    Cases are respondents shown the question who selected at least one choice (the SPSS MULT
    RESPONSE convention); those who selected none, refused, said don't know or skipped are counted
    in the statistics but are not cases. The interval is for percent of cases.
    """
    names = list(columns) if columns is not None else choice_columns(data, var)
    cols.require_columns(data, names)
    design = design_from(data, weights, strata=strata, cluster=cluster)
    w = design.w(data.height)
    selected = np.zeros((data.height, len(names)), dtype=bool)
    kind_matrix = np.empty((data.height, len(names)), dtype=object)
    for j, name in enumerate(names):
        dtype = data.schema[name]
        if not dtype.is_numeric() and dtype != pl.Boolean:
            raise InputError(f"multiple-response column {name!r} must hold 0/1, not {dtype}")
        k = cols.kinds(data, name)
        kind_matrix[:, j] = k
        vals = data[name].cast(pl.Float64).fill_null(0.0).fill_nan(0.0).to_numpy()
        bad = (k == cols.VALID) & ~np.isin(vals, (0.0, 1.0))
        if bad.any():
            raise InputError(
                f"multiple-response column {name!r} holds {vals[bad][0]!r} at row "
                f"{int(np.flatnonzero(bad)[0]) + 1}; expected 0, 1 or a missing code"
            )
        selected[:, j] = (k == cols.VALID) & (vals == 1.0)
    case = np.asarray(selected.any(axis=1), dtype=bool)
    any_valid = (kind_matrix == cols.VALID).any(axis=1)
    row_kind = np.where(case, cols.VALID, "")
    # a row without selections takes the kind its columns agree on (the first non-valid one)
    for missing in (cols.NOT_SHOWN_KIND, cols.REFUSED_KIND, cols.DONT_KNOW_KIND, cols.UNANSWERED):
        hit = ~case & (row_kind == "") & (kind_matrix == missing).any(axis=1) & ~any_valid
        row_kind = np.where(hit, missing, row_kind)
    no_selection = ~case & (row_kind == "")
    n_cases = int(case.sum())
    w_cases = float(w[case].sum())
    kish_n = kish_effective_n(w[case]) if n_cases else 0.0
    w_responses = float((selected * w[:, None]).sum())

    rows: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        hit = selected[:, j]
        count = float(w[hit].sum())
        choice = name[len(var) + 2 :] if name.startswith(f"{var}__") else name
        lo, hi, _ = _proportion_ci(
            hit.astype(np.float64),
            case,
            design,
            count,
            w_cases if design.weighted else n_cases,
            n_cases,
            kish_n,
            design_effect,
            level,
        )
        label = cols.value_label(labels, var, choice) or cols.variable_label(labels, name)
        rows.append(
            {
                "choice": choice,
                "column": name,
                "label": label,
                "n": int(hit.sum()),
                "count": count,
                "percent_of_cases": 100 * count / w_cases if w_cases else math.nan,
                "percent_of_responses": 100 * count / w_responses if w_responses else math.nan,
                "ci_low": 100 * lo,
                "ci_high": 100 * hi,
            }
        )
    table = pl.DataFrame(rows, schema=_MR_SCHEMA, orient="row")
    notes: list[str] = []
    suppressed = 0
    if min_cell:
        mask = suppression_mask(table["n"].to_numpy().astype(np.int64), [], min_cell)
        suppressed = int(mask.sum())
        table = apply_mask(
            table,
            mask,
            ["n", "count", "percent_of_cases", "percent_of_responses", "ci_low", "ci_high"],
        )
        if suppressed:
            notes.append(
                f"{suppressed} cell(s) based on fewer than {min_cell} respondents suppressed"
            )
    else:
        table = table.with_columns(pl.lit(False).alias("suppressed"))
    if n_cases and min_cell and n_cases < min_cell:
        notes.append(f"only {n_cases} cases: percentages rest on fewer than {min_cell} respondents")
    return MultipleResponseResult(
        table=table,
        variables=[var],
        n=n_cases,
        weights=weights,
        title=title or cols.variable_label(labels, var) or var,
        notes=notes,
        min_cell=min_cell,
        suppressed_cells=suppressed,
        n_cases=n_cases,
        n_responses=int(selected.sum()),
        n_no_selection=int(no_selection.sum()),
        n_not_shown=int((row_kind == cols.NOT_SHOWN_KIND).sum()),
        n_refused=int((row_kind == cols.REFUSED_KIND).sum()),
        n_dont_know=int((row_kind == cols.DONT_KNOW_KIND).sum()),
        n_unanswered=int((row_kind == cols.UNANSWERED).sum()),
        weighted_cases=w_cases,
        ci_method=_ci_method(design, design_effect),
        level=level,
    )


_MR_SCHEMA: dict[str, Any] = {
    "choice": pl.String,
    "column": pl.String,
    "label": pl.String,
    "n": pl.Int64,
    "count": pl.Float64,
    "percent_of_cases": pl.Float64,
    "percent_of_responses": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}

__all__ = [
    "FrequencyResult",
    "MultipleResponseResult",
    "choice_columns",
    "frequencies",
    "multiple_response",
]

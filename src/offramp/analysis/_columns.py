"""Reading survey columns: which values are answers and which are the reasons an answer is missing.

Every estimator needs the same first step: split a column into substantive answers and the four
kinds of missing (offramp.data.codes). Doing it once, here, keeps "prefer not to say" from being
averaged into a mean in one table and silently dropped in another.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from offramp.data.codes import CODE_LABELS, DONT_KNOW, NOT_SHOWN, REFUSED
from offramp.errors import InputError

VALID: Final = "valid"
REFUSED_KIND: Final = "refused"
DONT_KNOW_KIND: Final = "dont_know"
NOT_SHOWN_KIND: Final = "not_shown"
UNANSWERED: Final = "unanswered"

KIND_OF_CODE: Final[dict[int, str]] = {
    REFUSED: REFUSED_KIND,
    DONT_KNOW: DONT_KNOW_KIND,
    NOT_SHOWN: NOT_SHOWN_KIND,
}
KIND_LABELS: Final[dict[str, str]] = {
    REFUSED_KIND: CODE_LABELS[REFUSED],
    DONT_KNOW_KIND: CODE_LABELS[DONT_KNOW],
    NOT_SHOWN_KIND: CODE_LABELS[NOT_SHOWN],
    UNANSWERED: "No answer",
}

Labels = Mapping[str, Mapping[str, Any]]
"""Optional labels: ``{var: {"label": "Question text", "values": {"1": "Yes", ...}}}``.

Value keys are compared as strings, so ``{"1": "Yes"}`` labels the number 1 and the text "1".
"""

FREE_TEXT_MIN_DISTINCT: Final = 50
"""A text column with more distinct answers than this is treated as free text, not categories."""


def require_columns(data: pl.DataFrame, names: Sequence[str], *, role: str = "variable") -> None:
    """Raise one InputError naming every missing column, with the closest existing names."""
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise InputError(unknown_column_message(missing[0], data.columns, role=role))


def unknown_column_message(name: str, columns: Sequence[str], *, role: str = "variable") -> str:
    """ "unknown variable 'agee'; did you mean 'age'?" — difflib over the dataset's columns."""
    close = difflib.get_close_matches(name, list(columns), n=3, cutoff=0.6)
    message = f"unknown {role} {name!r}: the dataset has no such column"
    if close:
        message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return message


def is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def kind_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """A String expression: valid, refused, dont_know, not_shown or unanswered, per row."""
    col = pl.col(name)
    if dtype == pl.Null:  # a column nobody answered
        return col.cast(pl.String).fill_null(pl.lit(UNANSWERED))
    if is_text(dtype):
        by_text = {str(code): kind for code, kind in KIND_OF_CODE.items()}
        kind_of_text = col.cast(pl.String).replace_strict(
            by_text, default=VALID, return_dtype=pl.String
        )
        return pl.when(col.is_null()).then(pl.lit(UNANSWERED)).otherwise(kind_of_text)
    if dtype == pl.Boolean:
        return pl.when(col.is_null()).then(pl.lit(UNANSWERED)).otherwise(pl.lit(VALID))
    if dtype.is_numeric():
        number = col.cast(pl.Float64)
        by_number = {float(code): kind for code, kind in KIND_OF_CODE.items()}
        kind_of_number = number.replace_strict(by_number, default=VALID, return_dtype=pl.String)
        return (
            pl.when(col.is_null() | number.is_nan())
            .then(pl.lit(UNANSWERED))
            .otherwise(kind_of_number)
        )
    raise InputError(
        f"column {name!r} has type {dtype}, which offramp cannot tabulate; "
        "expected numbers, text or true/false"
    )


def kinds(data: pl.DataFrame, name: str) -> npt.NDArray[np.str_]:
    """The missing kind of every row of one column, as a numpy array of strings."""
    return data.select(kind_expr(name, data.schema[name]).alias("k"))["k"].to_numpy()


def valid_mask(data: pl.DataFrame, names: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Rows where every named column holds a substantive answer (listwise deletion)."""
    if not names:
        return np.ones(data.height, dtype=bool)
    exprs = [kind_expr(n, data.schema[n]) == VALID for n in names]
    return data.select(pl.all_horizontal(exprs).alias("ok"))["ok"].to_numpy().astype(bool)


def exclusion_counts(data: pl.DataFrame, names: Sequence[str]) -> dict[str, int]:
    """How many rows listwise deletion drops, by the first missing kind met (for the table note)."""
    counts: dict[str, int] = {}
    if not names:
        return counts
    first = pl.lit(VALID)
    for n in reversed(names):
        k = kind_expr(n, data.schema[n])
        first = pl.when(k != VALID).then(k).otherwise(first)
    col = data.select(first.alias("k"))["k"]
    for kind, count in col.value_counts().iter_rows():
        if kind != VALID:
            counts[str(kind)] = int(count)
    return counts


def value_key(value: object) -> str:
    """A value as the string used for labels and JSON: 1.0 -> "1", True -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def keys_of(series: pl.Series) -> npt.NDArray[np.object_]:
    """Every value of a column as its value_key string (None for null), vectorised.

    Must agree with value_key: whole floats lose their ".0", booleans are "true"/"false"."""
    dtype = series.dtype
    s = series.to_frame("v")
    if dtype == pl.Boolean:
        expr = pl.when(pl.col("v")).then(pl.lit("true")).otherwise(pl.lit("false"))
        expr = pl.when(pl.col("v").is_null()).then(None).otherwise(expr)
    elif dtype.is_float():
        v = pl.col("v")
        whole = v.is_finite() & (v == v.floor())
        expr = pl.when(whole).then(v.cast(pl.Int64).cast(pl.String)).otherwise(v.cast(pl.String))
    else:
        expr = pl.col("v").cast(pl.String)
    out: npt.NDArray[np.object_] = s.select(expr.alias("k"))["k"].to_numpy().astype(object)
    return out


def value_label(labels: Labels | None, var: str, value: object) -> str | None:
    if not labels or var not in labels:
        return None
    values = labels[var].get("values") or {}
    label = values.get(value_key(value))
    return None if label is None else str(label)


def variable_label(labels: Labels | None, var: str) -> str | None:
    if not labels or var not in labels:
        return None
    label = labels[var].get("label")
    return None if label is None else str(label)


def sort_values(values: Sequence[object]) -> list[object]:
    """Numbers ascending, then text alphabetically: the order a codebook usually lists choices."""

    def key(v: object) -> tuple[int, float, str]:
        if isinstance(v, bool):
            return (0, float(v), "")
        if isinstance(v, int | float):
            return (0, float(v), "")
        return (1, 0.0, str(v))

    return sorted(values, key=key)


def check_not_free_text(data: pl.DataFrame, name: str, *, max_distinct: int | None = None) -> None:
    """Refuse to tabulate a column that is evidently free text: its table would identify people."""
    dtype = data.schema[name]
    if not is_text(dtype):
        return
    limit = FREE_TEXT_MIN_DISTINCT if max_distinct is None else max_distinct
    col = data.select(name)
    valid = col.filter(kind_expr(name, dtype) == VALID)[name]
    distinct = valid.n_unique()
    if distinct > limit:
        raise InputError(
            f"column {name!r} looks like free text ({distinct} distinct answers), so it cannot be "
            "cross-tabulated or counted as categories",
            hint="code the answers first (offramp.analysis.coding) and tabulate the codes, "
            "or raise max_categories if these really are categories",
        )


def category_values(data: pl.DataFrame, name: str) -> list[object]:
    """Distinct substantive values of a column, in codebook order."""
    col = data.select(name)
    valid = col.filter(kind_expr(name, data.schema[name]) == VALID)[name]
    if isinstance(valid.dtype, pl.Categorical | pl.Enum):
        valid = valid.cast(pl.String)
    return sort_values(valid.unique().to_list())

"""The shape every analysis returns: a Polars table plus named statistics, serialisable to JSON.

The report stage renders the JSON without importing the estimators, so the dictionary layout is a
contract (documented in docs/analysis.md, "Results JSON"); change it only with RESULTS_SCHEMA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

import numpy as np
import polars as pl

RESULTS_SCHEMA = "offramp.analysis.results/1"


def json_safe(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null (JSON has neither); numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _column_type(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_numeric():
        return "number"
    return "string"


def table_to_dict(table: pl.DataFrame) -> dict[str, Any]:
    return {
        "columns": [{"name": n, "type": _column_type(t)} for n, t in table.schema.items()],
        "rows": [json_safe(row) for row in table.iter_rows(named=True)],
    }


@dataclass(kw_only=True)
class Result:
    """Common part of every result: what was analysed, on how many respondents, and the table."""

    KIND: ClassVar[str] = "result"

    table: pl.DataFrame
    variables: list[str]
    n: int
    weights: str | None = None
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    min_cell: int | None = None
    suppressed_cells: int = 0

    def __post_init__(self) -> None:
        # a number that does not exist is null, never NaN, in every published table
        floats = [n for n, t in self.table.schema.items() if t.is_float()]
        if floats:
            self.table = self.table.with_columns(pl.col(floats).fill_nan(None))

    def statistics(self) -> dict[str, Any]:
        """Scalar statistics of the analysis (overridden by each kind)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.KIND,
            "title": self.title,
            "variables": list(self.variables),
            "weights": self.weights,
            "n": self.n,
            "statistics": json_safe(self.statistics()),
            "suppression": {"min_cell": self.min_cell, "suppressed_cells": self.suppressed_cells},
            "notes": list(self.notes),
        }
        out.update(table_to_dict(self.table))
        return out

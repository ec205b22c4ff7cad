"""The simplest report: one frequency table per question, self-contained HTML.

Used when no analysis plan is given (the demo); the plan-driven report builds on the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from offramp.data.codes import CODE_LABELS
from offramp.errors import InputError
from offramp.web.templating import render

_CSS_PATH = Path(__file__).resolve().parent.parent / "web" / "static" / "offramp.css"


def read_dataset(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise InputError("no such dataset", file=str(path))
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        if path.suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=0)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(
            f"cannot read dataset ({exc.__class__.__name__})", file=str(path)
        ) from None
    raise InputError("unknown dataset format", file=str(path), hint="use .csv or .parquet")


def frequency_rows(series: pl.Series, labels: dict[str, str]) -> list[dict[str, Any]]:
    as_text = series.cast(pl.Utf8)
    base = int(len(as_text) - (as_text == "-99").sum())
    rows = []
    counts = as_text.value_counts(sort=True)
    for value, count in counts.iter_rows():
        if value == "-99":
            continue
        if value is None:
            label = "No answer"
        elif value.lstrip("-").isdigit() and int(value) in CODE_LABELS:
            label = CODE_LABELS[int(value)]
        else:
            label = labels.get(value, value)
        rows.append({"label": label, "n": int(count), "pct": 100.0 * count / base if base else 0.0})
    return rows


def build_simple_report(data: pl.DataFrame, codebook: dict[str, Any] | None) -> str:
    tables = []
    variables = (codebook or {}).get("variables") or [
        {"name": c, "type": "text", "label": {}, "choices": []} for c in data.columns
    ]
    for variable in variables:
        if variable["type"] in ("meta", "text") or variable["name"] not in data.columns:
            continue
        labels = {
            c["value"]: next(iter(c["label"].values()), c["value"])
            for c in variable.get("choices", [])
        }
        if variable["type"] == "choice_dummy":
            labels = {"1": "Chosen", "0": "Not chosen"}
        title = next(iter(variable["label"].values()), variable["name"])
        if variable["type"] == "choice_dummy":
            choice_label = next(
                (
                    next(iter(c["label"].values()), c["value"])
                    for c in variable["choices"]
                    if c["value"] == variable["choice"]
                ),
                variable["choice"],
            )
            title = f"{title}: {choice_label}"
        tables.append(
            {
                "name": variable["name"],
                "title": title,
                "rows": frequency_rows(data[variable["name"]], labels),
            }
        )
    css = _CSS_PATH.read_text(encoding="utf-8")
    return render("simple_report.html", lang="en", tables=tables, n=data.height, css=css)

"""The codebook that travels with every export: what each column means and how it was asked.

JSON for programs (the analysis and report stages read it), HTML for people. Schema (version 1):
  {"codebook_version": 1, "instruments": [{"id", "version", "title"}],
   "missing_codes": {"-97": label, ...},
   "variables": [{"name", "question", "type", "label": {lang: text}, "choices": [{"value",
                  "label": {lang: text}, "missing"}], "choice": value|null, "relevant": expr|null,
                  "counts": {"valid", "null", "-97", "-98", "-99"}}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from offramp.data.codes import CODE_LABELS
from offramp.data.dataset import META_COLUMNS, columns_for
from offramp.survey.instrument import Instrument
from offramp.web.templating import render

META_LABELS = {
    "respondent": "Respondent number within this export (not an identifier)",
    "instrument_id": "Instrument id",
    "instrument_version": "Published version of the instrument",
    "language": "Language the survey was answered in",
    "arm": "Message experiment arm that led to the survey",
    "day": "Day of completion (no time is kept)",
    "seconds": "Seconds from consent to completion",
}


def _counts(data: pl.DataFrame, name: str) -> dict[str, int]:
    if name not in data.columns:
        return {}
    series = data[name]
    counts = {"null": int(series.null_count())}
    as_text = series.cast(pl.Utf8)
    for code in CODE_LABELS:
        counts[str(code)] = int((as_text == str(code)).sum())
    counts["valid"] = len(series) - sum(counts.values())
    return counts


def build_codebook(instruments: list[Instrument], versions: list[int], data: pl.DataFrame) -> dict[str, Any]:
    variables: list[dict[str, Any]] = [
        {"name": name, "question": None, "type": "meta", "label": {"en": META_LABELS[name]},
         "choices": [], "choice": None, "relevant": None, "counts": _counts(data, name)}
        for name in META_COLUMNS
    ]
    seen: set[str] = set()
    for instrument in instruments:
        for column in columns_for(instrument):
            if column.name in seen:
                continue
            seen.add(column.name)
            q = column.question
            variables.append(
                {
                    "name": column.name,
                    "question": q.name,
                    "type": q.type if column.choice is None else "choice_dummy",
                    "label": dict(q.label),
                    "choices": [
                        {"value": c.value, "label": dict(c.label), "missing": c.missing}
                        for c in q.choices
                    ],
                    "choice": column.choice,
                    "relevant": q.relevant,
                    "counts": _counts(data, column.name),
                }
            )
    return {
        "codebook_version": 1,
        "instruments": [
            {"id": i.id, "version": v, "title": dict(i.title)} for i, v in zip(instruments, versions, strict=True)
        ],
        "missing_codes": {str(k): v for k, v in CODE_LABELS.items()},
        "variables": variables,
    }


def write_codebook(codebook: dict[str, Any], stem: Path) -> list[Path]:
    json_path = stem.with_suffix(".codebook.json")
    html_path = stem.with_suffix(".codebook.html")
    json_path.write_text(json.dumps(codebook, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    html_path.write_text(render("codebook.html", lang="en", codebook=codebook), encoding="utf-8")
    return [json_path, html_path]


def read_codebook(dataset: Path) -> dict[str, Any] | None:
    """The codebook written beside a dataset, if any."""
    path = dataset.with_suffix(".codebook.json")
    if not path.exists():
        return None
    value = json.loads(path.read_text(encoding="utf-8"))
    return value if isinstance(value, dict) else None

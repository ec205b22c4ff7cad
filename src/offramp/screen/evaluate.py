"""Precision, recall, F1 and false-positive rate of a screener against labelled queries.

The labelled file has columns ``query`` and ``label`` (1/0, true/false, yes/no), optionally
``category`` (the category a positive should be blocked under) and ``kind`` (an obfuscation or
near-miss type, as written by ``offramp.synth.obfuscate.evaluation_set``). Results are given
overall, per category and per kind, with the confusion table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from offramp.errors import InputError
from offramp.screen.batch import screen_batch
from offramp.screen.matcher import Screener

_TRUE = {"1", "true", "yes", "y", "t", "blocked", "positive"}
_FALSE = {"0", "false", "no", "n", "f", "clear", "negative"}


@dataclass(frozen=True)
class Scores:
    """Confusion counts and the rates derived from them (None when undefined)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p is not None and r is not None and p + r else None

    @property
    def fpr(self) -> float | None:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1, "fpr": self.fpr,
        }  # fmt: skip


@dataclass
class Evaluation:
    overall: Scores
    by_category: dict[str, Scores] = field(default_factory=dict)
    by_kind: dict[str, Scores] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "by_category": {k: v.as_dict() for k, v in sorted(self.by_category.items())},
            "by_kind": {k: v.as_dict() for k, v in sorted(self.by_kind.items())},
        }


def _scores(truth: pl.Series, predicted: pl.Series) -> Scores:
    t, p = truth.to_list(), predicted.to_list()
    tp = sum(1 for a, b in zip(t, p, strict=True) if a and b)
    fp = sum(1 for a, b in zip(t, p, strict=True) if not a and b)
    fn = sum(1 for a, b in zip(t, p, strict=True) if a and not b)
    return Scores(tp, fp, fn, len(t) - tp - fp - fn)


def read_labelled(path: Path) -> pl.DataFrame:
    """Read a labelled CSV (or Parquet) file and check its columns and labels."""
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read labelled queries: {exc}", file=str(path)) from None
    missing = {"query", "label"} - set(frame.columns)
    if missing:
        raise InputError(f"missing column(s) {', '.join(sorted(missing))}", file=str(path),
                         hint="the file needs columns query,label[,category][,kind]")  # fmt: skip
    labels = []
    for i, value in enumerate(frame["label"].cast(pl.String).to_list(), start=2):
        text = (value or "").strip().lower()
        if text in _TRUE:
            labels.append(True)
        elif text in _FALSE:
            labels.append(False)
        else:
            raise InputError(f"label {value!r} is not 1/0 or true/false", file=str(path), line=i)
    return frame.with_columns(pl.Series("label", labels), pl.col("query").cast(pl.String))


def evaluate(screener: Screener, labelled: pl.DataFrame) -> Evaluation:
    """Screen every query (batch path) and score the verdicts against the labels."""
    verdicts = screen_batch(screener, labelled["query"])
    frame = labelled.with_columns(
        verdicts["blocked"].alias("predicted"), verdicts["categories"].alias("got")
    )
    result = Evaluation(_scores(frame["label"], frame["predicted"]))
    if "category" in frame.columns:
        for (category,), part in frame.filter(pl.col("category").is_not_null()).group_by(
            "category"
        ):
            # a positive counts as found for its category only when blocked under it
            hit = part["got"].list.contains(str(category))
            result.by_category[str(category)] = _scores(part["label"], hit)
    if "kind" in frame.columns:
        for (kind,), part in frame.group_by("kind"):
            result.by_kind[str(kind)] = _scores(part["label"], part["predicted"])
    return result

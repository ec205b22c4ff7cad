"""Run a checked plan over a dataset and collect the results document (schema in docs/analysis.md).

Errors from an estimator (separation, an empty group, ...) are re-raised with the plan's file and
line, so the researcher sees which table of the plan failed and why.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from offramp.analysis._result import RESULTS_SCHEMA, Result, json_safe
from offramp.analysis.coding import coding_agreement, load_coding
from offramp.analysis.crosstab import CrosstabResult, adjust_pvalues, crosstab
from offramp.analysis.frequencies import frequencies, multiple_response
from offramp.analysis.plan import Analysis, Plan, check_plan, labels_for, min_cell_setting
from offramp.analysis.regression import logit, ologit
from offramp.analysis.reliability import reliability
from offramp.analysis.themes import suggest_themes
from offramp.analysis.weighting import poststratify, rake
from offramp.errors import InputError


def load_dataset(path: str | Path) -> pl.DataFrame:
    """Read the exported dataset: Parquet, or CSV with the missing codes as written by export."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"dataset not found: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(p)
        if suffix == ".csv":
            return pl.read_csv(p, infer_schema_length=None)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"cannot read dataset {p}: {exc}") from None
    raise InputError(
        f"dataset {p} has extension {suffix or '(none)'}; use the .parquet or .csv file from "
        "offramp export"
    )


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _version() -> str:
    try:
        return metadata.version("offramp")
    except metadata.PackageNotFoundError:
        return "unknown"


def apply_weighting(plan: Plan, data: pl.DataFrame) -> pl.DataFrame:
    """Add the plan's derived weight columns (raking, post-stratification) to the data."""
    for w in plan.weighting:
        try:
            if w["method"] == "rake":
                series = rake(
                    data, w["margins"], w.get("base"), total=w.get("total"), name=w["name"]
                )
            else:
                series = poststratify(
                    data,
                    w["by"],
                    w["population"],
                    w.get("base"),
                    total=w.get("total"),
                    name=w["name"],
                )
        except InputError as exc:
            raise plan.error(w["_path"], exc.message, exc.hint) from None
        data = data.with_columns(series)
    return data


def _design(plan: Plan, spec: dict[str, Any], key: str) -> Any:
    return spec[key] if key in spec else getattr(plan, key)


def _run_one(plan: Plan, a: Analysis, data: pl.DataFrame) -> list[Result]:
    spec = a.spec
    labels = labels_for(plan)
    level = float(spec.get("level", plan.level))
    min_cell = plan.min_cell
    if "suppression" in spec:
        min_cell = min_cell_setting(plan.doc, (*a.path, "suppression"), spec["suppression"])
    weights = _design(plan, spec, "weights")
    title = spec.get("title")
    kind = a.kind
    if kind in ("frequencies", "multiple_response"):
        # One table per variable; both kinds share the survey-design options.
        names = spec["_variables"][1]
        table_options: dict[str, Any] = {
            "labels": labels,
            "level": level,
            "min_cell": min_cell,
            "design_effect": spec.get("design_effect", "linearised"),
            "strata": _design(plan, spec, "strata"),
            "cluster": _design(plan, spec, "cluster"),
            "title": title if len(names) == 1 else None,
        }
        if kind == "frequencies":
            return [
                frequencies(data, v, weights, max_categories=spec.get("max_categories"),
                            **table_options)
                for v in names
            ]
        return [multiple_response(data, v, weights, **table_options) for v in names]
    if kind == "crosstab":
        rows, cols_ = spec["_rows"][1], spec["_cols"][1]
        return [
            crosstab(
                data,
                r,
                c,
                weights,
                labels=labels,
                level=level,
                min_cell=min_cell,
                exact=spec.get("exact", "auto"),
                max_categories=spec.get("max_categories"),
                title=title if len(rows) * len(cols_) == 1 else None,
            )
            for r in rows
            for c in cols_
            if r != c
        ]
    if kind in ("logit", "ologit"):
        common: dict[str, Any] = {
            "categorical": spec.get("categorical") or (),
            "reference": spec.get("reference"),
            "level": level,
            "strata": _design(plan, spec, "strata"),
            "cluster": _design(plan, spec, "cluster"),
            "min_cell": min_cell,
            "title": title,
        }
        if kind == "logit":
            return [
                logit(
                    data,
                    spec["outcome"],
                    spec["predictors"],
                    weights,
                    event=spec.get("event"),
                    **common,
                )
            ]
        return [
            ologit(
                data,
                spec["outcome"],
                spec["predictors"],
                weights,
                order=spec.get("order"),
                **common,
            )
        ]
    if kind == "reliability":
        scale = spec.get("scale")
        return [
            reliability(
                data,
                spec["_items"][1],
                reverse=spec.get("reverse") or (),
                scale=(float(scale[0]), float(scale[1])) if scale else None,
                level=level,
                title=title,
            )
        ]
    if kind == "agreement":
        project = load_coding(Path(plan.path).parent / spec["coding"])
        return [coding_agreement(project, title=title)]
    if kind == "themes":
        names = spec["_variables"][1]
        return [
            suggest_themes(
                data,
                v,
                n_themes=spec.get("n_themes"),
                method=spec.get("method", "auto"),
                n_keywords=int(spec.get("n_keywords", 8)),
                min_df=int(spec.get("min_df", 2)),
                min_cell=min_cell,
                seed=int(spec.get("seed", 0)),
                title=title if len(names) == 1 else None,
            )
            for v in names
        ]
    raise plan.error(a.path, f"unknown analysis kind {kind!r}")  # load_plan already refuses these


def run_plan(
    plan: Plan,
    data: pl.DataFrame,
    *,
    dataset_path: str | Path | None = None,
    keep_going: bool = False,
    progress: Callable[[Analysis, float], None] | None = None,
) -> dict[str, Any]:
    """Check the plan against the data, run every analysis, and return the results document.

    With ``keep_going`` an analysis that fails is recorded as ``{"kind": ..., "error": ...}`` and
    the rest still run; otherwise the first failure raises an InputError naming the plan line.
    """
    check_plan(plan, data)
    data = apply_weighting(plan, data)
    sections: list[dict[str, Any]] = []
    for section in plan.sections:
        entries: list[tuple[Analysis, Result | InputError]] = []
        for a in section.analyses:
            started = time.perf_counter()
            try:
                results: list[Result | InputError] = list(_run_one(plan, a, data))
            except InputError as exc:
                located = plan.error(a.path, f"{a.kind}: {exc.message}", exc.hint)
                if not keep_going:
                    raise located from None
                results = [located]
            if progress is not None:
                progress(a, time.perf_counter() - started)
            entries.extend((a, r) for r in results)
        tables = [r for _, r in entries if isinstance(r, CrosstabResult)]
        adjustment = None
        if section.adjust != "none" and len(tables) > 1:
            adjusted = iter(adjust_pvalues(tables, section.adjust))
            entries = [
                (a, next(adjusted) if isinstance(r, CrosstabResult) else r) for a, r in entries
            ]
            adjustment = f"{section.adjust} over {len(tables)} crosstabs"
        out = []
        for n, (a, r) in enumerate(entries, start=1):
            body: dict[str, Any] = (
                {"kind": a.kind, "error": str(r)} if isinstance(r, InputError) else r.to_dict()
            )
            out.append({"id": f"s{a.section + 1}.{n}", "plan_line": a.line, **body})
        sections.append(
            {
                "title": section.title,
                "description": section.description,
                "adjustment": adjustment,
                "results": out,
            }
        )
    dataset: dict[str, Any] = {"rows": data.height, "columns": len(data.columns)}
    if dataset_path is not None:
        dataset.update(path=str(dataset_path), sha256=_sha256(dataset_path))
    document: dict[str, Any] = json_safe(
        {
            "schema": RESULTS_SCHEMA,
            "offramp_version": _version(),
            "title": plan.title,
            "plan": {"path": plan.path, "sha256": _sha256(plan.path)},
            "dataset": dataset,
            "defaults": {
                "min_cell": plan.min_cell,
                "level": plan.level,
                "weights": plan.weights,
                "strata": plan.strata,
                "cluster": plan.cluster,
            },
            "sections": sections,
        }
    )
    return document

"""Analysis plans: a YAML file listing, section by section, the tables a report needs.

The plan is checked whole against the dataset before anything is computed, so a typo in the last
table does not surface after minutes of work; every message names the plan file and line and,
for an unknown variable, the closest names in the dataset. The format is documented in
docs/analysis.md ("Plan file").
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from offramp.analysis import _columns as cols
from offramp.analysis._yamlfile import Located, Path_, load_yaml
from offramp.errors import InputError

PLAN_KEYS = {
    "version",
    "title",
    "labels",
    "weights",
    "strata",
    "cluster",
    "suppression",
    "level",
    "adjust",
    "weighting",
    "sections",
}
SECTION_KEYS = {"title", "adjust", "analyses", "description"}
COMMON_KEYS = {"kind", "title", "id", "description"}
_DESIGN = {"weights", "strata", "cluster"}
KIND_KEYS: dict[str, set[str]] = {
    "frequencies": {
        "variables",
        "variable",
        "suppression",
        "level",
        "design_effect",
        "max_categories",
        *_DESIGN,
    },
    "multiple_response": {
        "variables",
        "variable",
        "suppression",
        "level",
        "design_effect",
        *_DESIGN,
    },
    "crosstab": {
        "row",
        "col",
        "rows",
        "cols",
        "variables",
        "suppression",
        "level",
        "exact",
        "max_categories",
        "weights",
    },
    "logit": {
        "outcome",
        "predictors",
        "event",
        "categorical",
        "reference",
        "level",
        "suppression",
        *_DESIGN,
    },
    "ologit": {
        "outcome",
        "predictors",
        "order",
        "categorical",
        "reference",
        "level",
        "suppression",
        *_DESIGN,
    },
    "reliability": {"items", "variables", "reverse", "scale", "level"},
    "agreement": {"coding"},
    "themes": {
        "variable",
        "variables",
        "n_themes",
        "method",
        "n_keywords",
        "min_df",
        "suppression",
        "seed",
    },
}
ADJUST_METHODS = ("holm", "bh", "bonferroni", "none")
WEIGHTING_KEYS = {"name", "method", "base", "margins", "by", "population", "total"}


@dataclass
class Analysis:
    kind: str
    spec: dict[str, Any]
    path: Path_
    line: int | None
    section: int
    index: int


@dataclass
class Section:
    title: str
    adjust: str
    analyses: list[Analysis]
    description: str | None = None


@dataclass
class Plan:
    path: str
    doc: Located
    title: str | None
    sections: list[Section]
    weights: str | None = None
    strata: str | None = None
    cluster: str | None = None
    min_cell: int | None = 10
    level: float = 0.95
    labels: dict[str, Any] = field(default_factory=dict)
    weighting: list[dict[str, Any]] = field(default_factory=list)

    def error(self, path: Path_, message: str, hint: str | None = None) -> InputError:
        return self.doc.error(path, message, hint)


def _suggest(word: str, options: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=2, cutoff=0.6)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def min_cell_setting(doc: Located, path: Path_, value: Any) -> int | None:
    if value is False or value is None or value == 0:
        return None
    if value is True:
        return 10
    if isinstance(value, dict):
        value = value.get("k", value.get("min_cell", 10))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise doc.error(
            path, f"suppression must be false or a whole number of respondents, not {value!r}"
        )
    return value


def _level(doc: Located, path: Path_, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise doc.error(
            path, f"level must be a confidence level between 0 and 1, like 0.95, not {value!r}"
        )
    return float(value)


def load_plan(path: str | Path) -> Plan:
    """Parse and check a plan's structure (keys, kinds, types); variables are checked later."""
    return plan_from_document(load_yaml(path))


def plan_from_document(doc: Located) -> Plan:
    """`load_plan` for a document already read, e.g. a report plan whose report-only keys
    (charts, exclusions) offramp.report has taken out; messages still name the file and line."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "an analysis plan must be a YAML mapping with a 'sections' list")
    for key in data:
        if key not in PLAN_KEYS:
            raise doc.error((key,), f"unknown plan key {key!r}{_suggest(str(key), PLAN_KEYS)}")
    sections_raw = data.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        raise doc.error(("sections",), "the plan needs a non-empty 'sections' list")
    min_cell = min_cell_setting(doc, ("suppression",), data.get("suppression", 10))
    level = _level(doc, ("level",), data.get("level", 0.95))
    default_adjust = _adjust(doc, ("adjust",), data.get("adjust", "holm"))
    labels = _load_labels(doc, data.get("labels"))
    weighting = _weighting(doc, data.get("weighting"))
    sections: list[Section] = []
    for s, sec in enumerate(sections_raw):
        spath: Path_ = ("sections", s)
        if not isinstance(sec, dict):
            raise doc.error(spath, "each section must be a mapping with 'title' and 'analyses'")
        for key in sec:
            if key not in SECTION_KEYS:
                raise doc.error(
                    (*spath, key), f"unknown section key {key!r}{_suggest(str(key), SECTION_KEYS)}"
                )
        items = sec.get("analyses")
        if not isinstance(items, list) or not items:
            raise doc.error(spath, "each section needs a non-empty 'analyses' list")
        analyses = []
        for i, item in enumerate(items):
            apath: Path_ = (*spath, "analyses", i)
            analyses.append(_analysis(doc, apath, item, s, i))
        sections.append(
            Section(
                title=str(sec.get("title", f"Section {s + 1}")),
                adjust=_adjust(doc, (*spath, "adjust"), sec.get("adjust", default_adjust)),
                analyses=analyses,
                description=None if sec.get("description") is None else str(sec["description"]),
            )
        )
    return Plan(
        path=doc.file,
        doc=doc,
        title=None if data.get("title") is None else str(data["title"]),
        sections=sections,
        weights=_opt_str(doc, ("weights",), data.get("weights")),
        strata=_opt_str(doc, ("strata",), data.get("strata")),
        cluster=_opt_str(doc, ("cluster",), data.get("cluster")),
        min_cell=min_cell,
        level=level,
        labels=labels,
        weighting=weighting,
    )


def _opt_str(doc: Located, path: Path_, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise doc.error(path, f"expected a variable name, not {value!r}")
    return value


def _adjust(doc: Located, path: Path_, value: Any) -> str:
    value = "none" if value in (None, False) else value
    if value not in ADJUST_METHODS:
        raise doc.error(path, f"adjust must be one of {list(ADJUST_METHODS)}, not {value!r}")
    return str(value)


def _load_labels(doc: Located, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise doc.error(("labels",), "labels must be a file name or a mapping")
    p = Path(doc.file).parent / value
    try:
        text = p.read_text(encoding="utf-8")
        loaded = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except OSError as exc:
        raise doc.error(("labels",), f"cannot read labels file {p}: {exc.strerror}") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise doc.error(("labels",), f"labels file {p} is not valid: {exc}") from None
    if not isinstance(loaded, dict):
        raise doc.error(("labels",), f"labels file {p} must map variables to labels")
    if isinstance(loaded.get("variables"), dict):  # a codebook-like {"variables": {...}} wrapper
        loaded = loaded["variables"]
    return {str(k): v for k, v in loaded.items()}


def _weighting(doc: Located, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        path: Path_ = ("weighting", i) if isinstance(value, list) else ("weighting",)
        if not isinstance(item, dict):
            raise doc.error(path, "each weighting entry must be a mapping")
        for key in item:
            if key not in WEIGHTING_KEYS:
                raise doc.error(
                    (*path, key),
                    f"unknown weighting key {key!r}{_suggest(str(key), WEIGHTING_KEYS)}",
                )
        method = item.get("method", "rake")
        if method not in ("rake", "poststratify"):
            raise doc.error(
                (*path, "method"), f"weighting method must be rake or poststratify, not {method!r}"
            )
        if not isinstance(item.get("name"), str):
            raise doc.error(path, "a weighting entry needs 'name', the new weight column")
        if method == "rake" and not isinstance(item.get("margins"), dict):
            raise doc.error(path, "raking needs 'margins': {variable: {category: share}}")
        if method == "poststratify" and not (
            isinstance(item.get("by"), str) and isinstance(item.get("population"), dict)
        ):
            raise doc.error(path, "post-stratification needs 'by' (a variable) and 'population'")
        out.append({**item, "method": method, "_path": path})
    return out


def _analysis(doc: Located, path: Path_, item: Any, s: int, i: int) -> Analysis:
    if not isinstance(item, dict):
        raise doc.error(path, "each analysis must be a mapping with a 'kind'")
    kind = item.get("kind")
    if kind not in KIND_KEYS:
        raise doc.error(
            (*path, "kind"),
            f"unknown analysis kind {kind!r}{_suggest(str(kind), set(KIND_KEYS))}",
            hint=f"kinds: {', '.join(sorted(KIND_KEYS))}",
        )
    allowed = KIND_KEYS[kind] | COMMON_KEYS
    for key in item:
        if key not in allowed:
            raise doc.error(
                (*path, key), f"{kind} does not take {key!r}{_suggest(str(key), allowed)}"
            )
    spec = dict(item)
    _normalise_variables(doc, path, kind, spec)
    return Analysis(kind=str(kind), spec=spec, path=path, line=doc.line(path), section=s, index=i)


def _names(doc: Located, path: Path_, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise doc.error(path, f"expected a variable name or a list of names, not {value!r}")


def _normalise_variables(doc: Located, path: Path_, kind: str, spec: dict[str, Any]) -> None:
    """Fill spec['_vars'] with (key path, variable) pairs and the kind's canonical fields."""

    def take(*keys: str) -> tuple[str, list[str]] | None:
        for key in keys:
            if key in spec:
                return key, _names(doc, (*path, key), spec[key])
        return None

    if kind in ("frequencies", "multiple_response", "themes"):
        got = take("variables", "variable")
        if got is None:
            raise doc.error(path, f"{kind} needs 'variables' (a name or a list of names)")
        spec["_variables"] = got
    elif kind == "crosstab":
        if "variables" in spec:
            names = _names(doc, (*path, "variables"), spec["variables"])
            if len(names) != 2:
                raise doc.error((*path, "variables"), "a crosstab's 'variables' are [row, column]")
            spec["_rows"] = ("variables", names[:1])
            spec["_cols"] = ("variables", names[1:])
        else:
            rows, cols_ = take("rows", "row"), take("cols", "col")
            if rows is None or cols_ is None:
                raise doc.error(path, "a crosstab needs 'row' (or 'rows') and 'col' (or 'cols')")
            spec["_rows"], spec["_cols"] = rows, cols_
    elif kind in ("logit", "ologit"):
        if not isinstance(spec.get("outcome"), str):
            raise doc.error(path, f"{kind} needs 'outcome', one variable name")
        if "predictors" not in spec:
            raise doc.error(path, f"{kind} needs 'predictors', a list of variable names")
        spec["predictors"] = _names(doc, (*path, "predictors"), spec["predictors"])
        spec["categorical"] = (
            _names(doc, (*path, "categorical"), spec["categorical"])
            if spec.get("categorical")
            else []
        )
        if spec.get("reference") is not None and not isinstance(spec["reference"], dict):
            raise doc.error(
                (*path, "reference"), "reference maps a predictor to its reference level"
            )
    elif kind == "reliability":
        got = take("items", "variables")
        if got is None:
            raise doc.error(path, "reliability needs 'items', the battery's variables")
        spec["_items"] = got
        spec["reverse"] = (
            _names(doc, (*path, "reverse"), spec["reverse"]) if spec.get("reverse") else []
        )
        scale = spec.get("scale")
        if scale is not None and not (
            isinstance(scale, list)
            and len(scale) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in scale)
        ):
            raise doc.error((*path, "scale"), "scale is [lowest, highest], like [1, 5]")
    elif kind == "agreement" and not isinstance(spec.get("coding"), str):
        raise doc.error(path, "agreement needs 'coding', the coding project's YAML file")


def variable_references(plan: Plan, analysis: Analysis) -> list[tuple[Path_, str, str]]:
    """(yaml path, variable, role) for every dataset variable the analysis names."""
    spec, path = analysis.spec, analysis.path
    refs: list[tuple[Path_, str, str]] = []

    def add(key: str, names: list[str], role: str) -> None:
        refs.extend(((*path, key), n, role) for n in names)

    kind = analysis.kind
    if kind in ("frequencies", "themes"):
        add(spec["_variables"][0], spec["_variables"][1], "variable")
    elif kind == "crosstab":
        add(spec["_rows"][0], spec["_rows"][1], "crosstab row variable")
        add(spec["_cols"][0], spec["_cols"][1], "crosstab column variable")
    elif kind in ("logit", "ologit"):
        add("outcome", [spec["outcome"]], "outcome")
        add("predictors", spec["predictors"], "predictor")
    elif kind == "reliability":
        add(spec["_items"][0], spec["_items"][1], "item")
    for key in ("weights", "strata", "cluster"):
        if spec.get(key):
            add(key, [spec[key]], key.rstrip("s") + " variable")
    return refs


def check_plan(plan: Plan, data: pl.DataFrame) -> None:
    """Check every variable the plan names against the dataset, before computing anything."""
    derived = {w["name"] for w in plan.weighting}
    columns = list(data.columns)
    known = set(columns) | derived
    for w in plan.weighting:
        wpath = w["_path"]
        needed = [*(w.get("margins") or {}).keys(), *([w["by"]] if w.get("by") else [])]
        if w.get("base"):
            needed.append(w["base"])
        for name in needed:
            if name not in known:
                raise plan.error(wpath, cols.unknown_column_message(str(name), columns))
    for key in ("weights", "strata", "cluster"):
        name = getattr(plan, key)
        if name and name not in known:
            raise plan.error(
                (key,), cols.unknown_column_message(name, columns, role=f"{key} variable")
            )
    for section in plan.sections:
        for analysis in section.analyses:
            _check_analysis(plan, analysis, data, known)


def _check_analysis(plan: Plan, analysis: Analysis, data: pl.DataFrame, known: set[str]) -> None:
    columns = list(data.columns)
    for path, name, role in variable_references(plan, analysis):
        if name not in known:
            raise plan.error(path, cols.unknown_column_message(name, columns, role=role))
    spec = analysis.spec
    kind = analysis.kind
    if kind == "multiple_response":
        key, names = spec["_variables"]
        stems = sorted({c.split("__", 1)[0] for c in columns if "__" in c})
        for name in names:
            if not any(c.startswith(f"{name}__") for c in columns):
                msg = cols.unknown_column_message(name, stems, role="multiple-response variable")
                raise plan.error(
                    (*analysis.path, key),
                    msg.replace(
                        "the dataset has no such column",
                        f"the dataset has no {name}__<choice> columns",
                    ),
                )
    categorical: list[tuple[Path_, str]] = []
    if kind == "crosstab":
        categorical = [
            ((*analysis.path, spec[k][0]), n) for k in ("_rows", "_cols") for n in spec[k][1]
        ]
    elif kind == "frequencies":
        categorical = [((*analysis.path, spec["_variables"][0]), n) for n in spec["_variables"][1]]
    elif kind in ("logit", "ologit"):
        categorical = [((*analysis.path, "outcome"), spec["outcome"])]
        categorical += [((*analysis.path, "predictors"), p) for p in spec["predictors"]]
    elif kind == "themes":
        for n in spec["_variables"][1]:
            if n in data.columns and not cols.is_text(data.schema[n]):
                raise plan.error(
                    (*analysis.path, spec["_variables"][0]),
                    f"themes need a free-text column; {n!r} is {data.schema[n]}",
                )
    for path, name in categorical:
        if name in data.columns:
            try:
                cols.check_not_free_text(data, name, max_distinct=spec.get("max_categories"))
            except InputError as exc:
                raise plan.error(path, f"{kind}: {exc.message}", hint=exc.hint) from None


def labels_for(plan: Plan) -> Mapping[str, Mapping[str, Any]] | None:
    return plan.labels or None

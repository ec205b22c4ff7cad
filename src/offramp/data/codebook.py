"""The codebook that travels with every export: what each column means and how it was asked.

JSON for programs (the analysis and report stages read it), HTML for people, both written beside
the dataset as `<stem>.codebook.json` / `<stem>.codebook.html`.

Schema (version 1; every change since the first cut only ADDS keys, so readers of the first cut
keep working — the first-cut keys are marked *):

  {"codebook_version"*: 1,
   "instruments"*: [{"id"*, "version"*, "title"*, "default_language"}]
                                                every version in the export, newest first
   "languages": [lang, ...],
   "missing_codes"*: {"-97": label, "-98": label, "-99": label},
   "stata_missing": {"-97": ".a", "-98": ".b", "-99": ".c"},   extended missing values in .dta
   "spss_missing": [-97, -98, -99],                            user-missing values in .sav
   "quality": {settings, grids, attention_checks, duplicate_method, ..., flagged},
   "export": {"opened", "failed": {reason: n}, "warnings": {text: n}},
   "variables"*: [{
       "name"*,             column in CSV/Parquet/XLSX
       "stat_name",         column in .sav/.dta (legal there; differs only when it must)
       "question"*,         question name (null for meta and quality columns)
       "type"*,             question type; "choice_dummy" for a multi-select's 0/1 column;
                            "rank_position" for a rank question's per-choice column; "meta"
       "role",              "meta" | "quality" | "question"
       "label"*: {lang: question text}, "hint": {lang: text},
       "choices"*: [{"value"*, "label"*: {lang: text}, "missing"*, "code", "n"}],
                            code: the integer a select_one value has in .sav/.dta (the value
                            itself when every choice value is an integer, else 1..k in list
                            order; missing-kind choices take their reserved code);
                            n: how many respondents chose it (select_one only)
       "choice"*,           the choice a dummy/rank column stands for
       "relevant"*,         the question's own skip condition (expression) or null
       "page", "page_relevant",   its page and the page's condition (both must hold to be shown)
       "required", "constraint", "calculation", "appearance", "attention_check",
       "asked_in": [[instrument id, version], ...],
       "measure":           "nominal" | "ordinal" | "scale" (as SPSS records it)
       "counts"*: {"valid", "null", "-97", "-98", "-99"}}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import FileSystemLoader

from offramp.data.atomic import write_text_atomic
from offramp.data.codes import CODE_LABELS, DONT_KNOW, MISSING_CODES, NOT_SHOWN, REFUSED
from offramp.data.dataset import META_COLUMNS, ORDER, columns_for
from offramp.data.decrypt import OpenReport
from offramp.data.naming import stat_names
from offramp.data.quality import QUALITY_LABELS, QualityInfo
from offramp.survey.instrument import Choice, Instrument, Question
from offramp.web.templating import environment

META_LABELS = {
    "respondent": "Respondent number within this export (not an identifier)",
    "instrument_id": "Instrument id",
    "instrument_version": "Published version of the instrument",
    "language": "Language the survey was answered in",
    "arm": "Message experiment arm that led to the survey",
    "day": "Day of completion (no time is kept)",
    "seconds": "Seconds from consent to completion",
}
STATA_MISSING = {REFUSED: "a", DONT_KNOW: "b", NOT_SHOWN: "c"}
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_CSS = Path(__file__).resolve().parent.parent / "web" / "static" / "offramp.css"


def stat_codes(choices: list[dict[str, Any]] | tuple[Choice, ...]) -> dict[str, int]:
    """Choice value -> integer code for .sav/.dta (see the schema above for the rule)."""
    items = [(c["value"], c.get("missing")) if isinstance(c, dict) else (c.value, c.missing)
             for c in choices]
    plain = [v for v, missing in items if not missing]
    numeric = all(_is_int(v) and int(v) not in CODE_LABELS for v in plain)
    codes: dict[str, int] = {}
    for position, value in enumerate(plain, start=1):
        codes[value] = int(value) if numeric else position
    for value, missing in items:
        if missing:
            codes[value] = MISSING_CODES[missing]
    return codes


def _is_int(value: str) -> bool:
    text = value[1:] if value.startswith("-") else value
    return text.isdigit() and len(text) < 10


def _counts(data: pl.DataFrame, name: str) -> dict[str, int]:
    if name not in data.columns:
        return {}
    series = data[name]
    counts = {"null": int(series.null_count())}
    for code in CODE_LABELS:
        target: Any = str(code) if series.dtype == pl.Utf8 else code
        counts[str(code)] = int((series == target).sum()) if series.dtype in (
            pl.Utf8, pl.Int64, pl.Float64, pl.Int32, pl.Int8) else 0
    counts["valid"] = len(series) - sum(counts.values())
    return counts


def _measure(question: Question | None, choice: str | None, name: str) -> str:
    if question is None:
        return "scale" if name in ("seconds", "qc_speed_ratio", "qc_duplicate_similarity") \
            else "nominal"
    if question.type in ("integer", "decimal") or (choice and question.type == "rank"):
        return "scale" if question.type != "rank" else "ordinal"
    return "nominal"


def ordered_text(text: dict[str, str], languages: tuple[str, ...]) -> dict[str, str]:
    """Texts with the instrument's languages first (default first), as stored definitions sort
    keys alphabetically and readers that take "the first label" should get the default one."""
    first = {lang: text[lang] for lang in languages if lang in text}
    return {**first, **{k: v for k, v in text.items() if k not in first}}


def _choice_union(questions: list[Question], languages: tuple[str, ...]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for q in questions:
        for c in q.choices:
            if c.value not in seen:
                seen[c.value] = {"value": c.value, "label": ordered_text(dict(c.label), languages),
                                 "missing": c.missing}
    return list(seen.values())


def build_codebook(
    instruments: dict[tuple[str, int], Instrument] | list[Instrument],
    versions: list[int] | None,
    data: pl.DataFrame,
    quality: QualityInfo | None = None,
    report: OpenReport | None = None,
) -> dict[str, Any]:
    """The codebook of `data`. `instruments`: {(id, version): Instrument} (or, as in the first
    cut, a list of instruments with a parallel list of versions)."""
    if isinstance(instruments, list):
        keyed = dict(zip(((i.id, v) for i, v in zip(instruments, versions or [], strict=True)),
                         instruments, strict=True))
    else:
        keyed = dict(instruments)
    ordered = sorted(keyed, key=lambda k: (k[0], -k[1]))  # newest version first per instrument
    names = [c for c in data.columns if c != ORDER] or list(META_COLUMNS)
    stat = stat_names(names)
    variables: list[dict[str, Any]] = []
    for name in META_COLUMNS:
        variables.append(_plain_variable(name, META_LABELS[name], "meta", data, stat))
    found: dict[str, list[tuple[tuple[str, int], Question, str | None, str]]] = {}
    for key in ordered:
        instrument = keyed[key]
        pages = {q.name: p for p in instrument.pages for q in p.questions}
        for column in columns_for(instrument):
            found.setdefault(column.name, []).append(
                (key, column.question, column.choice, pages[column.question.name].id)
            )
    page_relevance = {
        (key, p.id): p.relevant for key in ordered for p in keyed[key].pages
    }
    for name, asked in found.items():
        key, q, choice, page = asked[0]
        newest = keyed[key]
        label_order = (newest.default_language, *newest.languages)
        choices = _choice_union([a[1] for a in asked], label_order)
        if q.type == "select_one":
            codes = stat_codes(choices)
            counts_by_value = _value_counts(data, name)
            for c in choices:
                c["code"] = codes[c["value"]]
                shown_as = str(codes[c["value"]]) if c["missing"] else c["value"]
                c["n"] = counts_by_value.get(shown_as, 0)
        kind = q.type
        if choice is not None:
            kind = "rank_position" if q.type == "rank" else "choice_dummy"
        variables.append(
            {
                "name": name,
                "stat_name": stat.get(name, name),
                "question": q.name,
                "type": kind,
                "role": "question",
                "label": ordered_text(dict(q.label), label_order),
                "hint": ordered_text(dict(q.hint), label_order),
                "choices": choices,
                "choice": choice,
                "relevant": q.relevant,
                "page": page,
                "page_relevant": page_relevance.get((key, page)),
                "required": q.required,
                "constraint": q.constraint,
                "calculation": q.calculation,
                "appearance": q.appearance,
                "attention_check": bool(q.constraint)
                and "attention" in (q.appearance or "").split(),
                "asked_in": [list(a[0]) for a in asked],
                "measure": _measure(q, choice, name),
                "counts": _counts(data, name),
            }
        )
    for name, label in QUALITY_LABELS.items():
        if name in data.columns:
            variables.append(_plain_variable(name, label, "quality", data, stat))
    languages: list[str] = []
    for key in ordered:
        instrument = keyed[key]
        for lang in (instrument.default_language, *instrument.languages):
            if lang not in languages:
                languages.append(lang)
    return {
        "codebook_version": 1,
        "instruments": [
            {"id": key[0], "version": key[1], "title": dict(keyed[key].title),
             "default_language": keyed[key].default_language}
            for key in ordered
        ],
        "languages": languages,
        "missing_codes": {str(k): v for k, v in CODE_LABELS.items()},
        "stata_missing": {str(k): f".{v}" for k, v in STATA_MISSING.items()},
        "spss_missing": sorted(CODE_LABELS, reverse=True),
        "quality": quality.to_dict() if quality else None,
        "export": None if report is None else {
            "opened": report.opened,
            "failed": dict(report.failures.most_common()),
            "warnings": dict(report.warnings.most_common()),
        },
        "variables": variables,
    }


def _plain_variable(
    name: str, label: str, role: str, data: pl.DataFrame, stat: dict[str, str]
) -> dict[str, Any]:
    return {"name": name, "stat_name": stat.get(name, name), "question": None, "type": "meta",
            "role": role, "label": {"en": label}, "hint": {}, "choices": [], "choice": None,
            "relevant": None, "page": None, "page_relevant": None, "required": False,
            "constraint": None, "calculation": None, "appearance": None,
            "attention_check": False, "asked_in": [],
            "measure": _measure(None, None, name), "counts": _counts(data, name)}


def _value_counts(data: pl.DataFrame, name: str) -> dict[str, int]:
    if name not in data.columns:
        return {}
    counts = data[name].cast(pl.Utf8).value_counts()
    return {str(v): int(n) for v, n in counts.iter_rows() if v is not None}


def render_html(codebook: dict[str, Any]) -> str:
    env = environment.overlay(loader=FileSystemLoader(str(_TEMPLATES)))
    css = _CSS.read_text(encoding="utf-8") if _CSS.exists() else ""
    return env.get_template("codebook.html").render(codebook=codebook, css=css, lang="en")


def write_codebook(codebook: dict[str, Any], stem: Path) -> list[Path]:
    json_path = stem.with_name(stem.name + ".codebook.json")
    html_path = stem.with_name(stem.name + ".codebook.html")
    write_text_atomic(json_path, json.dumps(codebook, indent=2, ensure_ascii=False, default=str))
    write_text_atomic(html_path, render_html(codebook))
    return [json_path, html_path]


def read_codebook(dataset: Path) -> dict[str, Any] | None:
    """The codebook written beside a dataset, if any."""
    path = dataset.with_suffix(".codebook.json")
    if not path.exists():
        return None
    value = json.loads(path.read_text(encoding="utf-8"))
    return value if isinstance(value, dict) else None

"""Report plans: an analysis plan (docs/analysis.md) plus what the reader sees of each analysis.

A report plan is an analysis plan with a few more keys, so one file says both what to compute and
how to show it:

    title: Findings report                 # analysis-plan keys as usual (sections, weights, ...)
    subtitle: Synthetic data, wave 1       # report keys:
    authors: [Research team]
    language: en                           # which language of the codebook's labels to print
    introduction: |                        # paragraphs before the methods section
      ...
    methods: |                             # extra paragraphs for the methods section
      ...
    exclude: [qc_speeder, qc_straightline] # drop respondents with 1 in any of these flag columns
    appendix: true                         # the codebook as an appendix (default true)
    sections:
      - title: Motivations
        analyses:
          - kind: frequencies
            variables: [motive_mood, motive_thrill]
            chart: likert                  # chart type (see CHARTS); none for a table only
            table: true                    # the table under the chart (default true)
          - kind: frequencies
            variable: first_accidental
            chart: small_multiples
            by: language                   # one panel per group (default: language)

Report keys are taken out before the analysis plan loader reads the rest, so both kinds of
mistake are reported the same way: the plan's file, line, and the closest valid word.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offramp.analysis._yamlfile import Located, Path_, load_yaml
from offramp.analysis.plan import COMMON_KEYS, KIND_KEYS, PLAN_KEYS, Plan, plan_from_document
from offramp.errors import InputError

CHARTS: dict[str, tuple[str, ...]] = {
    "frequencies": ("bars", "likert", "small_multiples", "none"),
    "multiple_response": ("bars", "small_multiples", "none"),
    "crosstab": ("grouped", "small_multiples", "none"),
    "logit": ("forest", "none"),
    "ologit": ("forest", "none"),
    "reliability": ("none",),
    "agreement": ("none",),
    "themes": ("none",),
}
"""Chart types each kind of analysis can be drawn as; the first is the default."""
ALL_CHARTS = sorted({c for charts in CHARTS.values() for c in charts})
REPORT_KEYS = {"subtitle", "authors", "language", "introduction", "methods", "exclude",
               "appendix"}
DISPLAY_KEYS = {"chart", "by", "table"}
BY_CHARTS = {"small_multiples"}


@dataclass
class Display:
    """How one analysis of the plan is shown."""

    chart: str
    by: str | None
    table: bool
    line: int | None
    path: Path_


@dataclass
class ReportPlan:
    analysis: Plan
    doc: Located
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str = "en"
    introduction: str | None = None
    methods: str | None = None
    exclude: list[str] = field(default_factory=list)
    appendix: bool = True
    displays: dict[tuple[int, int], Display] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.doc.file

    def error(self, path: Path_, message: str, hint: str | None = None) -> InputError:
        return self.doc.error(path, message, hint)

    def display(self, section: int, index: int) -> Display:
        return self.displays[(section, index)]


def _suggest(word: str, options: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=2, cutoff=0.5)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def _text(doc: Located, data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise doc.error((key,), f"{key} must be text")
    return str(value)


def _names(doc: Located, path: Path_, value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise doc.error(path, f"{what} must be a column name or a list of column names")


def load_report_plan(path: str | Path) -> ReportPlan:
    """Read a report plan: its report keys here, everything else by the analysis plan loader."""
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a report plan must be a YAML mapping with a 'sections' list")
    for key in data:
        if key not in PLAN_KEYS | REPORT_KEYS:
            raise doc.error((key,), f"unknown plan key {key!r}"
                            f"{_suggest(str(key), PLAN_KEYS | REPORT_KEYS)}",
                            hint=f"report keys: {', '.join(sorted(REPORT_KEYS))}; analysis keys: "
                            f"{', '.join(sorted(PLAN_KEYS))}")
    stripped: dict[str, Any] = copy.deepcopy(data)
    for key in REPORT_KEYS:
        stripped.pop(key, None)
    report = ReportPlan(analysis=Plan(doc.file, doc, None, []), doc=doc)
    report.subtitle = _text(doc, data, "subtitle")
    report.introduction = _text(doc, data, "introduction")
    report.methods = _text(doc, data, "methods")
    authors = data.get("authors")
    report.authors = _names(doc, ("authors",), authors, "authors")
    language = data.get("language", "en")
    if not isinstance(language, str) or not language:
        raise doc.error(("language",), "language is a language code such as en")
    report.language = language
    report.exclude = _names(doc, ("exclude",), data.get("exclude"), "exclude")
    appendix = data.get("appendix", True)
    if not isinstance(appendix, bool):
        raise doc.error(("appendix",), "appendix must be true or false")
    report.appendix = appendix
    displays: dict[tuple[int, int], Display] = {}
    for s, section in enumerate(stripped.get("sections") or []):
        if not isinstance(section, dict):
            continue
        for i, item in enumerate(section.get("analyses") or []):
            if not isinstance(item, dict):
                continue
            apath: Path_ = ("sections", s, "analyses", i)
            kind = item.get("kind")
            if kind in KIND_KEYS:
                allowed = KIND_KEYS[kind] | COMMON_KEYS | DISPLAY_KEYS
                for key in item:
                    if key not in allowed:
                        raise doc.error((*apath, key), f"{kind} does not take {key!r}"
                                        f"{_suggest(str(key), allowed)}")
            shown = {k: item.pop(k) for k in DISPLAY_KEYS if k in item}
            displays[(s, i)] = _display(doc, apath, item.get("kind"), shown)
    report.analysis = plan_from_document(Located(stripped, doc.lines, doc.file))
    report.displays = displays
    return report


def _display(doc: Located, path: Path_, kind: Any, shown: dict[str, Any]) -> Display:
    charts = CHARTS.get(str(kind), ("none",))
    chart = shown.get("chart", charts[0])
    if not isinstance(chart, str):
        raise doc.error((*path, "chart"), f"chart must be one of {', '.join(charts)}")
    if chart not in charts:
        if chart in ALL_CHARTS:
            raise doc.error((*path, "chart"),
                            f"a {kind} cannot be drawn as {chart!r}",
                            hint=f"charts for {kind}: {', '.join(charts)}")
        raise doc.error((*path, "chart"), f"unknown chart type {chart!r}"
                        f"{_suggest(chart, list(charts))}",
                        hint=f"charts for {kind}: {', '.join(charts)}")
    by = shown.get("by")
    if by is not None:
        if chart not in BY_CHARTS or kind == "crosstab":
            raise doc.error((*path, "by"), f"'by' is for small_multiples of frequencies or "
                            f"multiple responses, not for a {kind} drawn as {chart!r}",
                            hint="a crosstab's groups are its 'col' variable")
        if not isinstance(by, str):
            raise doc.error((*path, "by"), "by is one column name, e.g. language")
    if chart in BY_CHARTS and kind != "crosstab" and by is None:
        by = "language"
    table = shown.get("table", True)
    if not isinstance(table, bool):
        raise doc.error((*path, "table"), "table must be true or false")
    if chart == "none" and not table:
        raise doc.error((*path, "table"), "this analysis would show nothing: it has no chart "
                        "and table: false", hint="remove table: false or choose a chart")
    return Display(chart=chart, by=by, table=table, line=doc.line(path), path=path)

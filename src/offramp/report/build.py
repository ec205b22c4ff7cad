"""From a report plan and a dataset to what the report shows: sections of figures and tables.

Every number comes from offramp.analysis: the plan runs through `run_plan` (its results are the
`offramp.analysis.results/1` document, kept whole in the report object), and the per-group
estimates a chart needs (bars by language, grouped bars of a crosstab) are more calls of the same
`frequencies` / `multiple_response` on each group, with the analysis's own weights, level and
suppression. Nothing here estimates anything itself; it chooses, orders, labels and formats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from markupsafe import Markup

from offramp.analysis import _columns as cols
from offramp.analysis.frequencies import frequencies, multiple_response
from offramp.analysis.plan import Analysis, min_cell_setting
from offramp.analysis.runner import apply_weighting, run_plan
from offramp.data.codes import MISSING_STRINGS
from offramp.errors import InputError
from offramp.report import charts
from offramp.report.labels import Vocabulary
from offramp.report.methods import describe_methods
from offramp.report.model import Block, Cell, Figure, Report, Section, Table
from offramp.report.plan import Display, ReportPlan

KIND_NAMES = {"refused": "Prefer not to say", "dont_know": "Don't know",
              "unanswered": "No answer", "not_shown": "Not shown"}


# -- preparing the data ----------------------------------------------------------------------------
def _check_columns(plan: ReportPlan, data: pl.DataFrame) -> None:
    for i, name in enumerate(plan.exclude):
        if name not in data.columns:
            raise plan.error(("exclude", i) if len(plan.exclude) > 1 else ("exclude",),
                             cols.unknown_column_message(name, data.columns,
                                                         role="exclusion flag"),
                             hint="quality flags are qc_speeder, qc_straightline, "
                             "qc_attention_failed, qc_duplicate")
    for display in plan.displays.values():
        if display.by is not None and display.by not in data.columns:
            raise plan.error((*display.path, "by"),
                             cols.unknown_column_message(display.by, data.columns,
                                                         role="grouping variable"))


def exclusions(plan: ReportPlan, data: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int], int]:
    """Rows kept, how many each flag would drop, and how many were dropped in all."""
    if not plan.exclude:
        return data, {}, 0
    flags = {name: (pl.col(name).cast(pl.Float64) == 1).fill_null(False) for name in plan.exclude}
    counts = {name: int(data.select(expr.sum()).item()) for name, expr in flags.items()}
    any_flag = pl.any_horizontal(list(flags.values()))
    kept = data.filter(~any_flag)
    return kept, counts, data.height - kept.height


def numeric_items(plan: ReportPlan, data: pl.DataFrame) -> pl.DataFrame:
    """Likert items stored as text codes ("1".."5") become numbers where a reliability needs them.

    The dataset keeps a select_one's choice values as text; a scale's items must be numbers to be
    averaged. Only columns whose every value is a whole number (reserved codes included) change.
    """
    names: set[str] = set()
    for section in plan.analysis.sections:
        for analysis in section.analyses:
            if analysis.kind == "reliability":
                names.update(analysis.spec["_items"][1])
    casts = []
    for name in sorted(names):
        if name in data.columns and cols.is_text(data.schema[name]):
            as_int = data[name].cast(pl.Int64, strict=False)
            if as_int.null_count() == data[name].null_count():
                casts.append(pl.col(name).cast(pl.Int64))
    return data.with_columns(casts) if casts else data


def declined_dummies(plan: ReportPlan, data: pl.DataFrame, words: Vocabulary) -> pl.DataFrame:
    """Drop the "prefer not to say" dummy of each multi-select the plan tabulates.

    A respondent who declines a multi-select has 1 in its missing-kind column and the reserved code
    in every other; without that column the analysis sees the row as declined (its own rule for
    a row whose dummies hold a missing code), instead of as a case who "chose" declining.
    """
    drop: list[str] = []
    for section in plan.analysis.sections:
        for analysis in section.analyses:
            if analysis.kind != "multiple_response":
                continue
            for stem in analysis.spec["_variables"][1]:
                drop += [f"{stem}__{value}" for value in words.missing_choices.get(stem, ())
                         if f"{stem}__{value}" in data.columns]
    return data.drop(drop) if drop else data


# -- the runs --------------------------------------------------------------------------------------
def _count(analysis: Analysis) -> int:
    spec = analysis.spec
    if analysis.kind in ("frequencies", "multiple_response", "themes"):
        return len(spec["_variables"][1])
    if analysis.kind == "crosstab":
        return sum(1 for r in spec["_rows"][1] for c in spec["_cols"][1] if r != c)
    return 1


def _settings(plan: ReportPlan, analysis: Analysis) -> dict[str, Any]:
    spec = analysis.spec
    base = plan.analysis
    min_cell = base.min_cell
    if "suppression" in spec:
        min_cell = min_cell_setting(base.doc, (*analysis.path, "suppression"),
                                    spec["suppression"])
    return {
        "weights": spec.get("weights", base.weights),
        "level": float(spec.get("level", base.level)),
        "min_cell": min_cell,
        "strata": spec.get("strata", base.strata),
        "cluster": spec.get("cluster", base.cluster),
        "design_effect": spec.get("design_effect", "linearised"),
    }


def _groups(data: pl.DataFrame, by: str, words: Vocabulary) -> list[str]:
    values = data[by].cast(pl.Utf8).drop_nulls().unique().to_list()
    values = [v for v in values if v not in MISSING_STRINGS]
    return words.ordered(by, sorted(values))


def _subset(data: pl.DataFrame, by: str, value: str) -> pl.DataFrame:
    return data.filter(pl.col(by).cast(pl.Utf8) == value)


def group_frequencies(data: pl.DataFrame, var: str, by: str, settings: Mapping[str, Any],
                      words: Vocabulary, multiple: bool = False
                      ) -> list[tuple[str, dict[str, Any]]]:
    """frequencies (or multiple_response) of `var` within each group of `by`."""
    out = []
    for value in _groups(data, by, words):
        part = _subset(data, by, value)
        kwargs = dict(settings)
        if part.height == 0:
            continue
        try:
            if multiple:
                found = multiple_response(part, var, labels=words.labels, **kwargs).to_dict()
            else:
                found = frequencies(part, var, labels=words.labels, **kwargs).to_dict()
        except InputError:
            continue  # a group without any answer to var gets no panel
        out.append((value, found))
    return out


# -- formatting helpers ----------------------------------------------------------------------------
def pct(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def ci(low: Any, high: Any, digits: int = 1) -> str:
    """An interval; a zero-width space after the dash lets a narrow column break it there."""
    if low is None or high is None:
        return ""
    if float(low) < 0 or float(high) < 0:  # "-0.96 to -0.53" reads better than "-0.96–-0.53"
        return f"{float(low):.{digits}f} to {float(high):.{digits}f}"
    return f"{float(low):.{digits}f}–\u200b{float(high):.{digits}f}"


def widths(columns: int, first: int = 30) -> list[int]:
    """Relative column widths: the label column gets `first` percent (more when few columns)."""
    rest = columns - 1
    if rest <= 0:
        return [100]
    lead = max(first, 100 - 14 * rest)
    each = (100 - lead) // rest
    return [100 - each * rest] + [each] * rest


def _notes(result: Mapping[str, Any]) -> list[str]:
    """The analysis's own notes, less the one the base line already says."""
    return [n for n in result.get("notes") or [] if "not shown the question" not in n]


def num(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"


def count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def p_value(value: Any) -> str:
    if value is None:
        return "—"
    v = float(value)
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def _valid_rows(result: Mapping[str, Any], var: str, words: Vocabulary) -> list[dict[str, Any]]:
    rows = [r for r in result["rows"] if r["kind"] == "valid"]
    order = words.ordered(var, [str(r["value"]) for r in rows])
    by_value = {str(r["value"]): r for r in rows}
    return [by_value[v] for v in order]


def _missing_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [r for r in result["rows"] if r["kind"] != "valid"]


def _bars(rows: Sequence[Mapping[str, Any]], var: str, words: Vocabulary,
          value_key: str = "valid_percent", label_key: str = "value") -> list[charts.Bar]:
    return [charts.Bar(words.value(var, r[label_key]) if label_key == "value"
                       else str(r[label_key]),
                       None if r.get("suppressed") else r.get(value_key),
                       r.get("ci_low"), r.get("ci_high")) for r in rows]


def _suppression_note(results: Sequence[Mapping[str, Any]]) -> list[str]:
    hidden = sum((r.get("suppression") or {}).get("suppressed_cells") or 0 for r in results)
    k = next(((r.get("suppression") or {}).get("min_cell") for r in results), None)
    if hidden and k:
        return [f"— : suppressed; {hidden} cell(s) rested on fewer than {k} respondents "
                "(or would reveal one that did)."]
    return []


# -- one block per kind ----------------------------------------------------------------------------
class _Builder:
    def __init__(self, plan: ReportPlan, data: pl.DataFrame, words: Vocabulary) -> None:
        self.plan = plan
        self.data = data
        self.words = words

    def frequency_table(self, result: Mapping[str, Any], var: str) -> Table:
        stats = result["statistics"]
        level = round(100 * float(stats.get("level", 0.95)))
        rows = []
        for r in _valid_rows(result, var, self.words):
            suppressed = bool(r.get("suppressed"))
            rows.append([
                Cell(self.words.value(var, r["value"])),
                Cell(count(None if suppressed else r["n"]), cls="num"),
                Cell(pct(None if suppressed else r["percent"]), cls="num"),
                Cell(pct(None if suppressed else r["valid_percent"]),
                     ci(r.get("ci_low"), r.get("ci_high")), cls="num"),
            ])
        for r in _missing_rows(result):
            suppressed = bool(r.get("suppressed"))
            rows.append([Cell(KIND_NAMES.get(r["kind"], str(r["kind"])), cls="missing"),
                         Cell(count(None if suppressed else r["n"]), cls="num"),
                         Cell(pct(None if suppressed else r["percent"]), cls="num"),
                         Cell("", cls="num")])
        notes = [f"Base: {stats['n_shown']:,} respondents shown the question, of whom "
                 f"{stats['n_valid']:,} gave a substantive answer"
                 + (f"; {stats['n_not_shown']:,} were not shown it (skip logic)."
                    if stats.get("n_not_shown") else ".")]
        if result.get("weights"):
            notes.append(f"Weighted by {result['weights']}; n is unweighted respondents.")
        notes += _suppression_note([result]) + _notes(result)
        return Table(self.words.label(var), ["Answer", "n", "% of shown",
                                             f"Valid % ({level}% CI)"], rows, notes,
                     widths=[46, 14, 16, 24])

    def frequencies(self, analysis: Analysis, display: Display,
                    results: list[dict[str, Any]]) -> list[Block]:
        names = analysis.spec["_variables"][1]
        if display.chart == "likert":
            return [self.likert(analysis, display, names, results)]
        blocks = []
        for var, result in zip(names, results, strict=True):
            block = Block(result.get("title") or self.words.label(var), "frequencies", "",
                          analysis.line, results=[result])
            if display.chart == "bars":
                bars = _bars(_valid_rows(result, var, self.words), var, self.words)
                block.figure = Figure(block.title, _chart(charts.bar_chart(
                    "", block.title, bars,
                    intro="Valid percentages (substantive answers only) with 95% intervals.")), "")
            elif display.chart == "small_multiples":
                block.figure = self.small_multiples(analysis, display, var, block.title)
            if display.table:
                block.table = self.frequency_table(result, var)
            blocks.append(block)
        return blocks

    def likert(self, analysis: Analysis, display: Display, names: list[str],
               results: list[dict[str, Any]]) -> Block:
        words = self.words
        categories = words.ordered(names[0], [str(r["value"]) for r in
                                              _valid_rows(results[0], names[0], words)])
        codes = list(dict.fromkeys(categories))
        for var, result in zip(names, results, strict=True):
            for r in _valid_rows(result, var, words):
                if str(r["value"]) not in codes:
                    codes.append(str(r["value"]))
        if not all(c.lstrip("-").isdigit() for c in codes):
            raise self.plan.error((*display.path, "chart"),
                                  f"a likert chart needs answers on one numbered scale "
                                  f"(1, 2, 3, ...); {names[0]!r} has {', '.join(codes[:4])}",
                                  hint="use chart: bars for answers that are not a scale")
        codes.sort(key=int)
        title = analysis.spec.get("title") or words.label(names[0])
        items = []
        for var, result in zip(names, results, strict=True):
            by_value = {str(r["value"]): r for r in result["rows"] if r["kind"] == "valid"}
            shares = []
            for code in codes:
                row = by_value.get(code)
                shares.append(None if row is not None and row.get("suppressed")
                              else (row or {}).get("valid_percent", 0.0) or 0.0)
            items.append(charts.LikertItem(words.label(var), shares))
        labels = [words.value(names[0], c) for c in codes]
        block = Block(str(title), "frequencies", "", analysis.line, results=results)
        block.figure = Figure(str(title), _chart(charts.likert_chart(
            "", str(title), items, labels,
            intro="Valid percentages of each answer, disagreement to the left of the centre line, "
                  "agreement to the right; prefer not to say and don't know are left out.")), "")
        if display.table:
            level = round(100 * float(results[0]["statistics"].get("level", 0.95)))
            rows = []
            for var, result in zip(names, results, strict=True):
                by_value = {str(r["value"]): r for r in result["rows"] if r["kind"] == "valid"}
                cells = [Cell(words.label(var))]
                for code in codes:
                    found = by_value.get(code)
                    if found is None or found.get("suppressed"):
                        cells.append(Cell("—" if found is not None else "0.0", cls="num"))
                    else:
                        cells.append(Cell(pct(found["valid_percent"]), ci(found.get("ci_low"),
                                                                          found.get("ci_high")),
                                          cls="num"))
                cells.append(Cell(count(result["statistics"]["n_valid"]), cls="num"))
                rows.append(cells)
            notes = [f"Valid percentages with {level}% intervals (second line); n = respondents "
                     "with a substantive answer.", *_suppression_note(results)]
            block.table = Table(str(title), ["Item", *labels, "n"], rows, notes,
                                widths=widths(len(codes) + 2, first=26))
        return block

    def small_multiples(self, analysis: Analysis, display: Display, var: str, title: str,
                        multiple: bool = False) -> Figure:
        by = display.by or "language"
        settings = _settings(self.plan, analysis)
        groups = group_frequencies(self.data, var, by, settings, self.words, multiple)
        if multiple:
            choices = [c for c in self.words.order.get(var, [])]
            categories = [self.words.value(var, c) for c in choices]
            panels = []
            for value, result in groups:
                rows = {str(r["choice"]): r for r in result["rows"]}
                panels.append(charts.Panel(
                    f"{self.words.value(by, value)} (n = {result['statistics']['n_cases']:,})",
                    [_mr_bar(rows.get(c), categories[i]) for i, c in enumerate(choices)]))
        else:
            codes: list[str] = []
            for _, result in groups:
                codes += [str(r["value"]) for r in result["rows"]
                          if r["kind"] == "valid" and str(r["value"]) not in codes]
            codes = self.words.ordered(var, codes)
            categories = [self.words.value(var, c) for c in codes]
            panels = []
            for value, result in groups:
                rows = {str(r["value"]): r for r in result["rows"] if r["kind"] == "valid"}
                panels.append(charts.Panel(
                    f"{self.words.value(by, value)} (n = {result['statistics']['n_valid']:,})",
                    [_freq_bar(rows.get(c), categories[i]) for i, c in enumerate(codes)]))
        svg = charts.small_multiples(
            "", title, categories, panels,
            intro=f"One panel per {self.words.label(by).lower()}: valid percentages with 95% "
                  "intervals, all panels on the same scale.")
        return Figure(f"{title} — by {self.words.label(by).lower()}", _chart(svg), "")

    def multiple_response(self, analysis: Analysis, display: Display,
                          results: list[dict[str, Any]]) -> list[Block]:
        blocks = []
        words = self.words
        for var, result in zip(analysis.spec["_variables"][1], results, strict=True):
            title = result.get("title") or words.label(var)
            block = Block(title, "multiple_response", "", analysis.line, results=[result])
            missing = words.missing_choices.get(var, set())
            rows = [r for r in result["rows"] if str(r["choice"]) not in missing]
            order = words.ordered(var, [str(r["choice"]) for r in rows])
            rows = sorted(rows, key=lambda r: order.index(str(r["choice"])))
            if display.chart == "bars":
                bars = [charts.Bar(words.value(var, r["choice"]),
                                   None if r.get("suppressed") else r["percent_of_cases"],
                                   r.get("ci_low"), r.get("ci_high")) for r in rows]
                block.figure = Figure(title, _chart(charts.bar_chart(
                    "", title, bars,
                    intro="Percent of respondents who chose each answer (several could be "
                          "chosen), with 95% intervals.")), "")
            elif display.chart == "small_multiples":
                block.figure = self.small_multiples(analysis, display, var, title, multiple=True)
            if display.table:
                stats = result["statistics"]
                level = round(100 * float(stats.get("level", 0.95)))
                table_rows = [[
                    Cell(words.value(var, r["choice"])),
                    Cell(count(None if r.get("suppressed") else r["n"]), cls="num"),
                    Cell(pct(None if r.get("suppressed") else r["percent_of_cases"]),
                         ci(r.get("ci_low"), r.get("ci_high")), cls="num"),
                    Cell(pct(None if r.get("suppressed") else r["percent_of_responses"]),
                         cls="num"),
                ] for r in rows]
                declined = stats.get("n_refused", 0) + stats.get("n_dont_know", 0)
                notes = [f"Base: {stats['n_cases']:,} respondents who chose at least one answer; "
                         f"{declined:,} declined the question, {stats.get('n_unanswered', 0):,} "
                         f"left it blank and {stats.get('n_not_shown', 0):,} were not shown it."]
                notes += _suppression_note([result]) + _notes(result)
                block.table = Table(title, ["Answer", "n", f"% of cases ({level}% CI)",
                                            "% of answers"], table_rows, notes,
                                    widths=[50, 14, 20, 16])
            blocks.append(block)
        return blocks

    def crosstab(self, analysis: Analysis, display: Display,
                 results: list[dict[str, Any]]) -> list[Block]:
        blocks = []
        words = self.words
        pairs = [(r, c) for r in analysis.spec["_rows"][1] for c in analysis.spec["_cols"][1]
                 if r != c]
        settings = _settings(self.plan, analysis)
        for (row_var, col_var), result in zip(pairs, results, strict=True):
            title = (analysis.spec.get("title") if len(pairs) == 1 else None) or \
                f"{words.label(row_var)} — split by: {words.label(col_var)}"
            block = Block(title, "crosstab", "", analysis.line, results=[result])
            groups = group_frequencies(self.data, row_var, col_var, settings, words)
            codes: list[str] = []
            for _, g in groups:
                codes += [str(r["value"]) for r in g["rows"]
                          if r["kind"] == "valid" and str(r["value"]) not in codes]
            codes = words.ordered(row_var, codes)
            group_names = [words.value(col_var, v) for v, _ in groups]
            by_group = [{str(r["value"]): r for r in g["rows"] if r["kind"] == "valid"}
                        for _, g in groups]
            if display.chart == "grouped":
                bars = [[_freq_bar(rows.get(code), name) for rows, name in
                         zip(by_group, group_names, strict=True)] for code in codes]
                block.figure = Figure(title, _chart(charts.grouped_chart(
                    "", title, [words.value(row_var, c) for c in codes], group_names, bars,
                    intro=f"Percent giving each answer within each "
                          f"{words.label(col_var).lower()} group, with 95% intervals.")), "")
            elif display.chart == "small_multiples":
                panels = [charts.Panel(
                    f"{name} (n = {g['statistics']['n_valid']:,})",
                    [_freq_bar(rows.get(code), words.value(row_var, code)) for code in codes])
                    for name, rows, (_, g) in zip(group_names, by_group, groups, strict=True)]
                block.figure = Figure(title, _chart(charts.small_multiples(
                    "", title, [words.value(row_var, c) for c in codes], panels,
                    intro=f"One panel per {words.label(col_var).lower()} group: valid "
                          "percentages with 95% intervals.")), "")
            stats = result["statistics"]
            block.statistics = [_test_line(stats)]
            if display.table:
                level = round(100 * float(stats.get("level", 0.95)))
                table_rows = []
                for code in codes:
                    cells = [Cell(words.value(row_var, code))]
                    for rows in by_group:
                        r = rows.get(code)
                        if r is None:
                            cells.append(Cell("0.0", cls="num"))
                        elif r.get("suppressed"):
                            cells.append(Cell("—", cls="num"))
                        else:
                            cells.append(Cell(pct(r["valid_percent"]),
                                              ci(r.get("ci_low"), r.get("ci_high")), cls="num"))
                    table_rows.append(cells)
                table_rows.append([Cell("n", cls="total")] + [
                    Cell(count(g["statistics"]["n_valid"]), cls="num total") for _, g in groups])
                notes = [f"Column percentages of substantive answers with {level}% intervals "
                         "(second line), one column per group."]
                notes += _suppression_note([result]) + _notes(result)
                block.table = Table(title, [words.label(row_var), *group_names], table_rows,
                                    notes, widths=widths(len(group_names) + 1, first=26))
            blocks.append(block)
        return blocks

    def regression(self, analysis: Analysis, display: Display,
                   results: list[dict[str, Any]]) -> list[Block]:
        result = results[0]
        words = self.words
        stats = result["statistics"]
        outcome = str(stats.get("outcome"))
        title = result.get("title") or (
            f"{words.label(outcome)}: odds of {words.value(outcome, stats.get('event'))!r}"
            if analysis.kind == "logit" else f"{words.label(outcome)} (ordered logit)")
        if result.get("title") == outcome:
            title = f"Model of {words.label(outcome)}"
        block = Block(str(title), analysis.kind, "", analysis.line, results=results)
        terms = [r for r in result["rows"] if r["term"] != "const"
                 and not str(r["term"]).startswith("cut[")]
        if display.chart == "forest":
            block.figure = Figure(str(title), _chart(charts.forest_chart(
                "", str(title), [charts.Bar(words.term(r["term"]), r.get("odds_ratio"),
                                            r.get("or_ci_low"), r.get("or_ci_high"))
                                 for r in terms],
                intro="Odds ratios with 95% intervals on a logarithmic scale; 1 means no "
                      "difference from the reference group.")), "")
        level = round(100 * float(stats.get("level", 0.95)))
        reference = stats.get("reference") or {}
        refs = "; ".join(f"{words.label(k)}: {words.value(k, v)}" for k, v in reference.items())
        excluded = stats.get("n_excluded") or {}
        dropped = sum(int(v) for v in excluded.values()) if isinstance(excluded, dict) else 0
        block.statistics = [
            f"n = {result['n']:,} respondents with every variable answered ({dropped:,} left out)"
            f"; McFadden pseudo-R² = {float(stats.get('pseudo_r2') or 0):.3f}."
        ]
        if refs:
            block.statistics.append(f"Reference groups: {refs}.")
        if display.table:
            rows = []
            for r in result["rows"]:
                is_ratio = r.get("odds_ratio") is not None
                rows.append([
                    Cell(words.term(r["term"])),
                    Cell(num(r.get("odds_ratio")),
                         ci(r.get("or_ci_low"), r.get("or_ci_high"), 2) if is_ratio else "",
                         cls="num"),
                    Cell(num(r.get("estimate"), 3), ci(r.get("ci_low"), r.get("ci_high"), 3),
                         cls="num"),
                    Cell(num(r.get("std_error"), 3), cls="num"),
                    Cell(p_value(r.get("p_value")), cls="num"),
                ])
            notes = [f"Odds ratios and log-odds estimates with {level}% intervals (second line)."]
            notes += _notes(result)
            block.table = Table(str(title), ["Term", f"Odds ratio ({level}% CI)",
                                             "Log-odds (CI)", "SE", "p"], rows, notes,
                                widths=[44, 18, 18, 10, 10])
        return [block]

    def reliability(self, analysis: Analysis, display: Display,
                    results: list[dict[str, Any]]) -> list[Block]:
        result = results[0]
        stats = result["statistics"]
        words = self.words
        title = result.get("title") or "Reliability of the scale"
        if title == "reliability":
            title = "Reliability of the scale"
        block = Block(str(title), "reliability", "", analysis.line, results=results)
        level = round(100 * float(stats.get("level", 0.95)))
        block.statistics = [
            f"Cronbach's alpha = {num(stats.get('alpha'), 3)} ({level}% CI "
            f"{ci(stats.get('alpha_ci_low'), stats.get('alpha_ci_high'), 3)}); McDonald's "
            f"omega = {num(stats.get('omega'), 3)}; {stats['k']} items, n = {result['n']:,}."
        ]
        rows = [[Cell(words.label(r["item"]) + (" (reversed)" if r.get("reversed") else "")),
                 Cell(num(r.get("mean")), cls="num"),
                 Cell(num(r.get("sd")), cls="num"),
                 Cell(num(r.get("item_total_r")), cls="num"),
                 Cell(num(r.get("alpha_if_deleted"), 3), cls="num")]
                for r in result["rows"]]
        block.table = Table(str(title), ["Item", "Mean", "SD", "Item-total r",
                                         "Alpha if deleted"], rows,
                            ["Corrected item-total correlations; alpha recomputed without each "
                             "item."], widths=[52, 12, 12, 12, 12])
        return [block]

    def themes(self, analysis: Analysis, display: Display,
               results: list[dict[str, Any]]) -> list[Block]:
        blocks = []
        for var, result in zip(analysis.spec["_variables"][1], results, strict=True):
            title = str(result.get("title") or "")
            if not title or title == var or title.startswith("Suggested themes in"):
                title = f"Suggested themes: {self.words.label(var)}"
            block = Block(title, "themes", "", analysis.line, results=[result])
            stats = result["statistics"]
            block.statistics = [f"{stats.get('n_texts', 0):,} answers grouped into "
                                f"{stats.get('n_themes', 0)} themes ({stats.get('method')}); "
                                "keywords are what sets each theme apart."]
            rows = [[Cell(str(r["theme"])),
                     Cell(count(None if r.get("suppressed") else r.get("size")), cls="num"),
                     Cell(pct(None if r.get("suppressed") else r.get("percent")), cls="num"),
                     Cell(_plain(r.get("keywords")))] for r in result["rows"]]
            block.table = Table(title, ["Theme", "Answers", "%", "Keywords"], rows,
                                _suppression_note([result]) + _notes(result),
                                widths=[12, 14, 12, 62])
            blocks.append(block)
        return blocks

    def generic(self, analysis: Analysis, display: Display,
                results: list[dict[str, Any]]) -> list[Block]:
        blocks = []
        for result in results:
            title = str(result.get("title") or analysis.kind)
            block = Block(title, analysis.kind, "", analysis.line, results=[result])
            columns = [c["name"] for c in result["columns"] if c["name"] not in ("suppressed",)]
            rows = [[Cell(_plain(r.get(c)), cls="num" if isinstance(r.get(c), int | float)
                          and not isinstance(r.get(c), bool) else "") for c in columns]
                    for r in result["rows"]]
            block.table = Table(title, columns, rows, _notes(result))
            blocks.append(block)
        return blocks


def _chart(svg: str) -> Markup:
    """Mark a chart from charts.py as safe HTML: charts.py escapes every text it draws."""
    return Markup(svg)  # noqa: S704 - built by charts.py, which escapes all text


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _freq_bar(row: Mapping[str, Any] | None, label: str) -> charts.Bar:
    if row is None:
        return charts.Bar(label, 0.0, None, None)
    if row.get("suppressed"):
        return charts.Bar(label, None)
    return charts.Bar(label, row.get("valid_percent"), row.get("ci_low"), row.get("ci_high"))


def _mr_bar(row: Mapping[str, Any] | None, label: str) -> charts.Bar:
    if row is None:
        return charts.Bar(label, 0.0)
    if row.get("suppressed"):
        return charts.Bar(label, None)
    return charts.Bar(label, row.get("percent_of_cases"), row.get("ci_low"), row.get("ci_high"))


def _p_relation(value: Any) -> str:
    """`= 0.042` or `< 0.001`: a p-value after its letter."""
    shown = p_value(value)
    return shown if shown.startswith("<") else f"= {shown}"


def _test_line(stats: Mapping[str, Any]) -> str:
    test = "Fisher's exact test" if str(stats.get("test", "")).startswith("fisher") else \
        f"Chi-square = {float(stats.get('chi2') or 0):.1f}, df = {stats.get('dof')}"
    text = f"{test}, p {_p_relation(stats.get('p_value'))}"
    if stats.get("p_adjusted") is not None:
        text += (f" (adjusted for the section's tests: p "
                 f"{_p_relation(stats.get('p_adjusted'))})")
    if stats.get("cramers_v") is not None:
        text += (f"; Cramér's V = {float(stats['cramers_v']):.3f} "
                 f"(95% CI {ci(stats.get('cramers_v_ci_low'), stats.get('cramers_v_ci_high'), 3)})")
    return text + "."


# -- the whole report ------------------------------------------------------------------------------
def build_report(plan: ReportPlan, data: pl.DataFrame, codebook: Mapping[str, Any] | None,
                 *, dataset_path: str | Path | None = None) -> Report:
    """Check, run and arrange everything the report shows; InputError names the plan line."""
    words = Vocabulary(codebook, plan.language)
    _check_columns(plan, data)
    kept, flag_counts, dropped = exclusions(plan, data)
    kept = declined_dummies(plan, numeric_items(plan, kept), words)
    plan.analysis.labels = {**words.labels, **plan.analysis.labels}
    results = run_plan(plan.analysis, kept, dataset_path=dataset_path)
    weighted = apply_weighting(plan.analysis, kept)
    builder = _Builder(plan, weighted, words)
    sections: list[Section] = []
    for s, (section, doc) in enumerate(zip(plan.analysis.sections, results["sections"],
                                           strict=True), start=1):
        entries = iter(doc["results"])
        blocks: list[Block] = []
        for i, analysis in enumerate(section.analyses):
            display = plan.display(s - 1, i)
            mine = [next(entries) for _ in range(_count(analysis))]
            method = {"frequencies": builder.frequencies,
                      "multiple_response": builder.multiple_response,
                      "crosstab": builder.crosstab, "logit": builder.regression,
                      "ologit": builder.regression,
                      "reliability": builder.reliability,
                      "themes": builder.themes}.get(analysis.kind, builder.generic)
            made = method(analysis, display, mine)
            if not display.table:
                for block in made:
                    block.table = None
            blocks += made
        sections.append(Section(s, section.title, f"section-{s}", section.description,
                                doc.get("adjustment"), blocks))
    methods = describe_methods(plan, data, kept, flag_counts, dropped, codebook, words, results)
    report = Report(
        title=plan.analysis.title or _instrument_title(codebook, plan.language) or "Survey report",
        subtitle=plan.subtitle, authors=plan.authors,
        introduction=_paragraphs(plan.introduction), methods=methods, sections=sections,
        appendix=codebook_tables(codebook, words, data) if plan.appendix else [],
        results=results, figures=[], tables=[],
    )
    number(report)
    return report


def _paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


def _instrument_title(codebook: Mapping[str, Any] | None, language: str) -> str | None:
    for instrument in (codebook or {}).get("instruments") or []:
        title = instrument.get("title") or {}
        return str(title.get(language) or title.get("en") or next(iter(title.values()), ""))
    return None


def number(report: Report) -> None:
    """Number figures and tables in reading order, and give every one an anchor and an id."""
    figures = tables = 0
    for table in report.methods.tables:
        tables += 1
        table.number, table.anchor = f"Table {tables}", f"table-{tables}"
        report.tables.append(table)
    for section in report.sections:
        for b, block in enumerate(section.blocks, start=1):
            block.anchor = f"{section.anchor}-{b}"
            if block.figure is not None:
                figures += 1
                block.figure.number = f"Figure {figures}"
                block.figure.anchor = f"figure-{figures}"
                svg = str(block.figure.svg).replace('id=""', f'id="{block.figure.anchor}-svg"', 1)
                svg = svg.replace('aria-labelledby="-title -desc"',
                                  f'aria-labelledby="{block.figure.anchor}-svg-title '
                                  f'{block.figure.anchor}-svg-desc"', 1)
                svg = svg.replace('<title id="-title">',
                                  f'<title id="{block.figure.anchor}-svg-title">', 1)
                svg = svg.replace('<desc id="-desc">',
                                  f'<desc id="{block.figure.anchor}-svg-desc">', 1)
                svg = svg.replace('url(#-', f'url(#{block.figure.anchor}-').replace(
                    'pattern id="-', f'pattern id="{block.figure.anchor}-')
                block.figure.svg = Markup(svg)  # noqa: S704 - built by charts.py, text escaped
                block.figure.alt = _desc(svg)
                report.figures.append(block.figure)
            if block.table is not None:
                tables += 1
                block.table.number = f"Table {tables}"
                block.table.anchor = f"table-{tables}"
                report.tables.append(block.table)
    for n, table in enumerate(report.appendix, start=1):
        table.number, table.anchor = f"Table A{n}", f"table-a{n}"


def _desc(svg: str) -> str:
    import html as _html

    start = svg.find("<desc")
    if start < 0:
        return ""
    start = svg.find(">", start) + 1
    return _html.unescape(svg[start:svg.find("</desc>", start)])


# -- the codebook appendix -------------------------------------------------------------------------
def codebook_tables(codebook: Mapping[str, Any] | None, words: Vocabulary,
                    data: pl.DataFrame) -> list[Table]:
    """The codebook as one appendix table: every question column, its text, answers and counts."""
    if not codebook:
        return []
    rows: list[list[Cell]] = []
    seen_stems: set[str] = set()
    for variable in codebook.get("variables") or []:
        role = variable.get("role")
        name = str(variable["name"])
        if role == "quality" or (role == "meta" and name not in ("language", "arm", "day",
                                                                  "seconds")):
            continue
        kind = str(variable.get("type"))
        if kind in ("choice_dummy", "rank_position"):
            stem = str(variable.get("question"))
            if stem in seen_stems:
                continue
            seen_stems.add(stem)
            choices = [c for c in variable.get("choices") or []]
            answers = "; ".join(f"{stem}__{c['value']} = {words.value(stem, c['value'])}"
                                if not c.get("missing") else
                                f"{stem}__{c['value']} = {_pick(c, words)} (declined)"
                                for c in choices)
            rows.append([Cell(stem, cls="code"), Cell(words.label(stem)),
                         Cell("multiple choice (one 0/1 column each)" if kind == "choice_dummy"
                              else "ranking (one position column each)"), Cell(answers),
                         Cell(_skip(variable))])
            continue
        choices = variable.get("choices") or []
        answers = "; ".join(
            f"{c['value']} = {_pick(c, words)}" + (f" (code {c['code']})"
                                                    if c.get("missing") and c.get("code")
                                                    is not None else "")
            for c in choices)
        counts = variable.get("counts") or {}
        label = words.label(name) if role != "meta" else _pick_label(variable, words)
        rows.append([Cell(name, cls="code"), Cell(label),
                     Cell(kind if role != "meta" else "context"), Cell(answers or "—"),
                     Cell(_skip(variable) + (f" Valid: {counts.get('valid', 0):,}."
                                             if counts else ""))])
    notes = ["Reserved codes in every question column: -97 prefer not to say, -98 don't know, "
             "-99 not shown (skip logic); an empty cell was shown but left unanswered."]
    return [Table("Codebook: the questions, their answers and when they were asked",
                  ["Column", "Question", "Type", "Answers (value = label)", "Asked when"],
                  rows, notes, widths=[18, 29, 11, 28, 14])]


def _pick(choice: Mapping[str, Any], words: Vocabulary) -> str:
    label = choice.get("label") or {}
    return str(label.get(words.language) or label.get("en") or choice.get("value"))


def _pick_label(variable: Mapping[str, Any], words: Vocabulary) -> str:
    label = variable.get("label") or {}
    return str(label.get(words.language) or label.get("en") or variable.get("name"))


def _skip(variable: Mapping[str, Any]) -> str:
    conditions = [c for c in (variable.get("page_relevant"), variable.get("relevant")) if c]
    return "If " + " and ".join(conditions) + "." if conditions else "Always."

"""The methods section, written from the data and the plan rather than by hand.

What a reviewer asks first: how many answered, when, in which languages, who was excluded and
why, whether the numbers are weighted, how intervals and tests were computed, and which cells
were hidden. Every sentence here is filled in from the dataset, the codebook and the plan, so the
section cannot disagree with the tables after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from offramp.data.quality import QUALITY_LABELS
from offramp.report.labels import Vocabulary, language_name
from offramp.report.model import Cell, Methods, Table
from offramp.report.plan import ReportPlan

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
ADJUSTMENTS = {"holm": "Holm's step-down method", "bh": "the Benjamini–Hochberg false "
               "discovery rate", "bonferroni": "Bonferroni's correction"}


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _days(frame: pl.DataFrame) -> pl.Series:
    """The day column as dates, whether the dataset came from Parquet (dates) or CSV (text)."""
    day = frame["day"]
    if day.dtype == pl.Date:
        return day
    if day.dtype == pl.Utf8:
        return day.str.to_date("%Y-%m-%d", strict=False)
    return day.cast(pl.Date, strict=False)


def _months(data: pl.DataFrame, kept: pl.DataFrame) -> list[tuple[str, int, int]]:
    if "day" not in data.columns or data.height == 0:
        return []

    def by_month(frame: pl.DataFrame) -> dict[tuple[int, int], int]:
        days = pl.DataFrame({"day": _days(frame)}).drop_nulls()
        counted = days.group_by(pl.col("day").dt.year().alias("y"),
                                pl.col("day").dt.month().alias("m")).len()
        return {(int(y), int(m)): int(n) for y, m, n in counted.iter_rows()}

    everyone, analysed = by_month(data), by_month(kept)
    return [(f"{MONTHS[m - 1]} {y}", everyone[(y, m)], analysed.get((y, m), 0))
            for y, m in sorted(everyone)]


def _period(data: pl.DataFrame) -> tuple[str | None, str | None]:
    if "day" not in data.columns:
        return None, None
    days = _days(data).drop_nulls()
    if days.len() == 0:
        return None, None
    first, last = days.min(), days.max()
    return (None if first is None else str(first)), (None if last is None else str(last))


def _weighting(plan: ReportPlan) -> str:
    analysis = plan.analysis
    derived = {w["name"]: w for w in analysis.weighting}
    name = analysis.weights
    if not name:
        return ("Weighting. The estimates are unweighted: they describe the people who answered, "
                "who are not a random sample of any population, so no figure here is a "
                "prevalence.")
    if name in derived:
        entry = derived[name]
        if entry["method"] == "rake":
            on = ", ".join(str(k) for k in entry.get("margins") or {})
            how = f"raked (iterative proportional fitting) to the margins of {on}"
        else:
            how = f"post-stratified by {entry.get('by')}"
        return (f"Weighting. Estimates use the weight {name!r}, {how}. Intervals are "
                "design-based (Taylor linearisation); counts n are unweighted respondents.")
    design = []
    if analysis.strata:
        design.append(f"strata {analysis.strata!r}")
    if analysis.cluster:
        design.append(f"clusters {analysis.cluster!r}")
    extra = f" with {' and '.join(design)}" if design else ""
    return (f"Weighting. Estimates use the weight column {name!r}{extra}. Intervals are "
            "design-based (Taylor linearisation); counts n are unweighted respondents.")


def describe_methods(plan: ReportPlan, data: pl.DataFrame, kept: pl.DataFrame,
                     flag_counts: Mapping[str, int], dropped: int,
                     codebook: Mapping[str, Any] | None, words: Vocabulary,
                     results: Mapping[str, Any]) -> Methods:
    n_total, n_kept = data.height, kept.height
    first, last = _period(data)
    months = _months(data, kept)
    instruments = (codebook or {}).get("instruments") or []
    paragraphs: list[str] = []
    if instruments:
        title = instruments[0].get("title") or {}
        name = str(title.get(words.language) or title.get("en") or instruments[0]["id"])
        versions = ", ".join(str(i["version"]) for i in instruments)
        what = f"the survey “{name}” (instrument {instruments[0]['id']}, version {versions})"
    else:
        what = "the survey"
    when = f" between {first} and {last}" if first and last else ""
    paragraphs.append(
        f"Data. {n_total:,} respondents completed {what}{when}"
        + (f", over {len(months)} calendar month{'s' if len(months) != 1 else ''}" if months
           else "") + ". The survey was anonymous: no address, browser or time of day was "
        "recorded, only the day of completion, and answers were encrypted on arrival.")
    quality = (codebook or {}).get("quality") or {}
    flagged = quality.get("flagged") or {}
    if plan.exclude:
        parts = [f"{QUALITY_LABELS.get(name, name).removeprefix('Quality flag: ')} "
                 f"({name}, {flag_counts.get(name, 0):,})" for name in plan.exclude]
        paragraphs.append(
            "Exclusions. Respondents flagged by the export's quality checks were excluded: "
            + "; ".join(parts) + f". {dropped:,} respondents in all ({_share(dropped, n_total)}) "
            f"were excluded, leaving {n_kept:,} for analysis.")
    else:
        noted = [f"{name} {count:,}" for name, count in flagged.items() if count]
        paragraphs.append(
            f"Exclusions. None: all {n_total:,} respondents are analysed."
            + (f" The export flagged {', '.join(noted)}; the plan keeps them." if noted else ""))
    settings = quality.get("settings") or {}
    if settings:
        paragraphs.append(
            "Quality flags. A speeder spent less than "
            f"{float(settings.get('speeder_threshold', 0.5)):.2f} times the median time on the "
            "pages they saw; a straight-liner gave one answer to every item of a grid of at least "
            f"{settings.get('grid_min_items', 3)} items. Flags are columns of the dataset; the "
            "plan decides what to exclude.")
    paragraphs.append(_weighting(plan))
    defaults = results.get("defaults") or {}
    level = round(100 * float(defaults.get("level") or 0.95))
    adjust = {s.adjust for s in plan.analysis.sections if s.adjust != "none"}
    adjusted = " and ".join(ADJUSTMENTS.get(a, a) for a in sorted(adjust))
    paragraphs.append(
        f"Estimates and intervals. Percentages are of the respondents shown each question; "
        f"valid percentages leave out “prefer not to say”, “don't know” and unanswered "
        f"questions. Every percentage has a {level}% Wilson score interval. Cross-tabulations "
        "are tested with Pearson's chi-square (Fisher's exact test where expected counts are "
        "small), with Cramér's V and its interval"
        + (f"; p-values are adjusted within each section by {adjusted}" if adjusted else "")
        + ". Logistic regressions report odds ratios with Wald intervals; respondents missing any "
        "variable of a model are left out of it (listwise deletion).")
    min_cell = defaults.get("min_cell")
    if min_cell:
        paragraphs.append(
            f"Suppression. A cell resting on fewer than {min_cell} respondents is not shown "
            "(“—”), and where a row or column would reveal it from its total, the next smallest "
            "cell is hidden too. Regression tables are not suppressed.")
    else:
        paragraphs.append("Suppression. None: the plan turned small-cell suppression off.")
    paragraphs.append(
        "Missing answers. “Prefer not to say” (code -97), “don't know” (-98) and “not shown” "
        "(-99, skip logic) are kept apart from each other and from questions left blank; tables "
        "list them under the substantive answers.")
    paragraphs += [p.strip() for p in (plan.methods or "").split("\n\n") if p.strip()]
    dataset = results.get("dataset") or {}
    plan_doc = results.get("plan") or {}
    if dataset.get("sha256"):
        paragraphs.append(
            f"Reproducibility. Dataset SHA-256 {dataset['sha256'][:16]}…, plan SHA-256 "
            f"{str(plan_doc.get('sha256', ''))[:16]}…, offramp {results.get('offramp_version')}. "
            "The same plan on the same dataset gives the same report.")
    tables = []
    if months:
        rows = [[Cell(label), Cell(f"{n:,}", cls="num"), Cell(_share(n, n_total), cls="num"),
                 Cell(f"{k:,}", cls="num")] for label, n, k in months]
        rows.append([Cell("All months", cls="total"), Cell(f"{n_total:,}", cls="num total"),
                     Cell("100.0%", cls="num total"), Cell(f"{n_kept:,}", cls="num total")])
        tables.append(Table("Completed responses by month", ["Month", "Completed", "%",
                                                               "Analysed"], rows,
                            ["Day of completion; no time of day is kept."],
                            widths=[40, 20, 20, 20]))
    languages: list[tuple[str, int, int]] = []
    if "language" in data.columns and n_total:
        all_counts = dict(data.group_by("language").len().iter_rows())
        kept_counts = dict(kept.group_by("language").len().iter_rows()) if n_kept else {}
        order = words.ordered("language", sorted(str(k) for k in all_counts if k is not None))
        languages = [(code, int(all_counts[code]), int(kept_counts.get(code, 0)))
                     for code in order]
        rows = [[Cell(f"{language_name(code)} ({code})"), Cell(f"{n:,}", cls="num"),
                 Cell(f"{k:,}", cls="num"), Cell(_share(k, n_kept), cls="num")]
                for code, n, k in languages]
        tables.append(Table("Respondents by survey language", ["Language", "Completed",
                                                                 "Analysed", "% of analysed"],
                            rows, widths=[40, 20, 20, 20]))
    facts = {"n_total": n_total, "n_analysed": n_kept, "excluded": dict(flag_counts),
             "dropped": dropped, "first_day": first, "last_day": last,
             "months": [{"month": m, "completed": n, "analysed": k} for m, n, k in months],
             "languages": {code: {"completed": n, "analysed": k} for code, n, k in languages},
             "weights": plan.analysis.weights, "min_cell": min_cell, "level": level}
    return Methods(paragraphs, tables, facts)

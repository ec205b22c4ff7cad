"""The one-page HTML report of a scan: summary, chart, interrupted time series, tables.

Self-contained (inline CSS and SVG, no script, nothing fetched), so it can be mailed, archived or
opened offline. Every value is escaped; category and rule names come from an operator's file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from offramp.logscan.its import ITSResult
from offramp.logscan.svg import Series, prevalence_chart

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_SHARE_COLUMNS = ("prevalence", "share", "share_of_blocked", "ci_low", "ci_high")
_HEADINGS = {  # in the order the report shows them: short tables first, long ones last
    "sessions": "Sessions",
    "by_category": "By category",
    "by_age": "By stated age band",
    "by_language": "By language",
    "by_month": "By month",
    "by_week": "By week (weeks start on Monday)",
    "by_rule": "By rule",
    "by_day": "By day",
}


@dataclass(frozen=True, slots=True)
class Truth:
    """Planted values from a synthetic log, drawn beside the estimates."""

    days: list[date]
    prevalence: list[float | None]


def _cell(column: str, value: Any, suppressed: bool, shares: bool) -> str:
    if value is None:
        return '<td class="suppressed">suppressed</td>' if suppressed else "<td>–</td>"
    if isinstance(value, float) and shares and any(column.endswith(c) for c in _SHARE_COLUMNS):
        return f"<td>{value * 100:.3g}%</td>"
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"<td>{value:,}</td>"
    return f"<td>{escape(str(value))}</td>"


def html_table(table: pl.DataFrame, *, shares: bool = True) -> Markup:
    """A table; with ``shares``, proportion columns are shown as percentages."""
    columns = [c for c in table.columns if c != "suppressed"]
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    rows = []
    for record in table.iter_rows(named=True):
        hidden = bool(record.get("suppressed"))
        cells = "".join(_cell(c, record[c], hidden, shares) for c in columns)
        rows.append(f"<tr>{cells}</tr>")
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")  # noqa: S704 - every cell is escaped above


def render_report(
    tables: dict[str, pl.DataFrame],
    summary: list[tuple[str, str]],
    *,
    level: float,
    min_cell: int,
    change: date | None = None,
    its: ITSResult | None = None,
    truth: Truth | None = None,
) -> str:
    """The report page as a string."""
    period = next((p for p in ("day", "week", "month") if f"by_{p}" in tables), None)
    chart = ""
    if period is not None:
        t = tables[f"by_{period}"]
        observed = Series(
            t["period"].dt.date().to_list(),
            t["prevalence"].to_list(),
            t["ci_low"].to_list(),
            t["ci_high"].to_list(),
        )
        truth_series = Series(truth.days, truth.prevalence) if truth is not None else None
        fitted: list[Series] = []
        counterfactual = None
        if its is not None and period == "day":
            days = its.fitted["day"].to_list()
            line = its.fitted["fitted"].to_list()
            pairs = list(zip(days, line, strict=True))
            fitted = [
                Series(days, [v if d < its.change else None for d, v in pairs]),
                Series(days, [v if d >= its.change else None for d, v in pairs]),
            ]
            counterfactual = Series(
                days, [c if d >= its.change else None
                       for d, c in zip(days, its.fitted["counterfactual"].to_list(), strict=True)]
            )
        chart = prevalence_chart(observed, change=change, truth=truth_series, fitted=fitted,
                                 counterfactual=counterfactual,
                                 title=f"Prevalence of flagged searches by {period}")
    shown = [(_HEADINGS[name], html_table(tables[name])) for name in _HEADINGS if name in tables]
    relative = its.relative_level_change if its is not None else None
    return _ENV.get_template("logscan_report.html").render(
        title="Prevalence of CSAM-seeking searches",
        summary=summary,
        chart=Markup(chart),  # noqa: S704 - built by svg.py, which escapes every label
        chart_period=period,
        level_pct=f"{level:.0%}",
        change=change.isoformat() if change else None,
        has_truth=truth is not None,
        its=its,
        its_relative=None if relative is None else f"{relative:+.1%}",
        its_table=html_table(its.table, shares=False) if its is not None else "",
        tables=shown,
        min_cell=min_cell,
    )

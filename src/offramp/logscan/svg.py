"""A prevalence-over-time chart as inline SVG: no script, no fonts or files from elsewhere.

Drawn by hand rather than with a plotting library so the report is one self-contained HTML file
that any browser (and any PDF renderer) shows the same way, with nothing to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

WIDTH, HEIGHT = 820, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 20, 48


@dataclass(frozen=True, slots=True)
class Series:
    """Points by date; None breaks the line (e.g. a suppressed period)."""

    days: Sequence[date]
    values: Sequence[float | None]
    low: Sequence[float | None] = field(default_factory=tuple)
    high: Sequence[float | None] = field(default_factory=tuple)


def _runs(values: Sequence[float | None], *others: Sequence[float | None]) -> list[list[int]]:
    """Index runs where all the given sequences have values."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, v in enumerate(values):
        ok = v is not None and all(o[i] is not None for o in others)
        if ok:
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _nice_step(top: float) -> float:
    """A round grid step giving about five lines up to ``top`` (a proportion)."""
    raw = top / 5
    for step in (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05,
                 0.1, 0.2, 0.25):
        if step >= raw:
            return step
    return 0.25


def prevalence_chart(
    observed: Series,
    *,
    change: date | None = None,
    truth: Series | None = None,
    fitted: Sequence[Series] = (),
    counterfactual: Series | None = None,
    title: str = "Prevalence over time",
) -> str:
    """The SVG element (a string) for observed prevalence with its interval band."""
    days = list(observed.days)
    if not days:
        return ""
    start, end = min(days), max(days)
    span = max((end - start).days, 1)
    candidates = [v for v in (*observed.values, *observed.high) if v is not None]
    for extra in (truth, *fitted, counterfactual):
        if extra is not None:
            candidates.extend(v for v in extra.values if v is not None)
    top = max(candidates, default=0.01) * 1.1 or 0.01
    step = _nice_step(top)
    top = step * (int(top / step) + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + plot_w * (d - start).days / span

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    def path(series: Series, run: list[int], values: Sequence[float | None]) -> str:
        pts = [f"{x(series.days[i]):.1f},{y(float(values[i] or 0.0)):.1f}" for i in run]
        return " ".join(pts)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#bbb"/>',
    ]
    tick = 0.0
    while tick <= top + 1e-12:
        ty = y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{tick * 100:.4g}%</text>')
        tick += step
    n_labels = min(6, len(days))
    for k in range(n_labels):
        d = days[round(k * (len(days) - 1) / max(n_labels - 1, 1))]
        anchor = "start" if k == 0 else "end" if k == n_labels - 1 else "middle"
        parts.append(f'<text x="{x(d):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" '
                     f'font-size="11">{d.isoformat()}</text>')
    if observed.low and observed.high:
        for run in _runs(observed.values, observed.low, observed.high):
            upper = path(observed, run, observed.high)
            lower = path(observed, list(reversed(run)), observed.low)
            parts.append(f'<polygon points="{upper} {lower}" fill="#9ecae1" opacity="0.5" '
                         'stroke="none"><title>95% Wilson interval</title></polygon>')
    for run in _runs(observed.values):
        parts.append(f'<polyline points="{path(observed, run, observed.values)}" fill="none" '
                     'stroke="#08519c" stroke-width="1.6"/>')
    for extra, colour, dash, label in (
        (truth, "#2ca25f", "6 3", "planted truth"),
        *((f, "#d95f0e", "", "segmented regression") for f in fitted),
        (counterfactual, "#d95f0e", "2 3", "no-change counterfactual"),
    ):
        if extra is None:
            continue
        for run in _runs(extra.values):
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{path(extra, run, extra.values)}" fill="none" '
                         f'stroke="{colour}" stroke-width="1.6"{dash_attr}>'
                         f'<title>{label}</title></polyline>')
    if change is not None and start <= change <= end:
        cx = x(change)
        parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                     'stroke="#a50f15" stroke-width="1.4" stroke-dasharray="5 4"/>')
        parts.append(f'<text x="{cx + 4:.1f}" y="{TOP + 14}" font-size="11" fill="#a50f15">'
                     f'change {change.isoformat()}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
                 'font-size="12">day</text>')
    parts.append("</svg>")
    return "\n".join(parts)

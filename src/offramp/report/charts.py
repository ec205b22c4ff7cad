"""The report's charts as inline SVG: no script, no font or file from elsewhere, readable in print.

Drawn by hand so that a browser and WeasyPrint show the same picture and the report stays one
self-contained file. Each chart is an `<svg role="img">` whose `<title>` and `<desc>` carry the
alt text (what is shown, then every number), so a screen reader gets the figure's content.

Design rules, because reports are printed in black and white and read by people with colour
vision deficiencies:
- every bar carries its number as text; colour never carries information alone;
- the diverging Likert palette (ColorBrewer BrBG, safe for the common colour vision deficiencies)
  runs dark-light-dark, and disagreement is hatched, so its two sides differ in grayscale too;
- grouped bars name their group at the end of each bar, and alternate solid and hatched fills;
- intervals are drawn as whiskers with end caps, never as shading that vanishes in print;
- labels are wrapped, never cut: the label column is as wide as the longest word needs.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
FONT = 12
SMALL = 10
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
INK = "#1a1a1a"
MUTED = "#555555"
GRID = "#c8c8c8"
BAR = "#2b5c8a"
WHISKER = "#000000"
PALETTES = {
    2: ("#8c510a", "#01665e"),
    3: ("#d8b365", "#ececec", "#5ab4ac"),
    4: ("#8c510a", "#d8b365", "#5ab4ac", "#01665e"),
    5: ("#8c510a", "#d8b365", "#ececec", "#5ab4ac", "#01665e"),
    6: ("#8c510a", "#d8b365", "#f6e8c3", "#c7eae5", "#5ab4ac", "#01665e"),
    7: ("#8c510a", "#d8b365", "#f6e8c3", "#ececec", "#c7eae5", "#5ab4ac", "#01665e"),
}
GROUP_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999",
                 "#000000")
"""Okabe-Ito colours, distinguishable with every common colour vision deficiency."""


@dataclass(frozen=True)
class Bar:
    """One estimate with its interval; value None means suppressed (too few respondents)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class LikertItem:
    label: str
    shares: Sequence[float | None]
    """Valid percentages, one per category in scale order (None: suppressed)."""


@dataclass(frozen=True)
class Panel:
    title: str
    bars: Sequence[Bar]


# -- text helpers ----------------------------------------------------------------------------------
def text_width(text: str, size: float = FONT) -> float:
    """A generous estimate of rendered width (DejaVu Sans is among the widest common fonts)."""
    width = 0.0
    for ch in text:
        if ch == " ":
            width += 0.33
        elif ch in "il.,:;'|!()[]":
            width += 0.32
        elif ch.isupper() or ch in "mwMW%":
            width += 0.78
        elif ch.isdigit():
            width += 0.64
        else:
            width += 0.6
    return width * size


def wrap(text: str, width_px: float, size: float = FONT) -> list[str]:
    """Lines of at most width_px; a word longer than a line gets a line of its own (never cut)."""
    chars = max(8, int(width_px / (0.62 * size)))
    lines = textwrap.wrap(text, chars, break_long_words=False, break_on_hyphens=False) or [""]
    return lines


def _text(x: float, y: float, lines: Sequence[str], *, anchor: str = "start",
          size: float = FONT, fill: str = INK, weight: str = "normal", line_height: float = 1.2,
          middle: bool = True) -> str:
    """SVG text of several lines; vertically centred on y when `middle`."""
    height = size * line_height
    top = y - (len(lines) - 1) * height / 2 if middle else y
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{top + i * height + size * 0.35:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (f'<text font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{spans}</text>')


def _svg(chart_id: str, height: float, title: str, description: str, body: str,
         defs: str = "") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'font-family="{FONT_FAMILY}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
        f"{('<defs>' + defs + '</defs>') if defs else ''}{body}</svg>"
    )


def _hatch(pattern_id: str, colour: str, background: str) -> str:
    """Diagonal stripes over the fill colour: a second cue that survives grayscale printing."""
    return (f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="7" height="7" '
            f'patternTransform="rotate(45)"><rect width="7" height="7" fill="{background}"/>'
            f'<line x1="0" y1="0" x2="0" y2="7" stroke="{colour}" stroke-width="1.3" '
            f'stroke-opacity="0.8"/></pattern>')


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def percent(value: float | None, digits: int = 1) -> str:
    return "suppressed" if value is None else f"{value:.{digits}f}%"


def interval(low: float | None, high: float | None, digits: int = 1) -> str:
    if low is None or high is None:
        return ""
    return f"{low:.{digits}f}–{high:.{digits}f}"


def _scale(value: float, cap: float = 100.0, most: int = 6) -> tuple[float, float]:
    """A round axis maximum at or above `value` and its tick step (at most `most` steps)."""
    if value <= 0:
        return 10.0, 2.0
    for step in (1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0):
        top = step * math.ceil(value / step - 1e-9)
        if top / step <= most:
            if top > cap and cap % step == 0:
                return cap, step
            return top, step
    return cap, cap / 5


def _nice_max(value: float, cap: float = 100.0) -> float:
    return _scale(value, cap)[0]


def _axis(x0: float, x1: float, top: float, bottom: float, maximum: float, *,
          unit: str = "%") -> str:
    step = _scale(maximum)[1]
    ticks = max(1, round(maximum / step))
    parts = []
    for i in range(ticks + 1):
        value = step * i
        x = x0 + (x1 - x0) * value / maximum
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        label = f"{value:g}{unit}"
        parts.append(_text(x, bottom + 12, [label], anchor="middle", size=SMALL, fill=MUTED))
    return "".join(parts)


def _whisker(x_low: float, x_high: float, y: float, cap: float = 5.0) -> str:
    return (f'<path d="M{x_low:.1f},{y:.1f}H{x_high:.1f}M{x_low:.1f},{y - cap:.1f}V{y + cap:.1f}'
            f'M{x_high:.1f},{y - cap:.1f}V{y + cap:.1f}" stroke="{WHISKER}" stroke-width="1.4" '
            f'fill="none"/>')


def _bar_marks(bar: Bar, x0: float, x1: float, mid: float, scale_max: float, *, height: float,
               cap: float, gap: float, label: str, size: float) -> list[str]:
    """One estimate's bar from x0, its interval whisker and its value label after both."""
    assert bar.value is not None

    def at(value: float) -> float:
        return (x1 - x0) * min(value, scale_max) / scale_max

    w = at(bar.value)
    marks = [f'<rect x="{x0:.1f}" y="{mid - height / 2:.1f}" width="{max(w, 0.5):.1f}" '
             f'height="{height:g}" fill="{BAR}"/>']
    end = w
    if bar.low is not None and bar.high is not None:
        hi = x0 + at(bar.high)
        marks.append(_whisker(x0 + at(bar.low), hi, mid, cap=cap))
        end = max(end, hi - x0)
    marks.append(_text(x0 + end + gap, mid, [label], size=size))
    return marks


def _label_width(labels: Sequence[str], share: float = 0.4) -> float:
    longest_word = max((text_width(w) for label in labels for w in label.split()), default=40)
    natural = max((text_width(label) for label in labels), default=40) + 8
    return max(min(natural, WIDTH * share), longest_word + 8)


def describe_bars(bars: Sequence[Bar], unit: str = "%") -> str:
    parts = []
    for bar in bars:
        if bar.value is None:
            parts.append(f"{bar.label}: suppressed")
            continue
        ci = interval(bar.low, bar.high)
        parts.append(f"{bar.label}: {bar.value:.1f}{unit}" + (f" (95% interval {ci})" if ci
                                                                 else ""))
    return "; ".join(parts)


# -- horizontal bars with whiskers -----------------------------------------------------------------
def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, intro: str = "",
              unit: str = "%", maximum: float | None = None) -> str:
    """Horizontal bars of percentages with their intervals, one per category."""
    label_w = _label_width([b.label for b in bars])
    x0, x1 = label_w + 8, WIDTH - 70
    top = 8.0
    highest = max([b.high or b.value or 0.0 for b in bars] + [1.0])
    scale_max = maximum if maximum is not None else _nice_max(highest)
    rows = []
    y = top
    for bar in bars:
        lines = wrap(bar.label, label_w - 8)
        row_h = max(26.0, len(lines) * FONT * 1.2 + 8)
        mid = y + row_h / 2
        rows.append(_text(x0 - 8, mid, lines, anchor="end"))
        if bar.value is None:
            rows.append(_text(x0 + 4, mid, ["suppressed (too few respondents)"], size=SMALL,
                              fill=MUTED))
        else:
            rows += _bar_marks(bar, x0, x1, mid, scale_max, height=16, cap=5.0, gap=6,
                               label=percent(bar.value, 0 if unit == "%" else 1), size=SMALL)
        y += row_h
    bottom = y + 4
    axis = _axis(x0, x1, top - 4, bottom, scale_max, unit=unit)
    description = (intro + " " if intro else "") + describe_bars(bars, unit)
    return _svg(chart_id, bottom + 22, title, description, axis + "".join(rows))


# -- diverging stacked Likert bars -----------------------------------------------------------------
def likert_chart(chart_id: str, title: str, items: Sequence[LikertItem],
                 categories: Sequence[str], *, intro: str = "") -> str:
    """Diverging stacked bars: disagreement left of the centre line, agreement right."""
    k = len(categories)
    palette = PALETTES.get(k) or PALETTES[min(PALETTES, key=lambda n: abs(n - k))]
    if len(palette) < k:
        palette = tuple(palette) + (GRID,) * (k - len(palette))
    negative = k // 2
    neutral = k % 2 == 1
    label_w = _label_width([i.label for i in items], share=0.34)
    x0, x1 = label_w + 22, WIDTH - 22  # room for the outer tick labels
    centre = (x0 + x1) / 2
    defs = "".join(_hatch(f"{chart_id}-h{j}", "#ffffff" if _luminance(palette[j]) < 0.5
                          else "#6b6b6b", palette[j]) for j in range(negative))
    # symmetric scale wide enough for the most lopsided item
    extent = 10.0
    for item in items:
        known = [s or 0.0 for s in item.shares]
        half = known[negative] / 2 if neutral else 0.0
        extent = max(extent, sum(known[:negative]) + half,
                     sum(known[negative + (1 if neutral else 0):]) + half)
    extent = _nice_max(extent)
    per = (x1 - centre) / extent
    legend_y = 10.0
    legend = []
    lx = x0
    for j, name in enumerate(categories):
        fill = f"url(#{chart_id}-h{j})" if j < negative else palette[j]
        width = 14 + 4 + text_width(name, SMALL) + 14
        if lx + width > x1:
            lx = x0
            legend_y += 16
        legend.append(f'<rect x="{lx:.1f}" y="{legend_y - 6}" width="14" height="12" '
                      f'fill="{fill}" stroke="{INK}" stroke-width="0.6"/>')
        legend.append(_text(lx + 18, legend_y, [name], size=SMALL))
        lx += width
    top = legend_y + 16
    rows = []
    y = top
    for item in items:
        lines = wrap(item.label, label_w - 8)
        row_h = max(28.0, len(lines) * FONT * 1.2 + 8)
        mid = y + row_h / 2
        rows.append(_text(x0 - 8, mid, lines, anchor="end"))
        if any(s is None for s in item.shares):
            rows.append(_text(centre, mid, ["suppressed (too few respondents)"], anchor="middle",
                              size=SMALL, fill=MUTED))
            y += row_h
            continue
        values = [float(s or 0.0) for s in item.shares]
        start = centre - per * (sum(values[:negative]) + (values[negative] / 2 if neutral else 0))
        x = start
        for j, share in enumerate(values):
            w = per * share
            fill = f"url(#{chart_id}-h{j})" if j < negative else palette[j]
            rows.append(f'<rect x="{x:.1f}" y="{mid - 9:.1f}" width="{max(w, 0):.1f}" '
                        f'height="18" fill="{fill}" stroke="#ffffff" stroke-width="0.5"/>')
            if share >= 7 and w > text_width(f"{share:.0f}", SMALL) + 4:
                colour = "#ffffff" if _luminance(palette[j]) < 0.45 else INK
                label = f"{share:.0f}"
                if j < negative:  # white box behind the number, readable on the hatching
                    tw = text_width(label, SMALL) + 4
                    rows.append(f'<rect x="{x + w / 2 - tw / 2:.1f}" y="{mid - 7:.1f}" '
                                f'width="{tw:.1f}" height="14" fill="#ffffff" opacity="0.85"/>')
                    colour = INK
                rows.append(_text(x + w / 2, mid, [label], anchor="middle", size=SMALL,
                                  fill=colour))
            x += w
        y += row_h
    bottom = y + 2
    ticks = []
    for value in (-extent, -extent / 2, 0.0, extent / 2, extent):
        x = centre + per * value
        ticks.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4:.1f}" y2="{bottom:.1f}" '
                     f'stroke="{INK if value == 0 else GRID}" '
                     f'stroke-width="{1.5 if value == 0 else 1}"/>')
        ticks.append(_text(x, bottom + 12, [f"{abs(value):.0f}%"], anchor="middle", size=SMALL,
                           fill=MUTED))
    parts = []
    for item in items:
        listed = ", ".join(f"{c} {percent(s)}" for c, s in zip(categories, item.shares,
                                                                    strict=False))
        parts.append(f"{item.label}: {listed}")
    description = (intro + " " if intro else "") + "; ".join(parts)
    body = "".join(ticks) + "".join(legend) + "".join(rows)
    return _svg(chart_id, bottom + 22, title, description, body, defs)


# -- grouped bars ----------------------------------------------------------------------------------
def grouped_chart(chart_id: str, title: str, categories: Sequence[str], groups: Sequence[str],
                  bars: Sequence[Sequence[Bar]], *, intro: str = "") -> str:
    """For each category, one bar per group (bars[c][g]), each named at its end."""
    label_w = _label_width(list(categories), share=0.3)
    group_w = max((text_width(g, SMALL) for g in groups), default=20)
    x0 = label_w + 8
    x1 = WIDTH - group_w - 60
    highest = max([b.high or b.value or 0.0 for row in bars for b in row] + [1.0])
    scale_max = _nice_max(highest)
    defs = "".join(_hatch(f"{chart_id}-g{j}", "#ffffff", GROUP_COLOURS[j % len(GROUP_COLOURS)])
                   for j in range(len(groups)) if j % 2 == 1)
    rows = []
    top = 8.0
    y = top
    bar_h = 12
    for c, category in enumerate(categories):
        lines = wrap(category, label_w - 8)
        block_h = max(len(groups) * (bar_h + 4) + 10, len(lines) * FONT * 1.2 + 10)
        rows.append(_text(x0 - 8, y + block_h / 2, lines, anchor="end", weight="bold"))
        by = y + (block_h - len(groups) * (bar_h + 4)) / 2
        for g, group in enumerate(groups):
            bar = bars[c][g]
            mid = by + bar_h / 2
            colour = GROUP_COLOURS[g % len(GROUP_COLOURS)]
            fill = f"url(#{chart_id}-g{g})" if g % 2 == 1 else colour
            if bar.value is None:
                rows.append(_text(x0 + 4, mid, [f"{group}: suppressed"], size=SMALL,
                                  fill=MUTED))
            else:
                w = (x1 - x0) * min(bar.value, scale_max) / scale_max
                rows.append(f'<rect x="{x0:.1f}" y="{by:.1f}" width="{max(w, 0.5):.1f}" '
                            f'height="{bar_h}" fill="{fill}" stroke="{colour}" '
                            f'stroke-width="0.8"/>')
                end = w
                if bar.low is not None and bar.high is not None:
                    lo = x0 + (x1 - x0) * min(bar.low, scale_max) / scale_max
                    hi = x0 + (x1 - x0) * min(bar.high, scale_max) / scale_max
                    rows.append(_whisker(lo, hi, mid, cap=4))
                    end = max(end, hi - x0)
                rows.append(_text(x0 + end + 5, mid, [f"{group} {bar.value:.0f}%"],
                                  size=SMALL))
            by += bar_h + 4
        y += block_h
        if c < len(categories) - 1:
            rows.append(f'<line x1="{x0 - label_w:.1f}" x2="{WIDTH:.1f}" y1="{y:.1f}" '
                        f'y2="{y:.1f}" stroke="{GRID}" stroke-dasharray="2 3"/>')
    bottom = y + 2
    axis = _axis(x0, x1, top - 4, bottom, scale_max)
    parts = [f"{category}: " + describe_bars([Bar(g, b.value, b.low, b.high)
                                              for g, b in zip(groups, row, strict=True)])
             for category, row in zip(categories, bars, strict=True)]
    description = (intro + " " if intro else "") + " | ".join(parts)
    return _svg(chart_id, bottom + 22, title, description, axis + "".join(rows), defs)


# -- small multiples -------------------------------------------------------------------------------
def small_multiples(chart_id: str, title: str, categories: Sequence[str],
                    panels: Sequence[Panel], *, intro: str = "", columns: int = 3) -> str:
    """One small bar chart per group, all on the same scale, categories named once per row."""
    columns = max(1, min(columns, len(panels)))
    label_w = _label_width(list(categories), share=0.28)
    gap = 14
    panel_w = (WIDTH - label_w - 8 - gap * (columns - 1)) / columns
    highest = max([b.high or b.value or 0.0 for p in panels for b in p.bars] + [1.0])
    scale_max = _nice_max(highest)
    row_heights = [max(22.0, len(wrap(c, label_w - 8, SMALL)) * SMALL * 1.2 + 8)
                   for c in categories]
    block_h = sum(row_heights)
    parts = []
    y = 4.0
    for start in range(0, len(panels), columns):
        chunk = panels[start:start + columns]
        title_lines = max(len(wrap(p.title, panel_w, SMALL)) for p in chunk)
        header = title_lines * SMALL * 1.2 + 6
        top = y + header
        ry = top
        for category, h in zip(categories, row_heights, strict=True):
            parts.append(_text(label_w, ry + h / 2, wrap(category, label_w - 8, SMALL),
                               anchor="end", size=SMALL))
            ry += h
        for n, panel in enumerate(chunk):
            px0 = label_w + 8 + n * (panel_w + gap)
            px1 = px0 + panel_w - 34
            parts.append(_text(px0, y + 4, wrap(panel.title, panel_w, SMALL), size=SMALL,
                               weight="bold", middle=False))
            parts.append(f'<rect x="{px0:.1f}" y="{top:.1f}" width="{px1 - px0:.1f}" '
                         f'height="{block_h:.1f}" fill="#f7f7f7" stroke="{GRID}"/>')
            ry = top
            for bar, h in zip(panel.bars, row_heights, strict=True):
                mid = ry + h / 2
                if bar.value is None:
                    parts.append(_text(px0 + 3, mid, ["suppressed"], size=SMALL - 1,
                                       fill=MUTED))
                else:
                    parts += _bar_marks(bar, px0, px1, mid, scale_max, height=12, cap=3.5,
                                        gap=3, label=f"{bar.value:.0f}%", size=SMALL - 1)
                ry += h
            parts.append(_text(px0, top + block_h + 10, ["0"], size=SMALL - 1, fill=MUTED))
            parts.append(_text(px1, top + block_h + 10, [f"{scale_max:.0f}%"], anchor="end",
                               size=SMALL - 1, fill=MUTED))
        y = top + block_h + 22
    description = (intro + " " if intro else "") + " | ".join(
        f"{p.title}: " + describe_bars(p.bars) for p in panels)
    return _svg(chart_id, y, title, description, "".join(parts))


# -- forest plot of odds ratios --------------------------------------------------------------------
def forest_chart(chart_id: str, title: str, rows: Sequence[Bar], *, intro: str = "") -> str:
    """Odds ratios with intervals on a log scale, a line at 1 (no difference)."""
    label_w = _label_width([r.label for r in rows], share=0.42)
    x0, x1 = label_w + 8, WIDTH - 110
    values = [v for r in rows for v in (r.low, r.high, r.value) if v is not None and v > 0]
    lo = min([*values, 0.5])
    hi = max([*values, 2.0])
    lo_exp = math.floor(math.log2(lo))
    hi_exp = math.ceil(math.log2(hi))
    if hi_exp - lo_exp < 2:
        lo_exp, hi_exp = lo_exp - 1, hi_exp + 1

    def x_of(value: float) -> float:
        return x0 + (x1 - x0) * (math.log2(value) - lo_exp) / (hi_exp - lo_exp)

    parts = []
    top = 8.0
    y = top
    for row in rows:
        lines = wrap(row.label, label_w - 8)
        row_h = max(24.0, len(lines) * FONT * 1.2 + 6)
        mid = y + row_h / 2
        parts.append(_text(x0 - 8, mid, lines, anchor="end"))
        if row.value is not None and row.value > 0:
            if row.low is not None and row.high is not None and row.low > 0:
                parts.append(_whisker(x_of(row.low), x_of(row.high), mid))
            parts.append(f'<rect x="{x_of(row.value) - 5:.1f}" y="{mid - 5:.1f}" width="10" '
                         f'height="10" fill="{BAR}"/>')
            label = f"{row.value:.2f} ({interval(row.low, row.high, 2)})"
            parts.append(_text(x1 + 8, mid, [label], size=SMALL))
        y += row_h
    bottom = y + 2
    axis = []
    for exp in range(lo_exp, hi_exp + 1):
        value = 2.0**exp
        x = x_of(value)
        dash = "" if exp == 0 else ' stroke-dasharray="3 3"'
        axis.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{bottom:.1f}" '
                    f'stroke="{INK if exp == 0 else GRID}" '
                    f'stroke-width="{1.5 if exp == 0 else 1}"{dash}/>')
        label = f"{value:g}" if value >= 1 else f"1/{1 / value:g}"
        axis.append(_text(x, bottom + 12, [label], anchor="middle", size=SMALL, fill=MUTED))
    axis.append(_text(x1 + 8, top + 2, ["OR (95% CI)"], size=SMALL, fill=MUTED, middle=False))
    description = (intro + " " if intro else "") + "; ".join(
        f"{r.label}: odds ratio {r.value:.2f} (95% interval {interval(r.low, r.high, 2)})"
        if r.value is not None else f"{r.label}: not estimated" for r in rows)
    return _svg(chart_id, bottom + 24, title, description, "".join(axis) + "".join(parts))

"""The SVG charts: well-formed, drawn to scale, honest about suppression, readable without
colour."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest

from offramp.report import charts
from offramp.report.charts import Bar, LikertItem, Panel

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it


def _bars(root: ET.Element, fill: str = charts.BAR) -> list[ET.Element]:
    return [r for r in root.iter(f"{{{NS['s']}}}rect") if r.get("fill") == fill]


def test_bar_lengths_and_whiskers_are_to_scale() -> None:
    bars = [Bar("Yes", 60.0, 55.0, 65.0), Bar("No", 30.0, 26.0, 34.5)]
    root = _parse(charts.bar_chart("c", "Title", bars))
    yes, no = _bars(root)
    assert float(yes.get("width", 0)) / float(no.get("width", 0)) == pytest.approx(2.0, rel=1e-3)
    x0 = float(yes.get("x", 0))
    per = float(yes.get("width", 0)) / 60.0
    whiskers = [p.get("d", "") for p in root.iter(f"{{{NS['s']}}}path")]
    ends = [tuple(float(v) for v in re.match(r"M([\d.]+),[\d.]+H([\d.]+)", d).groups())  # type: ignore[union-attr]
            for d in whiskers]
    assert ends[0] == pytest.approx((x0 + 55 * per, x0 + 65 * per), abs=0.11)
    assert ends[1] == pytest.approx((x0 + 26 * per, x0 + 34.5 * per), abs=0.11)


def test_alt_text_title_and_description_carry_every_number() -> None:
    svg = charts.bar_chart("c", "Shares", [Bar("Yes", 61.25, 58.0, 64.4), Bar("No", 38.75)])
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find("s:title", NS).text == "Shares"  # type: ignore[union-attr]
    desc = root.find("s:desc", NS).text  # type: ignore[union-attr]
    assert "Yes: 61.2%" in desc and "58.0–64.4" in desc and "No: 38.8%" in desc


def test_suppressed_values_are_said_not_drawn() -> None:
    root = _parse(charts.bar_chart("c", "T", [Bar("Yes", 60.0, 50.0, 70.0), Bar("Few", None)]))
    assert len(_bars(root)) == 1
    assert "suppressed" in ET.tostring(root, encoding="unicode")


def test_labels_are_escaped_and_wrapped_never_cut() -> None:
    label = "A <b>bold</b> & long answer label that certainly needs more than one line to fit"
    svg = charts.bar_chart("c", "T", [Bar(label, 50.0, 40.0, 60.0)])
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    root = _parse(svg)
    spans = [t.text or "" for t in root.iter(f"{{{NS['s']}}}tspan")]
    assert " ".join(s for s in spans if s and not s.endswith("%")).startswith(label[:40])
    words = " ".join(spans).split()
    assert all(w in words for w in label.split())


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6, 7])
def test_likert_sides_differ_without_colour(k: int) -> None:
    """Disagreement is hatched, agreement solid; within a side, lightness alone separates."""
    palette = charts.PALETTES[k]
    negative = k // 2
    light = [charts._luminance(c) for c in palette]
    for side in (light[:negative], light[negative + k % 2:]):
        assert all(abs(a - b) > 0.1 for a, b in itertools.pairwise(side))
    categories = [f"c{i}" for i in range(k)]
    shares = [100 / k] * k
    svg = charts.likert_chart("l", "T", [LikertItem("Item", shares)], categories)
    fills = re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="18" fill="([^"]+)"', svg)
    assert len(fills) == k
    assert all(f.startswith("url(#l-h") for f in fills[:negative])
    assert not any(f.startswith("url(") for f in fills[negative:])


def test_likert_bars_diverge_around_the_centre() -> None:
    items = [LikertItem("Item", [10.0, 20.0, 30.0, 25.0, 15.0])]
    svg = charts.likert_chart("l", "T", items, ["1", "2", "3", "4", "5"])
    rects = [(float(x), float(w)) for x, w in re.findall(
        r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="18"', svg)]
    centre = float(re.search(r'<line x1="([\d.]+)"[^>]*stroke="#1a1a1a" stroke-width="1.5"',
                             svg).group(1))  # type: ignore[union-attr]
    per = rects[0][1] / 10.0
    # disagreement plus half the neutral answers lie left of the centre line
    assert rects[0][0] == pytest.approx(centre - per * (10 + 20 + 15), abs=0.5)
    assert rects[2][0] + rects[2][1] / 2 == pytest.approx(centre, abs=0.2)


def test_grouped_bars_name_their_group_at_each_bar() -> None:
    groups = ["English", "Arabic", "Russian"]
    bars = [[Bar(g, 20.0 + i, 18.0, 25.0) for i, g in enumerate(groups)],
            [Bar(g, 80.0 - i, 75.0, 85.0) for i, g in enumerate(groups)]]
    svg = charts.grouped_chart("g", "T", ["Yes", "No"], groups, bars)
    for group in groups:
        assert svg.count(f">{group} ") == 2
    assert "url(#g-g1)" in svg and "url(#g-g0)" not in svg  # alternate fills: solid, hatched
    _parse(svg)


def test_small_multiples_share_one_scale() -> None:
    panels = [Panel("English (n = 100)", [Bar("Yes", 20.0, 15.0, 25.0), Bar("No", 80.0)]),
              Panel("Arabic (n = 50)", [Bar("Yes", 40.0, 30.0, 50.0), Bar("No", 60.0)])]
    root = _parse(charts.small_multiples("m", "T", ["Yes", "No"], panels))
    widths = [float(r.get("width", 0)) for r in _bars(root)]
    assert widths[2] / widths[0] == pytest.approx(2.0, rel=1e-3)  # 40% vs 20%, same scale
    assert widths[1] / widths[3] == pytest.approx(80 / 60, rel=1e-3)


def test_forest_plot_is_on_a_log_scale_around_one() -> None:
    rows = [Bar("A", 2.0, 1.5, 2.6), Bar("B", 0.5, 0.4, 0.7)]
    svg = charts.forest_chart("f", "T", rows)
    squares = [float(x) + 5 for x in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="10"', svg)]
    one = float(re.search(r'<line x1="([\d.]+)"[^>]*stroke="#1a1a1a" stroke-width="1.5"',
                          svg).group(1))  # type: ignore[union-attr]
    assert squares[0] - one == pytest.approx(one - squares[1], abs=0.2)  # 2 and 1/2 mirror
    assert "2.00 (1.50–2.60)" in svg and "0.50 (0.40–0.70)" in svg
    assert math.isfinite(one)
    _parse(svg)

"""The HTML report in Chromium: with JavaScript off every chart and table is there and drawn, no
label of a chart is cut off by its frame, and axe-core (run separately with JavaScript on, the
report itself has no script) finds no WCAG 2.2 AA violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from offramp.analysis.runner import load_dataset
from offramp.data.codebook import read_codebook
from offramp.report.build import build_report
from offramp.report.model import Report
from offramp.report.plan import load_report_plan
from offramp.report.render import render_html, write_html
from tests.conftest import WCAG_TAGS, axe_source, run_axe
from tests.report.conftest import PLAN

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture(scope="module")
def report_file(reference_data: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Report, Path]:
    report = build_report(load_report_plan(PLAN), load_dataset(reference_data),
                          read_codebook(reference_data), dataset_path=reference_data)
    path = tmp_path_factory.mktemp("html") / "report.html"
    write_html(render_html(report), path)
    return report, path


def test_every_chart_and_table_is_shown_without_javascript(  # type: ignore[no-untyped-def]
    browser_no_js, report_file: tuple[Report, Path]
) -> None:
    report, path = report_file
    browser = browser_no_js
    browser.set_window_size(1200, 900)
    browser.get(path.as_uri())
    assert browser.title == report.title
    assert not browser.find_elements(By.TAG_NAME, "script")
    charts = browser.find_elements(By.CSS_SELECTOR, "figure svg.chart")
    assert len(charts) == len(report.figures) >= 30
    for chart, figure in zip(charts, report.figures, strict=True):
        box = chart.rect
        assert box["width"] > 300 and box["height"] > 40, figure.number
        assert chart.get_attribute("role") == "img"
        caption = chart.find_element(By.XPATH, "./following-sibling::figcaption")
        assert caption.text.startswith(f"{figure.number}.")
    tables = browser.find_elements(By.CSS_SELECTOR, "table.data")
    expected = len(report.tables) + len(report.appendix)
    assert len(tables) == expected
    for table, caption in zip(tables, [*report.tables, *report.appendix], strict=True):
        assert table.find_element(By.TAG_NAME, "caption").text.startswith(caption.number)
        assert table.rect["width"] > 300
        assert table.find_elements(By.CSS_SELECTOR, "tbody tr")


def test_no_chart_label_is_cut_off(browser_no_js, report_file: tuple[Report, Path]) -> None:  # type: ignore[no-untyped-def]
    _, path = report_file
    browser = browser_no_js
    browser.set_window_size(1200, 900)
    browser.get(path.as_uri())
    checked = 0
    for chart in browser.find_elements(By.CSS_SELECTOR, "svg.chart"):
        frame = chart.rect
        for text in chart.find_elements(By.TAG_NAME, "text"):
            box = text.rect
            if not box["width"]:
                continue
            assert box["x"] >= frame["x"] - 0.5, (chart.get_attribute("id"), text.text)
            assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5, (
                chart.get_attribute("id"), text.text)
            assert frame["y"] - 0.5 <= box["y"] <= frame["y"] + frame["height"], (
                chart.get_attribute("id"), text.text)
            checked += 1
    assert checked > 500


def test_axe_finds_no_accessibility_violation(  # type: ignore[no-untyped-def]
    browser_js, report_file: tuple[Report, Path]
) -> None:
    source = axe_source()
    _, path = report_file
    browser = browser_js
    browser.get(path.as_uri())
    violations = run_axe(browser, source, WCAG_TAGS)
    assert not violations, [(v["id"], v["help"], len(v["nodes"])) for v in violations]

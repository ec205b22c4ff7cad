"""The plan-driven report: self-contained, every estimate with its interval, numbers that are the
analysis stage's own, and a methods section written from the data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from offramp.analysis import crosstab, frequencies, logit
from offramp.analysis.runner import load_dataset
from offramp.data.codebook import read_codebook
from offramp.report.build import build_report
from offramp.report.model import Report
from offramp.report.plan import load_report_plan
from offramp.report.render import render_html
from tests.conftest import unavailable
from tests.report.conftest import PLAN

FLAGS = ("qc_speeder", "qc_straightline")


@pytest.fixture(scope="module")
def built(reference_data: Path) -> tuple[Report, str]:
    plan = load_report_plan(PLAN)
    report = build_report(plan, load_dataset(reference_data), read_codebook(reference_data),
                          dataset_path=reference_data)
    return report, render_html(report, plan_name=PLAN.name)


@pytest.fixture(scope="module")
def analysed(reference_data: Path) -> pl.DataFrame:
    """The rows the plan keeps, selected independently of the report code."""
    data = pl.read_parquet(reference_data)
    return data.filter(~pl.any_horizontal([(pl.col(f) == 1).fill_null(False) for f in FLAGS]))


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


def test_html_is_self_contained_and_has_no_script(built: tuple[Report, str]) -> None:
    _, html = built
    tags = _tags(html)
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object")]
    for _, attrs in tags:
        for key in ("src", "href", "action", "xlink:href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (key, value)
        assert not any(k.startswith("on") for k in attrs)
    assert not re.search(r"url\((?!#)", html)
    assert "@import" not in html and "https://" not in html
    # the only address is the SVG namespace name, which is an identifier and never fetched
    assert set(re.findall(r"http://[^\s\"<]+", html)) == {"http://www.w3.org/2000/svg"}


def test_every_link_of_the_contents_leads_somewhere(built: tuple[Report, str]) -> None:
    _, html = built
    tags = _tags(html)
    ids = {a["id"] for _, a in tags if a.get("id")}
    targets = [str(a["href"])[1:] for t, a in tags if t == "a" and a.get("href")]
    assert len(targets) > 80
    assert not [t for t in targets if t not in ids]
    labelled = [str(a["aria-labelledby"]) for _, a in tags if a.get("aria-labelledby")]
    assert not [i for value in labelled for i in value.split() if i not in ids]


def test_figures_and_tables_are_numbered_in_order_with_alt_text(
    built: tuple[Report, str],
) -> None:
    report, html = built
    assert [f.number for f in report.figures] == [
        f"Figure {i}" for i in range(1, len(report.figures) + 1)]
    assert [t.number for t in report.tables] == [
        f"Table {i}" for i in range(1, len(report.tables) + 1)]
    assert len(report.figures) >= 30 and len(report.tables) >= 35
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == len(report.figures)
    for svg, figure in zip(svgs, report.figures, strict=True):
        assert 'role="img"' in svg
        assert re.search(r"<title id=\"[^\"]+\">[^<]+</title>", svg)
        assert len(figure.alt) > 40
        ratios = re.findall(r"odds ratio (\d+\.\d\d)", figure.alt)
        if ratios:  # a forest plot prints its odds ratios as the alt text states them
            assert all(f">{r} (" in svg for r in ratios), figure.number
            continue
        # the alt text states, with one decimal, every number the picture shows rounded
        stated = re.findall(r"(\d+\.\d)%", figure.alt)
        assert stated, figure.number
        drawn = [int(n) for n in re.findall(r">(?:[^<]* )?(\d+)%?</tspan>", svg)]
        for value in stated:  # (stacked bars leave segments under 7% unlabelled)
            if float(value) >= 10:
                assert any(abs(n - float(value)) <= 0.55 for n in drawn), (figure.number, value)


def test_every_percentage_has_its_interval(built: tuple[Report, str]) -> None:
    report, _ = built
    checked = 0
    for section in report.sections:
        for block in section.blocks:
            table = block.table
            if table is None or block.kind not in ("frequencies", "multiple_response",
                                                   "crosstab", "logit"):
                continue
            interval_columns = [i for i, h in enumerate(table.head)
                                if "CI" in h or (block.kind == "crosstab" and i > 0)]
            if block.kind == "frequencies" and table.head[0] == "Item":  # likert table
                interval_columns = list(range(1, len(table.head) - 1))
            for row in table.rows:
                if row[0].cls in ("missing", "total"):
                    continue
                for i in interval_columns:
                    cell = row[i]
                    if cell.text in ("—", "0.0"):
                        continue  # suppressed, or nobody gave that answer
                    assert cell.sub, (block.title, table.head[i], row[0].text)
                    checked += 1
    assert checked > 150


def test_numbers_are_the_analysis_stage_s_on_the_kept_rows(
    built: tuple[Report, str], analysed: pl.DataFrame,
) -> None:
    report, _ = built
    blocks = {b.title: b for s in report.sections for b in s.blocks}
    gender = blocks["How do you describe your gender?"]
    expected = frequencies(analysed, "gender").table.filter(pl.col("kind") == "valid")
    shown = {row[0].text: row[3].text for row in gender.table.rows}  # type: ignore[union-attr]
    labels = {"man": "Man", "woman": "Woman", "other": "In another way"}
    for value, valid in expected.select("value", "valid_percent").rows():
        assert shown[labels[value]] == f"{valid:.1f}"
    model = blocks["Wish to stop by adverse childhood experiences"]
    fitted = logit(analysed, "wish_stop", ["adverse_childhood"], event="yes",
                   reference={"adverse_childhood": "no"})
    odds = fitted.table.filter(pl.col("term") == "adverse_childhood[yes]").row(0, named=True)
    row = next(r for r in model.table.rows if "serious harm" in r[0].text)  # type: ignore[union-attr]
    assert row[1].text == f"{odds['odds_ratio']:.2f}"
    assert row[1].sub == f"{odds['or_ci_low']:.2f}–\u200b{odds['or_ci_high']:.2f}"
    by_language = blocks["Tried to get help, by survey language"]
    table = crosstab(analysed, "sought_help", "language").table
    english = table.filter((pl.col("row") == "yes") & (pl.col("col") == "en"))["col_percent"][0]
    yes_row = next(r for r in by_language.table.rows if r[0].text == "Yes")  # type: ignore[union-attr]
    column = by_language.table.head.index("English")  # type: ignore[union-attr]
    assert yes_row[column].text == f"{english:.1f}"


def test_methods_are_written_from_the_data(built: tuple[Report, str], reference_data: Path,
                                           analysed: pl.DataFrame) -> None:
    report, html = built
    data = pl.read_parquet(reference_data)
    facts = report.methods.facts
    assert facts["n_total"] == data.height == 1500
    assert facts["n_analysed"] == analysed.height
    assert facts["excluded"] == {f: int((data[f] == 1).sum()) for f in FLAGS}
    assert facts["first_day"] == str(data["day"].min())
    months = data.group_by(pl.col("day").dt.strftime("%Y-%m")).len().sort("day")
    assert [m["completed"] for m in facts["months"]] == months["len"].to_list()
    assert {k: v["completed"] for k, v in facts["languages"].items()} == dict(
        data.group_by("language").len().iter_rows())
    text = " ".join(report.methods.paragraphs)
    for needed in ("1,500 respondents", f"leaving {analysed.height:,} for analysis",
                   "unweighted", "Wilson", "fewer than 10 respondents", "Holm", "-97"):
        assert needed in text, needed
    assert "Appendix: codebook" in html and "hours_online" in html


def test_respondents_free_text_never_reaches_the_report(built: tuple[Report, str],
                                                       reference_data: Path) -> None:
    _, html = built
    answers = pl.read_parquet(reference_data)["what_helps"].drop_nulls().unique().to_list()
    sentences = [a for a in answers if not a.startswith("-9")]
    assert sentences and not [s for s in sentences if s in html]


def test_small_cells_are_suppressed_and_said_to_be(reference_data: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.parquet"
    pl.read_parquet(reference_data).head(120).write_parquet(small)
    (tmp_path / "small.codebook.json").write_text(
        reference_data.with_suffix(".codebook.json").read_text(encoding="utf-8"),
        encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("sections:\n  - title: Few\n    analyses:\n"
                    "      - {kind: frequencies, variable: gender}\n"
                    "      - {kind: crosstab, row: sought_help, col: language}\n",
                    encoding="utf-8")
    report = build_report(load_report_plan(plan), load_dataset(small), read_codebook(small))
    blocks = [b for s in report.sections for b in s.blocks]
    assert any(c.text == "—" for b in blocks for row in b.table.rows for c in row)  # type: ignore[union-attr]
    assert any("suppressed" in n for b in blocks for n in b.table.notes)  # type: ignore[union-attr]
    html = render_html(report)
    assert "suppressed" in html


@pytest.mark.slow
def test_cli_writes_html_results_and_a_numbered_pdf(reference_data: Path, tmp_path: Path) -> None:
    out, pdf, results = tmp_path / "report.html", tmp_path / "report.pdf", tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-m", "offramp", "report", "--plan", str(PLAN), "--data",
         str(reference_data), "--out", str(out), "--pdf", str(pdf), "--results", str(results)],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    document = json.loads(results.read_text(encoding="utf-8"))
    assert document["schema"] == "offramp.analysis.results/1"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        unavailable("pdftotext (Debian package poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    assert len(pages) > 20
    assert "Page 1 of" in pages[0] and "Contents" in pages[0]
    assert re.search(r"Methods \.+ \d+", text)  # the contents give page numbers
    assert "Figure 1." in text and "Table 1." in text and "Appendix: codebook" in text
    # Nothing runs off the page or into its neighbour: every word lies inside the margins
    # (16 mm = 45.35 pt each side of A4), and no two numbers of a table are printed as one.
    layout = tmp_path / "layout.html"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(layout)], check=True)
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">'
                       r"([^<]*)</word>", layout.read_text(encoding="utf-8"))
    assert len(words) > 5000
    outside = [w for w in words if float(w[0]) < 45.35 - 1 or float(w[1]) > 595.28 - 45.35 + 1]
    assert not outside, outside[:5]
    version = document["offramp_version"]
    glued = re.findall(r"\d\.\d+\.\d", text.replace(version, ""))
    assert not glued, glued[:5]


def test_no_plan_still_gives_one_frequency_table_per_question(reference_data: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "simple.html"
    done = subprocess.run([sys.executable, "-m", "offramp", "report", "--data",
                           str(reference_data), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "How old are you?" in html and "<script" not in html


def test_a_csv_export_gives_the_same_report_as_parquet(reference_data: Path, tmp_path: Path,
                                                       built: tuple[Report, str]) -> None:
    from offramp.data.formats import write_csv

    csv = tmp_path / "reference.csv"
    write_csv(pl.read_parquet(reference_data), csv)
    shutil.copy(reference_data.with_suffix(".codebook.json"), tmp_path / "reference.codebook.json")
    report = build_report(load_report_plan(PLAN), load_dataset(csv), read_codebook(csv))
    expected, _ = built
    assert report.methods.facts == expected.methods.facts
    first = [b for s in report.sections for b in s.blocks][:8]
    same = [b for s in expected.sections for b in s.blocks][:8]
    for mine, theirs in zip(first, same, strict=True):
        assert mine.table is not None and theirs.table is not None
        assert [[c.text for c in r] for r in mine.table.rows] == [
            [c.text for c in r] for r in theirs.table.rows]

"""The codebook beside the data: complete, backward compatible, and safe to open."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from offramp.data.codebook import build_codebook, read_codebook, render_html, stat_codes
from offramp.data.export import ExportResult, run_export
from offramp.report.simple import build_simple_report
from offramp.survey.instrument import Choice, Question
from tests.data.conftest import make_instrument, rich_people, seal_into

FIRST_CUT_KEYS = {"name", "question", "type", "label", "choices", "choice", "relevant", "counts"}


@pytest.fixture
def exported(keypair: Any, tmp_path: Path) -> ExportResult:
    instrument = make_instrument()
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    seal_into(db, keypair.public, instrument, rich_people(instrument, 30))
    return run_export(db, [keypair.private], ["csv"], tmp_path / "out",
                      passphrase=keypair.passphrase)


def test_first_cut_schema_is_kept(exported: ExportResult, tmp_path: Path) -> None:
    codebook = read_codebook(tmp_path / "out" / "study.csv")
    assert codebook is not None and codebook["codebook_version"] == 1
    assert {"instruments", "missing_codes", "variables"} <= set(codebook)
    assert codebook["missing_codes"] == {"-97": "Prefer not to say", "-98": "Don't know",
                                         "-99": "Not shown (skip logic)"}
    for variable in codebook["variables"]:
        assert set(variable) >= FIRST_CUT_KEYS, variable["name"]
        assert set(variable["counts"]) == {"valid", "null", "-97", "-98", "-99"}
        assert sum(variable["counts"].values()) == 30
        for choice in variable["choices"]:
            assert {"value", "label", "missing"} <= set(choice)


def test_every_column_is_described(exported: ExportResult) -> None:
    assert exported.data is not None
    names = [v["name"] for v in exported.codebook["variables"]]
    assert names == exported.data.columns
    by = {v["name"]: v for v in exported.codebook["variables"]}
    assert by["sought_help"]["label"] == {"en": "Have you ever tried to get help?",
                                          "de": "Haben Sie je Hilfe gesucht?"}
    assert by["g1"]["page_relevant"] == "${sought_help} != 'pnts'" and by["g1"]["page"] == "p2"
    assert by["would_help__pnts"]["type"] == "choice_dummy"
    assert by["ranked__a"]["type"] == "rank_position"
    assert by["attn"]["attention_check"] is True
    assert by["qc_speeder"]["role"] == "quality" and by["qc_speeder"]["type"] == "meta"
    assert by["doubled"]["calculation"] == "${age} * 2"
    choices = {c["value"]: c for c in by["sought_help"]["choices"]}
    assert (choices["yes"]["code"], choices["no"]["code"], choices["pnts"]["code"]) == (1, 2, -97)
    counted = exported.data["sought_help"].value_counts()
    assert choices["yes"]["n"] == counted.filter(pl.col("sought_help") == "yes")["count"][0]
    assert choices["pnts"]["n"] == by["sought_help"]["counts"]["-97"]
    assert exported.codebook["quality"]["grids"] == [["g1", "g2", "g3", "g4"]]
    assert exported.codebook["languages"] == ["en", "de"]


def test_decimal_codes_are_counted() -> None:
    instrument = make_instrument()
    data = pl.DataFrame({"score": [-99.0, 1.5, None, -97.0]})
    variables = {v["name"]: v for v in build_codebook({("study", 1): instrument}, None,
                                                     data)["variables"]}
    assert variables["score"]["counts"] == {"null": 1, "-97": 1, "-98": 0, "-99": 1, "valid": 1}


def test_stat_codes_keep_integer_values_else_number_in_order() -> None:
    assert stat_codes((Choice("1", {}), Choice("5", {}), Choice("x", {}, missing="dont_know"))
                      ) == {"1": 1, "5": 5, "x": -98}
    assert stat_codes((Choice("b", {}), Choice("a", {}))) == {"b": 1, "a": 2}
    # A choice value equal to a reserved code cannot keep its number.
    assert stat_codes((Choice("-99", {}), Choice("1", {}))) == {"-99": 1, "1": 2}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_escapes_and_loads_nothing() -> None:
    base = make_instrument()
    hostile = Question("evil", "text", {"en": "<script>alert(1)</script> & <img src=x>"})
    page = dataclasses.replace(base.pages[0], questions=(*base.pages[0].questions, hostile))
    instrument = dataclasses.replace(base, pages=(page, *base.pages[1:]))
    codebook = build_codebook({("study", 1): instrument}, None, pl.DataFrame({"evil": ["x"]}))
    html = render_html(codebook)
    parser = _Tags()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "img" not in tags and "link" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert all("src" not in attrs and "href" not in attrs for _, attrs in parser.tags)
    for variable in codebook["variables"]:
        assert f'id="v-{variable["name"]}"' in html


def test_report_stage_reads_the_codebook(exported: ExportResult, tmp_path: Path) -> None:
    data = pl.read_csv(tmp_path / "out" / "study.csv", infer_schema_length=0)
    html = build_simple_report(data, read_codebook(tmp_path / "out" / "study.csv"))
    assert "Have you ever tried to get help?" in html
    assert "Which of these would help?: A warning message" in html


def test_first_cut_call_signature_still_works() -> None:
    instrument = make_instrument()
    codebook = build_codebook([instrument], [3], pl.DataFrame({"age": [1]}))
    assert codebook["instruments"][0]["version"] == 3
    json.dumps(codebook)

"""The demo's report plan runs on data shaped like the demo survey's export."""

from __future__ import annotations

from pathlib import Path

from offramp.analysis.runner import load_dataset
from offramp.data.codebook import read_codebook
from offramp.report.build import build_report
from offramp.report.plan import load_report_plan
from offramp.report.render import render_html
from offramp.survey.load import load_instrument
from offramp.synth.respondents import synthesise
from offramp.synth.scenario import Scenario
from tests.report.conftest import ROOT

ASSETS = ROOT / "src" / "offramp" / "demo_assets"


def test_demo_plan_reports_the_demo_survey(tmp_path: Path) -> None:
    out = tmp_path / "demo.parquet"
    synthesise(load_instrument(ASSETS / "survey.yaml"), Scenario(), 300, 1, out)
    report = build_report(load_report_plan(ASSETS / "plan.yaml"), load_dataset(out),
                          read_codebook(out), dataset_path=out)
    titles = [b.title for s in report.sections for b in s.blocks]
    assert titles == ["Tried to get help to stop viewing illegal material online",
                      "What would help to stop"]
    assert len(report.figures) == 2
    html = render_html(report)
    assert "Anonymous help online" in html and "<script" not in html

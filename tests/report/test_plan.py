"""Mistakes in a report plan are reported with the plan's file and line and what to write instead,
before anything is computed; and on the command line as one line with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from offramp.analysis.runner import load_dataset
from offramp.data.codebook import read_codebook
from offramp.errors import InputError
from offramp.report.build import build_report
from offramp.report.plan import load_report_plan

HEAD = "title: T\nsections:\n  - title: S\n    analyses:\n"


def _error(tmp_path: Path, text: str, data: Path | None = None) -> str:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        plan = load_report_plan(path)
        if data is not None:
            build_report(plan, load_dataset(data), read_codebook(data))
    return str(caught.value).replace(str(path), "plan.yaml")


@pytest.mark.parametrize(("body", "message"), [
    ("      - kind: frequencies\n        variable: gender\n        chart: pie\n",
     "plan.yaml:7: unknown chart type 'pie'"),
    ("      - kind: frequencies\n        variable: gender\n        chart: bras\n",
     "plan.yaml:7: unknown chart type 'bras'; did you mean 'bars'? (charts for frequencies: "
     "bars, likert, small_multiples, none)"),
    ("      - kind: crosstab\n        row: gender\n        col: language\n        chart: likert\n",
     "plan.yaml:8: a crosstab cannot be drawn as 'likert' (charts for crosstab: grouped, "
     "small_multiples, none)"),
    ("      - kind: logit\n        outcome: wish_stop\n        predictors: [gender]\n"
     "        chrat: forest\n",
     "plan.yaml:8: logit does not take 'chrat'; did you mean 'chart'"),
    ("      - kind: frequencies\n        variable: gender\n        by: language\n",
     "plan.yaml:7: 'by' is for small_multiples"),
    ("      - kind: frequencies\n        variable: gender\n        chart: none\n"
     "        table: false\n",
     "plan.yaml:8: this analysis would show nothing"),
])
def test_plan_mistakes_found_when_reading(tmp_path: Path, body: str, message: str) -> None:
    assert message in _error(tmp_path, HEAD + body)


def test_an_unknown_top_level_key_gets_a_report_key_suggestion(tmp_path: Path) -> None:
    message = _error(tmp_path, "subtitel: x\n" + HEAD + "      - {kind: frequencies, "
                     "variable: gender}\n")
    assert message.startswith("plan.yaml:1: unknown plan key 'subtitel'; did you mean "
                              "'subtitle'")


@pytest.mark.parametrize(("body", "message"), [
    ("      - kind: frequencies\n        variable: gendr\n",
     "plan.yaml:6: unknown variable 'gendr': the dataset has no such column; did you mean "
     "'gender'"),
    ("      - kind: crosstab\n        row: wish_stop\n        cols: [adverse_childhod]\n",
     "plan.yaml:7: unknown crosstab column variable 'adverse_childhod'"),
    ("      - kind: frequencies\n        variable: gender\n        chart: small_multiples\n"
     "        by: langauge\n",
     "plan.yaml:8: unknown grouping variable 'langauge': the dataset has no such column; did "
     "you mean 'language'?"),
    ("      - kind: frequencies\n        variables: [gender, age_band]\n        chart: likert\n",
     "plan.yaml:7: a likert chart needs answers on one numbered scale"),
])
def test_plan_mistakes_found_against_the_data(tmp_path: Path, reference_data: Path, body: str,
                                              message: str) -> None:
    assert message in _error(tmp_path, HEAD + body, reference_data)


def test_an_unknown_exclusion_flag_is_placed(tmp_path: Path, reference_data: Path) -> None:
    text = "exclude: [qc_speeder, qc_straightlining]\n" + HEAD + \
        "      - {kind: frequencies, variable: gender}\n"
    message = _error(tmp_path, text, reference_data)
    assert message.startswith("plan.yaml:1: unknown exclusion flag 'qc_straightlining'")
    assert "did you mean 'qc_straightline'" in message


@pytest.mark.slow
def test_the_command_line_prints_one_line_and_exits_2(tmp_path: Path,
                                                      reference_data: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(HEAD + "      - kind: frequencies\n        variable: gender\n"
                    "        chart: piechart\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "offramp", "report", "--plan", str(plan), "--data",
         str(reference_data), "--out", str(tmp_path / "r.html")],
        capture_output=True, text=True, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"offramp: error: {plan}:7: unknown chart type 'piechart'")
    assert not (tmp_path / "r.html").exists()

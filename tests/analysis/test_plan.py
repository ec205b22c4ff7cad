"""Plan files and `offramp analyse`: checked whole first, errors with file:line, stable JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from offramp.analysis import RESULTS_SCHEMA, load_plan, run_plan
from offramp.cli import cli
from offramp.errors import InputError


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    df = pl.DataFrame(
        {
            "age_group": rng.choice(["18-24", "25-44", "45+"], n),
            "sex": rng.choice(["f", "m"], n),
            "sought_help": (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int),
            "x": x,
            "q1": rng.choice([1, 2, 3, -97, -99], n),
            "motive__curiosity": rng.choice([0, 1], n),
            "motive__boredom": rng.choice([0, 1], n),
            "l1": rng.integers(1, 6, n),
            "l2": rng.integers(1, 6, n),
            "l3": rng.integers(1, 6, n),
            "comment": [f"free comment number {i}" for i in range(n)],
            "w": rng.uniform(0.5, 2, n),
        }
    )
    path = tmp_path / "data.parquet"
    df.write_parquet(path)
    return path


PLAN = """\
title: Demo
weighting:
  - name: w_raked
    method: rake
    base: w
    margins:
      sex: {f: 0.5, m: 0.5}
sections:
  - title: Who
    analyses:
      - kind: frequencies
        variables: [q1, age_group]
        weights: w_raked
      - kind: multiple_response
        variable: motive
      - kind: crosstab
        rows: [q1]
        cols: [age_group, sex]
  - title: Why
    adjust: bh
    analyses:
      - kind: logit
        outcome: sought_help
        predictors: [x, age_group]
      - kind: reliability
        items: [l1, l2, l3]
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "plan.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_run_plan_document(tmp_path: Path, dataset: Path) -> None:
    plan = load_plan(_write(tmp_path, PLAN))
    doc = run_plan(plan, pl.read_parquet(dataset), dataset_path=dataset)
    assert doc["schema"] == RESULTS_SCHEMA
    assert [s["title"] for s in doc["sections"]] == ["Who", "Why"]
    who = doc["sections"][0]
    kinds = [r["kind"] for r in who["results"]]
    assert kinds == ["frequencies", "frequencies", "multiple_response", "crosstab", "crosstab"]
    assert who["adjustment"] == "holm over 2 crosstabs"
    assert all(r["statistics"]["p_adjusted"] is not None for r in who["results"][3:])
    assert who["results"][0]["weights"] == "w_raked" and who["results"][0]["plan_line"] == 11
    for section in doc["sections"]:
        for r in section["results"]:
            assert {
                "id",
                "plan_line",
                "kind",
                "title",
                "variables",
                "weights",
                "n",
                "statistics",
                "suppression",
                "notes",
                "columns",
                "rows",
            } <= set(r)
            assert [c["name"] for c in r["columns"]] == list(r["rows"][0])
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN anywhere


def test_cli_writes_results(tmp_path: Path, dataset: Path) -> None:
    out = tmp_path / "out" / "results.json"
    res = CliRunner().invoke(
        cli,
        [
            "analyse",
            "--plan",
            str(_write(tmp_path, PLAN)),
            "--data",
            str(dataset),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["dataset"]["rows"] == 400 and len(doc["dataset"]["sha256"]) == 64


def test_csv_dataset_with_string_codes(tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    csv.write_text(
        "colour,n\n" + "".join(f"{c},{i}\n" for i, c in enumerate(["red", "blue", "-97"] * 20))
    )
    plan = _write(
        tmp_path, "sections:\n  - analyses:\n      - {kind: frequencies, variables: colour}\n"
    )
    out = tmp_path / "r.json"
    res = CliRunner().invoke(
        cli, ["analyse", "--plan", str(plan), "--data", str(csv), "--out", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(out.read_text())["sections"][0]["results"][0]["rows"]
    assert {r["value"]: r["kind"] for r in rows} == {
        "blue": "valid",
        "red": "valid",
        "-97": "refused",
    }


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "cols: [age_group, sex]",
            "cols: [age_group, sexx]",
            r"plan.yaml:18: unknown crosstab column variable 'sexx'.*did you mean 'sex'",
        ),
        (
            "cols: [age_group, sex]",
            "cols: [age_group, comment]",
            r"plan.yaml:18: crosstab: column 'comment' looks like free text",
        ),
        (
            "kind: reliability",
            "kind: reliabilty",
            r"plan.yaml:25: unknown analysis kind 'reliabilty'; did you mean 'reliability'",
        ),
        (
            "        items: [l1, l2, l3]",
            "        itmes: [l1, l2, l3]",
            r"plan.yaml:26: reliability does not take 'itmes'; did you mean 'items'",
        ),
        (
            "variable: motive",
            "variable: motives",
            r"plan.yaml:15: unknown multiple-response variable 'motives'.*did you mean 'motive'",
        ),
        (
            "sex: {f: 0.5, m: 0.5}",
            "sex: {f: 0.5, x: 0.5}",
            r"plan.yaml:3: .*value\(s\) \['m'\] that the population targets do not mention",
        ),
        (
            "predictors: [x, age_group]",
            "predictors: [x, age_group, ages]",
            r"plan.yaml:24: unknown predictor 'ages'",
        ),
    ],
)
def test_plan_errors_name_file_and_line(
    tmp_path: Path, dataset: Path, replace: str, by: str, message: str
) -> None:
    assert replace in PLAN
    plan_path = _write(tmp_path, PLAN.replace(replace, by))
    res = CliRunner().invoke(
        cli,
        [
            "analyse",
            "--plan",
            str(plan_path),
            "--data",
            str(dataset),
            "--out",
            str(tmp_path / "r.json"),
        ],
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert res.output.count("offramp: error:") == 1
    import re

    assert re.search(message, res.output), res.output
    assert not (tmp_path / "r.json").exists()


def test_estimator_errors_carry_the_plan_line(tmp_path: Path, dataset: Path) -> None:
    df = pl.read_parquet(dataset).with_columns(
        sought_help=pl.when(pl.col("age_group") == "45+").then(1).otherwise(pl.col("sought_help"))
    )
    plan = load_plan(_write(tmp_path, PLAN))
    with pytest.raises(
        InputError, match=r"plan.yaml:22: logit: perfect separation: .*age_group = 45\+"
    ):
        run_plan(plan, df)
    doc = run_plan(plan, df, keep_going=True)
    failed = doc["sections"][1]["results"][0]
    assert failed["kind"] == "logit" and "perfect separation" in failed["error"]
    assert doc["sections"][1]["results"][1]["kind"] == "reliability"


def test_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"plan\.yaml:1: unknown plan key 'section'; did you mean 'sections'"
    ):
        load_plan(_write(tmp_path, "section: []\n"))
    with pytest.raises(InputError, match=r"plan.yaml:3: not valid YAML"):
        load_plan(_write(tmp_path, "sections:\n  - [unclosed\n"))
    with pytest.raises(InputError, match="crosstab needs 'row'"):
        load_plan(_write(tmp_path, "sections:\n  - analyses:\n      - {kind: crosstab, row: a}\n"))
    with pytest.raises(InputError, match="suppression must be"):
        load_plan(
            _write(
                tmp_path,
                "suppression: lots\nsections:\n  - analyses:\n"
                "      - {kind: frequencies, variables: a}\n",
            )
        )
    with pytest.raises(InputError, match="file not found"):
        load_plan(tmp_path / "missing.yaml")


def test_bad_dataset(tmp_path: Path) -> None:
    plan = _write(tmp_path, "sections:\n  - analyses:\n      - {kind: frequencies, variables: a}\n")
    bad = tmp_path / "data.sav"
    bad.write_bytes(b"x")
    res = CliRunner().invoke(
        cli, ["analyse", "--plan", str(plan), "--data", str(bad), "--out", str(tmp_path / "r.json")]
    )
    assert res.exit_code == 2 and "use the .parquet or .csv" in res.output

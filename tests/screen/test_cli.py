"""offramp screen ...: through the real entry point (click's runner, no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from offramp.cli import cli

EXAMPLES = Path(__file__).parents[2] / "examples" / "terms"
TXT, YAML = str(EXAMPLES / "demo-terms.txt"), str(EXAMPLES / "demo-terms.yaml")


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["screen", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_check_prints_one_json_verdict_per_query() -> None:
    code, out, _ = run("check", "--terms", TXT, "z0rblax", "weather")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [v["blocked"] for v in lines] == [True, False]
    assert all("z0rblax" not in line for line in out.splitlines())
    code, out, _ = run("check", "--terms", TXT, stdin="quillion\nnothing\n")
    assert [json.loads(x)["blocked"] for x in out.splitlines()] == [True, False]


def test_batch_csv_and_parquet(tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    pl.DataFrame({"query": ["zorblax", "ok", None, "plindrath oskette"]}).write_csv(src)
    for name in ("out.csv", "out.parquet"):
        code, _, err = run("batch", "--terms", YAML, "--input", str(src),
                           "--output", str(tmp_path / name))  # fmt: skip
        assert code == 0, err
    out = pl.read_parquet(tmp_path / "out.parquet")
    assert out["blocked"].to_list() == [True, False, False, True]
    csv = pl.read_csv(tmp_path / "out.csv")
    assert csv.columns == ["blocked", "categories", "rules", "age"]
    assert csv["rules"].to_list()[0] == "core-terms"


def test_bad_list_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("categories: {a: b}\nrules:\n  - id: r\n    category: zz\n    terms: [x]\n",
                   encoding="utf-8")  # fmt: skip
    code, _, err = run("check", "--terms", str(bad), "x")
    assert code == 2
    expected = f"offramp: error: {bad}:4: unknown category 'zz'; declare it under 'categories'"
    assert err.strip() == expected


def test_lint_reports_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "categories: {core: c}\n"
        "rules:\n"
        "  - id: a\n    category: core\n    terms: [zorblax, ZORBLAX, zörblax, table]\n"
        "  - id: b\n    category: core\n    match: prefix\n    terms: [tab]\n"
        "  - id: c\n    category: core\n    terms: [quillion]\n    unless: [quillion]\n",
        encoding="utf-8",
    )
    code, out, _ = run("lint", "--terms", str(path))
    assert code == 1
    assert f"{path}:5: duplicate: 'ZORBLAX' already listed on line 5" in out
    assert "same-fold: 'zörblax' folds to the same key as 'zorblax'" in out
    assert "common-word: 'table' is a common word" in out
    assert "prefix-of-words: prefix 'tab' also starts common words" in out
    assert f"{path}:10: never-fires: rule 'c'" in out
    assert "not-compilable: rule 'b'" in out
    code, out, _ = run("lint", "--terms", TXT)
    assert (code, out) == (0, "")


def test_evaluate_thresholds_set_the_exit_code(tmp_path: Path) -> None:
    labelled = tmp_path / "l.csv"
    code, _, _ = run("evalset", "--terms", TXT, "--out", str(labelled), "--per-kind", "20")
    assert code == 0
    code, out, _ = run("evaluate", "--terms", TXT, "--labelled", str(labelled),
                       "--min-recall", "0.98", "--max-fpr", "0.002")  # fmt: skip
    assert code == 0 and "recall 1.0000" in out and "spaced" in out
    small = tmp_path / "s.txt"
    small.write_text("zorblax\n", encoding="utf-8")  # misses every other term
    code, _, err = run("evaluate", "--terms", str(small), "--labelled", str(labelled),
                       "--min-recall", "0.98")  # fmt: skip
    assert code == 1 and "below threshold" in err
    code, out, _ = run("evaluate", "--terms", TXT, "--labelled", str(labelled), "--json")
    assert json.loads(out)["overall"]["fpr"] == 0.0


def test_compile_and_screen_with_the_compiled_list(tmp_path: Path) -> None:
    out = tmp_path / "list.compiled"
    code, _, err = run("compile", "--terms", TXT, "--out", str(out))
    assert code == 0, err
    code, plain, _ = run("check", "--terms", TXT, "z.o.r.b.l.a.x", "nothing")
    code2, hashed, _ = run("check", "--terms", str(out), "z.o.r.b.l.a.x", "nothing")
    assert code == code2 == 0 and plain == hashed
    code, _, err = run("compile", "--terms", YAML, "--out", str(out))
    assert code == 2 and "--drop-unhashable" in err

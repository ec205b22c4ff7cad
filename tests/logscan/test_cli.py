"""`offramp logscan` on the command line: output, summary, one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from offramp.cli import cli
from tests.logscan.conftest import TEXT_FIELDS, write_log


def test_scan_writes_tables_report_and_manifest(tmp_path: Path, terms: Path,
                                                log_frame: pl.DataFrame) -> None:
    path = write_log(log_frame, tmp_path / "log.txt.gz")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "logscan", "--terms", str(terms), str(path), "--out", str(out),
        "--text-fields", TEXT_FIELDS, "--period", "day", "--period", "week", "--min-cell", "5",
        "--change-date", "2024-05-02", "--its-maxlags", "1", "--table-format", "parquet",
    ])
    assert result.exit_code != 0  # 3 days cannot carry a time series ...
    assert "at least 3 days" in result.output + result.stderr
    assert not out.exists()  # ... and nothing was written
    result = CliRunner().invoke(cli, [
        "logscan", "--terms", str(terms), str(path), "--out", str(out),
        "--text-fields", TEXT_FIELDS, "--period", "day", "--period", "week", "--min-cell", "5",
        "--table-format", "parquet",
    ])
    assert result.exit_code == 0, result.output + result.stderr
    assert "scanned 240 searches" in result.output
    assert "prevalence 16.667%" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        "overall.parquet", "by_day.parquet", "by_week.parquet", "by_category.parquet",
        "by_rule.parquet", "by_age.parquet", "by_language.parquet", "sessions.parquet",
        "report.html", "manifest.json",
    ])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == names
    assert pl.read_parquet(out / "by_day.parquet")["searches"].sum() == 240
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html.lower()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_help_documents_every_option() -> None:
    result = CliRunner().invoke(cli, ["logscan", "--help"])
    assert result.exit_code == 0
    for option in ("--terms", "--out", "--query-column", "--timestamp-column",
                   "--language-column", "--session-column", "--include-queries",
                   "--on-error", "--cluster", "--min-cell", "--change-date", "--period"):
        assert option in result.output


def _offramp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "offramp", *args], capture_output=True,
                          text=True, env=dict(os.environ), check=False,
                          stdin=subprocess.DEVNULL)


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, terms: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    result = _offramp("logscan", "--terms", str(terms), str(bad), "--out",
                      str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"offramp: error: {bad}: no query column 'query'; the file has: a, b "
                     "(name the query column with --query-column)"]


def test_unknown_cluster_and_change_without_time(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("query\nzorblax\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["logscan", "--terms", str(terms), str(path), "--out",
                                 str(tmp_path / "o"), "--cluster", "nonsense"])
    assert result.exit_code == 2
    assert "neither 'local'" in result.stderr
    result = runner.invoke(cli, ["logscan", "--terms", str(terms), str(path), "--out",
                                 str(tmp_path / "o"), "--change-date", "2024-01-01"])
    assert result.exit_code == 2
    assert "needs timestamps" in result.stderr

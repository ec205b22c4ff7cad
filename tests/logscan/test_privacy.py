"""No query text and no session id in any output file, unless queries are asked for."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from click.testing import CliRunner

from offramp.cli import cli
from offramp.logscan import ScanOptions, TableSettings, scan_logs
from tests.logscan.conftest import FLAGGED, NEUTRAL, write_log


def _all_output(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


def test_no_query_text_or_session_id_in_any_output(tmp_path: Path, terms: Path,
                                                    log_frame: pl.DataFrame) -> None:
    path = write_log(log_frame, tmp_path / "log.csv")
    out = tmp_path / "out"
    scan_logs(terms, [path], out, settings=TableSettings(min_cell=1))
    text = _all_output(out)
    for query in NEUTRAL + FLAGGED + ["pictures", "plindrath"]:
        assert query not in text
    assert "zorblax" not in text.lower()
    for session in log_frame["session"].unique().to_list():
        assert session not in text
    assert not list(tmp_path.glob(".*"))  # no spill or staging leftovers beside the output


def test_include_queries_writes_only_matched_queries_and_warns(
    tmp_path: Path, terms: Path, log_frame: pl.DataFrame
) -> None:
    path = write_log(log_frame, tmp_path / "log.parquet")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["logscan", "--terms", str(terms), str(path), "--out", str(out),
              "--include-queries"],
    )
    assert result.exit_code == 0, result.output
    assert "warning: --include-queries" in result.stderr
    matched = pl.read_csv(out / "matched_queries.csv")
    assert sorted(matched["query"].to_list()) == sorted(FLAGGED)
    assert matched["searches"].sum() == 40
    assert set(matched.columns) == {"query", "searches", "categories", "rules", "age"}
    text = _all_output(out)
    for query in NEUTRAL:
        assert query not in text
    for session in log_frame["session"].unique().to_list():
        assert session not in text


def test_matched_queries_are_neutralised_for_spreadsheets(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame({"query": ["=HYPERLINK(zorblax)", "plain"]}).write_parquet(path)
    out = tmp_path / "out"
    scan_logs(terms, [path], out, ScanOptions(include_queries=True))
    cell = pl.read_csv(out / "matched_queries.csv")["query"].to_list()
    assert cell == ["'=HYPERLINK(zorblax)"]


def test_session_spill_files_hold_hashes_and_are_removed(tmp_path: Path) -> None:
    from offramp.logscan.sessions import SessionStore

    seen = pl.DataFrame({"session": pl.Series([1, 2, 3], dtype=pl.UInt64),
                         "last": pl.Series([None, None, None], dtype=pl.Datetime("us"))})
    flagged = pl.DataFrame({"session": pl.Series([2, 1], dtype=pl.UInt64), "blocked": [1, 1],
                            "first_blocked": pl.Series([None, None], dtype=pl.Datetime("us"))})
    store = SessionStore(tmp_path, memory_rows=1, buckets=4)
    store.add([seen.head(2)], [])
    store.add([seen.tail(2)], [flagged])
    assert store.spilled >= 1
    folder = next(tmp_path.glob(".offramp-sessions-*"))
    spilled = pl.concat([pl.read_ipc(f) for f in folder.glob("seen-*.arrow")])
    assert spilled.columns == ["session", "last"]  # hashes and times, nothing else
    counts = store.finish()
    assert (counts.sessions, counts.seeking, counts.repeat) == (3, 2, 0)
    assert not list(tmp_path.glob(".offramp-sessions-*"))

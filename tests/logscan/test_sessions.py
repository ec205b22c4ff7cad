"""Session metrics: by hand on a tiny log, across files, and the same with or without spilling."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from offramp.logscan import TableSettings, scan_logs
from offramp.logscan.partial import FLAGGED_SCHEMA, SEEN_SCHEMA
from offramp.logscan.sessions import SessionStore


def _rows(session: str | None, queries: list[str], start: int) -> list[dict[str, object]]:
    t0 = datetime(2024, 5, 1, 12, 0, 0)
    return [
        {"timestamp": t0 + timedelta(minutes=start + i), "session": session, "query": q}
        for i, q in enumerate(queries)
    ]


def test_session_metrics_by_hand_across_two_files(tmp_path: Path, terms: Path) -> None:
    first = (
        _rows("s1", ["zorblax", "hello"], 0)  # seeking, continues after the warning
        + _rows("s2", ["hello", "zorblax"], 10)  # seeking ... (continues in the second file)
        + _rows("s3", ["hello"], 20)
        + _rows(None, ["zorblax"], 30)  # no session: counted as a search, not as a session
    )
    second = (
        _rows("s2", ["quillion"], 12)  # ... and searches again: repeat
        + _rows("s4", ["zorblax"], 40)  # seeking, nothing after
    )
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pl.DataFrame(first).write_parquet(a)
    pl.DataFrame(second).write_parquet(b)
    tables = scan_logs(terms, [a, b], None, settings=TableSettings(min_cell=1)).tables
    sessions = {r["metric"]: (r["sessions"], r["of_sessions"])
                for r in tables["sessions"].to_dicts()}
    assert sessions == {
        "sessions_with_blocked_search": (3, 4),
        "warned_sessions_searching_again": (1, 3),
        "warned_sessions_continuing": (2, 3),
    }
    assert tables["overall"]["blocked"][0] == 5


def test_no_timestamps_means_no_continuing_metric(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("session,query\na,zorblax\na,zorblax\nb,hello\n", encoding="utf-8")
    table = scan_logs(terms, [path], None, settings=TableSettings(min_cell=1)).tables["sessions"]
    assert table["metric"].to_list() == ["sessions_with_blocked_search",
                                         "warned_sessions_searching_again"]
    assert table["sessions"].to_list() == [1, 1]


def test_spilling_gives_the_same_counts_as_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    batches = []
    for _ in range(20):
        n = 500
        session = rng.integers(0, 2_000, size=n).astype(np.uint64)
        ts = pl.Series(rng.integers(0, 10_000, size=n) * 1_000_000).cast(pl.Datetime("us"))
        rows = pl.DataFrame({"session": session, "ts": ts,
                             "flag": rng.integers(0, 10, size=n) == 0})
        seen = rows.group_by("session").agg(pl.col("ts").max().alias("last"))
        flagged = rows.filter("flag").group_by("session").agg(
            pl.len().cast(pl.Int64).alias("blocked"), pl.col("ts").min().alias("first_blocked"))
        batches.append(([seen.cast(SEEN_SCHEMA)],  # type: ignore[arg-type]
                        [flagged.cast(FLAGGED_SCHEMA)]))  # type: ignore[arg-type]
    memory = SessionStore(tmp_path)
    spilling = SessionStore(tmp_path, memory_rows=700, buckets=7)
    for seen_frames, flagged_frames in batches:
        memory.add(seen_frames, flagged_frames)
        spilling.add(seen_frames, flagged_frames)
    assert spilling.spilled > 3
    expected = memory.finish()
    assert spilling.finish() == expected
    every = pl.concat([frames[0] for frames, _ in batches])["session"].n_unique()
    assert expected.sessions == every and 0 < expected.repeat < expected.seeking
    assert 0 < expected.continued < expected.seeking

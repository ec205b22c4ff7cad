"""Counts survive a graceful stop even when the database is down at that moment."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from offramp.intercept.counters import SPILL_SUFFIX, CounterBuffer
from offramp.store import Repository, make_engine
from tests.intercept.conftest import MakeClient


def _impressions(url: str) -> int:
    engine = make_engine(url)
    try:
        rows = Repository(engine).read_counts()
    finally:
        engine.dispose()
    return sum(r.count for r in rows if r.event == "impression")


def test_counts_spilled_at_a_stop_without_database_come_back_at_the_next_start(
    make_client: MakeClient, settings, tmp_path: Path
) -> None:
    spill = tmp_path / "spill"
    first = make_client(counter_spill_dir=spill)
    for _ in range(7):
        assert first.get("/intercept").status_code == 200
    database = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:  # the database cannot take the counts any more
        conn.execute("DROP TABLE counters")
    first.__exit__(None, None, None)  # graceful stop
    files = list(spill.glob(f"*{SPILL_SUFFIX}"))
    assert len(files) == 1
    rows = json.loads(files[0].read_text())["counts"]
    assert sum(r[-1] for r in rows if r[3] == "impression") == 7
    assert all(len(r) == 6 for r in rows)  # day, language, arm, event, link, count: no visitor

    elsewhere = f"sqlite:///{tmp_path / 'second.sqlite'}"
    second = make_client(database_url=elsewhere, counter_spill_dir=spill)
    assert not list(spill.iterdir())  # taken back at start
    second.__exit__(None, None, None)
    assert _impressions(elsewhere) == 7


def test_a_spill_file_is_taken_once_and_a_broken_one_is_kept(tmp_path: Path) -> None:
    day = dt.date(2026, 5, 6)
    buffer = CounterBuffer()
    buffer._counts[(day, "en", "control", "click", "help")] = 3
    assert buffer.spill(tmp_path) == 3
    assert buffer.pending() == 0
    (tmp_path / f"offramp-counters-broken{SPILL_SUFFIX}").write_text("{not json")
    first, second = CounterBuffer(), CounterBuffer()
    assert first.take_spilled(tmp_path) == 3
    assert second.take_spilled(tmp_path) == 0  # nothing is counted twice
    assert first._counts == {(day, "en", "control", "click", "help"): 3}
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and "broken" in left[0]  # unreadable: kept for a person to look at

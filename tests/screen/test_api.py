"""The first public surface other stages build on: Screener, Verdict, screen_batch, holder."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from offramp.screen import Screener, Verdict, screen_batch
from offramp.screen.reload import ScreenerHolder

DEMO = Path(__file__).parents[2] / "examples" / "terms" / "demo-terms.txt"


def test_check_blocks_listed_term_and_phrase() -> None:
    s = Screener.from_terms(["zorblax", "quillion vexmora"])
    assert s.check("where to find ZORBLAX").blocked
    assert s.check("quillion vexmora pictures").blocked
    assert not s.check("quillion alone").blocked
    assert not s.check("weather tomorrow").blocked


def test_verdict_is_json_ready_and_never_holds_the_query() -> None:
    s = Screener.from_terms(["zorblax"])
    v = s.check("secret words zorblax")
    assert isinstance(v, Verdict)
    d = v.to_dict()
    assert set(d) == {"blocked", "categories", "rules", "age", "list_version"}
    assert "secret" not in json.dumps(d)
    assert d["list_version"] == s.list_version


def test_demo_list_loads() -> None:
    s = Screener.from_file(DEMO)
    assert s.check("plindrath oskette").blocked
    assert not s.check("plindrath").blocked


def test_batch_matches_check_for_every_input_kind() -> None:
    s = Screener.from_terms(["zorblax"])
    queries = ["zorblax", "nothing", "", "a zorblax b"]
    expected = [s.check(q).blocked for q in queries]
    for column in (queries, pl.Series(queries), pa.array(queries)):
        out = screen_batch(s, column)
        assert out.columns == ["blocked", "categories", "rules", "age"]
        assert out["blocked"].to_list() == expected


def test_holder_keeps_old_list_when_new_one_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("zorblax\n", encoding="utf-8")
    holder = ScreenerHolder(path)
    first = holder.current
    path.write_text("zorblax\n---\n", encoding="utf-8")
    assert holder.reload() is False
    assert holder.current is first
    path.write_text("quillion\n", encoding="utf-8")
    assert holder.reload_if_changed() is True
    assert holder.current.check("quillion").blocked
    assert holder.reload_if_changed() is False


def test_screener_pickles_with_its_caches() -> None:
    # Dask and multiprocessing ship screeners between processes
    import pickle

    s = Screener.from_file(DEMO)
    screen_batch(s, ["zorblax", "weather"])
    again = pickle.loads(pickle.dumps(s))  # noqa: S301 -- our own bytes, made one line above
    assert again.check("z0rblax") == s.check("z0rblax")
    assert screen_batch(again, ["quillion"])["blocked"].to_list() == [True]


def test_batch_leaves_its_input_alone() -> None:
    s = Screener.from_terms(["zorblax"])
    column = pl.Series("query", ["zörblax", "café", "plain"])
    screen_batch(s, column)
    assert column.to_list() == ["zörblax", "café", "plain"]


def test_chunked_batch_matches_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from offramp.screen import batch

    monkeypatch.setattr(batch, "CHUNK_ROWS", 7)
    s = Screener.from_file(DEMO)
    queries = [f"q{i} zorblax" if i % 5 == 0 else f"ordinary {i} words é" for i in range(53)]
    queries[11] = "fennic 12 yo"
    out = screen_batch(s, queries)
    assert out["blocked"].to_list() == [s.check(q).blocked for q in queries]
    assert out["age"].to_list() == [s.check(q).age for q in queries]


@pytest.mark.parametrize(
    "query",
    [
        "zor\u3000blax", "zorblax\u00a0x", "quillion\u2003vexmora", "z\u200b o r b l a x",
        "ｚｏｒｂｌａｘ", "zor\tblax zorblax", "佐 zorblax", "\ud800zorblax", "zo\u0301rblax",
        "plindrath\u00a0oskette", "a\x00b zorblax", "z \u200b o \u200b r b l a x", "x" * 3000,
        "zorblax " + "y" * 2100, "12\u00a0yo", "１２ ｙｏ fennic",
        # a token of the batch path may begin with NUL (a separator): not a folded cache key
        "\x00Zorblax", "x \x00ZORBLAX", "\x00z0rblax", "\x00", "\x00 \x00a b",
    ],
)  # fmt: skip
def test_batch_agrees_with_check_on_unicode_spacing(query: str) -> None:
    s = Screener.from_file(DEMO)
    row = screen_batch(s, [query]).row(0, named=True)
    v = s.check(query)
    assert row == {"blocked": v.blocked, "categories": list(v.categories),
                   "rules": list(v.rules), "age": v.age}  # fmt: skip

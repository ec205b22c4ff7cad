"""ScreenerHolder: atomic swaps, broken lists rejected, compiled lists, no half-loaded list."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from offramp.screen import compiled
from offramp.screen.reload import ScreenerHolder
from offramp.screen.terms import load


def test_broken_yaml_is_logged_in_one_line_and_old_list_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "terms.yaml"
    path.write_text("categories: {a: A}\nrules:\n  - {id: r, category: a, terms: [zorblax]}\n",
                    encoding="utf-8")  # fmt: skip
    holder = ScreenerHolder(path)
    old = holder.current
    path.write_text("categories: {a: A}\nrules:\n  - {id: r, category: b, terms: [x]}\n",
                    encoding="utf-8")  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="offramp.screen"):
        assert holder.reload_if_changed() is False
    assert holder.current is old
    (record,) = caplog.records
    assert "previous list stays in force" in record.getMessage()
    assert "terms.yaml:3: unknown category 'b'" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_same_content_rewritten_is_not_a_change(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("zorblax\n", encoding="utf-8")
    holder = ScreenerHolder(path)
    path.write_text("zorblax\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert holder.reload_if_changed() is False


def test_compiled_list_reloads(tmp_path: Path) -> None:
    src, out = tmp_path / "t.txt", tmp_path / "t.compiled"
    src.write_text("zorblax\n", encoding="utf-8")
    compiled.write(load(src), out)
    holder = ScreenerHolder(out)
    assert holder.current.check("z0rblax").blocked
    src.write_text("quillion\n", encoding="utf-8")
    compiled.write(load(src), out)
    assert holder.reload_if_changed() is True
    assert holder.current.check("quillion").blocked
    assert not holder.current.check("zorblax").blocked


def test_readers_never_see_a_half_loaded_list(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    lists = {"a": "zorblax\n", "b": "quillion\n"}
    path.write_text(lists["a"], encoding="utf-8")
    holder = ScreenerHolder(path)
    versions = {load(path).version}
    path.write_text(lists["b"], encoding="utf-8")
    versions.add(load(path).version)
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            v = holder.current.check("zorblax quillion")
            if v.list_version not in versions or not v.blocked:
                errors.append(repr(v))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(30):
        path.write_text(lists["ab"[i % 2]], encoding="utf-8")
        holder.reload()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []

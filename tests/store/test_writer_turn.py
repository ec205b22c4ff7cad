"""The writers of one SQLite file take turns across processes, and a forked child is a writer of
its own (it must not inherit its parent's turn)."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from offramp.store.writer_turn import WriterTurn, writer_turn


def _write_in_turns(database: str, log: str, rounds: int) -> None:
    turn = writer_turn(Path(database))
    for _ in range(rounds):
        with turn.held():
            with open(log, "a") as out:
                out.write(f"in {os.getpid()}\n")
            time.sleep(0.001)  # another writer would interleave here without the turn
            with open(log, "a") as out:
                out.write(f"out {os.getpid()}\n")


def test_writers_in_several_processes_never_overlap(tmp_path: Path) -> None:
    database, log = tmp_path / "offramp.sqlite", tmp_path / "turns.log"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_in_turns, args=(str(database), str(log), 40))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 3 * 40 * 2
    for entered, left in zip(lines[::2], lines[1::2], strict=True):
        assert entered.startswith("in ") and left == "out " + entered[3:]  # never interleaved
    assert (tmp_path / "offramp.sqlite.write-lock").exists()


def _take_turn_and_report(turn: WriterTurn, took: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    started = time.monotonic()
    with turn.held():
        took.put(time.monotonic() - started)


def test_a_forked_child_waits_for_its_parents_turn(tmp_path: Path) -> None:
    turn = WriterTurn(tmp_path / "offramp.sqlite")
    context = multiprocessing.get_context("fork")
    took: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    with turn.held():
        child = context.Process(target=_take_turn_and_report, args=(turn, took))
        child.start()
        time.sleep(0.3)
    child.join(30)
    assert child.exitcode == 0
    assert took.get(timeout=5) >= 0.25  # it waited for the parent, not shared its lock


def test_two_turns_of_one_file_in_one_process_still_exclude_each_other(tmp_path: Path) -> None:
    """writer_turn's cache may drop a turn while it is in use; a new one must still wait."""
    import threading

    first, second = WriterTurn(tmp_path / "db.sqlite"), WriterTurn(tmp_path / "db.sqlite")
    waited: list[float] = []

    def take_second() -> None:
        started = time.monotonic()
        with second.held():
            waited.append(time.monotonic() - started)

    with first.held():
        thread = threading.Thread(target=take_second)
        thread.start()
        time.sleep(0.2)
    thread.join(10)
    assert waited and waited[0] >= 0.15

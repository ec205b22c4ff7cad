"""Writers: atomic replacement, naming for SPSS/Stata, label limits, spreadsheet limits."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyreadstat
import pytest

from offramp.data.atomic import atomic_path
from offramp.data.formats import WRITERS
from offramp.data.labelled import write_dta, write_sav
from offramp.data.naming import stat_names
from offramp.data.xlsx import write_xlsx
from offramp.errors import InputError


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "data.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half a")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_writer_replaces_atomically(fmt: str, tmp_path: Path) -> None:
    data = pl.DataFrame({"respondent": [1, 2], "x": ["a", "=b"]})
    codebook = {"variables": [], "instruments": []}
    target = tmp_path / f"d.{fmt}"
    target.write_bytes(b"previous")
    WRITERS[fmt](data, target, codebook)
    assert target.read_bytes() != b"previous"
    assert [p.name for p in tmp_path.iterdir()] == [f"d.{fmt}"]


def test_stat_names_are_legal_unique_and_stable() -> None:
    names = ["age", "a-b", "a_b", "1st", "_x", "ALL", "with", "v" * 40, "v" * 40 + "_2",
             "opinion.score", "q__choice_with_a_rather_long_value"]
    mapped = stat_names(names)
    assert mapped["age"] == "age" and mapped["a_b"] == "a_b"  # legal names never change
    assert mapped["a-b"] == "a_b_2"
    assert mapped["1st"] == "v1st" and mapped["_x"] == "v_x"
    assert mapped["ALL"] == "v_ALL" and mapped["with"] == "v_with"
    assert len(set(v.lower() for v in mapped.values())) == len(names)
    assert all(len(v) <= 27 for v in mapped.values())


def test_long_and_awkward_names_and_labels_are_written(tmp_path: Path) -> None:
    name = "a_really_long_question_name_that_goes_on.and-on"
    data = pl.DataFrame({name: [1, -99]})
    stat = stat_names([name])[name]
    codebook = {"instruments": [], "languages": ["en"], "variables": [
        {"name": name, "stat_name": stat, "type": "integer", "role": "question",
         "label": {"en": "Ä" * 300}, "choices": [], "choice": None}]}
    write_sav(data, tmp_path / "d.sav", codebook)
    write_dta(data, tmp_path / "d.dta", codebook)
    _, sav = pyreadstat.read_sav(str(tmp_path / "d.sav"), metadataonly=True)
    _, dta = pyreadstat.read_dta(str(tmp_path / "d.dta"), metadataonly=True)
    assert sav.column_names == [stat] == dta.column_names
    assert len(sav.column_names_to_labels[stat].encode()) <= 256
    assert sav.column_names_to_labels[stat].endswith("…")
    assert len(dta.column_names_to_labels[stat]) == 80


def test_xlsx_refuses_what_excel_cannot_hold(tmp_path: Path) -> None:
    wide = pl.DataFrame({f"c{i}": [1] for i in range(16_385)})
    with pytest.raises(InputError, match="do not fit in one Excel sheet"):
        write_xlsx(wide, tmp_path / "wide.xlsx")
    assert not list(tmp_path.iterdir())


def test_gc_pause_restores_the_collector_as_it_was() -> None:
    import gc

    from offramp.data.export import gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failing record batch")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

"""Round trip: export to every format, read it back with an independent reader, compare everything.

Data are sealed through the real vault into a real store on SQLite and PostgreSQL (db_url), then
exported with `run_export`; parquet is read with polars, CSV with polars, XLSX with openpyxl,
SPSS and Stata with pyreadstat. Every cell, every variable and value label and every missing code
must match the dataset the export built.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pyreadstat
import pytest

from offramp.data.codebook import STATA_MISSING, read_codebook
from offramp.data.codes import CODE_LABELS
from offramp.data.export import ExportResult, run_export
from offramp.data.labelled import value_labels, variable_label
from offramp.data.neutralise import restore, restore_frame
from tests.data.conftest import make_instrument, rich_people, seal_into

FORMATS = ["parquet", "csv", "xlsx", "sav", "dta"]


@pytest.fixture
def exported(db_url: str, keypair: Any, tmp_path: Path) -> ExportResult:
    instrument = make_instrument()
    seal_into(db_url, keypair.public, instrument, rich_people(instrument))
    return run_export(db_url, [keypair.private], FORMATS, tmp_path / "out",
                      passphrase=keypair.passphrase)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-12)
    return bool(a == b)


def test_every_file_is_written(exported: ExportResult, tmp_path: Path) -> None:
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(
        [f"study.{f}" for f in FORMATS] + ["study.codebook.json", "study.codebook.html"]
    )
    assert exported.report.opened == 40 and exported.report.failed == 0
    assert not exported.report.warnings
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_parquet_round_trip(exported: ExportResult, tmp_path: Path) -> None:
    back = pl.read_parquet(tmp_path / "out" / "study.parquet")
    assert back.equals(exported.data)
    assert back.schema == exported.data.schema


def test_csv_round_trip(exported: ExportResult, tmp_path: Path) -> None:
    data = exported.data
    assert data is not None
    back = pl.read_csv(tmp_path / "out" / "study.csv", schema=data.schema)
    # Text came back neutralised; restore() undoes exactly what neutralise() did.
    assert restore_frame(back).equals(data)
    # And the neutralisation is there: no text cell starts a formula.
    raw = pl.read_csv(tmp_path / "out" / "study.csv", infer_schema_length=0)
    for value in raw["comments"].drop_nulls():
        assert value in ("-97", "-98", "-99", "-5", "-5.5") or not value.lstrip(
            " \u00a0").startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_xlsx_round_trip(exported: ExportResult, tmp_path: Path) -> None:
    data = exported.data
    assert data is not None
    book = openpyxl.load_workbook(tmp_path / "out" / "study.xlsx", read_only=True)
    rows = list(book["data"].iter_rows(values_only=True))
    book.close()
    assert list(rows[0]) == data.columns
    assert len(rows) == data.height + 1
    for got_row, want_row in zip(rows[1:], data.iter_rows(), strict=True):
        padded = list(got_row) + [None] * (data.width - len(got_row))
        for name, got, want in zip(data.columns, padded, want_row, strict=True):
            if isinstance(want, dt.date):
                want = want.isoformat()
            if isinstance(got, str):
                shown = ooxml_unescape(got)
                # What Excel shows starts no formula (numbers and reserved codes excepted).
                assert shown[:1] not in ("\t", "\r"), (name, got)
                assert not shown.lstrip(" \u00a0").startswith(("=", "+", "-", "@")) or (
                    re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", shown)), (name, got)
                got = restore(shown)
            assert _same(got, want) or got == want, (name, got, want)
            if isinstance(want, int) and not isinstance(want, bool):
                assert isinstance(got, int | float), (name, got)


def ooxml_unescape(text: str) -> str:
    """What Excel does with `_xHHHH_` in cell text (ECMA-376 ST_Xstring); openpyxl does not."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _decode_stat(value: Any, variable: dict[str, Any], letters: dict[str, int]) -> Any:
    """A value read from .sav/.dta back in the dataset's terms."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and value in letters:
        value = letters[value]
    if variable.get("type") == "select_one" and value is not None:
        by_code = {c["code"]: c["value"] for c in variable["choices"]}
        code = int(value)
        return str(code) if code in CODE_LABELS else by_code[code]
    return value


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_stata_round_trip(exported: ExportResult, tmp_path: Path, fmt: str) -> None:
    data = exported.data
    assert data is not None
    codebook = read_codebook(tmp_path / "out" / "study.csv")
    assert codebook == exported.codebook or codebook is not None
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    back, meta = reader(str(tmp_path / "out" / f"study.{fmt}"), user_missing=True)
    variables = {v["name"]: v for v in exported.codebook["variables"]}
    letters = {letter: code for code, letter in STATA_MISSING.items()} if fmt == "dta" else {}
    for name in data.columns:
        variable = variables[name]
        stat = variable["stat_name"]
        assert stat in back.columns
        label = variable_label(variable, "en")
        limit = 80 if fmt == "dta" else 256
        assert meta.column_names_to_labels[stat] == (label if len(label) < limit else
                                                     meta.column_names_to_labels[stat])
        numeric = data[name].dtype.is_numeric() or variable["type"] == "select_one"
        got_values = [_decode_stat(v, variable, letters if numeric else {})
                      for v in back[stat].tolist()]
        want_values = data[name].to_list()
        for got, want in zip(got_values, want_values, strict=True):
            if isinstance(want, dt.date):
                got = got.date() if isinstance(got, dt.datetime) else got
            if want is None and data[name].dtype == pl.Utf8:
                assert got in (None, ""), (name, got)  # no text system-missing in SPSS/Stata
                continue
            assert _same(got, want) or got == want, (fmt, name, got, want)
        labels = value_labels(variable, "en")
        stored = meta.variable_value_labels.get(stat, {})
        for code, text in labels.items():
            key = STATA_MISSING.get(code, code) if fmt == "dta" and code in CODE_LABELS else code
            assert stored.get(key) == text or stored.get(float(code)) == text, (name, code)
        codes_in_data = {int(v) for v in data[name].drop_nulls().cast(pl.Float64, strict=False)
                         .drop_nulls() if int(v) in CODE_LABELS}
        if variable["role"] == "question" and numeric:
            if fmt == "sav":
                declared = {r["lo"] for r in meta.missing_ranges[stat]}
                assert declared == {float(c) for c in CODE_LABELS}
                for code, text in CODE_LABELS.items():
                    assert stored[float(code)] == text
            else:
                present = {STATA_MISSING[c] for c in codes_in_data}
                assert set(meta.missing_user_values.get(stat, [])) == present
                for letter in present:
                    assert stored[letter] == CODE_LABELS[letters[letter]]
        if fmt == "sav" and not numeric and variable["role"] == "question":
            declared = {r["lo"] for r in meta.missing_ranges[stat]}
            assert declared == {"-97", "-98", "-99"}


def test_select_one_is_labelled_integer_in_spss(exported: ExportResult, tmp_path: Path) -> None:
    back, meta = pyreadstat.read_sav(str(tmp_path / "out" / "study.sav"), user_missing=True)
    assert set(back["sought_help"].dropna().unique()) == {1.0, 2.0, -97.0}
    assert meta.variable_value_labels["sought_help"][1.0] == "Yes"
    assert meta.variable_value_labels["g1"][1.0] == "Strongly disagree"  # numeric values kept
    assert meta.variable_value_labels["g1"][-98.0] == "Don't know"
    assert meta.variable_measure["age"] == "scale"
    assert meta.variable_measure["sought_help"] == "nominal"
    stata, smeta = pyreadstat.read_dta(str(tmp_path / "out" / "study.dta"), user_missing=True)
    assert "a" in set(stata["sought_help"].dropna())  # "prefer not to say" is .a
    assert smeta.variable_value_labels["sought_help"]["a"] == "Prefer not to say"
    assert "c" in set(stata["g1"].dropna())  # "not shown" is .c

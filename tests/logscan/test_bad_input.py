"""Damaged logs: a clear message with file and row, or (skip) counted rows; never half an output."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from offramp.errors import InputError
from offramp.logscan import ColumnMap, ScanOptions, scan_logs
from tests.logscan.conftest import TEXT_FIELDS, write_log

SKIP = ScanOptions(on_error="skip")


def _no_output(out: Path) -> None:
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


def test_csv_broken_row_names_file_and_line(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("timestamp,query\n2024-05-01T10:00:00,hello\n"
                    "2024-05-01T10:01:00,zorblax,extra\n2024-05-01T10:02:00,quillion\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(InputError) as caught:
        scan_logs(terms, [path], out)
    message = str(caught.value)
    assert f"{path}: line 3: broken row: expected 2 fields, found 3" in message
    assert "--on-error skip" in message
    assert "zorblax" not in message  # the row's text is never echoed
    _no_output(out)

    result = scan_logs(terms, [path], out, SKIP)
    assert result.manifest["rows"] == {"scanned": 2, "skipped": 1, "losses_of_unknown_size": 0}
    assert result.manifest["status"] == "complete-with-skipped-input"
    assert result.manifest["skipped"]["examples"] == [
        {"file": str(path), "where": "line 3", "reason": "broken row: expected 2 fields, found 3",
         "rows": 1}
    ]
    assert (out / "manifest.json").exists()


def test_truncated_gzip_is_reported_and_never_passes_as_complete(tmp_path: Path, terms: Path,
                                                                 log_frame: pl.DataFrame) -> None:
    whole = write_log(pl.concat([log_frame] * 200), tmp_path / "whole.txt.gz").read_bytes()
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    options = ScanOptions(columns=ColumnMap(text_fields=tuple(TEXT_FIELDS.split(","))))
    out = tmp_path / "out"
    with pytest.raises(InputError) as caught:
        scan_logs(terms, [path], out, options)
    assert str(caught.value).startswith(f"{path}: after line ")
    assert "ends early or is damaged" in str(caught.value)
    _no_output(out)

    skip = ScanOptions(columns=options.columns, on_error="skip")
    result = scan_logs(terms, [path], out, skip)
    assert result.manifest["status"] == "complete-with-skipped-input"
    assert result.manifest["rows"]["losses_of_unknown_size"] == 1
    assert 0 < result.manifest["rows"]["scanned"] < 48_000


@pytest.mark.parametrize("name", ["cut.csv.gz", "cut.jsonl.gz"])
def test_truncated_gzip_csv_and_jsonl(tmp_path: Path, terms: Path, log_frame: pl.DataFrame,
                                      name: str) -> None:
    whole = write_log(pl.concat([log_frame] * 200), tmp_path / name.replace("cut", "w"))
    path = tmp_path / name
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match="ends early or is damaged"):
        scan_logs(terms, [path], None)


def test_corrupt_parquet_file(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(InputError) as caught:
        scan_logs(terms, [path], tmp_path / "out")
    assert str(caught.value).startswith(f"{path}: not a readable Parquet file")
    result = scan_logs(terms, [path, path], None, SKIP)
    assert result.manifest["rows"]["losses_of_unknown_size"] == 2
    assert result.manifest["skipped"]["examples"][0]["where"] == "whole file"


def test_damaged_row_group_names_the_first_lost_row(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "damaged.parquet"
    table = pa.table({"query": [f"kalumo {i}" for i in range(3000)]})
    pq.write_table(table, path, row_group_size=1000, compression="none",
                   use_dictionary=False)
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(1).column(0)
    start = column.data_page_offset
    data = bytearray(path.read_bytes())
    data[start + 8 : start + 400] = b"\xff" * 392  # wreck the second row group's page
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        scan_logs(terms, [path], None)
    assert str(caught.value).startswith(f"{path}: row 1001: row group 1 is damaged")
    result = scan_logs(terms, [path], None, SKIP)
    assert result.manifest["rows"] == {"scanned": 2000, "skipped": 1000,
                                       "losses_of_unknown_size": 0}


def test_missing_column_is_a_clear_error_even_when_skipping(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame({"text": ["zorblax"], "time": ["2024-01-01"]}).write_parquet(path)
    for options in (ScanOptions(), SKIP):
        with pytest.raises(InputError) as caught:
            scan_logs(terms, [path], None, options)
        assert str(caught.value) == (
            f"{path}: no query column 'query'; the file has: text, time "
            "(name the query column with --query-column)"
        )


def test_explicit_optional_column_must_exist(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("query\nzorblax\n", encoding="utf-8")
    options = ScanOptions(columns=ColumnMap(session="sid", explicit=frozenset({"session"})))
    with pytest.raises(InputError, match="no session column 'sid'"):
        scan_logs(terms, [path], None, options)


def test_later_file_missing_a_column_the_first_had(tmp_path: Path, terms: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("timestamp,query\n2024-01-01,x\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("query\ny\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"{second}: no timestamp column"):
        scan_logs(terms, [first, second], None)


def test_jsonl_bad_lines_and_missing_fields(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(
        '{"timestamp": "2024-05-01T10:00:00", "query": "zorblax"}\n'
        "\n"
        '{"timestamp": "2024-05-01T10:00:00", "query": "quillion"\n'
        '{"timestamp": "2024-05-01T10:00:00"}\n'
        '{"timestamp": "yesterday", "query": "hello"}\n'
        '{"timestamp": "2024-05-02T10:00:00", "query": {"nested": 1}}\n'
        '{"timestamp": "2024-05-02T10:00:00", "query": "fine"}\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=f"^{path}: line 3: not a JSON object"):
        scan_logs(terms, [path], None)
    result = scan_logs(terms, [path], None, SKIP)
    examples = [(e["where"], e["reason"]) for e in result.manifest["skipped"]["examples"]]
    assert examples == [
        ("line 3", "not a JSON object"),
        ("line 4", "no query value"),
        ("line 5", "timestamp not understood (ISO 8601 or epoch seconds; see --timestamp-format)"),
        ("line 6", "field 'query' is not a plain value"),
    ]
    assert result.manifest["rows"]["scanned"] == 2
    assert result.tables["overall"]["blocked"].to_list() == [None]  # 1 < min cell: suppressed


def test_text_log_line_without_enough_fields(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"2024-05-01T10:00:00\ts1\ten\tzorblax\n2024-05-01T10:00:01 s1 en oops\n"
                     b"\xff\xfe broken utf8\n2024-05-01T10:00:02\ts1\ten\tfine\n")
    options = ScanOptions(columns=ColumnMap(text_fields=tuple(TEXT_FIELDS.split(","))),
                          on_error="skip")
    result = scan_logs(terms, [path], None, options)
    examples = [(e["where"], e["reason"]) for e in result.manifest["skipped"]["examples"]]
    assert examples == [("line 2", "expected 4 fields separated by '\\t'"),
                        ("line 3", "not valid UTF-8")]
    assert result.manifest["rows"]["scanned"] == 2


def test_skip_counts_many_bad_rows_but_lists_few(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame({"query": [None] * 500 + ["zorblax"] * 20}, schema={"query": pl.String}
                 ).write_parquet(path)
    options = ScanOptions(on_error="skip", max_examples=5)
    result = scan_logs(terms, [path], None, options)
    assert result.manifest["rows"]["skipped"] == 500
    assert result.manifest["skipped"]["by_reason"] == {"no query value": 500}
    assert [e["where"] for e in result.manifest["skipped"]["examples"]] == [
        "row 1", "row 2", "row 3", "row 4", "row 5"]


def test_existing_foreign_folder_is_never_replaced(tmp_path: Path, terms: Path,
                                                   log_frame: pl.DataFrame) -> None:
    path = write_log(log_frame, tmp_path / "log.parquet")
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("keep me", encoding="utf-8")
    from offramp.errors import ConfigError

    with pytest.raises(ConfigError, match="not a logscan output"):
        scan_logs(terms, [path], out)
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "keep me"


def test_a_previous_output_is_replaced_whole(tmp_path: Path, terms: Path,
                                             log_frame: pl.DataFrame) -> None:
    path = write_log(log_frame, tmp_path / "log.parquet")
    out = tmp_path / "out"
    scan_logs(terms, [path], out, ScanOptions(include_queries=True))
    assert (out / "matched_queries.csv").exists()
    scan_logs(terms, [path], out)
    assert not (out / "matched_queries.csv").exists()  # nothing stale survives a new run
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_gzip_of_the_wrong_kind(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "plain.jsonl.gz"
    path.write_bytes(b'{"query": "zorblax"}\n')  # not gzip at all
    with pytest.raises(InputError, match="ends early or is damaged"):
        scan_logs(terms, [path], None)
    assert gzip  # the module under test reads gzip through the standard library

"""The same log in every format gives the same tables, equal to counts made by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offramp.logscan import ColumnMap, ScanOptions, TableSettings, scan_logs
from tests.logscan.conftest import FLAGGED, TEXT_FIELDS, make_log, write_log

SETTINGS = TableSettings(periods=("day", "week", "month"), min_cell=1)
SUFFIXES = ["log.parquet", "log.csv", "log.csv.gz", "log.jsonl", "log.jsonl.gz", "log.txt.gz"]


def _options(name: str, **kwargs: object) -> ScanOptions:
    fields = tuple(TEXT_FIELDS.split(",")) if ".txt" in name else ("query",)
    return ScanOptions(columns=ColumnMap(text_fields=fields), **kwargs)  # type: ignore[arg-type]


def _expected_by_day(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(
            pl.col("timestamp").dt.date().alias("period"),
            pl.col("query").is_in(FLAGGED).alias("flag"),
        )
        .group_by("period")
        .agg(pl.len().cast(pl.Int64).alias("searches"), pl.col("flag").sum().cast(pl.Int64)
             .alias("blocked"))
        .sort("period")
    )


@pytest.mark.parametrize("name", SUFFIXES)
def test_every_format_counts_what_hand_counting_gives(
    tmp_path: Path, terms: Path, log_frame: pl.DataFrame, name: str
) -> None:
    path = write_log(log_frame, tmp_path / name)
    result = scan_logs(terms, [path], None, _options(name), settings=SETTINGS)
    by_day = result.tables["by_day"].select(
        pl.col("period").dt.date(), "searches", "blocked"
    )
    assert_frame_equal(by_day, _expected_by_day(log_frame))
    overall = result.tables["overall"].row(0, named=True)
    assert overall["searches"] == 240
    assert overall["blocked"] == 40
    assert result.manifest["rows"]["scanned"] == 240
    assert result.manifest["status"] == "complete"


def test_all_formats_give_identical_tables(tmp_path: Path, terms: Path,
                                           log_frame: pl.DataFrame) -> None:
    results = []
    for name in SUFFIXES:
        path = write_log(log_frame, tmp_path / name)
        results.append(scan_logs(terms, [path], None, _options(name), settings=SETTINGS))
    first = results[0].tables
    for other in results[1:]:
        assert first.keys() == other.tables.keys()
        for key in first:
            assert_frame_equal(first[key], other.tables[key])


def test_week_and_month_roll_up_days(tmp_path: Path, terms: Path) -> None:
    frame = make_log(rows=600, days=40)
    path = write_log(frame, tmp_path / "log.parquet")
    tables = scan_logs(terms, [path], None, settings=SETTINGS).tables
    by_week = tables["by_week"]
    assert by_week["searches"].sum() == 600
    assert all(d.weekday() == 0 for d in by_week["period"].dt.date().to_list())  # Mondays
    by_month = tables["by_month"]
    assert by_month["period"].dt.date().to_list() == [date(2024, 5, 1), date(2024, 6, 1)]
    assert by_month["blocked"].sum() == tables["overall"]["blocked"][0]


def test_category_rule_age_and_language_tables(tmp_path: Path, terms: Path,
                                               log_frame: pl.DataFrame) -> None:
    path = write_log(log_frame, tmp_path / "log.parquet")
    tables = scan_logs(terms, [path], None, settings=SETTINGS).tables
    rules = dict(zip(tables["by_rule"]["rule"], tables["by_rule"]["blocked"], strict=True))
    flagged = log_frame.filter(pl.col("query").is_in(FLAGGED))["query"].to_list()
    # line numbers of the term file: 2 zorblax, 3 quillion, 4 plindrath oskette
    assert rules == {
        "line:2": sum(q in ("zorblax pictures", "ZÖRBLAX") for q in flagged),
        "line:3": flagged.count("quillion"),
        "line:4": flagged.count("find plindrath oskette"),
    }
    category = tables["by_category"].row(0, named=True)
    assert category["category"] == "default"
    assert category["share_of_blocked"] == 1.0
    assert tables["by_age"]["age"].to_list() == ["not stated"]
    languages = tables["by_language"]
    expected = log_frame.group_by("language").len().sort("language")
    assert languages["language"].to_list() == expected["language"].to_list()
    assert languages["searches"].to_list() == expected["len"].to_list()


def test_timestamps_are_read_per_value_in_utc(tmp_path: Path, terms: Path) -> None:
    csv = tmp_path / "mixed.csv"
    # epoch seconds of 2024-05-01T23:30Z; an offset time that is 2024-05-01T22:30Z; a naive time
    csv.write_text(
        "when,q\n1714606200,zorblax\n2024-05-02T00:30:00+02:00,hello\n2024-05-02 10:00:00,hi\n",
        encoding="utf-8",
    )
    options = ScanOptions(
        columns=ColumnMap(query="q", timestamp="when", explicit=frozenset({"timestamp"}))
    )
    days = scan_logs(terms, [csv], None, options, settings=SETTINGS).tables["by_day"]
    assert days["period"].dt.date().to_list() == [date(2024, 5, 1), date(2024, 5, 2)]
    assert days["searches"].to_list() == [2, 1]
    assert days["blocked"].to_list() == [1, 0]


def test_epoch_milliseconds_with_unit(tmp_path: Path, terms: Path) -> None:
    path = tmp_path / "ms.parquet"
    pl.DataFrame({"query": ["a", "b"], "timestamp": [1714606200000, 1714694400000]}).write_parquet(
        path
    )
    options = ScanOptions(columns=ColumnMap(timestamp_unit="ms"))
    days = scan_logs(terms, [path], None, options, settings=SETTINGS).tables["by_day"]
    assert days["period"].dt.date().to_list() == [date(2024, 5, 1), date(2024, 5, 3)]


def test_column_mapping_and_missing_optional_roles(tmp_path: Path, terms: Path) -> None:
    frame = pl.DataFrame({"q": ["zorblax", "hello", "world"]})
    path = tmp_path / "bare.parquet"
    frame.write_parquet(path)
    options = ScanOptions(columns=ColumnMap(query="q"))
    result = scan_logs(terms, [path], None, options, settings=SETTINGS)
    assert set(result.tables) == {"overall", "by_category", "by_rule", "by_age"}
    assert result.manifest["roles"] == {"query": "q", "timestamp": None, "language": None,
                                        "session": None}


def test_folders_are_scanned_recursively(tmp_path: Path, terms: Path,
                                         log_frame: pl.DataFrame) -> None:
    folder = tmp_path / "logs"
    (folder / "2024" / "05").mkdir(parents=True)
    write_log(log_frame.head(100), folder / "2024" / "05" / "a.parquet")
    write_log(log_frame.tail(140), folder / "2024" / "b.parquet")
    (folder / "README.md").write_text("not a log", encoding="utf-8")
    result = scan_logs(terms, [folder], None, settings=SETTINGS)
    assert result.tables["overall"]["searches"][0] == 240
    assert len(result.manifest["inputs"]) == 2


def test_small_batches_and_chunks_give_the_same_counts(tmp_path: Path, terms: Path,
                                                       log_frame: pl.DataFrame) -> None:
    path = tmp_path / "log.parquet"
    log_frame.write_parquet(path, row_group_size=50)
    whole = scan_logs(terms, [path], None, settings=SETTINGS)
    small = scan_logs(terms, [path], None, ScanOptions(batch_rows=7, chunk_rows=60),
                      settings=SETTINGS)
    assert small.manifest["run"]["partitions"] == 5
    for key in whole.tables:
        assert_frame_equal(whole.tables[key], small.tables[key])


def test_a_folder_scan_skips_its_own_output_and_hidden_folders(
    tmp_path: Path, terms: Path, log_frame: pl.DataFrame
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    write_log(log_frame, folder / "a.csv")
    (folder / ".cache").mkdir()
    write_log(log_frame, folder / ".cache" / "copy.csv")
    (folder / "terms.yaml").write_text("rules: []\n", encoding="utf-8")
    first = scan_logs(terms, [folder], folder / "scan", settings=SETTINGS)
    again = scan_logs(terms, [folder], folder / "scan", settings=SETTINGS)
    assert [i["file"] for i in again.manifest["inputs"]] == [str(folder / "a.csv")]
    assert again.tables["overall"]["searches"][0] == first.tables["overall"]["searches"][0] == 240

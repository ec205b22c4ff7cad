"""The public names, and the bounded batches every reader yields."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import offramp.logscan
from offramp.logscan.options import ColumnMap, ScanOptions
from offramp.logscan.problems import Problems
from offramp.logscan.readers import read_chunk
from offramp.logscan.sources import plan
from tests.logscan.conftest import TEXT_FIELDS, make_log, write_log


def test_exported_names_resolve() -> None:
    assert set(offramp.logscan.__all__) == {
        "ColumnMap", "ITSResult", "ScanOptions", "ScanResult", "TableSettings", "scan_logs",
        "segmented_regression", "wilson",
    }
    for name in offramp.logscan.__all__:
        assert getattr(offramp.logscan, name) is not None
    with pytest.raises(AttributeError):
        offramp.logscan.nothing_here  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize("name", ["log.parquet", "log.csv.gz", "log.jsonl", "log.txt.gz"])
def test_readers_yield_bounded_batches(tmp_path: Path, name: str) -> None:
    frame = make_log(rows=5_000)
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.write_parquet(path, row_group_size=50)
    else:
        write_log(frame, path)
    fields = tuple(TEXT_FIELDS.split(",")) if ".txt" in name else ("query",)
    options = ScanOptions(columns=ColumnMap(text_fields=fields), batch_rows=300)
    problems = Problems("fail")
    scan_plan = plan([path], options, problems)
    heights = [
        raw.frame.height
        for chunk in scan_plan.chunks
        for raw in read_chunk(chunk, scan_plan.roles, options, problems)
    ]
    assert sum(heights) == 5_000
    assert max(heights) <= 300


def test_one_huge_row_group_is_read_in_slices(tmp_path: Path) -> None:
    path = tmp_path / "one-group.parquet"
    make_log(rows=5_000).write_parquet(path, row_group_size=10_000)
    options = ScanOptions(batch_rows=400)
    problems = Problems("fail")
    scan_plan = plan([path], options, problems)
    heights = [raw.frame.height for chunk in scan_plan.chunks
               for raw in read_chunk(chunk, scan_plan.roles, options, problems)]
    assert max(heights) <= 400 and sum(heights) == 5_000
    assert pl.read_parquet(path).height == 5_000

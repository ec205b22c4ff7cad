"""The Dask path: a real LocalCluster gives exactly the local path's tables."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from offramp.errors import InputError
from offramp.logscan import ScanOptions, TableSettings, scan_logs
from offramp.synth.logs import LogSpec, write_log

pytestmark = pytest.mark.slow


def test_local_cluster_gives_identical_results(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for seed in range(3):
        write_log(LogSpec(rows=40_000, seed=seed, days=30), logs / f"part{seed}.parquet")
    terms = logs / "part0.parquet.terms.yaml"  # the folder scan must pass over it
    options = ScanOptions(chunk_rows=5_000, on_error="skip")  # many partitions per file
    settings = TableSettings(periods=("day", "week"), min_cell=5)
    (logs / "zz.csv").write_text(
        "timestamp,session,language,query\n2024-01-02T10:00:00,1,en,zorblax\n"
        "2024-01-02T10:00:00,1,en,zorblax,extra\n", encoding="utf-8")
    change = date(2024, 1, 19)
    local = scan_logs(terms, [logs], tmp_path / "local", options, settings=settings,
                      change=change)
    dask = scan_logs(terms, [logs], tmp_path / "dask", options, settings=settings,
                     change=change, cluster="local", workers=2)
    assert dask.manifest["run"]["partitions"] == local.manifest["run"]["partitions"] > 10
    assert local.tables.keys() == dask.tables.keys()
    for key in local.tables:
        assert_frame_equal(local.tables[key], dask.tables[key])
    for key in ("rows", "skipped", "inputs", "its", "first_day", "last_day"):
        assert json.dumps(local.manifest[key], default=str) == json.dumps(
            dask.manifest[key], default=str), key
    assert dask.manifest["run"]["cluster"] == "local"
    assert local.manifest["rows"]["scanned"] == 120_001


def test_an_existing_scheduler_by_address(tmp_path: Path) -> None:
    import logging

    from dask.distributed import LocalCluster

    log = tmp_path / "log.parquet"
    write_log(LogSpec(rows=20_000, seed=4, days=10), log)
    terms = tmp_path / "log.parquet.terms.yaml"
    options = ScanOptions(chunk_rows=4_000)
    local = scan_logs(terms, [log], None, options)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        remote = scan_logs(terms, [log], None, options, cluster=address)
    for key in local.tables:
        assert_frame_equal(local.tables[key], remote.tables[key])
    assert remote.manifest["run"]["cluster"] == address


def test_bad_input_on_a_worker_is_the_same_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,query\n2024-01-01,zorblax\n2024-01-01,a,b\n", encoding="utf-8")
    terms = tmp_path / "terms.txt"
    terms.write_text("zorblax\n", encoding="utf-8")
    with pytest.raises(InputError) as local:
        scan_logs(terms, [path], None)
    with pytest.raises(InputError) as remote:
        scan_logs(terms, [path], None, cluster="local", workers=1)
    assert str(local.value) == str(remote.value)
    assert str(remote.value).startswith(f"{path}: line 3: broken row")

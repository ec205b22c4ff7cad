"""Benchmark: `offramp logscan` end to end from Parquet, beside a naive Python loop and Dask.

    .venv/bin/python benchmarks/bench_logscan.py                    # 5 million rows
    .venv/bin/python benchmarks/bench_logscan.py --rows 100000000   # the full target

Generates N synthetic log rows (offramp.synth.logs, invented tokens) into a temporary folder,
never into the repository, then measures:

- the local scan (`offramp logscan` in a child process): rows/s end to end (reading, screening,
  tables, report, atomic write) and the child's peak memory (ru_maxrss via wait4);
- a naive baseline on a sample: a Python loop that reads rows and calls `Screener.check` on
  every query, counting per day; rows/s and the ratio;
- the same scan on a Dask LocalCluster of 2 workers (`--cluster local --workers 2`), its
  rows/s as a share of the local path's, and the per-partition figures behind the estimate of
  what 10 billion rows cost on a cluster.

Targets (issue 9): >= 3,000,000 rows/s and < 4 GB at 100 million rows on 2 cores; Dask within
30% of local. Run it when the machine is quiet: figures on a shared machine are lower bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from offramp.screen import Screener
from offramp.synth.logs import LogSpec, write_log


def run_child_rusage(args: list[str]) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in bytes, CPU seconds) of `python -m offramp ARGS`.

    Reaps the child with wait4 so its own peak memory (and its waited-for children's) is known.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        child = subprocess.Popen([sys.executable, "-m", "offramp", *args],
                                 stdout=out_file, stderr=err_file, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out_file.seek(0)
        err_file.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"offramp {' '.join(args)} failed:\n{err_file.read()}")
        return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def naive_baseline(log: Path, terms: Path, rows: int) -> float:
    """Rows/s of the obvious loop: read rows, check every query, count per day and language."""
    screener = Screener.from_file(terms)
    started = time.perf_counter()
    table = pq.ParquetFile(log).iter_batches(batch_size=rows, columns=["timestamp", "language",
                                                                        "query"])
    batch = next(table).to_pylist()
    searches: Counter[tuple[object, object]] = Counter()
    blocked: Counter[tuple[object, object]] = Counter()
    for row in batch:
        key = (row["timestamp"].date(), row["language"])
        searches[key] += 1
        if screener.check(row["query"]).blocked:
            blocked[key] += 1
    elapsed = time.perf_counter() - started
    return len(batch) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the generated log in this folder")
    parser.add_argument("--log", type=Path, help="use this Parquet log (written by an earlier "
                        "--keep run) instead of generating one; --rows must match it")
    parser.add_argument("--terms", type=Path, help="the term list of --log")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="offramp-bench-logscan-"))
    try:
        if args.log is not None:
            log = args.log
            terms = args.terms or log.with_name(log.name + ".terms.yaml")
            args.rows = pq.ParquetFile(log).metadata.num_rows
            print(f"using {log} ({args.rows:,} rows)", flush=True)
        else:
            log = (args.keep or folder) / "log.parquet"
            log.parent.mkdir(parents=True, exist_ok=True)
            terms = log.with_name(log.name + ".terms.yaml")
            print(f"generating {args.rows:,} synthetic rows (seed {args.seed}) ...", flush=True)
            started = time.perf_counter()
            write_log(LogSpec(rows=args.rows, seed=args.seed), log)
            print(f"  {time.perf_counter() - started:.1f} s, {log.stat().st_size / 1e6:,.0f} MB "
                  f"Parquet", flush=True)
        distinct = pl.scan_parquet(log).select(pl.col("query").n_unique()).collect().item()
        print(f"  distinct queries: {distinct:,} ({distinct / args.rows:.2%} of rows)",
              flush=True)

        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before "
              "the scans", flush=True)
        # the same partitions for both paths; at least ~16 so that Dask has work to spread
        chunk = ["--chunk-rows", str(max(1_000_000, args.rows // 16))]
        out = folder / "scan-local"
        wall, peak, cpu = run_child_rusage(["logscan", "--terms", str(terms), str(log),
                                            "--out", str(out), *chunk])
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        local_rate = args.rows / wall
        print(f"local scan:  {wall:.1f} s wall, {local_rate:,.0f} rows/s end to end "
              f"(process start, reading, screening, tables, report, write), "
              f"peak memory {peak / 2**30:.2f} GiB", flush=True)
        print(f"  inside the scan: {manifest['run']['seconds']:.1f} s, "
              f"{manifest['run']['rows_per_second']:,} rows/s, "
              f"{manifest['run']['partitions']} partitions", flush=True)
        print(f"  CPU time {cpu:.1f} s = {args.rows / cpu:,.0f} rows per CPU-second "
              f"(wall/CPU = {wall / cpu:.2f}; below 0.5 the 2 cores were both busy for us, "
              "above 1 others were using them)", flush=True)

        base_rate = naive_baseline(log, terms, min(args.baseline_rows, args.rows))
        print(f"naive loop (check() per row, {min(args.baseline_rows, args.rows):,} rows): "
              f"{base_rate:,.0f} rows/s; logscan is {local_rate / base_rate:.1f}x faster",
              flush=True)

        if not args.no_dask:
            out = folder / "scan-dask"
            wall_d, _, _ = run_child_rusage(["logscan", "--terms", str(terms), str(log),
                                             "--out", str(out), *chunk, "--cluster", "local",
                                             "--workers", str(args.workers)])
            dask_manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            dask_rate = args.rows / wall_d
            run = dask_manifest["run"]
            print(f"dask LocalCluster({args.workers} workers): {wall_d:.1f} s wall, "
                  f"{dask_rate:,.0f} rows/s = {dask_rate / local_rate:.0%} of local "
                  "(includes starting the cluster)", flush=True)
            per_partition = run["partition_rows_mean"] / run["partition_seconds_mean"]
            print(f"  per partition: {run['partition_rows_mean']:,.0f} rows in "
                  f"{run['partition_seconds_mean']:.2f} s = {per_partition:,.0f} rows/s per "
                  "worker", flush=True)
            worker_hours = 10e9 / per_partition / 3600
            print(f"  10 billion rows = {worker_hours:,.1f} worker-hours at this rate: "
                  f"{worker_hours * 60 / 64:,.0f} min on 64 workers, "
                  f"{worker_hours * 60 / 256:,.0f} min on 256 (plus start-up and merging)",
                  flush=True)
        print(f"load average at end {os.getloadavg()[0]:.1f}", flush=True)
        print("note: the machine is shared (2 cores, other engineers' tests and benchmarks "
              "running); figures are lower bounds", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

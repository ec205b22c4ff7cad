"""A whole scan: plan the partitions, run them (here or on Dask), merge, tabulate, write.

``scan_logs`` is the Python entry point behind ``offramp logscan``. The partitions go through
``partition.scan_chunk`` whether they run in this process or on a Dask cluster, and their
results merge by addition, so the tables do not depend on where or in what order they ran.
"""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from offramp.errors import ConfigError, InputError
from offramp.logscan.its import ITSResult, segmented_regression
from offramp.logscan.options import ScanOptions
from offramp.logscan.output import TOOL, AtomicFolder, check_target
from offramp.logscan.partial import Partial, parse_key, sum_counts, sum_matched
from offramp.logscan.partition import Job, TermSource, remember_screener, scan_chunk
from offramp.logscan.problems import Problems
from offramp.logscan.report import Truth, render_report
from offramp.logscan.sessions import SessionCounts, SessionStore
from offramp.logscan.sources import Plan, plan
from offramp.logscan.tables import TableSettings, build_tables, daily_series
from offramp.screen import Screener

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ScanResult:
    """What a scan produced: the published (suppressed) tables and the manifest."""

    tables: dict[str, pl.DataFrame]
    manifest: dict[str, Any]
    its: ITSResult | None = None
    matched: pl.DataFrame | None = None
    files: list[str] = field(default_factory=list)


class Accumulator:
    """Merges partition results as they arrive; session rows go to a bounded store."""

    def __init__(self, problems: Problems, spill_dir: Path | None) -> None:
        self.problems = problems
        self.counts: list[pl.DataFrame] = []
        self.matched: list[pl.DataFrame] = []
        self.sessions = SessionStore(spill_dir)
        self.rows = 0
        self.rows_by_file: dict[str, int] = {}
        self.partition_rows: list[int] = []
        self.partition_seconds: list[float] = []

    def add(self, partial: Partial) -> None:
        self.problems.merge(partial.problems)
        self.counts.extend(partial.counts)
        self.matched.extend(partial.matched)
        self.sessions.add(partial.seen, partial.flagged)
        self.rows += partial.rows
        for name, n in partial.rows_by_file.items():
            self.rows_by_file[name] = self.rows_by_file.get(name, 0) + n
        self.partition_rows.append(partial.rows)
        self.partition_seconds.append(partial.seconds)
        if len(self.counts) > 64:
            self.counts = [sum_counts(self.counts)]
        if len(self.matched) > 64:
            self.matched = [sum_matched(self.matched)]


def run_local(plan_: Plan, job: Job, accumulate: Callable[[Partial], None]) -> None:
    """Scan the partitions here, ``parallel`` at a time in threads.

    Polars does its work outside the Python lock; running two partitions side by side lets one
    partition's Python steps (screening new queries, bookkeeping) overlap the other's Polars
    work, so both cores stay busy. Results are merged by addition, so their order is irrelevant.
    """
    parallel = max(1, min(job.options.parallel, len(plan_.chunks)))
    if parallel == 1:
        for chunk in plan_.chunks:
            accumulate(scan_chunk(chunk, job))
        return
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="logscan") as pool:
        pending = set()
        chunks = iter(plan_.chunks)
        for chunk in itertools.islice(chunks, parallel):
            pending.add(pool.submit(scan_chunk, chunk, job))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                accumulate(future.result())  # raises the partition's error, if any
                nxt = next(chunks, None)
                if nxt is not None:
                    pending.add(pool.submit(scan_chunk, nxt, job))


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix an apostrophe to text a spreadsheet would run as a formula (CSV injection)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    pattern = "^[" + "".join(_FORMULA_START).replace("-", r"\-") + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c in text
    )


def _table_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "parquet":
        frame.write_parquet(buffer)
    else:
        _csv_safe(frame).write_csv(buffer)
    return buffer.getvalue()


def _matched_table(matched: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for query, vkey, n in matched.sort(["n", "query"], descending=[True, False]).iter_rows():
        rules, categories, age = parse_key(vkey)
        rows.append((query, n, "|".join(categories), "|".join(rules), age))
    return pl.DataFrame(
        rows, schema={"query": pl.String, "searches": pl.Int64, "categories": pl.String,
                      "rules": pl.String, "age": pl.String}, orient="row",
    )


def load_truth(path: str | Path) -> Truth:
    """The daily planted prevalence of a synthetic log's truth file (offramp synth logs)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        daily = data["daily"]
        return Truth(
            [date.fromisoformat(d["day"]) for d in daily],
            [float(d["expected_prevalence"]) for d in daily],
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a truth file written by offramp synth logs ({exc})",
                         file=str(path)) from exc


def _summary(manifest: dict[str, Any], tables: dict[str, pl.DataFrame]) -> list[tuple[str, str]]:
    overall = tables["overall"].row(0, named=True)
    prevalence = overall["prevalence"]
    shown = "–" if prevalence is None else (
        f"{prevalence:.3%} ({overall['ci_low']:.3%} to {overall['ci_high']:.3%})")
    rows = manifest["rows"]
    return [
        ("Searches scanned", f"{rows['scanned']:,}"),
        ("Flagged by the term list", "suppressed" if overall["blocked"] is None
         else f"{overall['blocked']:,}"),
        ("Prevalence", shown),
        ("Rows skipped as bad input", f"{rows['skipped']:,}"),
        ("Term list version", manifest["term_list_version"]),
        ("Log files", f"{len(manifest['inputs'])}"),
        ("Days covered", f"{manifest['first_day']} to {manifest['last_day']}"
         if manifest["first_day"] else "no timestamps"),
    ]


def scan_logs(
    terms: str | Path,
    logs: Sequence[str | Path],
    out: str | Path | None,
    options: ScanOptions | None = None,
    *,
    settings: TableSettings | None = None,
    cluster: str | None = None,
    workers: int | None = None,
    change: date | None = None,
    its_maxlags: int | None = None,
    truth: str | Path | None = None,
    table_format: str = "csv",
    report: bool = True,
) -> ScanResult:
    """Scan ``logs`` against the term list ``terms``; write the output folder ``out`` (if given).

    ``cluster``: None (this process), ``"local"`` (a dask.distributed LocalCluster of
    ``workers`` processes), a scheduler address such as ``tcp://host:8786``, or the path of a
    Dask scheduler file (.json).
    """
    options = options or ScanOptions()
    settings = settings or TableSettings()
    started = time.perf_counter()
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_target(out_path)
    if table_format not in ("csv", "parquet"):
        raise ConfigError(f"table format must be csv or parquet, not {table_format!r}")
    truth_data = load_truth(truth) if truth is not None else None

    screener = Screener.from_file(terms)
    source = TermSource.from_path(terms)
    remember_screener(source, screener)
    problems = Problems(options.on_error, options.max_examples)
    plan_ = plan(logs, options, problems)
    if change is not None and plan_.roles["timestamp"] is None:
        raise ConfigError("--change-date needs timestamps, and these logs have none")
    job = Job(source, plan_.roles, options)
    acc = Accumulator(problems, out_path.parent if out_path is not None else None)
    try:
        if cluster is None:
            run_local(plan_, job, acc.add)
        else:
            from offramp.logscan.cluster import run_on_dask

            run_on_dask(plan_, job, acc.add, cluster, workers)
        counts = sum_counts(acc.counts)
        has_time = plan_.roles["timestamp"] is not None
        has_session = plan_.roles["session"] is not None
        session_counts: SessionCounts | None = acc.sessions.finish() if has_session else None
    finally:
        acc.sessions.close()
    has_language = plan_.roles["language"] is not None
    tables = build_tables(counts, settings, has_time=has_time, has_language=has_language,
                          sessions=session_counts)
    its: ITSResult | None = None
    if change is not None:
        its = segmented_regression(daily_series(counts), change, maxlags=its_maxlags,
                                   level=settings.level)
        tables["its"] = its.table
    matched = _matched_table(sum_matched(acc.matched)) if options.include_queries else None

    elapsed = time.perf_counter() - started
    days = counts.get_column("day").drop_nulls()
    skipped = problems.rows_skipped
    manifest: dict[str, Any] = {
        "tool": TOOL,
        "status": "complete" if not problems.any else "complete-with-skipped-input",
        "created": datetime.now(UTC).date().isoformat(),
        "term_list": Path(terms).name,
        "term_list_version": screener.list_version,
        "inputs": [{"file": f, "rows_scanned": acc.rows_by_file.get(f, 0)} for f in plan_.files],
        "roles": plan_.roles,
        "rows": {"scanned": acc.rows, "skipped": skipped,
                 "losses_of_unknown_size": problems.unknown_losses},
        "skipped": {
            "by_reason": dict(sorted(problems.by_reason.items())),
            "examples": [s.to_dict() for s in problems.finished()],
        },
        "first_day": days.min().isoformat() if days.len() else None,  # type: ignore[union-attr]
        "last_day": days.max().isoformat() if days.len() else None,  # type: ignore[union-attr]
        "settings": {
            "min_cell": settings.min_cell,
            "level": settings.level,
            "periods": list(settings.periods),
            "on_error": options.on_error,
            "include_queries": options.include_queries,
            "change_date": change.isoformat() if change else None,
        },
        "its": its.summary() if its is not None else None,
        "run": {
            "cluster": cluster or "none",
            "partitions": len(acc.partition_rows),
            "seconds": round(elapsed, 3),
            "rows_per_second": round(acc.rows / elapsed) if elapsed > 0 else None,
            "partition_rows_mean": (sum(acc.partition_rows) / len(acc.partition_rows)
                                    if acc.partition_rows else None),
            "partition_seconds_mean": (sum(acc.partition_seconds) / len(acc.partition_seconds)
                                       if acc.partition_seconds else None),
        },
        "files": [],
    }
    result = ScanResult(tables, manifest, its, matched)
    if out_path is not None:
        _write(out_path, result, settings, table_format, change, truth_data, report)
    return result


def _write(
    out: Path,
    result: ScanResult,
    settings: TableSettings,
    table_format: str,
    change: date | None,
    truth: Truth | None,
    report: bool,
) -> None:
    folder = AtomicFolder(out)
    files: dict[str, bytes] = {}
    for name, table in result.tables.items():
        files[f"{name}.{table_format}"] = _table_bytes(table, table_format)
    if result.matched is not None:
        files[f"matched_queries.{table_format}"] = _table_bytes(result.matched, table_format)
    if report:
        html = render_report(
            {k: v for k, v in result.tables.items() if k != "its"},
            _summary(result.manifest, result.tables),
            level=settings.level, min_cell=settings.min_cell, change=change, its=result.its,
            truth=truth,
        )
        files["report.html"] = html.encode("utf-8")
    result.manifest["files"] = sorted([*files, "manifest.json"])
    with folder:
        for name, data in files.items():
            folder.write_bytes(name, data)
        folder.write_bytes("manifest.json",
                           json.dumps(result.manifest, indent=2, default=str).encode("utf-8"))
    result.files = result.manifest["files"]

"""Find the log files, tell their formats, and cut them into partitions.

A partition (``Chunk``) is the unit of work for both the local loop and a Dask task: a run of
row groups of one Parquet file, or one whole CSV / JSON lines / text file (those formats, and
gzip in particular, cannot be split without reading them from the start).

Planning also decides which optional roles (timestamp, language, session) the scan uses, from the
first file, so that every partition produces the same tables.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from offramp.errors import ConfigError, InputError
from offramp.logscan.options import ROLES, ColumnMap, ScanOptions
from offramp.logscan.problems import Problems, Skip

FORMATS = ("parquet", "csv", "jsonl", "text")
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "text",
    ".log": "text",
}


@dataclass(frozen=True, slots=True)
class Chunk:
    """One partition: a file, its format, and for Parquet which row groups (from which row)."""

    path: str
    format: str
    gzip: bool
    row_groups: tuple[int, ...] = ()
    first_row: int = 0  # rows of the file before this chunk (Parquet)
    rows: int | None = None  # known for Parquet, unknown (None) for the other formats


@dataclass(frozen=True, slots=True)
class Plan:
    """The partitions to scan and the column each role is read from (None = role not used)."""

    chunks: tuple[Chunk, ...]
    roles: dict[str, str | None]
    files: tuple[str, ...]


def detect_format(path: Path, forced: str | None) -> tuple[str, bool]:
    """(format, gzip-compressed) from the suffixes, e.g. logs.jsonl.gz -> ("jsonl", True)."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] in (".gz", ".gzip")
    if gz:
        suffixes = suffixes[:-1]
    if forced is not None:
        if forced not in FORMATS:
            raise ConfigError(f"unknown log format {forced!r}; use one of {', '.join(FORMATS)}")
        fmt = forced
    elif suffixes and suffixes[-1] in _SUFFIXES:
        fmt = _SUFFIXES[suffixes[-1]]
    else:
        raise ConfigError(
            f"cannot tell the format of {path} from its name",
            hint="name it .parquet, .csv, .tsv, .jsonl, .txt or .log (optionally .gz), "
            "or pass --format",
        )
    if fmt == "parquet" and gz:
        raise ConfigError(f"{path}: Parquet files are compressed inside; do not gzip them")
    return fmt, gz


def _is_logscan_output(folder: Path) -> bool:
    try:
        text = (folder / "manifest.json").read_text(encoding="utf-8")
        return bool(json.loads(text).get("tool") == "offramp logscan")
    except (OSError, ValueError, AttributeError):
        return False


def _log_files(folder: Path) -> Iterable[Path]:
    """Files with a log suffix under ``folder``, sorted; skips hidden files and folders (such as
    a run's staging folder) and earlier logscan outputs, so re-running over a folder that holds
    its own output does not scan the tables as logs."""
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs
                         if not d.startswith(".") and not _is_logscan_output(here / d))
        for name in sorted(files):
            if name.startswith("."):
                continue
            try:
                detect_format(here / name, None)
            except ConfigError:
                continue
            yield here / name


def discover(inputs: Sequence[str | Path], forced: str | None) -> list[Path]:
    """Expand folders (recursively, sorted) into the log files they hold.

    In a folder, only files named like logs (.parquet, .csv, .jsonl, .txt, ... see FORMATS)
    are taken, even with --format; a file named on the command line is always taken.
    """
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.extend(_log_files(path))
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"log file not found: {path}")
    if not found:
        raise ConfigError("no log files to scan", hint="give files or folders holding logs")
    return found


def open_binary(path: str, gz: bool) -> io.BufferedIOBase:
    """The file's bytes, decompressed if gzip (raises OSError/EOFError on a damaged stream)."""
    if gz:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # the caller closes it (used in `with`)


def _csv_delimiter(path: str, columns: ColumnMap) -> str:
    if columns.csv_delimiter is not None:
        return columns.csv_delimiter
    return "\t" if ".tsv" in [s.lower() for s in Path(path).suffixes] else ","


def csv_header(path: str, gz: bool, columns: ColumnMap) -> list[str]:
    """The header row of a CSV file (its first record)."""
    try:
        with open_binary(path, gz) as raw:
            first = raw.readline(1 << 20).decode("utf-8-sig")
            row = next(csv.reader([first], delimiter=_csv_delimiter(path, columns)), None)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the CSV header: {type(exc).__name__}", file=path) from exc
    if not row:
        raise InputError("the CSV file is empty (no header row)", file=path)
    return row


def _jsonl_fields(path: str, gz: bool) -> list[str] | None:
    """The keys of the first record of a JSON lines file (None if it has no readable record)."""
    try:
        with open_binary(path, gz) as raw:
            for line in raw:
                if not line.strip():
                    continue
                record = json.loads(line)
                return list(record) if isinstance(record, dict) else None
    except (OSError, EOFError, zlib.error, ValueError):
        return None
    return None


def columns_of(path: str, fmt: str, gz: bool, columns: ColumnMap) -> list[str] | None:
    """The column names a file offers (None when they cannot be known before reading)."""
    if fmt == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a readable Parquet file ({exc})", file=path) from exc
    if fmt == "csv":
        return csv_header(path, gz, columns)
    if fmt == "text":
        return list(columns.text_fields)
    return _jsonl_fields(path, gz)


def resolve_roles(
    available: list[str] | None, columns: ColumnMap, path: str
) -> dict[str, str | None]:
    """Which column each role reads, checked against the first file's columns."""
    roles: dict[str, str | None] = {}
    for role in ROLES:
        name = columns.column(role)
        required = role == "query" or role in columns.explicit
        if available is None or name in available:
            roles[role] = name
        elif required:
            raise missing_column(path, role, name, available)
        else:
            roles[role] = None
    return roles


class MissingColumn(InputError):
    """A file lacks a column the scan reads: a mapping mistake, never a row to skip."""


def missing_column(path: str, role: str, name: str, available: Iterable[str]) -> MissingColumn:
    shown = ", ".join(list(available)[:20]) or "(none)"
    return MissingColumn(
        f"no {role} column {name!r}; the file has: {shown}",
        file=path,
        hint=f"name the {role} column with --{role}-column",
    )


def check_roles(available: list[str] | None, roles: dict[str, str | None], path: str) -> None:
    """Every later file must have the columns the plan reads."""
    if available is None:
        return
    for role, name in roles.items():
        if name is not None and name not in available:
            raise missing_column(path, role, name, available)


def _parquet_chunks(path: str, chunk_rows: int) -> list[Chunk]:
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", file=path) from exc
    chunks: list[Chunk] = []
    group: list[int] = []
    start = rows = offset = 0
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if group and rows + n > chunk_rows:
            chunks.append(Chunk(path, "parquet", False, tuple(group), start, rows))
            group, start, rows = [], offset, 0
        group.append(i)
        rows += n
        offset += n
    if group:
        chunks.append(Chunk(path, "parquet", False, tuple(group), start, rows))
    return chunks


def plan(inputs: Sequence[str | Path], options: ScanOptions, problems: Problems) -> Plan:
    """Partitions for every input file; unreadable files stop the run or (skip) are counted."""
    files = discover(inputs, options.format)
    roles: dict[str, str | None] | None = None
    chunks: list[Chunk] = []
    for path in files:
        fmt, gz = detect_format(path, options.format)
        name = str(path)
        try:
            available = columns_of(name, fmt, gz, options.columns)
            if roles is None:
                roles = resolve_roles(available, options.columns, name)
            else:
                check_roles(available, roles, name)
            if fmt == "parquet":
                chunks.extend(_parquet_chunks(name, options.chunk_rows))
            else:
                chunks.append(Chunk(name, fmt, gz))
        except MissingColumn:
            raise
        except InputError as exc:
            if problems.on_error == "fail":
                raise
            reason = exc.message.removeprefix(f"{name}: ")
            problems.add(Skip(name, "whole file", None, reason, None))
    if roles is None:
        roles = {r: (options.columns.column(r) if r == "query" else None) for r in ROLES}
    return Plan(tuple(chunks), roles, tuple(str(p) for p in files))

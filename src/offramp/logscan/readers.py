"""Read one partition in bounded batches, whatever the format, and name columns by role.

Every reader yields ``RawBatch`` frames whose columns are the roles in use (``query``,
``timestamp``, ``language``, ``session``) with the values still as the file had them; turning
them into typed values is ``standardize``'s job, so that bad values are handled the same way for
every format. Memory stays bounded by the batch size: a Parquet row group is read in slices, the
line formats in blocks of a few megabytes, CSV through Arrow's streaming reader.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from offramp.logscan.options import ScanOptions
from offramp.logscan.problems import Problems
from offramp.logscan.sources import Chunk, _csv_delimiter, open_binary

LINE_BLOCK_BYTES = 8 << 20
READ_PIECE_BYTES = 256 << 10
CSV_BLOCK_BYTES = 16 << 20
_STREAM_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True, slots=True)
class RawBatch:
    """Rows of one file, columns named by role, with a way to say where row ``i`` came from."""

    frame: pl.DataFrame
    file: str
    unit: str  # "row", "line" or "record"
    first: int  # position of frame row 0
    positions: npt.NDArray[np.int64] | None = None  # when rows are not consecutive

    def position(self, i: int) -> int:
        if self.positions is not None:
            return int(self.positions[i])
        return self.first + i


def _by_role(roles: dict[str, str | None]) -> dict[str, str]:
    """source column -> role, for the roles in use."""
    return {name: role for role, name in roles.items() if name is not None}


def _parquet_groups(chunk: Chunk, parquet: pq.ParquetFile, batch_rows: int
                    ) -> Iterator[tuple[tuple[int, ...], int, int]]:
    """(row groups, first row, rows) read units: whole row groups, up to about batch_rows."""
    offset = chunk.first_row
    group: list[int] = []
    start = rows = 0
    for index in chunk.row_groups:
        size = parquet.metadata.row_group(index).num_rows
        if group and rows + size > batch_rows:
            yield tuple(group), start, rows
            group, rows = [], 0
        if not group:
            start = offset
        group.append(index)
        rows += size
        offset += size
    if group:
        yield tuple(group), start, rows


def _parquet_careful(
    chunk: Chunk, parquet: pq.ParquetFile, groups: tuple[int, ...], start: int,
    rename: dict[str, str], options: ScanOptions, problems: Problems,
) -> Iterator[RawBatch]:
    """Row group by row group through Arrow, to say exactly where a damaged file goes bad."""
    offset = start
    for group in groups:
        size = parquet.metadata.row_group(group).num_rows
        done = 0
        try:
            for batch in parquet.iter_batches(
                batch_size=options.batch_rows, row_groups=[group], columns=list(rename)
            ):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                yield RawBatch(frame.rename(rename), chunk.path, "row", offset + done + 1)
                done += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            problems.report(
                chunk.path, "row", offset + done + 1,
                f"row group {group} is damaged from here on, {size - done} rows unreadable ({exc})",
                rows=size - done,
            )
        offset += size


def read_parquet(
    chunk: Chunk, roles: dict[str, str | None], options: ScanOptions, problems: Problems
) -> Iterator[RawBatch]:
    """Polars' reader (fast, multi-threaded) whole row groups at a time; Arrow where it fails.

    Polars reads a slice of rows straight into its own strings, about four times less work than
    Arrow plus conversion; on an error the same row groups are read again through Arrow, row
    group by row group, to find and report (or skip) exactly the damaged part.
    """
    rename = _by_role(roles)
    try:
        parquet = pq.ParquetFile(chunk.path)
    except (pa.ArrowException, OSError) as exc:
        problems.report(chunk.path, "rows", chunk.first_row + 1,
                        f"not a readable Parquet file ({exc})", rows=chunk.rows)
        return
    for groups, start, rows in _parquet_groups(chunk, parquet, options.batch_rows):
        if rows > 2 * options.batch_rows:  # one huge row group: read it in bounded slices
            yield from _parquet_careful(chunk, parquet, groups, start, rename, options, problems)
            continue
        try:
            frame = (
                pl.scan_parquet(chunk.path).slice(start, rows).select(list(rename)).collect()
            )
        except (pl.exceptions.PolarsError, OSError):
            yield from _parquet_careful(chunk, parquet, groups, start, rename, options, problems)
            continue
        if frame.height != rows:  # cannot happen with an intact file; be careful if it does
            yield from _parquet_careful(chunk, parquet, groups, start, rename, options, problems)
            continue
        yield RawBatch(frame.rename(rename), chunk.path, "row", start + 1)


def read_csv(
    chunk: Chunk, roles: dict[str, str | None], options: ScanOptions, problems: Problems
) -> Iterator[RawBatch]:
    rename = _by_role(roles)
    failed: list[tuple[int, int, int]] = []

    def on_invalid(row: Any) -> str:
        number = int(row.number) if row.number is not None and row.number >= 0 else None
        if options.on_error == "fail":
            failed.append((number or -1, row.expected_columns, row.actual_columns))
            return "error"
        problems.report(
            chunk.path, "line", number,
            f"broken row: expected {row.expected_columns} fields, found {row.actual_columns}",
        )
        return "skip"

    records = 0
    try:
        stream = pa.input_stream(chunk.path, compression="gzip" if chunk.gzip else None)
        reader = pacsv.open_csv(
            stream,
            # single-threaded parsing: only then does Arrow know a broken row's line number
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=_csv_delimiter(chunk.path, options.columns),
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(rename),
                column_types={name: pa.string() for name in rename},
            ),
        )
        for batch in reader:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            for start in range(0, frame.height, options.batch_rows):
                part = frame.slice(start, options.batch_rows)
                yield RawBatch(part.rename(rename), chunk.path, "record", records + 1)
                records += part.height
    except pa.ArrowInvalid as exc:
        if failed:
            number, expected, actual = failed[-1]
            problems.report(
                chunk.path, "line", number if number > 0 else None,
                f"broken row: expected {expected} fields, found {actual}",
            )
        # Arrow's own message quotes the row; say where instead, without the text.
        kind = str(exc).split(":", 1)[0]
        problems.report(chunk.path, "after record", records,
                        f"unreadable CSV from here on ({kind})", rows=None)
    except _STREAM_ERRORS as exc:
        problems.report(
            chunk.path, "after record", records,
            f"the file ends early or is damaged ({exc}); the rest of it is lost", rows=None,
        )


def _line_blocks(chunk: Chunk, problems: Problems) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) blocks of a few MB; reports a damaged stream.

    Reads in 256 KB pieces so that a truncated gzip loses at most the piece it ends in: every
    complete line before the damage is still scanned.
    """
    line = 0
    pending = b""
    lines: list[bytes] = []
    size = 0
    try:
        with open_binary(chunk.path, chunk.gzip) as handle:
            while True:
                piece = handle.read(READ_PIECE_BYTES)
                if not piece:
                    break
                data = pending + piece
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                if cut:
                    block = data[:cut].splitlines(keepends=True)
                    lines.extend(block)
                    size += cut
                if size >= LINE_BLOCK_BYTES:
                    yield line + 1, lines
                    line += len(lines)
                    lines, size = [], 0
    except _STREAM_ERRORS as exc:
        if lines:
            yield line + 1, lines
            line += len(lines)
        problems.report(
            chunk.path, "after line", line,
            f"the file ends early or is damaged ({exc}); the rest of it is lost", rows=None,
        )
        return
    if pending:
        lines.append(pending)
    if lines:
        yield line + 1, lines


def _decode(lines: list[bytes], first: int, chunk: Chunk, problems: Problems) -> list[str | None]:
    """UTF-8 text of each line without its line ending; undecodable lines are reported as None.

    Splits on "\n" only (str.splitlines would also split on form feeds and Unicode line
    separators inside a query and shift every line number after it).
    """
    try:
        text = b"".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        out: list[str | None] = []
        for i, raw in enumerate(lines):
            try:
                out.append(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError:
                problems.report(chunk.path, "line", first + i, "not valid UTF-8")
                out.append(None)
        return out
    parts: list[str | None] = list(text.split("\n"))
    if text.endswith("\n"):
        parts.pop()
    return parts


def read_text(
    chunk: Chunk, roles: dict[str, str | None], options: ScanOptions, problems: Problems
) -> Iterator[RawBatch]:
    """Text logs: a record a line; fields split by the delimiter, the last takes the rest."""
    fields = options.columns.text_fields
    rename = _by_role(roles)
    delimiter = options.columns.text_delimiter
    for first, lines in _line_blocks(chunk, problems):
        text = _decode(lines, first, chunk, problems)
        series = pl.Series("line", text, dtype=pl.String).str.strip_suffix("\r")
        keep = series.is_not_null() & (series.str.strip_chars().str.len_bytes() > 0)
        positions: npt.NDArray[np.int64] | None = None
        if not bool(keep.all()):
            positions = np.flatnonzero(keep.to_numpy()).astype(np.int64) + first
            series = series.filter(keep)
        if len(fields) == 1:
            frame = pl.DataFrame({fields[0]: series})
        else:
            split = series.str.splitn(delimiter, len(fields)).struct.unnest()
            frame = split.rename({f"field_{i}": name for i, name in enumerate(fields)})
            short = frame.get_column(fields[-1]).is_null()
            if bool(short.any()):
                bad = np.flatnonzero(short.to_numpy())
                for i in bad:
                    where = int(positions[i]) if positions is not None else first + int(i)
                    problems.report(
                        chunk.path, "line", where,
                        f"expected {len(fields)} fields separated by {delimiter!r}",
                    )
                frame = frame.filter(~short)
                base = positions if positions is not None else np.arange(len(short)) + first
                positions = np.delete(base, bad).astype(np.int64)
        frame = frame.select(list(rename)).rename(rename)
        for start in range(0, frame.height, options.batch_rows):
            part = frame.slice(start, options.batch_rows)
            pos = None if positions is None else positions[start : start + part.height]
            yield RawBatch(part, chunk.path, "line", first + start, pos)


_SCALAR_TYPES = (pl.String, pl.Null, pl.Boolean)


def _usable(dtype: pl.DataType) -> bool:
    return isinstance(dtype, _SCALAR_TYPES) or dtype.is_numeric() or dtype.is_temporal()


def _jsonl_slow(
    lines: list[bytes], first: int, rename: dict[str, str], chunk: Chunk, problems: Problems
) -> tuple[pl.DataFrame, npt.NDArray[np.int64]]:
    """Line by line, to find (and report) the records the fast parser choked on."""
    columns: dict[str, list[Any]] = {role: [] for role in rename.values()}
    positions: list[int] = []
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        number = first + i
        try:
            record = json.loads(raw)
        except ValueError:
            problems.report(chunk.path, "line", number, "not a JSON object")
            continue
        if not isinstance(record, dict):
            problems.report(chunk.path, "line", number, "not a JSON object")
            continue
        values: dict[str, Any] = {}
        for name, role in rename.items():
            value = record.get(name)
            if isinstance(value, bool) or not isinstance(value, str | int | float | None):
                problems.report(chunk.path, "line", number, f"field {name!r} is not a plain value")
                break
            values[role] = None if value is None else str(value)
        else:
            for role, value in values.items():
                columns[role].append(value)
            positions.append(number)
    frame = pl.DataFrame(columns, schema={role: pl.String for role in columns})
    return frame, np.asarray(positions, dtype=np.int64)


def read_jsonl(
    chunk: Chunk, roles: dict[str, str | None], options: ScanOptions, problems: Problems
) -> Iterator[RawBatch]:
    rename = _by_role(roles)
    for first, lines in _line_blocks(chunk, problems):
        frame: pl.DataFrame | None = None
        positions: npt.NDArray[np.int64] | None = None
        try:
            parsed = pl.read_ndjson(io.BytesIO(b"".join(lines)), infer_schema_length=None)
            cols = []
            for name, role in rename.items():
                if name in parsed.columns:
                    if not _usable(parsed.schema[name]):
                        raise ValueError(name)
                    cols.append(pl.col(name).alias(role))
                else:
                    cols.append(pl.lit(None, dtype=pl.String).alias(role))
            frame = parsed.select(cols) if parsed.height else None
            blank = [i for i, raw in enumerate(lines) if not raw.strip()]
            if blank:
                positions = np.delete(np.arange(len(lines)), blank).astype(np.int64) + first
            if frame is None or frame.height != len(lines) - len(blank):
                frame = None  # row count mismatch: take the careful path
        except (pl.exceptions.PolarsError, ValueError):
            frame = None
        if frame is None:
            frame, positions = _jsonl_slow(lines, first, rename, chunk, problems)
        for start in range(0, frame.height, options.batch_rows):
            part = frame.slice(start, options.batch_rows)
            pos = None if positions is None else positions[start : start + part.height]
            yield RawBatch(part, chunk.path, "line", first + start, pos)


READERS = {"parquet": read_parquet, "csv": read_csv, "jsonl": read_jsonl, "text": read_text}


def read_chunk(
    chunk: Chunk, roles: dict[str, str | None], options: ScanOptions, problems: Problems
) -> Iterator[RawBatch]:
    """The batches of one partition, in file order."""
    return READERS[chunk.format](chunk, roles, options, problems)

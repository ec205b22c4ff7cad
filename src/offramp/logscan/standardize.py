"""Turn a raw batch into the one typed frame every later step expects.

    query     String        the text to screen (never written out by default)
    day       Date          UTC day of the search (null when the log has no timestamp)
    ts        Datetime(us)  UTC time of the search, naive (null when the log has no timestamp)
    language  String        as the log has it (null when absent)
    session   UInt64        a keyed hash of the session id (null when absent); the id itself is
                            dropped here and never goes further

A row without a query, or with a timestamp that cannot be read, is bad input: it stops the run or
(with ``--on-error skip``) is counted and dropped. Parsing is per value against a fixed list of
formats, never inferred per batch, so the same row parses the same way in any partitioning.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from offramp.logscan.options import ColumnMap
from offramp.logscan.problems import Problems
from offramp.logscan.readers import RawBatch

#: Accepted without --timestamp-format: ISO 8601 with T or space, optional fraction and offset.
ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}
# A fixed seed: the hash of a session id must agree across partitions, processes and machines
# (which run the same Polars version, as Dask requires of its workers anyway).
_SESSION_SEED = 0x6F666672616D70

SCHEMA: dict[str, pl.DataType] = {
    "query": pl.String(),
    "day": pl.Date(),
    "ts": pl.Datetime("us"),
    "language": pl.String(),
    "session": pl.UInt64(),
}


def _utc_naive(series: pl.Series) -> pl.Series:
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return series.cast(pl.Datetime("us"))


def _from_epoch(numbers: pl.Series, unit: str) -> pl.Series:
    micros = (numbers.cast(pl.Float64) * _UNIT_US[unit]).round(0).cast(pl.Int64, strict=False)
    return pl.from_epoch(micros, time_unit="us")


def _parse_strings(text: pl.Series, columns: ColumnMap) -> pl.Series:
    """Per value: digits are epoch numbers (in --timestamp-unit, default s), else ISO 8601."""
    if columns.timestamp_format is not None:
        return _utc_naive(
            text.str.to_datetime(columns.timestamp_format, strict=False, time_unit="us")
        )
    numeric = text.str.contains(r"^\s*-?\d+(\.\d*)?\s*$").fill_null(False)
    parsed = pl.Series(text.name, [None] * len(text), dtype=pl.Datetime("us"))
    if bool(numeric.any()):
        epoch = _from_epoch(text.str.strip_chars().cast(pl.Float64, strict=False),
                            columns.timestamp_unit or "s")
        parsed = pl.select(pl.when(numeric).then(epoch).otherwise(parsed)).to_series()
    for fmt in ISO_FORMATS:
        todo = parsed.is_null() & text.is_not_null() & ~numeric
        if not bool(todo.any()):
            break
        attempt = _utc_naive(text.str.to_datetime(fmt, strict=False, time_unit="us"))
        parsed = pl.select(pl.when(todo).then(attempt).otherwise(parsed)).to_series()
    return parsed


def parse_timestamps(raw: pl.Series, columns: ColumnMap) -> pl.Series:
    """Datetime(us), naive UTC; null where the value is missing or cannot be read."""
    dtype = raw.dtype
    if isinstance(dtype, pl.Datetime):
        return _utc_naive(raw)
    if isinstance(dtype, pl.Date):
        return raw.cast(pl.Datetime("us"))
    if dtype.is_numeric():
        return _from_epoch(raw, columns.timestamp_unit or "s")
    if isinstance(dtype, pl.Null):
        return pl.Series(raw.name, [None] * len(raw), dtype=pl.Datetime("us"))
    return _parse_strings(raw.cast(pl.String), columns)


def session_hash(ids: pl.Series) -> pl.Series:
    """A 64-bit hash of each session id, the same in every process (nulls stay null).

    Integer ids are hashed as integers (turning them into text first costs more than the rest
    of the session work), text ids as text; so a session id must have the same type in every
    file of a run (a CSV's ids are text, a Parquet file's may be integers).
    """
    values = ids.cast(pl.Int64) if ids.dtype.is_integer() else ids.cast(pl.String)
    hashed = values.hash(_SESSION_SEED)
    return pl.select(pl.when(values.is_null()).then(None).otherwise(hashed)).to_series()


def _report(batch: RawBatch, problems: Problems, mask: pl.Series, reason: str) -> None:
    rows = np.flatnonzero(mask.to_numpy())
    if rows.size:
        problems.report_many(batch.file, batch.unit, [batch.position(int(i)) for i in rows], reason)


def standardize(
    batch: RawBatch, roles: dict[str, str | None], columns: ColumnMap, problems: Problems
) -> pl.DataFrame:
    """The typed frame (see the module docstring) with bad rows reported and removed."""
    frame = batch.frame
    height = frame.height
    query = frame.get_column("query")
    if query.dtype != pl.String:
        query = query.cast(pl.String, strict=False)
    bad = query.is_null()
    _report(batch, problems, bad, "no query value")

    if roles.get("timestamp") is not None:
        raw_ts = frame.get_column("timestamp")
        ts = parse_timestamps(raw_ts, columns)
        missing = raw_ts.is_null() & ~bad
        _report(batch, problems, missing, "no timestamp")
        unreadable = ts.is_null() & ~raw_ts.is_null() & ~bad
        _report(batch, problems, unreadable,
                "timestamp not understood (ISO 8601 or epoch seconds; see --timestamp-format)")
        bad = bad | ts.is_null()
    else:
        ts = pl.Series("ts", [None] * height, dtype=pl.Datetime("us"))

    if roles.get("language") is not None:
        language = frame.get_column("language").cast(pl.String, strict=False)
    else:
        language = pl.Series("language", [None] * height, dtype=pl.String)
    if roles.get("session") is not None:
        session = session_hash(frame.get_column("session"))
    else:
        session = pl.Series("session", [None] * height, dtype=pl.UInt64)

    out = pl.DataFrame(
        {
            "query": query,
            "day": ts.dt.date(),
            "ts": ts,
            "language": language,
            "session": session,
        },
        schema=SCHEMA,
    )
    if bool(bad.any()):
        out = out.filter(~bad)
    return out

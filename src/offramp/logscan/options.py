"""What a scan needs to know besides the log files: column mapping and how to treat bad rows.

These values travel to Dask workers, so they are plain frozen dataclasses (picklable, hashable)
and hold no open files, no screener and no query text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

OnError = Literal["fail", "skip"]
TimeUnit = Literal["s", "ms", "us", "ns"]

#: The roles a log column can play. Only ``query`` is required.
ROLES = ("query", "timestamp", "language", "session")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column (Parquet/CSV) or field (JSON lines, text logs) plays which role.

    A role named in ``explicit`` must exist in every file; the other optional roles are used
    when the first file has them (so defaults such as ``timestamp`` need no option in the
    common case) and then must exist in every later file too.
    """

    query: str = "query"
    timestamp: str = "timestamp"
    language: str = "language"
    session: str = "session"
    explicit: frozenset[str] = frozenset()
    timestamp_format: str | None = None
    timestamp_unit: TimeUnit | None = None
    #: names of the tab-separated fields of a text log line, in order; the last takes the rest
    text_fields: tuple[str, ...] = ("query",)
    text_delimiter: str = "\t"
    csv_delimiter: str | None = None

    def column(self, role: str) -> str:
        name: str = getattr(self, role)
        return name


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything about a scan that is not the input files, the term list or the output."""

    columns: ColumnMap = field(default_factory=ColumnMap)
    format: str | None = None  # parquet | csv | jsonl | text; None = from the file suffix
    on_error: OnError = "fail"
    include_queries: bool = False
    batch_rows: int = 2_000_000
    chunk_rows: int = 4_000_000
    cache_queries: int = 8_000_000  # distinct queries remembered per process (~20 bytes each)
    parallel: int = 2  # partitions scanned side by side in the local path (threads)
    max_examples: int = 50

    def __post_init__(self) -> None:
        if self.on_error not in ("fail", "skip"):
            raise ValueError(f"on_error must be 'fail' or 'skip', not {self.on_error!r}")
        if self.batch_rows < 1 or self.chunk_rows < 1:
            raise ValueError("batch_rows and chunk_rows must be positive")

"""Logscan: prevalence of CSAM-seeking searches in search logs, on one machine or a Dask cluster.

    from offramp.logscan import scan_logs, ScanOptions, ColumnMap
    result = scan_logs("terms.txt", ["logs/"], "out/", ScanOptions(on_error="skip"))
    result.tables["by_day"]          # Polars DataFrame, already suppressed

The query text never reaches the output unless ``ScanOptions(include_queries=True)``.
"""

from __future__ import annotations

from offramp.logscan.its import ITSResult, segmented_regression
from offramp.logscan.options import ColumnMap, ScanOptions
from offramp.logscan.run import ScanResult, scan_logs
from offramp.logscan.stats import wilson
from offramp.logscan.tables import TableSettings

__all__ = [
    "ColumnMap",
    "ITSResult",
    "ScanOptions",
    "ScanResult",
    "TableSettings",
    "scan_logs",
    "segmented_regression",
    "wilson",
]

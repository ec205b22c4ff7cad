"""Logscan: prevalence of CSAM-seeking searches in search logs, on one machine or a Dask cluster.

    from offramp.logscan import scan_logs, ScanOptions, ColumnMap
    result = scan_logs("terms.txt", ["logs/"], "out/", ScanOptions(on_error="skip"))
    result.tables["by_day"]          # Polars DataFrame, already suppressed

The query text never reaches the output unless ``ScanOptions(include_queries=True)``.

Names are imported on first use: a Dask worker unpickling the partition function imports this
package, and should not pay for statsmodels and the report templates it never uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from offramp.logscan.its import ITSResult, segmented_regression
    from offramp.logscan.options import ColumnMap, ScanOptions
    from offramp.logscan.run import ScanResult, scan_logs
    from offramp.logscan.stats import wilson
    from offramp.logscan.tables import TableSettings

_WHERE = {
    "ColumnMap": "offramp.logscan.options",
    "ITSResult": "offramp.logscan.its",
    "ScanOptions": "offramp.logscan.options",
    "ScanResult": "offramp.logscan.run",
    "TableSettings": "offramp.logscan.tables",
    "scan_logs": "offramp.logscan.run",
    "segmented_regression": "offramp.logscan.its",
    "wilson": "offramp.logscan.stats",
}

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'offramp.logscan' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)

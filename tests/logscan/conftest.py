"""Small logs with invented tokens, written in every supported format from one frame."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

TERMS = "# invented tokens only\nzorblax\nquillion\nplindrath oskette\n"
NEUTRAL = ["weather tomorrow", "train times", "kalumo pirosan", "recipe soup", "map of town"]
FLAGGED = ["zorblax pictures", "ZÖRBLAX", "quillion", "find plindrath oskette"]
TEXT_FIELDS = "timestamp,session,language,query"


def make_log(rows: int = 240, days: int = 3, seed: int = 7) -> pl.DataFrame:
    """A deterministic log: every 6th search flagged, sessions of 4 searches, 2 languages."""
    start = datetime(2024, 5, 1, 8, 0, 0)
    records = []
    for i in range(rows):
        flagged = (i * seed) % 6 == 0
        pool = FLAGGED if flagged else NEUTRAL
        records.append(
            {
                "timestamp": start + timedelta(days=i % days, minutes=i),
                "session": f"s{i // 4:05d}",
                "language": "en" if i % 3 else "de",
                "query": pool[(i // 6) % len(pool)] if flagged else pool[i % len(pool)],
            }
        )
    return pl.DataFrame(records)


def write_log(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` in the format its suffix names (timestamps as ISO text where textual)."""
    name = path.name
    text = frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    if name.endswith(".parquet"):
        frame.write_parquet(path)
    elif name.endswith(".csv"):
        text.write_csv(path)
    elif name.endswith(".csv.gz"):
        path.write_bytes(gzip.compress(text.write_csv().encode("utf-8")))
    elif name.endswith((".jsonl", ".jsonl.gz")):
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in text.to_dicts())
        data = lines.encode("utf-8")
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    elif name.endswith((".txt.gz", ".log.gz", ".txt", ".log")):
        lines = "".join(
            f"{r['timestamp']}\t{r['session']}\t{r['language']}\t{r['query']}\n"
            for r in text.to_dicts()
        )
        data = lines.encode("utf-8")
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    else:
        raise ValueError(name)
    return path


@pytest.fixture
def terms(tmp_path: Path) -> Path:
    path = tmp_path / "terms.txt"
    path.write_text(TERMS, encoding="utf-8")
    return path


@pytest.fixture
def log_frame() -> pl.DataFrame:
    return make_log()

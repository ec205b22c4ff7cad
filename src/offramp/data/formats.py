"""Writing the dataset in the formats researchers use. CSV here; others grow beside it.

Every text cell that a spreadsheet would read as a formula is neutralised, because respondents'
free text is hostile input and researchers open exports in Excel and LibreOffice.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str | None) -> str | None:
    """Prefix a quote to cells a spreadsheet would evaluate; leaves reserved codes alone."""
    if value is None or not value.startswith(FORMULA_PREFIXES):
        return value
    if value in ("-97", "-98", "-99"):
        return value
    return "'" + value


def neutralise_frame(data: pl.DataFrame) -> pl.DataFrame:
    text_columns = [name for name, dtype in data.schema.items() if dtype == pl.Utf8]
    return data.with_columns(
        pl.col(name).map_elements(neutralise, return_dtype=pl.Utf8) for name in text_columns
    )


def _atomic(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def write_csv(data: pl.DataFrame, path: Path) -> Path:
    temporary = _atomic(path)
    neutralise_frame(data).write_csv(temporary)
    os.replace(temporary, path)
    return path


WRITERS = {"csv": write_csv}

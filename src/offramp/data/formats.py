"""Writing the dataset in the formats researchers use: CSV, Parquet, XLSX, SPSS and Stata.

Every writer takes (data, path, codebook), writes atomically (a temporary file renamed into
place) and returns the path. CSV and XLSX neutralise spreadsheet formulas in every text cell
(offramp.data.neutralise): respondents' free text is hostile input, and researchers open exports
in Excel and LibreOffice. Parquet is for programs and keeps text exactly as given.
Missing kinds: the reserved codes of offramp.data.codes in CSV, Parquet and XLSX; user-missing
values in SPSS and extended missing values in Stata (offramp.data.labelled).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from offramp.data.atomic import atomic_path
from offramp.data.labelled import write_dta, write_sav
from offramp.data.neutralise import FORMULA_PREFIXES, neutralise, neutralise_frame
from offramp.data.xlsx import write_xlsx

Writer = Callable[[pl.DataFrame, Path, dict[str, Any]], Path]


def write_csv(data: pl.DataFrame, path: Path, codebook: dict[str, Any] | None = None) -> Path:
    """UTF-8 CSV, header row, ISO dates, empty cell = shown but not answered."""
    with atomic_path(path) as temporary:
        neutralise_frame(data).write_csv(temporary)
    return path


def write_parquet(data: pl.DataFrame, path: Path, codebook: dict[str, Any] | None = None) -> Path:
    with atomic_path(path) as temporary:
        data.write_parquet(temporary, compression="zstd")
    return path


WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "parquet": write_parquet,
    "xlsx": write_xlsx,
    "sav": write_sav,
    "dta": write_dta,
}

__all__ = ["FORMULA_PREFIXES", "WRITERS", "neutralise", "neutralise_frame", "write_csv",
           "write_parquet"]

"""Helpers for survey tests: write small XLSForms and YAML forms written for these tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

Rows = Sequence[Sequence[Any]]
FormWriter = Callable[..., Path]


def write_workbook(path: Path, survey: Rows, choices: Rows | None = None,
                   settings: Rows | None = None) -> Path:
    """An .xlsx with the given sheets; each argument is a header row followed by data rows."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows:
            target = workbook.create_sheet(title)
            for row in rows:
                target.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture
def xlsform(tmp_path: Path) -> FormWriter:
    """xlsform(survey_rows, choices_rows=None, settings_rows=None, name="form") -> path."""
    counter = iter(range(1000))

    def make(survey: Rows, choices: Rows | None = None, settings: Rows | None = None,
             name: str | None = None) -> Path:
        stem = name or f"form{next(counter)}"
        return write_workbook(tmp_path / f"{stem}.xlsx", survey, choices, settings)

    return make


@pytest.fixture
def yamlform(tmp_path: Path) -> FormWriter:
    """yamlform(text, name="form") -> path of a .yaml file holding text."""
    counter = iter(range(1000))

    def make(text: str, name: str | None = None) -> Path:
        path = tmp_path / f"{name or f'yform{next(counter)}'}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return make

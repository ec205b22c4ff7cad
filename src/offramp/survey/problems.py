"""Problems found in an instrument file, each placed where its author can find and fix it.

A researcher fixes a form in a spreadsheet or a text editor, so every problem names the place:
`form.xlsx [survey] row 7, column F (relevant)` or `form.yaml:23`. The readers (xlsform, yamlform)
record where each question, choice and page came from in a SourceMap; the checks (check.py) work on
the Instrument model and ask the SourceMap where to point.

Severity: an "error" stops `survey check`, `survey publish` and the server; a "warning" (such as a
missing translation, which falls back to the default language) is printed and allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from offramp.errors import InputError
from offramp.survey.instrument import Instrument

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    file: str
    sheet: str | None = None
    """XLSForm sheet name; None for YAML."""
    row: int | None = None
    """Spreadsheet row (1 = header row) or YAML line."""
    column: str | None = None
    """Column header as written (e.g. "relevant", "label::Arabic (ar)")."""
    letter: str | None = None
    """Spreadsheet column letter, when known."""

    def with_column(self, column: str | None, letter: str | None = None) -> Location:
        return Location(self.file, self.sheet, self.row, column, letter)

    def __str__(self) -> str:
        if self.sheet is None:
            place = self.file if self.row is None else f"{self.file}:{self.row}"
            return place + (f" ({self.column})" if self.column else "")
        parts = [f"{self.file} [{self.sheet}]"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(
                f"column {self.letter} ({self.column})" if self.letter else f"column {self.column}"
            )
        return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    severity: Severity = "error"
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class FormInvalid(InputError):
    """An instrument with errors: carries every problem, and says how many there are."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        found = errors(self.problems) or self.problems
        first = found[0]
        more = len(found) - 1
        suffix = f" (and {more} more error{'s' if more != 1 else ''}: run `offramp survey check`)"
        super().__init__(
            f"{first.location}: {first.message}" + (suffix if more else ""), hint=first.hint
        )


FieldKey = tuple[str, ...]


@dataclass
class SourceMap:
    """Where each part of an instrument was written.

    Keys: ("question", name), ("page", id), ("block", name), ("choice", list, value),
    ("list", name), ("instrument",). A field of a part is looked up with `field=`, e.g.
    where(("question", "age"), "relevant") or where(("question", "age"), "label", language="ar").
    """

    file: str
    places: dict[FieldKey, Location] = field(default_factory=dict)
    sheet_columns: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    """sheet -> field name ("relevant", "label::ar") -> (column header as written, letter)."""
    lines: dict[tuple[FieldKey, str], int] = field(default_factory=dict)
    """(part, field name) -> YAML line of that key, when known."""

    def add(self, key: FieldKey, location: Location) -> None:
        self.places.setdefault(key, location)

    def where(
        self, key: FieldKey, field_name: str | None = None, language: str | None = None
    ) -> Location:
        base = self.places.get(key) or self.places.get(("instrument",)) or Location(self.file)
        if field_name is None:
            return base
        name = f"{field_name}::{language}" if language else field_name
        if base.sheet is None:
            line = self.lines.get((key, name)) or self.lines.get((key, field_name)) or base.row
            return Location(base.file, None, line, name)
        column = self.sheet_columns.get(base.sheet, {}).get(name)
        if column is not None:
            return base.with_column(column[0], column[1])
        return base.with_column(f"{name}, a column the sheet does not have")


@dataclass
class FormRead:
    """What a reader made of a file: the instrument (None when it could not be built), every
    problem it found, and where each part was written."""

    instrument: Instrument | None
    problems: list[Problem]
    sources: SourceMap

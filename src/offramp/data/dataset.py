"""The tidy dataset: one row per respondent, one column per variable (DESIGN.md contract).

Multi-selects become one 0/1 column per choice (`var__choice`). Missing kinds stay distinct via
the reserved codes of offramp.data.codes: -97 "prefer not to say", -98 "don't know", -99 "not
shown"; a null is "shown but left unanswered".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from offramp.data.codes import MISSING_CODES, NOT_SHOWN
from offramp.data.decrypt import OpenedResponse
from offramp.survey.instrument import Instrument, Question

META_COLUMNS = ("respondent", "instrument_id", "instrument_version", "language", "arm", "day",
                "seconds")


@dataclass(frozen=True)
class Column:
    name: str
    question: Question
    choice: str | None = None
    """For a multi-select dummy: the choice value this column stands for."""

    @property
    def dtype(self) -> type[pl.DataType]:
        if self.choice is not None or self.question.type == "integer":
            return pl.Int64
        if self.question.type == "decimal":
            return pl.Float64
        return pl.Utf8


def columns_for(instrument: Instrument) -> list[Column]:
    columns: list[Column] = []
    for question in instrument.questions():
        if not question.answers:
            continue
        if question.type in ("select_multiple", "rank"):
            columns.extend(
                Column(f"{question.name}__{c.value}", question, c.value) for c in question.choices
            )
        else:
            columns.append(Column(question.name, question))
    return columns


def _missing_code(question: Question, value: Any) -> int | None:
    for choice in question.choices:
        if choice.value == value and choice.missing:
            return MISSING_CODES[choice.missing]
    return None


def cell(column: Column, response: OpenedResponse) -> Any:
    question = column.question
    name = question.name
    shown = name in response.shown or (question.type == "calculate" and name in response.answers)
    numeric = column.dtype is not pl.Utf8
    if not shown:
        return NOT_SHOWN if numeric else str(NOT_SHOWN)
    if name not in response.answers:
        return None
    value = response.answers[name]
    if column.choice is not None:
        chosen = value if isinstance(value, list) else [value]
        refusals = [v for v in chosen if _missing_code(question, v) is not None]
        if refusals and len(refusals) == len(chosen):
            own = _missing_code(question, column.choice)
            if own is None:
                code = _missing_code(question, refusals[0])
                return code
        return 1 if column.choice in chosen else 0
    code = _missing_code(question, value)
    if code is not None:
        return code if numeric else str(code)
    if column.dtype is pl.Int64:
        return int(value)
    if column.dtype is pl.Float64:
        return float(value)
    return str(value)


def build_dataset(
    instruments: dict[tuple[str, int], Instrument], responses: Iterable[OpenedResponse]
) -> pl.DataFrame:
    """Rows for every opened response; versions of one instrument share columns by name."""
    frames: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for number, response in enumerate(responses, start=1):
        stored = response.stored
        key = (stored.instrument_id, stored.instrument_version)
        instrument = instruments[key]
        row: dict[str, Any] = {
            "respondent": number,
            "instrument_id": stored.instrument_id,
            "instrument_version": stored.instrument_version,
            "language": stored.language,
            "arm": stored.arm,
            "day": stored.day,
            "seconds": stored.seconds,
        }
        for column in columns_for(instrument):
            row[column.name] = cell(column, response)
        frames.setdefault(key, []).append(row)
    parts = []
    for key, rows in frames.items():
        schema: dict[str, Any] = {
            "respondent": pl.Int64, "instrument_id": pl.Utf8, "instrument_version": pl.Int64,
            "language": pl.Utf8, "arm": pl.Utf8, "day": pl.Date, "seconds": pl.Int64,
        }
        schema.update({c.name: c.dtype for c in columns_for(instruments[key])})
        parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="diagonal").sort("respondent")

"""The tidy dataset: one row per respondent, one column per variable (DESIGN.md contract).

Columns, by question type:
- select_one, text, calculate: text (the choice value, the typed text, the calculated value as
  XPath prints it); select_one values are mapped to integer codes only in .sav/.dta.
- integer: Int64; decimal: Float64.
- select_multiple: one 0/1 Int64 column per choice, `var__choice`.
- rank: one Int64 column per choice, `var__choice`, holding the choice's rank (1 = first);
  null when the respondent did not rank that choice.

Missing kinds stay distinct via the reserved codes of offramp.data.codes, as numbers in numeric
columns and as their decimal string in text columns: -97 "prefer not to say", -98 "don't know"
(the respondent picked a choice marked `missing: refused` / `dont_know`), -99 "not shown" (skip
logic hid the question, or the respondent's instrument version did not have it); a null is "shown
but left unanswered". In a multi-select whose only chosen options are missing-kind choices, every
other option's column carries that code (the respondent declined the whole question) while the
missing-kind option's own column is 1.

The build is columnar: records are grouped into batches per instrument version and every column
of a batch is made by one list comprehension, because a per-cell function costs too much at
100,000 respondents x 300 variables. `cell()` is the same rule one cell at a time; the tests hold
the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from offramp.data import quality
from offramp.data.codes import CODE_LABELS, MISSING_CODES, NOT_SHOWN
from offramp.data.decrypt import OpenedResponse, OpenReport
from offramp.survey.expressions import to_string
from offramp.survey.instrument import Instrument, Question

META_COLUMNS = ("respondent", "instrument_id", "instrument_version", "language", "arm", "day",
                "seconds")
META_SCHEMA: dict[str, pl.DataType] = {
    "respondent": pl.Int64(), "instrument_id": pl.Utf8(), "instrument_version": pl.Int64(),
    "language": pl.Utf8(), "arm": pl.Utf8(), "day": pl.Date(), "seconds": pl.Int64(),
}
ORDER = "_response_id"
"""Internal sort key (the store's row id) so parallel and batched builds give the same order."""

InstrumentKey = tuple[str, int]


@dataclass(frozen=True)
class Column:
    name: str
    question: Question
    choice: str | None = None
    """For a multi-select or rank column: the choice value this column stands for."""

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


def missing_choices(question: Question) -> dict[str, int]:
    """Choice value -> reserved code, for choices marked as a missing kind."""
    return {c.value: MISSING_CODES[c.missing] for c in question.choices if c.missing}


def _missing_code(question: Question, value: Any) -> int | None:
    return missing_choices(question).get(value) if isinstance(value, str) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else to_string(value)


def _is_shown(question: Question, response: OpenedResponse) -> bool:
    if question.type == "calculate":
        return question.name in response.answers
    return question.name in response.shown


def cell(column: Column, response: OpenedResponse) -> Any:
    """One cell by the dataset's rules (the reference the columnar build is tested against)."""
    question = column.question
    numeric = column.dtype is not pl.Utf8
    if not _is_shown(question, response):
        return NOT_SHOWN if numeric else str(NOT_SHOWN)
    value = response.answers.get(question.name)
    if value is None or value == [] or value == "":
        return None
    if column.choice is not None:
        chosen = value if isinstance(value, list) else [value]
        refusal = _declined(question, chosen, missing_choices(question))
        if refusal is not None and _missing_code(question, column.choice) is None:
            return refusal
        if question.type == "rank":
            return chosen.index(column.choice) + 1 if column.choice in chosen else None
        return 1 if column.choice in chosen else 0
    code = _missing_code(question, value)
    if code is not None:
        return code if numeric else str(code)
    try:
        if column.dtype is pl.Int64:
            return int(value)
        if column.dtype is pl.Float64:
            return float(value)
    except (TypeError, ValueError):
        return None
    return _text(value)


def _declined(question: Question, chosen: list[Any], missing: Mapping[str, int]) -> int | None:
    """The code when every chosen option is a missing-kind choice (the question was declined)."""
    if not chosen or not missing:
        return None
    codes = [missing.get(v) for v in chosen]
    if all(c is not None for c in codes):
        return codes[0]
    return None


# -- columnar build -------------------------------------------------------------------------------
_NS: Any = object()  # sentinel: not shown


def _raw_columns(
    questions: list[Question], responses: list[OpenedResponse]
) -> dict[str, list[Any]]:
    """Each answerable question's raw values (or _NS), one pass over each response's own dicts.

    Walking response by response touches each answers dict once, in order, instead of looking
    every question up in every dict: at 300 variables that is the difference that matters.
    """
    n = len(responses)
    raw: dict[str, list[Any]] = {q.name: [_NS] * n for q in questions}
    calculated = {q.name for q in questions if q.type == "calculate"}
    for i, response in enumerate(responses):
        for name in response.shown:
            column = raw.get(name)
            if column is not None and name not in calculated:
                column[i] = None
        for name, value in response.answers.items():
            column = raw.get(name)
            if column is not None and (column[i] is not _NS or name in calculated):
                column[i] = value
    return raw


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _scalar_column(question: Question, raw: list[Any]) -> tuple[list[Any], pl.DataType]:
    missing = missing_choices(question)
    if question.type == "integer":
        return [NOT_SHOWN if v is _NS else None if v is None or v == "" or v == [] else v
                for v in raw], pl.Int64()
    if question.type == "decimal":
        # No float() here: a value of the wrong type is left for _frame to count, not to raise.
        return [NOT_SHOWN if v is _NS else None if _blank(v) else v for v in raw], pl.Float64()
    ns = str(NOT_SHOWN)
    texts = {value: str(code) for value, code in missing.items()}
    if question.type == "calculate":
        return [ns if v is _NS else None if _blank(v) else _text(v) for v in raw], pl.Utf8()
    try:
        return [
            ns if v is _NS else None if v is None or v == "" or v == [] else texts.get(v, v)
            for v in raw
        ], pl.Utf8()
    except TypeError:  # an unhashable value (a list where one choice belongs): keep its text
        return [
            ns if v is _NS else None if _blank(v) else texts.get(v, v) if isinstance(v, str)
            else _text(v) for v in raw
        ], pl.Utf8()


def _multi_columns(question: Question, raw: list[Any]) -> dict[str, list[Any]]:
    missing = missing_choices(question)
    # Each value: _NS (not shown), None (blank) or the list of choices made.
    lists = [
        v if v is _NS else None if _blank(v) else (v if isinstance(v, list) else [v])
        for v in raw
    ]
    declined = [
        None if v is _NS or v is None else _declined(question, v, missing) for v in lists
    ] if missing else [None] * len(lists)
    out: dict[str, list[Any]] = {}
    for choice in question.choices:
        c = choice.value
        own = c in missing  # a missing-kind option's own column says whether it was chosen
        pairs = zip(lists, declined, strict=True)
        if question.type == "rank":
            values = [
                NOT_SHOWN if v is _NS else None if v is None
                else d if d is not None and not own else (v.index(c) + 1 if c in v else None)
                for v, d in pairs
            ]
        else:
            values = [
                NOT_SHOWN if v is _NS else None if v is None
                else d if d is not None and not own else (1 if c in v else 0)
                for v, d in pairs
            ]
        out[f"{question.name}__{c}"] = values
    return out


@dataclass
class _Part:
    instrument: Instrument
    key: InstrumentKey
    responses: list[OpenedResponse] = field(default_factory=list)


@dataclass
class Built:
    """The dataset with its quality flags, plus what the codebook needs to describe them."""

    data: pl.DataFrame
    quality: quality.QualityInfo
    response_ids: list[int] = field(default_factory=list)
    """The store's ids of the records in `data` (what `offramp export` marks as exported)."""


class DatasetBuilder:
    """Feed opened responses one by one (memory stays at one batch); `finish()` gives the data."""

    def __init__(
        self,
        instruments: Mapping[InstrumentKey, Instrument],
        report: OpenReport | None = None,
        *,
        batch_size: int = 5000,
        settings: quality.QualitySettings | None = None,
    ) -> None:
        self.instruments = dict(instruments)
        self.report = report if report is not None else OpenReport()
        self.batch_size = batch_size
        self.settings = settings or quality.QualitySettings()
        self._pending: dict[InstrumentKey, _Part] = {}
        self._frames: list[pl.DataFrame] = []
        self._timings: list[pl.DataFrame] = []

    def add(self, response: OpenedResponse) -> None:
        key = (response.stored.instrument_id, response.stored.instrument_version)
        instrument = self.instruments.get(key)
        if instrument is None:
            self.report.opened -= 1
            self.report.failures[
                f"record belongs to instrument {key[0]} version {key[1]}, "
                "which is not published in this database"
            ] += 1
            return
        part = self._pending.setdefault(key, _Part(instrument, key))
        part.responses.append(response)
        if len(part.responses) >= self.batch_size:
            self._flush(key)

    def add_all(self, responses: Iterable[OpenedResponse]) -> DatasetBuilder:
        for response in responses:
            self.add(response)
        return self

    def _flush(self, key: InstrumentKey) -> None:
        part = self._pending.pop(key)
        if part.responses:
            frame, timings = build_part(part.instrument, part.responses, self.report)
            self._frames.append(frame)
            self._timings.append(timings)

    def parts(self) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
        """The built batches so far (what a worker process sends back)."""
        for key in list(self._pending):
            self._flush(key)
        return self._frames, self._timings

    def extend_parts(self, frames: list[pl.DataFrame], timings: list[pl.DataFrame]) -> None:
        self._frames.extend(frames)
        self._timings.extend(timings)

    def finish(self) -> Built:
        frames, timings = self.parts()
        data = merge_parts(self.instruments, frames)
        timing = pl.concat(timings) if timings else quality.EMPTY_TIMINGS
        data, info = quality.add_quality_flags(
            data, timing, self.instruments, self.settings, META_COLUMNS
        )
        return Built(data.drop(ORDER), info, data[ORDER].to_list())


def build_part(
    instrument: Instrument, responses: list[OpenedResponse], report: OpenReport
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One batch of one instrument version: (rows, page timings in long form)."""
    stored = [r.stored for r in responses]
    columns: dict[str, list[Any]] = {
        ORDER: [s.response_id for s in stored],
        "respondent": [0] * len(stored),
        "instrument_id": [s.instrument_id for s in stored],
        "instrument_version": [s.instrument_version for s in stored],
        "language": [s.language for s in stored],
        "arm": [s.arm for s in stored],
        "day": [s.day for s in stored],
        "seconds": [s.seconds for s in stored],
    }
    schema: dict[str, pl.DataType] = {ORDER: pl.Int64(), **META_SCHEMA}
    questions = [q for q in instrument.questions() if q.answers]
    raws = _raw_columns(questions, responses)
    for question in questions:
        raw = raws.pop(question.name)
        if question.type in ("select_multiple", "rank"):
            for name, values in _multi_columns(question, raw).items():
                columns[name] = values
                schema[name] = pl.Int64()
        else:
            columns[question.name], schema[question.name] = _scalar_column(question, raw)
    frame = _frame(columns, schema, report)
    checks = quality.attention_checks(instrument)
    if checks:
        frame = frame.with_columns(
            pl.Series(
                quality.ATTENTION, [quality.attention_failed(checks, r) for r in responses],
                dtype=pl.Int64,
            )
        )
    timings = pl.DataFrame(
        {
            ORDER: [s.response_id for s, r in zip(stored, responses, strict=True)
                    for _ in r.page_seconds],
            "page": [page for r in responses for page in r.page_seconds],
            "page_seconds": [_seconds(v) for r in responses for v in r.page_seconds.values()],
        },
        schema={ORDER: pl.Int64(), "page": pl.Utf8(), "page_seconds": pl.Float64()},
    ).with_columns(pl.lit(instrument.id).alias("instrument_id"))
    return frame, timings


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _frame(
    columns: dict[str, list[Any]], schema: dict[str, pl.DataType], report: OpenReport
) -> pl.DataFrame:
    """Columns to a frame; a value of the wrong type becomes null and is counted, never hidden."""
    series = []
    for name, values in columns.items():
        try:
            series.append(pl.Series(name, values, dtype=schema[name], strict=True))
        except (TypeError, pl.exceptions.PolarsError):
            fixed = pl.Series(name, values, dtype=schema[name], strict=False)
            lost = fixed.null_count() - sum(v is None for v in values)
            if lost:
                report.warnings[
                    f"{name}: {schema[name]} column held values of another type (written as empty)"
                ] += lost
            series.append(fixed)
    return pl.DataFrame(series)


def _code_as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """Cast a numeric column to text, keeping the reserved codes as '-97', not '-97.0'."""
    col = pl.col(name)
    if dtype.is_numeric():
        codes: list[Any] = [float(c) for c in CODE_LABELS] if dtype.is_float() \
            else list(CODE_LABELS)
        return (
            pl.when(col.is_in(codes)).then(col.cast(pl.Int64).cast(pl.Utf8))
            .otherwise(col.cast(pl.Utf8)).alias(name)
        )
    return col.cast(pl.Utf8).alias(name)


def _union_schema(
    instruments: Mapping[InstrumentKey, Instrument], frames: list[pl.DataFrame]
) -> dict[str, pl.DataType]:
    order: list[str] = [ORDER, *META_COLUMNS]
    for key in sorted(instruments, key=lambda k: (k[0], -k[1])):
        for column in columns_for(instruments[key]):
            if column.name not in order:
                order.append(column.name)
    dtypes: dict[str, set[pl.DataType]] = {}
    for frame in frames:
        for name, dtype in frame.schema.items():
            dtypes.setdefault(name, set()).add(dtype)
            if name not in order:
                order.append(name)
    schema: dict[str, pl.DataType] = {}
    for name in order:
        kinds = dtypes.get(name)
        if not kinds:
            continue
        if len(kinds) == 1:
            schema[name] = next(iter(kinds))
        elif all(k.is_numeric() for k in kinds):
            schema[name] = pl.Float64()
        else:
            schema[name] = pl.Utf8()
    return schema


def merge_parts(
    instruments: Mapping[InstrumentKey, Instrument], frames: list[pl.DataFrame]
) -> pl.DataFrame:
    """Stack batches of every version; a column a version lacks is 'not shown' (-99) there."""
    schema = _union_schema(instruments, frames)
    if not frames:
        return pl.DataFrame(schema={k: v for k, v in schema.items()})
    aligned = []
    for frame in frames:
        exprs = []
        own = frame.schema  # once per frame: each .schema access builds a new mapping
        for name, dtype in schema.items():
            if name not in own:
                fill: Any = None if name == quality.ATTENTION else (
                    str(NOT_SHOWN) if dtype == pl.Utf8 else NOT_SHOWN
                )
                exprs.append(pl.lit(fill, dtype=dtype).alias(name))
            elif own[name] != dtype:
                exprs.append(
                    _code_as_text(name, own[name]) if dtype == pl.Utf8
                    else pl.col(name).cast(dtype)
                )
            else:
                exprs.append(pl.col(name))
        aligned.append(frame.select(exprs))
    data = pl.concat(aligned).sort(ORDER)
    return data.with_columns(pl.int_range(1, data.height + 1, dtype=pl.Int64).alias("respondent"))


def build_dataset(
    instruments: dict[tuple[str, int], Instrument],
    responses: Iterable[OpenedResponse],
    report: OpenReport | None = None,
    settings: quality.QualitySettings | None = None,
) -> pl.DataFrame:
    """Rows for every opened response; versions of one instrument share columns by name."""
    return DatasetBuilder(instruments, report, settings=settings).add_all(responses).finish().data


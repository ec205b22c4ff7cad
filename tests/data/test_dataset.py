"""The tidy dataset: the columnar build agrees with the per-cell rule; versions merge honestly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

import polars as pl
import pytest

from offramp.data.dataset import (
    ORDER,
    DatasetBuilder,
    build_dataset,
    build_part,
    cell,
    columns_for,
)
from offramp.data.decrypt import OpenedResponse, OpenReport
from offramp.store.repository import StoredResponse
from offramp.survey.instrument import Choice, Instrument, Page, Question
from tests.data.conftest import make_instrument, rich_people, shown_for


def opened(instrument: Instrument, answers: dict[str, Any], shown: list[str] | None = None,
           *, rid: int = 1, version: int = 1, page_seconds: dict[str, Any] | None = None,
           ) -> OpenedResponse:
    stored = StoredResponse(rid, instrument.id, version, "p3", "none", "en",
                            dt.date(2024, 5, 1), 60, b"")
    return OpenedResponse(stored, answers,
                          shown if shown is not None else shown_for(instrument, answers),
                          page_seconds or {})


def random_response(instrument: Instrument, rng: random.Random, rid: int) -> OpenedResponse:
    answers: dict[str, Any] = {}
    for q in instrument.questions():
        roll = rng.random()
        if roll < 0.15:
            continue  # unanswered
        if q.type == "select_one":
            answers[q.name] = rng.choice(q.choices).value
        elif q.type in ("select_multiple", "rank"):
            k = rng.randint(0, len(q.choices))
            answers[q.name] = rng.sample([c.value for c in q.choices], k)
        elif q.type == "integer":
            answers[q.name] = rng.choice([-99, -5, 0, 7, 10**6])
        elif q.type == "decimal":
            answers[q.name] = rng.choice([0.5, -1.25, 3.0, 1e-9])
        elif q.type == "text":
            answers[q.name] = rng.choice(["x", "=1", "-97", "ü"])
        elif q.type == "calculate":
            answers[q.name] = rng.choice([2.0, "s", True, 0.1])
    shown = [q.name for q in instrument.questions() if rng.random() < 0.8]
    return opened(instrument, answers, shown, rid=rid)


def _with_declinable_rank() -> Instrument:
    base = make_instrument()
    pages = []
    for page in base.pages:
        questions = tuple(
            dataclasses.replace(q, choices=(*q.choices, Choice("pnts", {}, missing="refused")))
            if q.type == "rank" else q
            for q in page.questions
        )
        pages.append(dataclasses.replace(page, questions=questions))
    return dataclasses.replace(base, pages=tuple(pages))


@pytest.mark.parametrize("variant", ["plain", "declinable rank"])
def test_columnar_build_matches_cell_by_cell_rule(variant: str) -> None:
    instrument = make_instrument() if variant == "plain" else _with_declinable_rank()
    rng = random.Random(7)
    responses = [random_response(instrument, rng, i) for i in range(1, 401)]
    frame, _ = build_part(instrument, responses, OpenReport())
    for column in columns_for(instrument):
        expected = [cell(column, r) for r in responses]
        assert frame[column.name].to_list() == expected, column.name


def test_missing_kinds_stay_distinct() -> None:
    instrument = make_instrument()
    declined = opened(instrument, {"sought_help": "no", "would_help": ["pnts"], "g1": "dk",
                                   "ranked": ["c", "a"]})
    skipped = opened(instrument, {"sought_help": "pnts"})
    data = build_dataset({("study", 1): instrument}, [declined, skipped])
    first, second = data.row(0, named=True), data.row(1, named=True)
    # "prefer not to say" as the only choice: every other option carries -97, its own column 1.
    assert [first[f"would_help__{c}"] for c in ("warning", "anonymous_help", "pnts")] == [
        -97, -97, 1]
    assert first["g1"] == "-98"  # don't know
    assert first["g2"] is None  # shown, unanswered
    assert first["age"] is None
    assert (first["ranked__c"], first["ranked__a"], first["ranked__b"]) == (1, 2, None)
    assert second["sought_help"] == "-97"
    assert second["would_help__warning"] == -99 and second["g1"] == "-99"  # page skipped


def test_versions_share_columns_and_absent_questions_are_not_shown() -> None:
    v1 = make_instrument()
    v2 = make_instrument(extra_question=True)
    v2 = dataclasses.replace(v2, pages=(v2.pages[0], v2.pages[2]))  # v2 dropped page 2
    r1 = opened(v1, {"sought_help": "yes", "g1": "2", "age": 30}, rid=2, version=1)
    r2 = opened(v2, {"sought_help": "no", "new_q": 5, "age": 40}, rid=1, version=2)
    data = build_dataset({("study", 1): v1, ("study", 2): v2}, [r1, r2])
    assert data["respondent"].to_list() == [1, 2]  # in storage order
    assert data["instrument_version"].to_list() == [2, 1]
    assert data["new_q"].to_list() == [5, -99]  # v1 never asked it
    assert data["g1"].to_list() == ["-99", "2"]  # v2 never asked it
    assert data.columns.index("new_q") < data.columns.index("g1")  # newest version's order first
    assert ORDER not in data.columns


def test_type_change_between_versions_keeps_codes_as_text() -> None:
    def one(kind: str) -> Instrument:
        return Instrument("t", {"en": "T"}, ("en",), "en",
                          (Page("p", {}, (Question("x", kind, {"en": "X"}),)),))

    data = build_dataset(
        {("t", 1): one("integer"), ("t", 2): one("text")},
        [opened(one("integer"), {}, [], rid=1, version=1),
         opened(one("integer"), {"x": 4}, ["x"], rid=2, version=1),
         opened(one("text"), {"x": "four"}, ["x"], rid=3, version=2)],
    )
    assert data.schema["x"] == pl.Utf8
    assert data["x"].to_list() == ["-99", "4", "four"]


def test_builder_batches_give_the_same_result() -> None:
    instrument = make_instrument()
    people = rich_people(instrument, 25)
    responses = [opened(instrument, p.answers, p.shown, rid=i, page_seconds=p.page_seconds)
                 for i, p in enumerate(people, start=1)]
    one = DatasetBuilder({("study", 1): instrument}, batch_size=1000).add_all(responses).finish()
    many = DatasetBuilder({("study", 1): instrument}, batch_size=4).add_all(responses).finish()
    assert one.data.equals(many.data)


def test_wrong_typed_values_are_counted_not_hidden() -> None:
    instrument = make_instrument()
    report = OpenReport()
    response = opened(instrument, {"sought_help": "yes", "age": "thirty"})
    data = build_dataset({("study", 1): instrument}, [response], report)
    assert data["age"].to_list() == [None]
    assert report.warnings == {
        "age: Int64 column held values of another type (written as empty)": 1
    }


@pytest.mark.parametrize("value", [None, "", []])
def test_blank_answers_are_unanswered(value: Any) -> None:
    instrument = make_instrument()
    response = opened(instrument, {"sought_help": "yes", "comments": value, "would_help": value})
    row = build_dataset({("study", 1): instrument}, [response]).row(0, named=True)
    assert row["comments"] is None and row["would_help__warning"] is None


def test_a_list_where_one_choice_belongs_does_not_break_the_build() -> None:
    instrument = make_instrument()
    response = opened(instrument, {"sought_help": ["yes", "no"]})
    row = build_dataset({("study", 1): instrument}, [response]).row(0, named=True)
    assert row["sought_help"] == cell(columns_for(instrument)[0], response)


def test_a_decimal_that_is_not_a_number_is_counted() -> None:
    instrument = make_instrument()
    report = OpenReport()
    response = opened(instrument, {"sought_help": "yes", "score": "lots", "age": 3})
    data = build_dataset({("study", 1): instrument}, [response], report)
    assert data["score"].to_list() == [None] and data["age"].to_list() == [3]
    assert sum(report.warnings.values()) == 1


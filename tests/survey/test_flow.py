"""Flow: visibility, choices, parsing one page, calculations, and what the record keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offramp.survey import flow
from offramp.survey.instrument import Instrument
from offramp.survey.load import load_instrument
from offramp.survey.respond import advance
from offramp.survey.session import SurveyState
from tests.survey.conftest import FormWriter
from tests.survey.long_form import FORM

FORM_YAML = """\
id: f
languages: [en]
consent: Voluntary.
choices:
  yn:
    - {value: "y", label: "Yes"}
    - {value: "n", label: "No"}
    - {value: pnts, label: Prefer not to say, missing: refused}
  fruit:
    - {value: apple, label: Apple, colour: red}
    - {value: lime, label: Lime, colour: green}
    - {value: pear, label: Pear, colour: green}
    - {value: dk, label: Don't know, missing: dont_know}
  many:
    - {value: a, label: A}
    - {value: b, label: B}
    - {value: c, label: C}
    - {value: d, label: D}
    - {value: e, label: E}
    - {value: f, label: F}
    - {value: pnts, label: Prefer not to say, missing: refused}
pages:
  - id: p1
    questions:
      - {name: colour, type: text, label: Colour}
      - {name: likes, type: select_one yn, label: Likes}
      - {name: n, type: integer, label: Number, missing: [refused, dont_know],
         constraint: ". < 100"}
      - {name: x, type: decimal, label: Decimal}
      - {name: words, type: text, label: Words, max_length: 10}
  - id: p2
    relevant: ${likes} = 'y'
    questions:
      - {name: fruit, type: select_one fruit, label: Fruit, choice_filter: "colour = ${colour}"}
      - {name: pick, type: select_multiple many, label: Pick, randomize: true}
      - {name: order, type: rank many, label: Order}
      - block: sub
        relevant: ${n} > 5
        label: Sub
        questions:
          - {name: inner, type: text, label: Inner}
  - id: p3
    questions:
      - {name: total, type: calculate, calculation: "${double} + 1"}
      - {name: double, type: calculate, calculation: "${n} * 2"}
      - {name: last, type: text, label: Last}
"""


@pytest.fixture
def instrument(yamlform: FormWriter) -> Instrument:
    return load_instrument(yamlform(FORM_YAML))


def parse(instrument: Instrument, page: str, form: dict[str, list[str]],
          answers: dict[str, Any] | None = None) -> flow.PageResult:
    return flow.parse_page(instrument, instrument.page(page), form, answers or {}, "en", seed=1)


def test_page_block_and_question_relevance(instrument: Instrument) -> None:
    p2 = instrument.page("p2")
    assert flow.visible_questions(p2, {"likes": "n"}) == []
    names = [q.name for q in flow.visible_questions(p2, {"likes": "y", "n": 3})]
    assert names == ["fruit", "pick", "order"]
    names = [q.name for q in flow.visible_questions(p2, {"likes": "y", "n": 9})]
    assert names[-1] == "inner"
    assert flow.next_page(instrument, 0, {"likes": "n"}) == 2


def test_choice_filter_keeps_missing_kinds(instrument: Instrument) -> None:
    fruit = instrument.question("fruit")
    shown = [c.value for c in flow.visible_choices(fruit, {"colour": "green"})]
    assert shown == ["lime", "pear", "dk"]


def test_randomised_order_is_stable_per_seed_and_keeps_missing_last(
    instrument: Instrument,
) -> None:
    pick = instrument.question("pick")
    orders = {tuple(c.value for c in flow.choice_order(pick, seed)) for seed in range(20)}
    assert len(orders) > 5
    assert all(order[-1] == "pnts" for order in orders)
    assert flow.choice_order(pick, 7) == flow.choice_order(pick, 7)
    assert [c.value for c in flow.choice_order(pick, None)] == ["a", "b", "c", "d", "e", "f",
                                                                "pnts"]


def test_typed_values(instrument: Instrument) -> None:
    result = parse(instrument, "p1", {"colour": [" green "], "likes": ["y"], "n": ["\u221242"],
                                      "x": ["2,5"], "words": ["short"]})
    assert result.errors == {}
    assert result.answers == {"colour": "green", "likes": "y", "n": -42, "x": 2.5,
                              "words": "short", "double": "-84", "total": "-83"}


@pytest.mark.parametrize(("form", "message"), [
    ({"n": ["1.5"]}, "Please enter a whole number."),
    ({"n": ["-97"]}, "Please enter a different number, or use the options below the box."),
    ({"n": ["500"]}, "This answer is not allowed here; please check it."),
    ({"n": ["5"], "n__missing": ["-97"]}, "Please either write an answer or choose"),
    ({"n__missing": ["-97", "-98"]}, "Please either write an answer or choose"),
    ({"n__missing": ["-99"]}, "Please choose only among the options shown."),
    ({"x": ["nan"]}, "Please enter a number."),
    ({"x": ["1e400"]}, "Please enter a number."),
    ({"words": ["far too long for ten"]}, "at most 10 characters"),
    ({"likes": ["y", "n"]}, "Please choose one of the options shown."),
    ({"likes": ["maybe"]}, "Please choose one of the options shown."),
])
def test_errors(instrument: Instrument, form: dict[str, list[str]], message: str) -> None:
    result = parse(instrument, "p1", form, {"n": 7, "x": 1.0, "likes": "n", "words": "old"})
    [(name, text)] = result.errors.items()
    assert message in text
    assert result.answers[name] == {"n": 7, "x": 1.0, "likes": "n", "words": "old"}[name]


def test_missing_kinds_of_a_number(instrument: Instrument) -> None:
    result = parse(instrument, "p1", {"n__missing": ["-98"]})
    assert result.answers["n"] == "-98" and result.errors == {}


def test_rank_and_multiple(instrument: Instrument) -> None:
    answers = {"likes": "y", "colour": "red", "n": 1}
    result = parse(instrument, "p2", {"order__c": ["1"], "order__a": ["3"], "pick": ["b", "a"],
                                      "fruit": ["apple"]}, answers)
    assert result.errors == {}
    assert result.answers["order"] == ["c", "a"]
    assert result.answers["pick"] == ["b", "a"]
    bad = parse(instrument, "p2", {"order__c": ["1"], "order__a": ["1"]}, answers)
    assert bad.errors == {"order": "Please give each option a different position."}
    exclusive = parse(instrument, "p2", {"pick": ["a", "pnts"]}, answers)
    assert "not both" in exclusive.errors["pick"]
    assert "fruit" in parse(instrument, "p2", {"fruit": ["lime"]}, answers).errors


def test_hidden_answers_count_for_nothing_but_are_kept(instrument: Instrument) -> None:
    answers = {"likes": "y", "colour": "red", "n": 9, "fruit": "apple", "inner": "kept",
               "last": "z"}
    state_answers = flow.parse_page(instrument, instrument.page("p1"), {
        "likes": ["n"], "colour": ["red"], "n": ["9"]}, answers, "en").answers
    assert state_answers["fruit"] == "apple"  # kept in the draft ...
    record = flow.final_answers(instrument, state_answers)
    assert "fruit" not in record["answers"] and "inner" not in record["answers"]  # ... not sent
    assert "fruit" not in record["shown"]
    assert record["answers"]["total"] == "19"  # calculations in dependency order: 9 * 2 + 1
    assert record["answers"]["double"] == "18"


def test_state_machine(instrument: Instrument) -> None:
    state = SurveyState("f", 1, "en", "none")
    assert advance(instrument, state, {"page": ["p1"]}, 0).status == 409
    assert advance(instrument, state, {"page": ["consent"], "nav": ["decline"]}, 0).action == \
        "decline"
    step = advance(instrument, state, {"page": ["consent"], "nav": ["accept"]}, 0)
    assert (step.action, state.page) == ("page", 0)
    step = advance(instrument, state, {"page": ["p1"], "likes": ["n"]}, 5)
    assert (step.action, state.page, state.page_seconds) == ("page", 2, {"p1": 5})
    assert advance(instrument, state, {"page": ["p2"]}, 6).status == 409  # hidden now
    step = advance(instrument, state, {"page": ["p3"], "nav": ["back"]}, 7)
    assert state.page == 0
    step = advance(instrument, state, {"page": ["p1"], "nav": ["later"]}, 8)
    assert step.action == "park"
    state.page = 2
    assert advance(instrument, state, {"page": ["p3"]}, 9).action == "complete"


# -- properties -----------------------------------------------------------------------------------
LONG = load_instrument(FORM)
FIELD_NAMES = sorted({q.name for q in LONG.questions()} | {
    f"{q.name}__missing" for q in LONG.questions()} | {
    f"barriers__{c.value}" for c in LONG.question("barriers").choices} | {"other", "token"})
values = st.one_of(st.text(max_size=30), st.sampled_from(
    ["yes", "no", "pnts", "dk", "-97", "-98", "1", "2", "3", "0", "1e9", "", " ", "NaN"]))
forms = st.dictionaries(st.sampled_from(FIELD_NAMES), st.lists(values, max_size=3), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=st.sampled_from([p.id for p in LONG.pages]), form=forms)
def test_parsing_any_form_never_raises_or_loses_other_answers(page: str,
                                                              form: dict[str, list[str]]) -> None:
    before: dict[str, Any] = {"region": "north", "saw_message": "yes", "sought_help": "yes",
                              "survey_ease": "easy", "age_years": 40}
    result = flow.parse_page(LONG, LONG.page(page), form, before, "ar", seed=3)
    on_page = {q.name for q in LONG.page(page).questions}
    for name, value in before.items():
        if name not in on_page:
            assert result.answers[name] == value
        elif name in result.errors:
            assert result.answers.get(name) == value  # an error never costs the earlier answer
    for name, value in result.answers.items():
        if name in on_page and name not in before:
            question = LONG.question(name)
            if question.type == "select_one":
                assert value in {c.value for c in question.choices}
            if question.type == "integer":
                assert isinstance(value, int) or value in ("-97", "-98")


def test_the_page_template_never_breaks_on_odd_stored_answers(tmp_path: Path) -> None:
    from offramp.survey import render

    chrome = render.Chrome("en", "/s/x", "/go/help", "https://duckduckgo.com/")
    odd = {"age_years": "-97", "household": "alone", "barriers": "-97", "times_seen": 3.0}
    for index in range(len(LONG.pages)):
        html = render.page_html(chrome, LONG, index, odd, "t")
        assert "<form" in html

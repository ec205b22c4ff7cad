"""Kept question HTML: the same bytes as a fresh render, and never anything a respondent typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from offramp.survey import flow, render
from offramp.survey.instrument import Instrument
from offramp.survey.load import load_instrument

FORM = Path(__file__).resolve().parents[2] / "examples" / "forms" / "help_seeking.yaml"
MARKER = "fragment-marker-51"


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return load_instrument(FORM)


def _chrome(lang: str) -> render.Chrome:
    return render.Chrome(lang=lang, action="/s/x", help_href="/go/help", leave_href="/leave")


def _all_pages(instrument: Instrument, answers: dict[str, object], lang: str) -> list[str]:
    return [
        render.page_html(_chrome(lang), instrument, index, answers, "TOKEN", seed=3)
        for index in range(len(instrument.pages))
    ]


def _answers(instrument: Instrument) -> dict[str, object]:
    answers: dict[str, object] = {}
    for question in instrument.questions():
        values = [c.value for c in question.choices if not c.missing]
        if question.type == "select_one" and values:
            answers[question.name] = values[0]
        elif question.type == "select_multiple" and values:
            answers[question.name] = values[:2]
        elif question.type == "text":
            answers[question.name] = MARKER
        elif question.type == "integer":
            answers[question.name] = 51
    return answers


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_kept_fragments_render_the_same_bytes_as_fresh_ones(instrument, lang) -> None:
    render._FRAGMENTS.clear()
    render._FRAMES.clear()
    fresh = _all_pages(instrument, {}, lang)
    assert render._FRAGMENTS, "unanswered questions are kept"
    assert render._FRAMES, "page frames are kept"
    assert _all_pages(instrument, {}, lang) == fresh  # now from the kept HTML
    answered = _all_pages(instrument, _answers(instrument), lang)
    render._FRAGMENTS.clear()
    render._FRAMES.clear()
    assert _all_pages(instrument, _answers(instrument), lang) == answered


def test_a_kept_frame_holds_neither_the_token_nor_the_arm(instrument) -> None:
    render._FRAMES.clear()
    first = render.page_html(_chrome("en"), instrument, 1, {}, "TOKEN-one", arm="arm<one>")
    second = render.page_html(_chrome("en"), instrument, 1, {}, "TOKEN-two", arm="arm<two>")
    assert 'value="TOKEN-two"' in second and 'value="arm&lt;two&gt;"' in second
    assert first.replace("TOKEN-one", "TOKEN-two").replace("arm&lt;one", "arm&lt;two") == second
    kept = repr(render._FRAMES)
    assert "TOKEN-" not in kept and "arm<" not in kept and "arm&lt;" not in kept


def test_nothing_answered_or_mistyped_is_kept(instrument) -> None:
    render._FRAGMENTS.clear()
    answers = _answers(instrument)
    pages = _all_pages(instrument, answers, "en")
    assert any(MARKER in page for page in pages)  # the answer is on its page...
    errors = {q.name: "check this" for q in instrument.questions() if q.answers}
    for index in range(len(instrument.pages)):
        render.page_html(_chrome("en"), instrument, index, answers, "TOKEN",
                         posted={q.name: [MARKER] for q in instrument.questions()}, errors=errors)
    kept = "".join(html for _, html in render._FRAGMENTS.values())
    assert MARKER not in kept  # ...but never in what is kept between requests
    assert "check this" not in kept
    assert " checked" not in kept and " selected" not in kept


def test_a_question_that_pipes_an_answer_is_never_kept(instrument) -> None:
    piped = [q for q in instrument.questions() if "${" in "".join(q.label.values())]
    assert piped, "the example form pipes an answer into a label"
    render._FRAGMENTS.clear()
    found = flow.walk(instrument, _answers(instrument))
    for index in range(len(instrument.pages)):
        render.page_html(_chrome("en"), instrument, index, _answers(instrument), "TOKEN",
                         walk=found)
    kept = [question for question, _ in render._FRAGMENTS.values()]
    assert kept, "the other questions are kept"
    assert not any(question is q for question in kept for q in piped)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_kept_thank_you_page_is_the_fresh_one(instrument, lang) -> None:
    render._FRAMES.clear()
    fresh = render.thanks_html(_chrome(lang), instrument)
    assert render.thanks_html(_chrome(lang), instrument) is fresh  # kept
    assert render._thanks(_chrome(lang), instrument, None) == fresh
    preview = render.Chrome(lang=lang, action="/s/x", help_href="/go/help", leave_href="/leave",
                            preview=True)
    recorded = render.thanks_html(preview, instrument, {"q": MARKER})
    assert MARKER in recorded and MARKER not in repr(render._FRAMES)  # a preview is never kept

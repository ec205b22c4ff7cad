"""One step of a respondent's way through a survey: given their state and what they posted, what
happens next. Pure: no I/O, no HTTP; routes.py loads and saves around it.

The rules that keep answers safe:
- A page the respondent is on, or one they already passed that is still shown (the browser's Back
  button), is accepted. Anything else (a page skip logic hides, a page not reached yet, an unknown
  id) changes nothing and shows where they really are.
- An answer with an error never replaces the earlier answer to that question; the other answers
  on the page are kept and saved.
- Back and "finish later" keep what was typed on the page, even if it is incomplete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from offramp.survey import flow
from offramp.survey.instrument import Instrument
from offramp.survey.session import SurveyState

Action = Literal["consent", "page", "decline", "complete", "park"]


@dataclass
class Step:
    action: Action
    status: int = 200
    errors: dict[str, str] = field(default_factory=dict)
    posted: Mapping[str, list[str]] | None = None
    """The posted fields, to show again when the page has errors."""
    notice: str = ""
    """Key of an interface text to show above the page."""
    save: bool = False
    """Whether the state changed and must be saved before answering."""
    walk: flow.Walk | None = None
    """The pages as the state's answers leave them, when this step worked them out."""


def _first(fields: Mapping[str, list[str]], name: str, default: str = "") -> str:
    values = fields.get(name) or [default]
    return values[0]


def page_index(instrument: Instrument, page_id: str) -> int | None:
    for index, page in enumerate(instrument.pages):
        if page.id == page_id:
            return index
    return None


def may_post(instrument: Instrument, state: SurveyState, index: int,
             before: flow.Walk | None = None) -> bool:
    """The current page, or an earlier page still shown (re-posted after the browser's Back).

    `before` is flow.walk(instrument, state.answers) when the caller has it already."""
    if index == state.page:
        return True
    found = before or flow.walk(instrument, state.answers)
    return index <= max(state.furthest, state.page) and found.page_shown(index)


def advance(
    instrument: Instrument, state: SurveyState, fields: Mapping[str, list[str]], now: float
) -> Step:
    """Apply one posted form to `state` (in place) and say what to show next."""
    posted_page = _first(fields, "page")
    nav = _first(fields, "nav", "next")
    if state.page < 0:
        if posted_page != "consent":
            return Step("consent", status=409)
        if nav == "decline":
            return Step("decline")
        if nav != "accept":
            return Step("consent")
        found = flow.walk(instrument, state.answers)
        first = found.next_page(-1)
        state.page = first if first is not None else 0
        state.furthest = state.page
        state.shown_at = now
        return Step("page", save=True, walk=found)
    if nav == "stay":
        return Step("page")
    index = page_index(instrument, posted_page)
    before = flow.walk(instrument, state.answers) if index is not None else None
    if index is None or not may_post(instrument, state, index, before):
        return Step("page", status=409, notice="not_your_page")
    if index != state.page:
        state.page = index
    page = instrument.pages[index]
    result = flow.parse_page(instrument, page, fields, state.answers, state.language, state.seed,
                             before=before)
    spent = int(max(0.0, min(now - state.shown_at, 24 * 3600)))
    state.page_seconds[page.id] = state.page_seconds.get(page.id, 0) + spent
    state.shown_at = now
    state.answers = result.answers
    found = result.walk or flow.walk(instrument, state.answers)
    if nav == "back":
        previous = found.previous_page(index)
        if previous is not None:
            state.page = previous
        return Step("page", save=True, walk=found)
    if nav == "later":
        return Step("park", save=True, walk=found)
    if result.errors:
        return Step("page", status=422, errors=result.errors, posted=fields, save=True,
                    walk=found)
    following = found.next_page(index)
    if following is None:
        return Step("complete", walk=found)
    state.page = following
    state.furthest = max(state.furthest, following)
    return Step("page", save=True, walk=found)

"""Which page comes next, which questions a respondent sees, and whether a page's answers stand.

Pure functions over the Instrument and the answers so far; the web routes only parse and render.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offramp.survey.expressions import ExpressionError, evaluate, truthy
from offramp.survey.instrument import Choice, Instrument, Page, Question, pick

Answers = dict[str, Any]


def _holds(expression: str | None, answers: Mapping[str, Any], current: Any = None) -> bool:
    if not expression:
        return True
    try:
        return truthy(evaluate(expression, answers, current))
    except ExpressionError:
        # `survey check` rejects bad expressions before publishing; at run time a condition that
        # cannot be evaluated hides the question rather than breaking the respondent's page.
        return False


def visible_questions(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    if not _holds(page.relevant, answers):
        return []
    return [
        q for q in page.questions if q.type != "calculate" and _holds(q.relevant, answers)
    ]


def visible_choices(question: Question, answers: Mapping[str, Any]) -> list[Choice]:
    if not question.choice_filter:
        return list(question.choices)
    kept = []
    for choice in question.choices:
        scope = dict(answers)
        scope.update(choice.filters)
        scope["name"] = choice.value
        if _holds(question.choice_filter, scope, choice.value):
            kept.append(choice)
    return kept


def page_is_shown(page: Page, answers: Mapping[str, Any]) -> bool:
    return bool(visible_questions(page, answers))


def next_page(instrument: Instrument, index: int, answers: Mapping[str, Any]) -> int | None:
    """Index of the next page to show after page `index` (-1 for the start), or None at the end."""
    for candidate in range(index + 1, len(instrument.pages)):
        if page_is_shown(instrument.pages[candidate], answers):
            return candidate
    return None


def previous_page(instrument: Instrument, index: int, answers: Mapping[str, Any]) -> int | None:
    for candidate in range(index - 1, -1, -1):
        if page_is_shown(instrument.pages[candidate], answers):
            return candidate
    return None


@dataclass
class PageResult:
    answers: Answers
    errors: dict[str, str] = field(default_factory=dict)


def _message(text: Mapping[str, str], language: str, fallback: str, default: str) -> str:
    return pick(dict(text), language, fallback) if text else default


def parse_page(
    instrument: Instrument,
    page: Page,
    form: Mapping[str, list[str]],
    answers: Mapping[str, Any],
    language: str,
) -> PageResult:
    """Read one page's fields into answers; errors name the field and what to fix."""
    merged: Answers = dict(answers)
    errors: dict[str, str] = {}
    for question in visible_questions(page, answers):
        if not question.answers:
            continue
        raw = [v for v in form.get(question.name, []) if v is not None]
        value, error = _parse_value(question, raw, answers)
        if error:
            errors[question.name] = error
            merged.pop(question.name, None)
            continue
        if value is None or value == []:
            merged.pop(question.name, None)
            if question.required:
                errors[question.name] = _message(
                    question.required_message, language, instrument.default_language,
                    "Please answer this question, or choose to skip it.",
                )
            continue
        merged[question.name] = value
        if question.constraint and not _holds(question.constraint, merged, value):
            errors[question.name] = _message(
                question.constraint_message, language, instrument.default_language,
                "This answer is not allowed here; please check it.",
            )
    apply_calculations(instrument, merged)
    return PageResult(answers=merged, errors=errors)


def _parse_value(question: Question, raw: list[str], answers: Mapping[str, Any]) -> tuple[Any, str]:
    allowed = {c.value for c in visible_choices(question, answers)}
    if question.type == "select_one":
        if not raw or raw[0] == "":
            return None, ""
        if len(raw) > 1 or raw[0] not in allowed:
            return None, "Please choose one of the options shown."
        return raw[0], ""
    if question.type in ("select_multiple", "rank"):
        values = [v for v in raw if v != ""]
        if any(v not in allowed for v in values) or len(set(values)) != len(values):
            return None, "Please choose only among the options shown."
        return values, ""
    text = raw[0].strip() if raw else ""
    if not text:
        return None, ""
    if len(text) > question.max_length:
        return None, f"Please shorten this answer to at most {question.max_length} characters."
    if question.type == "integer":
        try:
            return int(text), ""
        except ValueError:
            return None, "Please enter a whole number."
    if question.type == "decimal":
        try:
            number = float(text)
        except ValueError:
            return None, "Please enter a number."
        if not math.isfinite(number):
            return None, "Please enter a number."
        return number, ""
    return text, ""


def apply_calculations(instrument: Instrument, answers: Answers) -> None:
    for question in instrument.questions():
        if question.type == "calculate" and question.calculation:
            try:
                answers[question.name] = evaluate(question.calculation, answers)
            except ExpressionError:
                answers.pop(question.name, None)


def shown_questions(instrument: Instrument, answers: Mapping[str, Any]) -> list[str]:
    """Names of every answerable question the respondent was (or would now be) shown."""
    return [
        q.name
        for page in instrument.pages
        for q in visible_questions(page, answers)
        if q.answers
    ]


def final_answers(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What goes into the sealed record: answers to questions still shown, and which were shown.

    Answers given on a page that later became hidden (the respondent went back and changed an
    earlier answer) are dropped, so the dataset never holds an answer to a question not shown.
    """
    shown = shown_questions(instrument, answers)
    kept = {name: answers[name] for name in shown if name in answers}
    for question in instrument.questions():
        if question.type == "calculate" and question.name in answers:
            kept[question.name] = answers[question.name]
    return {"answers": kept, "shown": shown}

"""Which page comes next, which questions and choices a respondent sees, and whether answers stand.

Pure functions over the Instrument and the answers so far; the web routes only parse and render.

Answers are kept as the respondent gave them: a select_one is its choice value, a select_multiple
or rank a list of values (rank: in order of position), text a str, integer an int, decimal a float.
A text or number question answered "prefer not to say" / "don't know" holds the reserved code as a
string ("-97" / "-98"). Calculations hold the XPath string of their value, as ODK stores them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offramp.survey import ui
from offramp.survey.expressions import ExpressionError, parse, to_string, truthy
from offramp.survey.instrument import (
    ANSWER_TYPES,
    RESERVED_NUMBERS,
    Choice,
    Instrument,
    Page,
    Question,
    pick,
)

Answers = dict[str, Any]
MISSING_SUFFIX = "__missing"
"""Form field of a text/number/rank question's "prefer not to say" / "don't know" boxes."""
RANK_SEPARATOR = "__"
"""Form field `question__choice` holds the position given to that choice of a rank question."""


def _holds(expression: str | None, answers: Mapping[str, Any], current: Any = None,
           *, choice_filter: bool = False) -> bool:
    if not expression:
        return True
    try:
        return truthy(parse(expression, choice_filter=choice_filter).evaluate(answers, current))
    except ExpressionError:
        # `survey check` rejects bad expressions before publishing; at run time a condition that
        # cannot be evaluated hides the question rather than breaking the respondent's page.
        return False


Condition = Callable[[Mapping[str, Any]], bool]


def _condition(expression: str | None) -> Condition | None:
    """`expression` parsed once into a test of the answers; None when there is nothing to test."""
    if not expression:
        return None
    try:
        parsed = parse(expression)
    except ExpressionError:
        return lambda _answers: False  # as _holds: a condition that cannot be read hides

    def holds(answers: Mapping[str, Any]) -> bool:
        try:
            return truthy(parsed.evaluate(answers, None))
        except ExpressionError:
            return False

    return holds


@dataclass(frozen=True)
class _PagePlan:
    """A page's skip logic, parsed once: what a walk asks of every page on every request."""

    relevant: Condition | None
    blocks: tuple[tuple[str, Condition], ...]
    """(name, condition) of the blocks that have one."""
    questions: tuple[tuple[Question, Condition | None, str | None], ...]
    """(question, its condition, its block) of every question but calculations, in order."""

    @classmethod
    def of(cls, page: Page) -> _PagePlan:
        blocks = tuple(
            (b.name, condition) for b in page.blocks
            if (condition := _condition(b.relevant)) is not None
        )
        questions = tuple(
            (q, _condition(q.relevant), q.block) for q in page.questions if q.type != "calculate"
        )
        return cls(_condition(page.relevant), blocks, questions)

    def visible(self, answers: Mapping[str, Any]) -> tuple[Question, ...]:
        if self.relevant is not None and not self.relevant(answers):
            return ()
        hidden = {name for name, holds in self.blocks if not holds(answers)}
        return tuple(
            q for q, holds, block in self.questions
            if (block is None or block not in hidden) and (holds is None or holds(answers))
        )


def visible_questions(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    """The questions of `page` a respondent with `answers` is shown (none if the page is hidden)."""
    return list(_PagePlan.of(page).visible(answers))


def choice_order(question: Question, seed: int | None) -> list[Choice]:
    """The question's choices in the order this respondent sees them.

    With randomize, the answer choices are shuffled by a generator seeded from the respondent's
    own draft seed and the question name: the order is stable across Back, reloads and resumes,
    and differs between respondents. Missing kinds ("prefer not to say") stay last, unshuffled.
    """
    if not question.randomize or seed is None:
        return list(question.choices)
    answers = [c for c in question.choices if not c.missing]
    rest = [c for c in question.choices if c.missing]
    random.Random(f"{seed}:{question.name}").shuffle(answers)  # noqa: S311 - order, not secrets
    return answers + rest


def visible_choices(question: Question, answers: Mapping[str, Any],
                    seed: int | None = None) -> list[Choice]:
    """Choices shown for `question`: filtered by its choice_filter, in this respondent's order."""
    ordered = choice_order(question, seed)
    if not question.choice_filter:
        return ordered
    return [
        c for c in ordered
        if c.missing or _holds(question.choice_filter, answers, {**c.filters, "name": c.value},
                               choice_filter=True)
    ]


def page_is_shown(page: Page, answers: Mapping[str, Any]) -> bool:
    return bool(visible_questions(page, answers))


@dataclass(frozen=True)
class Walk:
    """One pass over the pages for one respondent: what they see, and which answers count.

    An answer to a question the respondent can no longer see (they went back and changed an
    earlier answer) is kept in the draft, in case it is shown again, but counts for nothing: it
    does not steer skip logic, choice filters, calculations or the record. Skip logic only looks
    back (`survey check` refuses a condition on the same page, warns on a later one), so one pass
    in page order decides everything, and every later step of a request reuses it.
    """

    effective: Answers
    """The answers that count, with calculations computed from them."""
    visible: tuple[tuple[Question, ...], ...]
    """Per page, the questions shown (notes included; none when the page is skipped)."""
    shown: tuple[str, ...]
    """Names of the answerable questions shown, in order."""

    def page_shown(self, index: int) -> bool:
        return bool(self.visible[index])

    def next_page(self, index: int) -> int | None:
        for candidate in range(index + 1, len(self.visible)):
            if self.visible[candidate]:
                return candidate
        return None

    def previous_page(self, index: int) -> int | None:
        for candidate in range(index - 1, -1, -1):
            if self.visible[candidate]:
                return candidate
        return None


def walk(instrument: Instrument, answers: Mapping[str, Any]) -> Walk:
    plan = _plan(instrument)
    effective: Answers = {}
    visible: list[tuple[Question, ...]] = []
    shown: list[str] = []
    for page_plan in plan.pages:
        questions = page_plan.visible(effective)
        visible.append(questions)
        for question in questions:
            if question.type not in ANSWER_TYPES:
                continue
            shown.append(question.name)
            if question.name in answers:
                effective[question.name] = answers[question.name]
        if plan.calculations_steer:
            apply_calculations(instrument, effective)
    if plan.calculations and not plan.calculations_steer:
        apply_calculations(instrument, effective)
    return Walk(effective, tuple(visible), tuple(shown))


def next_page(instrument: Instrument, index: int, answers: Mapping[str, Any]) -> int | None:
    """Index of the next page to show after page `index` (-1 for the start), or None at the end."""
    return walk(instrument, answers).next_page(index)


def previous_page(instrument: Instrument, index: int, answers: Mapping[str, Any]) -> int | None:
    return walk(instrument, answers).previous_page(index)


def effective_answers(instrument: Instrument, answers: Mapping[str, Any]) -> Answers:
    """`answers` without those to questions that skip logic now hides; calculations fresh."""
    return walk(instrument, answers).effective


def shown_pages(instrument: Instrument, answers: Mapping[str, Any]) -> list[int]:
    found = walk(instrument, answers)
    return [i for i in range(len(instrument.pages)) if found.page_shown(i)]


def progress(instrument: Instrument, index: int, found: Walk) -> tuple[int, int]:
    """(this page's number, pages in all) as the respondent sees it.

    Later pages whose skip logic reads questions not yet answered are counted as coming: the
    total then only shrinks as answers rule pages out, which reads as progress, never as a setback.
    """
    answers = found.effective
    reads = _plan(instrument).page_reads
    position = sum(1 for i in range(index) if found.page_shown(i)) + 1
    after = sum(
        1
        for later in range(index + 1, len(instrument.pages))
        if found.page_shown(later) or any(answers.get(name) is None for name in reads[later])
    )
    return position, position + after


@dataclass
class PageResult:
    answers: Answers
    """All answers after this page: valid ones of the page replace earlier ones."""
    errors: dict[str, str] = field(default_factory=dict)
    """question name -> message, in the respondent's language."""
    raw: dict[str, list[str]] = field(default_factory=dict)
    """What was posted for each question with an error, to show it again for correction."""
    walk: Walk | None = None
    """The pages as `answers` leave them (for the next page, progress and rendering)."""


def _message(text: Mapping[str, str], language: str, fallback: str, default: str) -> str:
    return pick(dict(text), language, fallback) if text else default


def is_attention_check(question: Question) -> bool:
    """An attention check's constraint is the right answer, scored at export (data/quality.py).

    Enforcing it on the page would tell every respondent the answer, so nobody could fail it.
    """
    return "attention" in (question.appearance or "").split()


def parse_page(
    instrument: Instrument,
    page: Page,
    form: Mapping[str, list[str]],
    answers: Mapping[str, Any],
    language: str,
    seed: int | None = None,
    *,
    before: Walk | None = None,
) -> PageResult:
    """Read one page's fields into answers; errors name the question and say what to fix.

    A question with an error keeps its earlier answer (if any) in `answers`, so a mistake on a
    page never costs an answer given before. `before` is walk(instrument, answers), when the
    caller has it already.
    """
    merged: Answers = dict(answers)
    before = before or walk(instrument, answers)
    scope = before.effective
    errors: dict[str, str] = {}
    raw_shown: dict[str, list[str]] = {}
    index = next(i for i, candidate in enumerate(instrument.pages) if candidate is page)
    for question in before.visible[index]:
        if not question.answers:
            continue
        raw = [v for v in form.get(question.name, []) if isinstance(v, str)]
        value, error = _parse_value(question, form, raw, scope, language, seed)
        if error:
            errors[question.name] = error
            raw_shown[question.name] = raw
            continue
        if value is None or value == []:
            if question.required:
                # Left empty: asked again, but an answer given earlier stays in the draft.
                errors[question.name] = _message(
                    question.required_message, language, instrument.default_language,
                    ui.text(language, "required"),
                )
            else:
                merged.pop(question.name, None)
            continue
        if (question.constraint and not is_attention_check(question)
                and not _is_missing_answer(question, value)
                and not _holds(question.constraint, {**scope, **merged, question.name: value},
                               value)):
            errors[question.name] = _message(
                question.constraint_message, language, instrument.default_language,
                ui.text(language, "not_allowed"),
            )
            raw_shown[question.name] = raw
            continue
        merged[question.name] = value
    after = walk(instrument, merged)
    for calculation in _plan(instrument).calculations:
        if calculation.name in after.effective:
            merged[calculation.name] = after.effective[calculation.name]
        else:
            merged.pop(calculation.name, None)
    return PageResult(answers=merged, errors=errors, raw=raw_shown, walk=after)


def _is_missing_answer(question: Question, value: Any) -> bool:
    return any(c.missing and c.value == value for c in question.choices)


def _missing_boxes(question: Question, form: Mapping[str, list[str]]) -> tuple[list[str], str]:
    """The missing kinds ticked under a text/number/rank question; error if not one of them."""
    ticked = [v for v in form.get(question.name + MISSING_SUFFIX, []) if v != ""]
    allowed = {c.value for c in question.missing_choices()}
    if any(v not in allowed for v in ticked):
        return [], "choose_only_shown"
    return list(dict.fromkeys(ticked)), ""


def _parse_value(
    question: Question,
    form: Mapping[str, list[str]],
    raw: list[str],
    answers: Mapping[str, Any],
    language: str,
    seed: int | None,
) -> tuple[Any, str]:
    def say(key: str, **values: object) -> str:
        return ui.text(language, key, **values)

    if question.type in ("select_one", "select_multiple"):
        allowed = {c.value: c for c in visible_choices(question, answers, seed)}
        values = [v for v in raw if v != ""]
        if question.type == "select_one":
            if not values:
                return None, ""
            if len(values) > 1 or values[0] not in allowed:
                return None, say("choose_shown")
            return values[0], ""
        if any(v not in allowed for v in values) or len(set(values)) != len(values):
            return None, say("choose_only_shown")
        missing = [v for v in values if allowed[v].missing]
        if missing and len(values) > 1:
            option = pick(allowed[missing[0]].label, language, "")
            return None, say("both_given", option=option)
        return values, ""

    ticked, problem = _missing_boxes(question, form)
    if problem:
        return None, say(problem)
    missing_by_value = {c.value: c for c in question.missing_choices()}

    if question.type == "rank":
        ranked = [c for c in visible_choices(question, answers, seed) if not c.missing]
        positions: list[tuple[int, str]] = []
        for choice in ranked:
            given = [v for v in form.get(question.name + RANK_SEPARATOR + choice.value, [])
                     if v != ""]
            if not given:
                continue
            try:
                position = int(given[0])
            except ValueError:
                return None, say("rank_each")
            if len(given) > 1 or not 1 <= position <= len(ranked):
                return None, say("rank_each")
            positions.append((position, choice.value))
        if len({p for p, _ in positions}) != len(positions):
            return None, say("rank_each")
        if ticked:
            if positions or len(ticked) > 1:
                option = pick(missing_by_value[ticked[0]].label, language, "")
                return None, say("both_given", option=option)
            return ticked[0], ""
        return [value for _, value in sorted(positions)], ""

    text = raw[0].strip() if raw else ""
    if len(raw) > 1:
        return None, say("unreadable")
    if ticked:
        if text or len(ticked) > 1:
            option = pick(missing_by_value[ticked[0]].label, language, "")
            return None, say("both_given", option=option)
        return ticked[0], ""
    if not text:
        return None, ""
    if len(text) > question.max_length:
        return None, say("shorten", n=question.max_length)
    if question.type == "integer":
        try:
            number = int(text.replace("\u2212", "-"))
        except ValueError:
            return None, say("whole_number")
        if number in RESERVED_NUMBERS:
            return None, say("reserved_number")
        if abs(number) > 10**15:
            return None, say("whole_number")
        return number, ""
    if question.type == "decimal":
        try:
            number_f = float(text.replace(",", ".").replace("\u2212", "-"))
        except ValueError:
            return None, say("number")
        if not math.isfinite(number_f) or abs(number_f) > 1e15:
            return None, say("number")
        if number_f in RESERVED_NUMBERS:
            return None, say("reserved_number")
        return number_f, ""
    return text, ""


# -- calculations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """What every request needs to know about an instrument's calculations, worked out once."""

    calculations: tuple[Question, ...]
    """In dependency order: each after the calculations it reads (cycles: form order)."""
    calculations_steer: bool
    """Whether any skip logic or choice filter reads a calculation (then a walk recomputes them
    after every page; otherwise once at the end)."""
    page_reads: tuple[frozenset[str], ...]
    """Per page, the questions whose answers decide what the page shows."""
    pages: tuple[_PagePlan, ...]


_PLANS: dict[int, tuple[Instrument, _Plan]] = {}


def _variables(source: str | None, *, choice_filter: bool = False) -> frozenset[str]:
    if not source:
        return frozenset()
    try:
        return parse(source, choice_filter=choice_filter).variables()
    except ExpressionError:
        return frozenset()


def _plan(instrument: Instrument) -> _Plan:
    cached = _PLANS.get(id(instrument))
    if cached is not None and cached[0] is instrument:
        return cached[1]
    questions = instrument.questions()
    calcs = {q.name: q for q in questions if q.type == "calculate" and q.calculation}
    reads = {name: _variables(q.calculation) & set(calcs) for name, q in calcs.items()}
    ordered: list[Question] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return
        visiting.add(name)
        for other in sorted(reads[name]):
            visit(other)
        visiting.discard(name)
        done.add(name)
        ordered.append(calcs[name])

    for name in calcs:
        visit(name)
    steering: set[str] = set()
    page_reads: list[frozenset[str]] = []
    for page in instrument.pages:
        reads_here = set(_variables(page.relevant))
        for block in page.blocks:
            reads_here |= _variables(block.relevant)
        for question in page.questions:
            reads_here |= _variables(question.relevant)
        page_reads.append(frozenset(reads_here))
        steering |= reads_here
        for question in page.questions:
            steering |= _variables(question.choice_filter, choice_filter=True)
    plan = _Plan(tuple(ordered), bool(steering & set(calcs)), tuple(page_reads),
                 tuple(_PagePlan.of(page) for page in instrument.pages))
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[id(instrument)] = (instrument, plan)
    return plan


def apply_calculations(instrument: Instrument, answers: Answers) -> None:
    for question in _plan(instrument).calculations:
        try:
            value = parse(question.calculation or "").evaluate(answers)
        except ExpressionError:
            answers.pop(question.name, None)
            continue
        answers[question.name] = to_string(value)


def shown_questions(instrument: Instrument, answers: Mapping[str, Any]) -> list[str]:
    """Names of every answerable question the respondent was (or would now be) shown."""
    return list(walk(instrument, answers).shown)


def final_answers(instrument: Instrument, answers: Mapping[str, Any],
                  found: Walk | None = None) -> dict[str, Any]:
    """What goes into the sealed record: answers to questions still shown, and which were shown.

    Answers given on a page that later became hidden (the respondent went back and changed an
    earlier answer) are dropped, so the dataset never holds an answer to a question not shown.
    `found` is walk(instrument, answers) when the caller has it already.
    """
    found = found or walk(instrument, answers)
    return {"answers": dict(found.effective), "shown": list(found.shown)}

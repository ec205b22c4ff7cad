"""Checks on an instrument that no single row can show: names, expressions, order, translations.

Both readers (XLSForm and YAML) build the same model, so every check is written once, here, and
places its problems through the reader's SourceMap. What is checked, and why it matters here:

- names: every question, page and block needs its own name (a question's is its dataset column).
- expressions: each relevant, constraint, calculation and choice_filter must parse, and refer only
  to questions that exist (`${name}`) and, in a choice_filter, to columns its choice list has.
- order: pages work without JavaScript, so a page cannot change while it is being filled in. A
  relevant or choice_filter that depends (directly, or through calculations) on a question of the
  same page can never take effect; one that depends on a later page is evaluated before that
  question is answered (a warning: it is almost always a mistake).
- cycles: calculations and relevants that depend on each other in a circle have no value.
- translations: every text written in one of the instrument's languages should exist in all of
  them (a warning: the page falls back to the default language).
- a select's default must be one of its choices; a grid's questions must share one choice list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from offramp.survey import ui
from offramp.survey.expressions import ExpressionError, parse
from offramp.survey.instrument import RESERVED_NUMBERS, Instrument, Question, Text
from offramp.survey.problems import FieldKey, Location, Problem, Severity, SourceMap

_REF_RE = re.compile(r"\$\{([^}]*)\}")
RESERVED_NAMES = frozenset({"token", "page", "nav", "lang", "arm", "code", "main"})
"""Field names and element ids the survey pages use themselves."""
_QUESTION_EXPRESSIONS = ("relevant", "constraint", "calculation", "choice_filter")
_ORDERED_FIELDS = ("relevant", "choice_filter")


@dataclass
class _Context:
    instrument: Instrument
    sources: SourceMap
    problems: list[Problem]

    def report(self, location: Location, message: str, hint: str | None = None,
               severity: Severity = "error") -> None:
        self.problems.append(Problem(location, message, severity, hint))


def check_instrument(instrument: Instrument, sources: SourceMap) -> list[Problem]:
    """Every problem in `instrument`, in the order of the form."""
    context = _Context(instrument, sources, [])
    _names(context)
    references = _expressions(context)
    _order_and_cycles(context, references)
    _translations(context)
    _questions(context)
    return context.problems


# -- names ------------------------------------------------------------------------------------
def _names(context: _Context) -> None:
    seen: dict[str, str] = {}
    instrument, sources = context.instrument, context.sources

    def claim(name: str, what: str, key: FieldKey) -> None:
        if name in seen:
            context.report(
                sources.where(key, "name"),
                f"the name {name!r} is used twice (also by a {seen[name]})",
                "every question, page and block needs its own name; a question's name is its "
                "column in the dataset",
            )
        else:
            seen[name] = what

    for page in instrument.pages:
        if page.questions and len(page.questions) == 1 and page.questions[0].name == page.id:
            pass  # a question on a page of its own shares its name with the page
        else:
            claim(page.id, "page", ("page", page.id))
        for block in page.blocks:
            claim(block.name, "block", ("block", block.name))
        for question in page.questions:
            claim(question.name, "question", ("question", question.name))
            if question.name in RESERVED_NAMES:
                context.report(
                    sources.where(("question", question.name), "name"),
                    f"the name {question.name!r} is used by the survey pages themselves",
                    "choose another name",
                )


# -- expressions ------------------------------------------------------------------------------
def _expressions(context: _Context) -> dict[tuple[FieldKey, str], frozenset[str]]:
    """Parse every expression; report errors; return (part, field) -> variables it reads."""
    instrument, sources = context.instrument, context.sources
    names = {q.name for q in instrument.questions()}
    found: dict[tuple[FieldKey, str], frozenset[str]] = {}

    def check(key: FieldKey, field: str, source: str, question: Question | None = None) -> None:
        location = sources.where(key, field)
        try:
            expression = parse(source, choice_filter=field == "choice_filter")
        except ExpressionError as exc:
            context.report(location, f"{field} cannot be understood: {exc.message}")
            return
        variables = expression.variables()
        for name in sorted(variables - names):
            context.report(location, f"{field} refers to ${{{name}}}, which is not a question "
                           "in this form", _close(name, names))
        found[(key, field)] = variables & names
        if field == "choice_filter" and question is not None:
            columns = {"name"} | {k for c in question.choices for k in c.filters}
            for column in sorted(expression.columns() - columns):
                context.report(
                    location,
                    f"choice_filter reads the column {column!r}, which the choice list "
                    f"{question.choice_list!r} does not have",
                    f"columns: {', '.join(sorted(columns))}",
                )

    for page in instrument.pages:
        if page.relevant:
            check(("page", page.id), "relevant", page.relevant)
        for block in page.blocks:
            if block.relevant:
                check(("block", block.name), "relevant", block.relevant)
        for question in page.questions:
            key = ("question", question.name)
            for field in _QUESTION_EXPRESSIONS:
                value = getattr(question, field)
                if value:
                    check(key, field, value, question)
            for field, text in (("label", question.label), ("hint", question.hint)):
                for language, value in text.items():
                    for ref in _REF_RE.findall(value):
                        if ref not in names:
                            context.report(
                                sources.where(key, field, language),
                                f"{field} shows ${{{ref}}}, which is not a question in this form",
                                _close(ref, names),
                            )
                        else:
                            found.setdefault((key, "piping"), frozenset())
                            found[(key, "piping")] |= {ref}
    return found


def _close(name: str, names: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, sorted(names), n=1)
    return f"did you mean ${{{match[0]}}}?" if match else None


# -- order and cycles -------------------------------------------------------------------------
def _order_and_cycles(
    context: _Context, references: dict[tuple[FieldKey, str], frozenset[str]]
) -> None:
    instrument, sources = context.instrument, context.sources
    page_of: dict[str, int] = {}
    questions: dict[str, Question] = {}
    for index, page in enumerate(instrument.pages):
        for question in page.questions:
            page_of[question.name] = index
            questions[question.name] = question
    calculations = {
        name: references.get((("question", name), "calculation"), frozenset())
        for name, q in questions.items()
        if q.type == "calculate"
    }

    def answered_inputs(variables: frozenset[str]) -> set[str]:
        """The answered questions behind `variables`, looking through calculations."""
        result: set[str] = set()
        stack, seen = list(variables), set()
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in calculations:
                stack.extend(calculations[name])
            else:
                result.add(name)
        return result

    def check_order(key: FieldKey, field: str, index: int, own: str | None) -> None:
        variables = references.get((key, field))
        if not variables:
            return
        for name in sorted(answered_inputs(variables)):
            if name == own:
                continue
            where = page_of.get(name)
            if where is None:
                continue
            if where == index:
                context.report(
                    sources.where(key, field),
                    f"{field} depends on ${{{name}}}, which is on the same page",
                    "pages work without JavaScript and cannot change while being filled in: "
                    "move one of the two questions to another page",
                )
            elif where > index:
                context.report(
                    sources.where(key, field),
                    f"{field} depends on ${{{name}}}, which comes on a later page",
                    f"when this is decided, {name} has not been answered yet",
                    severity="warning",
                )

    for index, page in enumerate(instrument.pages):
        check_order(("page", page.id), "relevant", index, None)
        for block in page.blocks:
            check_order(("block", block.name), "relevant", index, None)
        for question in page.questions:
            if question.type == "calculate":
                continue
            for field in _ORDERED_FIELDS:
                check_order(("question", question.name), field, index, question.name)

    # Cycles: a depends on b when a's relevance, calculation or choices read b.
    graph: dict[str, set[str]] = {}
    for page in instrument.pages:
        inherited = set(references.get((("page", page.id), "relevant"), frozenset()))
        for question in page.questions:
            edges = set(inherited)
            if question.block:
                edges |= references.get((("block", question.block), "relevant"), frozenset())
            for field in ("relevant", "calculation", "choice_filter"):
                edges |= references.get((("question", question.name), field), frozenset())
            graph[question.name] = edges
    for cycle in _cycles(graph):
        first = cycle[0]
        context.report(
            sources.where(("question", first)),
            "circular reference: " + " -> ".join(f"${{{n}}}" for n in [*cycle, first]),
            "a question cannot depend on itself, directly or through others",
        )


def _cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Each strongly connected component that is a cycle (Tarjan), in a stable order."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    found: list[list[str]] = []

    def visit(node: str) -> None:
        nonlocal counter
        index_of[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if target not in index_of:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index_of[target])
        if low[node] == index_of[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(list(reversed(component)))

    for node in graph:
        if node not in index_of:
            visit(node)
    order = {name: i for i, name in enumerate(graph)}
    for component in found:
        component.sort(key=order.__getitem__)
        yield component


# -- translations -----------------------------------------------------------------------------
def _translations(context: _Context) -> None:
    instrument, sources = context.instrument, context.sources
    languages = instrument.languages

    def need(text: Text | None, key: FieldKey, field: str, what: str) -> None:
        if not text:
            return
        for language in languages:
            if not text.get(language):
                context.report(
                    sources.where(key, field, language),
                    f"{what} has no {language} translation",
                    f"respondents reading {language} see the "
                    f"{instrument.default_language} text instead",
                    severity="warning",
                )

    if instrument.title != {instrument.default_language: instrument.id}:  # not just the id
        need(instrument.title, ("instrument",), "title", "the title")
    need(instrument.consent, ("consent",), "label", "the consent text")
    need(instrument.debrief, ("debrief",), "label", "the debrief text")
    checked_lists: set[str] = set()
    for page in instrument.pages:
        need(page.title, ("page", page.id), "label", f"the title of page {page.id!r}")
        for block in page.blocks:
            need(block.label, ("block", block.name), "label", f"the label of {block.name!r}")
            need(block.hint, ("block", block.name), "hint", f"the hint of {block.name!r}")
        for question in page.questions:
            key = ("question", question.name)
            for field in ("label", "hint", "constraint_message", "required_message"):
                need(getattr(question, field), key, field, f"the {field.replace('_', ' ')} of "
                     f"{question.name!r}")
            if question.choice_list and question.choice_list not in checked_lists:
                checked_lists.add(question.choice_list)
                for choice in question.choices:
                    need(choice.label, ("choice", question.choice_list, choice.value), "label",
                         f"choice {choice.value!r} of list {question.choice_list!r}")
    for language in languages:
        if not ui.has_language(language):
            context.report(
                sources.where(("instrument",)),
                f"offramp has no interface text (buttons, messages) in {language!r}",
                "those pages show English buttons; add src/offramp/survey/ui/"
                f"{language}.yaml (copy en.yaml)",
                severity="warning",
            )


# -- questions --------------------------------------------------------------------------------
def _questions(context: _Context) -> None:
    instrument, sources = context.instrument, context.sources
    if instrument.consent is None:
        context.report(
            sources.where(("instrument",)),
            "there is no consent text: respondents start at the first question",
            "add a note named consent (XLSForm) or a consent: text (YAML)",
            severity="warning",
        )
    for page in instrument.pages:
        blocks = {b.name: b for b in page.blocks}
        for block in page.blocks:
            members = [q for q in page.questions if q.block == block.name]
            if not members:
                context.report(sources.where(("block", block.name)),
                               f"the block {block.name!r} has no questions", severity="warning")
            if block.is_grid:
                lists = {q.choice_list for q in members}
                if any(q.type != "select_one" for q in members) or len(lists) > 1:
                    context.report(
                        sources.where(("block", block.name), "appearance"),
                        f"the grid {block.name!r} must hold select_one questions that share "
                        "one choice list",
                        "use appearance table-list only for likert/matrix grids",
                    )
        if not any(q.type != "calculate" for q in page.questions):
            context.report(sources.where(("page", page.id)),
                           f"page {page.id!r} has no questions to show", severity="warning")
        for question in page.questions:
            key = ("question", question.name)
            if question.block and question.block not in blocks:
                context.report(sources.where(key), f"unknown block {question.block!r}")
            if question.type not in ("calculate",) and not question.label:
                context.report(sources.where(key, "label"),
                               f"{question.name!r} has no label", "respondents would see "
                               "an empty question")
            if question.type == "calculate" and not question.calculation:
                context.report(sources.where(key, "calculation"),
                               f"the calculate {question.name!r} has no calculation")
            if question.is_select and not question.choices:
                context.report(sources.where(key, "type"), f"{question.name!r} has no choices")
            if question.type == "note" and question.required:
                context.report(sources.where(key, "required"),
                               "a note cannot be required", severity="warning")
            if question.default is not None:
                _check_default(context, question)


def _check_default(context: _Context, question: Question) -> None:
    where = context.sources.where(("question", question.name), "default")
    default = question.default or ""
    values = {c.value for c in question.choices}
    if question.type == "select_one" and default not in values:
        context.report(where, f"the default {default!r} is not one of the choices")
    elif question.type in ("select_multiple", "rank") and not set(default.split()) <= values:
        context.report(where, f"the default {default!r} names values that are not choices")
    elif question.type == "integer":
        try:
            number = int(default)
        except ValueError:
            context.report(where, f"the default {default!r} is not a whole number")
        else:
            if number in RESERVED_NUMBERS:
                context.report(where, f"the default {number} is a reserved missing-value code")
    elif question.type == "decimal":
        try:
            float(default)
        except ValueError:
            context.report(where, f"the default {default!r} is not a number")

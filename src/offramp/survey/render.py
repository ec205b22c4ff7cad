"""Survey pages as HTML: the view of one page for one respondent, rendered by Jinja templates.

Everything a template shows is decided here (labels in the respondent's language, choices in their
order, what was typed, errors), so templates hold no logic and routes hold no markup. All text is
escaped by the template environment; nothing here marks a string safe.

Rendering is most of a page request's work, so what is the same for every respondent is rendered
once and kept: a page's frame (without its token) and each unanswered question (see _Items and
_frame). What a respondent gave is never kept; tests/survey/test_render_fragments.py checks both
that and that kept pieces give the same bytes as a fresh render.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

from markupsafe import Markup, escape

from offramp.survey import flow, ui
from offramp.survey.instrument import Block, Choice, Instrument, Page, Question, Text, pick
from offramp.web.i18n import language_name
from offramp.web.templating import environment, render

HONEYPOT = "__website"
"""A field people never see; bots fill it. Two underscores: no question can be named like it."""
_REF_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
Fields = Mapping[str, list[str]]


class View(SimpleNamespace):
    """What a template reads about one item. Attributes, not dict keys: Jinja looks attributes
    up first, and a page has hundreds of lookups."""


@dataclass
class Chrome:
    """What every survey page carries around its content."""

    lang: str
    action: str
    help_href: str
    leave_href: str
    preview: bool = False
    languages: list[tuple[str, str, str]] = field(default_factory=list)
    """(code, name, href) of the instrument's other languages (consent page only)."""

    @property
    def t(self) -> Mapping[str, str]:
        return ui.words(self.lang)

    def key(self) -> tuple[Any, ...]:
        """Everything here a kept page depends on."""
        return (self.lang, self.action, self.help_href, self.leave_href, self.preview,
                tuple(self.languages))


Value = TypeVar("Value")


class _Kept(dict[tuple[Any, ...], tuple[Any, Value]]):
    """Rendered pieces kept between requests, each beside the object it was rendered from.

    Keys hold id(owner); the owner is kept alive beside its piece, so an id reused by a
    reloaded instrument cannot match. Emptied when full: what is kept is cheap to make again."""

    LIMIT = 20_000

    def find(self, key: tuple[Any, ...], owner: object) -> Value | None:
        kept = self.get(key)
        return kept[1] if kept is not None and kept[0] is owner else None

    def keep(self, key: tuple[Any, ...], owner: object, value: Value) -> Value:
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = (owner, value)
        return value


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text) if p.strip()]


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def answer_fields(question: Question, value: Any) -> dict[str, list[str]]:
    """A stored answer as the form fields that would have posted it."""
    if value is None:
        return {}
    missing = {c.value for c in question.missing_choices()}
    if question.type == "select_one":
        return {question.name: [str(value)]}
    if question.type == "select_multiple":
        values = value if isinstance(value, list) else str(value).split()
        return {question.name: [str(v) for v in values]}
    if isinstance(value, str) and value in missing:
        return {question.name + flow.MISSING_SUFFIX: [value]}
    if question.type == "rank":
        values = value if isinstance(value, list) else str(value).split()
        return {question.name + flow.RANK_SEPARATOR + str(v): [str(i)]
                for i, v in enumerate(values, start=1)}
    return {question.name: [_format_number(value)]}


class _View:
    def __init__(self, instrument: Instrument, language: str, answers: Mapping[str, Any],
                 seed: int | None) -> None:
        self.instrument = instrument
        self.language = language
        self.answers = answers
        self.seed = seed

    def pick(self, text: Text | None) -> str:
        return pick(dict(text or {}), self.language, self.instrument.default_language)

    def piped(self, text: Text) -> str:
        """Text with ${name} replaced by the respondent's own earlier answer."""
        raw = self.pick(text)
        if "${" not in raw:
            return raw
        return _REF_RE.sub(lambda m: self.display(m.group(1)), raw)

    def display(self, name: str) -> str:
        value = self.answers.get(name)
        if value is None:
            return ""
        try:
            question = self.instrument.question(name)
        except KeyError:
            return str(value)
        labels = {c.value: self.pick(c.label) for c in question.choices}
        if isinstance(value, list):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), _format_number(value))

    def is_piped(self, question: Question) -> bool:
        """Whether the question's text shows an earlier answer (then it is never kept)."""
        return "${" in self.pick(question.label) or "${" in self.pick(question.hint)

    def question(self, question: Question, fields: Fields, error: str,
                 choices: list[Choice] | None = None) -> View:
        posted = fields.get(question.name, [])
        if choices is None:
            choices = flow.visible_choices(question, self.answers, self.seed)
        item = View(
            name=question.name,
            type=question.type,
            label=self.piped(question.label),
            hint=self.piped(question.hint) if question.hint else "",
            error=error,
            required=question.required,
            appearance=(question.appearance or "").split()[0] if question.appearance else "",
            max_length=question.max_length,
            value=posted[0] if posted else "",
            choices=[],
            missing=[],
            rank=[],
            positions=[],
        )
        if question.type in ("select_one", "select_multiple"):
            item.choices = [
                View(value=c.value, label=self.pick(c.label), checked=c.value in posted,
                     missing=bool(c.missing))
                for c in choices
            ]
        else:
            ticked = fields.get(question.name + flow.MISSING_SUFFIX, [])
            item.missing = [
                View(value=c.value, label=self.pick(c.label), checked=c.value in ticked)
                for c in choices if c.missing
            ]
        if question.type == "rank":
            ranked = [c for c in choices if not c.missing]
            item.rank = [
                View(value=c.value, label=self.pick(c.label),
                     position=(fields.get(question.name + flow.RANK_SEPARATOR + c.value)
                               or [""])[0])
                for c in ranked
            ]
            item.positions = [str(i) for i in range(1, len(ranked) + 1)]
        return item


# -- page items -------------------------------------------------------------------------------
# A question nobody has answered yet renders the same for every respondent who sees it in that
# language and choice order, and that is most questions of most pages (the page after the one
# just posted). Its HTML is kept, keyed by the question and everything else the macro reads, so
# most page renders only fill in their frame. A question with an answer, an error, or another
# answer piped into its text is rendered afresh and never kept: answers are not held in memory
# past their request.
_FRAGMENTS: _Kept[Markup] = _Kept()
"""(kind, language, id of the question, choice order) -> (the question, its HTML)."""


@functools.cache
def _macros() -> Any:
    return environment.get_template("fragments.html").module


def _escaped(html: object) -> Markup:
    """A macro's output: escaped by the environment, never a string marked safe here."""
    if not isinstance(html, Markup):
        raise TypeError("survey macros must render with autoescaping")
    return html


class _Items:
    """Renders the questions of one page, from kept HTML where a question is untouched."""

    def __init__(self, view: _View, fields: Fields, touched: set[str],
                 errors: Mapping[str, str], words: Mapping[str, str]) -> None:
        self.view = view
        self.fields = fields
        self.touched = touched
        self.errors = errors
        self.words = words
        self.macros = _macros()

    def html(self, kind: str, question: Question, choices: list[Choice]) -> Markup:
        error = self.errors.get(question.name, "")
        key: tuple[Any, ...] | None = None
        if not error and question.name not in self.touched and not self.view.is_piped(question):
            key = (kind, self.view.language, id(question), tuple(c.value for c in choices))
            kept = _FRAGMENTS.find(key, question)
            if kept is not None:
                return kept
        entry = self.view.question(question, self.fields, error, choices)
        macro = self.macros.question if kind == "question" else self.macros.grid_row
        html = _escaped(macro(entry, self.words) if kind == "question" else macro(entry))
        return html if key is None else _FRAGMENTS.keep(key, question, html)

    def block(self, block: Block, group: list[tuple[Question, list[Choice]]]) -> Markup:
        heading = View(
            block=block.name,
            label=self.view.piped(block.label),
            hint=self.view.piped(block.hint) if block.hint else "",
            columns=[(self.view.pick(c.label), c.missing) for c in group[0][1]],
        )
        if block.is_grid:
            rows = Markup("").join(self.html("row", q, choices) for q, choices in group)
            return _escaped(self.macros.grid(heading, rows))
        body = Markup("").join(self.html("question", q, choices) for q, choices in group)
        return _escaped(self.macros.block(heading, body))


def page_html(
    chrome: Chrome,
    instrument: Instrument,
    page_index: int,
    answers: Mapping[str, Any],
    token: str,
    *,
    seed: int | None = None,
    posted: Fields | None = None,
    errors: Mapping[str, str] | None = None,
    prefill: bool = False,
    notice: str = "",
    can_save: bool = True,
    arm: str = "none",
    walk: flow.Walk | None = None,
) -> str:
    """One page of questions. `posted` (after an error) wins over stored answers.

    `walk` is flow.walk(instrument, answers) when the caller has it already."""
    page: Page = instrument.pages[page_index]
    found = walk or flow.walk(instrument, answers)
    answers = found.effective
    view = _View(instrument, chrome.lang, answers, seed)
    errors = errors or {}
    visible = list(found.visible[page_index])
    fields: dict[str, list[str]] = {}
    touched: set[str] = set()
    for question in visible:
        known = len(fields)
        if posted is not None:
            for key, values in posted.items():
                if key == question.name or key.startswith(question.name + "__"):
                    fields[key] = list(values)
        elif question.name in answers:
            fields.update(answer_fields(question, answers[question.name]))
        elif prefill and question.default is not None:
            default: Any = question.default
            if question.type in ("select_multiple", "rank"):
                default = question.default.split()
            fields.update(answer_fields(question, default))
        if len(fields) != known:
            touched.add(question.name)
    blocks = {b.name: b for b in page.blocks}
    shown = [
        (q, flow.visible_choices(q, answers, seed), blocks.get(q.block or ""))
        for q in visible if q.answers or q.type == "note"
    ]
    render_items = _Items(view, fields, touched, errors, chrome.t)
    items: list[Markup] = []
    start = 0
    while start < len(shown):
        question, choices, block = shown[start]
        if block is None:
            items.append(render_items.html("question", question, choices) + "\n")
            start += 1
            continue
        end = start + 1
        while end < len(shown) and shown[end][2] is block:
            end += 1
        items.append(render_items.block(block, [(q, c) for q, c, _ in shown[start:end]]))
        start = end
    position, total = flow.progress(instrument, page_index, found)
    has_back = found.previous_page(page_index) is not None
    summary = [
        (name, view.piped(instrument.question(name).label), message)
        for name, message in errors.items()
    ]
    context: dict[str, Any] = dict(
        c=chrome,
        t=chrome.t,
        lang=chrome.lang,
        title=view.pick(page.title) or view.pick(instrument.title),
        survey_title=view.pick(instrument.title),
        page_id=page.id,
        progress=ui.text(chrome.lang, "progress", n=position, total=total),
        position=position,
        total=total,
        has_back=has_back,
        can_save=can_save,
        honeypot=HONEYPOT,
        summary=summary,
        notice=notice,
    )
    if not summary and not notice:
        frame_key = ("page", id(instrument), page_index, *chrome.key(), position, total,
                     has_back, can_save)
        parts = _frame(frame_key, instrument, context)
        if parts is not None:
            head, between, before_items, tail = parts
            return "".join([head, escape(token), between, escape(arm), before_items, *items, tail])
    return render("page.html", **context, token=token, arm=arm, items=items)


# The frame of a page (everything but the form's token, its arm and the questions) is the same
# for every respondent on that page at that point of the survey: it is rendered once with markers
# where those go, and kept in pieces. Pages with errors or a notice are rendered whole.
_SLOTS = ("\x00token\x00", "\x00arm\x00", "\x00items\x00")
_FRAMES: _Kept[tuple[str, ...]] = _Kept()


def _frame(key: tuple[Any, ...], instrument: Instrument,
           context: Mapping[str, Any]) -> tuple[str, ...] | None:
    kept = _FRAMES.find(key, instrument)
    if kept is not None:
        return kept
    token, arm, items = _SLOTS
    html = render("page.html", **context, token=token, arm=arm, items=[items])
    pieces: list[str] = []
    for slot in _SLOTS:
        before, found, html = html.partition(slot)
        if not found or slot in html:
            return None  # a marker the template does not show exactly once: render whole
        pieces.append(before)
    pieces.append(html)
    return _FRAMES.keep(key, instrument, tuple(pieces))


def consent_html(chrome: Chrome, instrument: Instrument, token: str, arm: str) -> str:
    view = _View(instrument, chrome.lang, {}, None)
    return render(
        "consent.html",
        c=chrome,
        t=chrome.t,
        lang=chrome.lang,
        title=view.pick(instrument.title),
        consent=paragraphs(view.pick(instrument.consent)),
        token=token,
        arm=arm,
        honeypot=HONEYPOT,
    )


def thanks_html(chrome: Chrome, instrument: Instrument,
                recorded: Mapping[str, Any] | None = None) -> str:
    """The debrief page. The same for everyone (but in a preview, which shows what was
    recorded), so it is rendered once per instrument and language and kept."""
    if recorded is not None:
        return _thanks(chrome, instrument, recorded)
    key = ("thanks", id(instrument), *chrome.key())
    kept = _FRAMES.find(key, instrument)
    if kept is None:
        kept = _FRAMES.keep(key, instrument, (_thanks(chrome, instrument, None),))
    return kept[0]


def _thanks(chrome: Chrome, instrument: Instrument, recorded: Mapping[str, Any] | None) -> str:
    view = _View(instrument, chrome.lang, {}, None)
    return render(
        "thanks.html",
        c=chrome,
        t=chrome.t,
        lang=chrome.lang,
        title=ui.text(chrome.lang, "thanks_title"),
        debrief=paragraphs(view.pick(instrument.debrief)),
        recorded=recorded,
    )


def notice_html(chrome: Chrome, title: str, message: str, restart: str | None = None) -> str:
    return render("notice.html", c=chrome, t=chrome.t, lang=chrome.lang, title=title,
                  message=message, restart=restart)


def resume_code_html(chrome: Chrome, instrument: Instrument, code: str, token: str,
                     page_id: str, days: int) -> str:
    view = _View(instrument, chrome.lang, {}, None)
    return render(
        "resume_code.html",
        c=chrome,
        t=chrome.t,
        lang=chrome.lang,
        title=ui.text(chrome.lang, "resume_title"),
        survey_title=view.pick(instrument.title),
        words=code.split(),
        intro=ui.text(chrome.lang, "resume_intro", days=days),
        token=token,
        page_id=page_id,
    )


def resume_form_html(chrome: Chrome, instrument: Instrument, error: str = "") -> str:
    view = _View(instrument, chrome.lang, {}, None)
    return render(
        "resume_form.html",
        c=chrome,
        t=chrome.t,
        lang=chrome.lang,
        title=ui.text(chrome.lang, "resume_link"),
        survey_title=view.pick(instrument.title),
        error=error,
        honeypot=HONEYPOT,
    )


def language_links(instrument: Instrument, current: str, base: str) -> list[tuple[str, str, str]]:
    return [
        (code, language_name(code), f"{base}?lang={code}")
        for code in instrument.languages
        if code != current
    ]

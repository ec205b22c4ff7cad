"""The survey model: Instrument, Page, Question, Choice.

Everything downstream (pages, sealing, export, codebook, analysis) reads this model, never the
authoring format, so an XLSForm and a YAML file that say the same thing are the same instrument.
Every question has a stable variable name and every choice a stable value: the dataset's columns
are named after them. Labels are per-language mappings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Text = dict[str, str]
"""A translatable string: language code -> text."""

QUESTION_TYPES = (
    "select_one",
    "select_multiple",
    "text",
    "integer",
    "decimal",
    "note",
    "calculate",
    "rank",
)
ANSWER_TYPES = frozenset(QUESTION_TYPES) - {"note"}
MissingKind = Literal["refused", "dont_know"]


def pick(text: Text, language: str, fallback: str) -> str:
    """The text in `language`, else the fallback language, else any language we have."""
    if language in text:
        return text[language]
    if fallback in text:
        return text[fallback]
    return next(iter(text.values()), "")


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text
    missing: MissingKind | None = None
    """Marks "prefer not to say" / "don't know": an answer, but a missing kind in the dataset."""
    filters: dict[str, str] = field(default_factory=dict)
    """Extra columns of the choices sheet, for choice_filter expressions."""


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    label: Text = field(default_factory=dict)
    hint: Text = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    choice_list: str | None = None
    required: bool = False
    required_message: Text = field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Text = field(default_factory=dict)
    choice_filter: str | None = None
    calculation: str | None = None
    default: str | None = None
    randomize: bool = False
    appearance: str | None = None
    max_length: int = 2000

    @property
    def answers(self) -> bool:
        return self.type in ANSWER_TYPES

    @property
    def is_select(self) -> bool:
        return self.type in ("select_one", "select_multiple", "rank")


@dataclass(frozen=True)
class Page:
    id: str
    title: Text = field(default_factory=dict)
    questions: tuple[Question, ...] = ()
    relevant: str | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    title: Text
    languages: tuple[str, ...]
    default_language: str
    pages: tuple[Page, ...]
    consent: Text | None = None
    debrief: Text | None = None
    version_label: str = ""
    """The author's own version string (XLSForm settings.version); the store assigns numbers."""

    def questions(self) -> list[Question]:
        return [q for page in self.pages for q in page.questions]

    def question(self, name: str) -> Question:
        for q in self.questions():
            if q.name == name:
                return q
        raise KeyError(name)

    def page(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def page_index(self, page_id: str) -> int:
        for index, page in enumerate(self.pages):
            if page.id == page_id:
                return index
        raise KeyError(page_id)

    # -- serialisation: the store keeps the definition as JSON ------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def source_hash(self) -> str:
        """Identity of the definition: a changed instrument gets a new published version."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instrument:
        pages = tuple(
            Page(
                id=p["id"],
                title=dict(p.get("title") or {}),
                relevant=p.get("relevant"),
                questions=tuple(_question_from_dict(q) for q in p.get("questions", ())),
            )
            for p in data["pages"]
        )
        return cls(
            id=data["id"],
            title=dict(data.get("title") or {}),
            languages=tuple(data["languages"]),
            default_language=data["default_language"],
            pages=pages,
            consent=data.get("consent"),
            debrief=data.get("debrief"),
            version_label=data.get("version_label", ""),
        )

    @classmethod
    def from_json(cls, text: str) -> Instrument:
        return cls.from_dict(json.loads(text))


def _question_from_dict(data: dict[str, Any]) -> Question:
    values = dict(data)
    values["choices"] = tuple(
        Choice(
            value=c["value"],
            label=dict(c.get("label") or {}),
            missing=c.get("missing"),
            filters=dict(c.get("filters") or {}),
        )
        for c in data.get("choices", ())
    )
    for key in ("label", "hint", "required_message", "constraint_message"):
        values[key] = dict(values.get(key) or {})
    return Question(**values)

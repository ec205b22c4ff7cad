"""The survey model: Instrument, Page, Question, Choice.

Everything downstream (pages, sealing, export, codebook, analysis) reads this model, never the
authoring format, so an XLSForm and a YAML file that say the same thing are the same instrument
(`==` on two Instruments compares everything a respondent or researcher could notice).
Every question has a stable variable name and every choice a stable value: the dataset's columns
are named after them. Labels are per-language mappings.

Shape: an Instrument has a consent text, pages and a debrief text. A page holds questions in order;
some consecutive questions may belong to a Block (a labelled sub-group of the page; with the
appearance "table-list" a block of select_one questions sharing one choice list is a grid, the
likert/matrix question of LimeSurvey). Blocks do not nest.

"Prefer not to say" and "don't know" are answers, not blanks: a choice carries `missing` =
"refused" or "dont_know". A text or number question offers them as extra choices whose values are
the dataset's reserved codes ("-97", "-98"; see `missing_choice`), so the export needs no special
case for them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from offramp.data.codes import DONT_KNOW, NOT_SHOWN, REFUSED

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
SELECT_TYPES = frozenset({"select_one", "select_multiple", "rank"})
MissingKind = Literal["refused", "dont_know"]
MISSING_KINDS: tuple[MissingKind, ...] = ("refused", "dont_know")
MISSING_VALUES: dict[str, str] = {"refused": str(REFUSED), "dont_know": str(DONT_KNOW)}
"""What a text or number question stores when the respondent chooses a missing kind."""
RESERVED_NUMBERS = frozenset({REFUSED, DONT_KNOW, NOT_SHOWN})
GRID_APPEARANCE = "table-list"


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
    block: str | None = None
    """Name of the Block (on the same page) this question belongs to, if any."""

    @property
    def answers(self) -> bool:
        return self.type in ANSWER_TYPES

    @property
    def is_select(self) -> bool:
        return self.type in SELECT_TYPES

    def missing_choices(self) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if c.missing)


def missing_choice(kind: MissingKind, label: Text) -> Choice:
    """The extra choice a text or number question offers for a missing kind."""
    return Choice(value=MISSING_VALUES[kind], label=dict(label), missing=kind)


@dataclass(frozen=True)
class Block:
    """A labelled group of questions inside a page; a grid when appearance is "table-list"."""

    name: str
    label: Text = field(default_factory=dict)
    hint: Text = field(default_factory=dict)
    relevant: str | None = None
    appearance: str | None = None

    @property
    def is_grid(self) -> bool:
        return (self.appearance or "").split()[:1] == [GRID_APPEARANCE]


@dataclass(frozen=True)
class Page:
    id: str
    title: Text = field(default_factory=dict)
    questions: tuple[Question, ...] = ()
    relevant: str | None = None
    blocks: tuple[Block, ...] = ()

    def block(self, name: str) -> Block:
        for block in self.blocks:
            if block.name == name:
                return block
        raise KeyError(name)


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
                blocks=tuple(_block_from_dict(b) for b in p.get("blocks", ())),
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


def _block_from_dict(data: dict[str, Any]) -> Block:
    return Block(
        name=data["name"],
        label=dict(data.get("label") or {}),
        hint=dict(data.get("hint") or {}),
        relevant=data.get("relevant"),
        appearance=data.get("appearance"),
    )


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

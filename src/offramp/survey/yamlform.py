"""YAML instruments -> Instrument, with every problem placed at its file and line.

A YAML instrument says the same things as an XLSForm, arranged for people who write by hand; the
same instrument written both ways is the same model (tests/survey/test_equivalence.py):

    id: demo
    version: "1"
    title: {en: Demo survey, ar: ...}
    languages: [en, ar]              # the first is the default unless default_language says
    consent: {en: "...", ar: "..."}  # shown first; the respondent must accept
    debrief: {en: "...", ar: "..."}  # shown after the last page
    choices:
      yesno:
        - {value: "yes", label: {en: "Yes"}}
        - {value: pnts, label: {en: Prefer not to say}, missing: refused}
      city:
        - {value: a, label: {en: A}, region: north}   # extra keys: columns for choice_filter
    pages:
      - id: p1
        title: {en: About you}
        relevant: "${q0} = 'yes'"
        questions:
          - {name: q1, type: select_one yesno, label: {en: "..."}, required: true}
          - {name: age, type: integer, label: {en: Age}, missing: [refused, dont_know]}
          - block: feelings            # a group inside the page; table-list makes it a grid
            appearance: table-list
            label: {en: How much do you agree?}
            questions:
              - {name: f1, type: select_one agree, label: {en: "..."}}

A text may be a plain string (the default language) or a mapping language -> text. Question keys
are those of the XLSForm survey sheet: label, hint, required, required_message, relevant,
constraint, constraint_message, choice_filter, calculation, default, randomize, appearance,
max_length, missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from offramp.survey import ui
from offramp.survey.instrument import (
    MISSING_KINDS,
    QUESTION_TYPES,
    Block,
    Choice,
    Instrument,
    MissingKind,
    Page,
    Question,
    Text,
    missing_choice,
)
from offramp.survey.problems import FieldKey, FormRead, Location, Problem, SourceMap

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_QUESTION_KEYS = frozenset({
    "name", "type", "label", "hint", "required", "required_message", "relevant", "constraint",
    "constraint_message", "choice_filter", "calculation", "default", "randomize", "appearance",
    "max_length", "missing", "choices",
})
_BLOCK_KEYS = frozenset({"block", "label", "hint", "relevant", "appearance", "questions"})
_PAGE_KEYS = frozenset({"id", "title", "relevant", "questions"})
_TOP_KEYS = frozenset({"id", "version", "title", "languages", "default_language", "consent",
                       "debrief", "choices", "pages"})


class _LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers where each mapping and each key was written."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        value = loader.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
        key = str(key)
        if key in mapping:
            mapping.duplicates.append((key, key_node.start_mark.line + 1))
        mapping[key] = value
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class _Reader:
    path: str
    problems: list[Problem]
    sources: SourceMap
    default: str = "en"
    languages: tuple[str, ...] = ("en",)

    def line(self, node: Any, key: str | None = None) -> int | None:
        if isinstance(node, _LineDict):
            if key is not None and key in node.key_lines:
                return node.key_lines[key]
            return node.line or None
        return None

    def problem(self, node: Any, message: str, key: str | None = None, hint: str | None = None,
                severity: str = "error") -> None:
        self.problems.append(Problem(Location(self.path, None, self.line(node, key), key),
                                     message, "warning" if severity == "warning" else "error",
                                     hint))

    def place(self, part: FieldKey, node: Any) -> None:
        """Record where `part` and each of its keys (and translations) were written."""
        self.sources.add(part, Location(self.path, None, self.line(node)))
        if not isinstance(node, _LineDict):
            return
        for key, value in node.items():
            self.sources.lines[(part, key)] = node.key_lines[key]
            if isinstance(value, _LineDict):
                for language, line in value.key_lines.items():
                    self.sources.lines[(part, f"{key}::{language}")] = line
        for key, line in node.duplicates:
            self.problems.append(Problem(Location(self.path, None, line, key),
                                         f"the key {key!r} is written twice in this mapping"))

    def unknown_keys(self, node: _LineDict, allowed: frozenset[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(node, f"unknown key {key!r} in {what}", key,
                             f"known: {', '.join(sorted(allowed))}")

    def text(self, node: Any, key: str, what: str) -> Text:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            return {}
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return {self.default: str(value)}
        if isinstance(value, dict) and all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()
        ):
            for language in value:
                if language not in self.languages:
                    self.problem(value, f"{what} is written in {language!r}, which is not in "
                                 "languages", language,
                                 f"languages: {', '.join(self.languages)}")
            return {str(k): str(v) for k, v in value.items() if str(v) != ""}
        self.problem(node, f"{what} must be text or a mapping language -> text", key)
        return {}

    def expression(self, node: dict[str, Any], key: str) -> str | None:
        value = node.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.problem(node, f"{key} must be an expression in quotes", key)
            return None
        return value

    def flag(self, node: dict[str, Any], key: str) -> bool:
        value = node.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("yes", "true", "no", "false"):
            return value.strip().lower() in ("yes", "true")
        self.problem(node, f"{key} must be true or false", key)
        return False

    # -- the document -------------------------------------------------------------------------
    def instrument(self, doc: Any) -> Instrument | None:
        if not isinstance(doc, _LineDict):
            self.problems.append(Problem(Location(self.path, None, 1),
                                         "an instrument must be a YAML mapping"))
            return None
        self.place(("instrument",), doc)
        self.unknown_keys(doc, _TOP_KEYS, "the instrument")
        for key in ("id", "pages"):
            if key not in doc:
                self.problem(doc, f"missing required key {key!r}")
        instrument_id = str(doc.get("id", Path(self.path).stem))
        if not NAME_RE.match(instrument_id):
            self.problem(doc, f"id {instrument_id!r} must be letters, digits and _ "
                         "(at most 64)", "id")
        languages = doc.get("languages") or [doc.get("default_language", "en")]
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            self.problem(doc, "languages must be a list of language codes", "languages")
            languages = ["en"]
        default = str(doc.get("default_language", languages[0]))
        if default not in languages:
            self.problem(doc, f"default_language {default!r} is not in languages",
                         "default_language")
            languages = [default, *languages]
        self.default = default
        self.languages = (default, *[x for x in languages if x != default])
        lists = self.choice_lists(doc.get("choices") or {}, doc)
        pages_doc = doc.get("pages")
        if not isinstance(pages_doc, list) or not pages_doc:
            if "pages" in doc:
                self.problem(doc, "pages must be a non-empty list", "pages")
            return None
        pages = [self.page(p, lists) for p in pages_doc]
        for key in ("consent", "debrief"):
            if key in doc:
                self.sources.add((key,), Location(self.path, None, doc.key_lines[key]))
                value = doc[key]
                if isinstance(value, _LineDict):
                    for language, line in value.key_lines.items():
                        self.sources.lines[((key,), f"label::{language}")] = line
        title = self.text(doc, "title", "title") or {default: instrument_id}
        return Instrument(
            id=instrument_id,
            title=title,
            languages=self.languages,
            default_language=default,
            pages=tuple(p for p in pages if p is not None),
            consent=self.text(doc, "consent", "consent") or None,
            debrief=self.text(doc, "debrief", "debrief") or None,
            version_label=str(doc.get("version", "") or ""),
        )

    def choice_lists(self, doc: Any, parent: Any) -> dict[str, tuple[Choice, ...]]:
        if not isinstance(doc, dict):
            self.problem(parent, "choices must map list names to lists of choices", "choices")
            return {}
        lists: dict[str, tuple[Choice, ...]] = {}
        for name, items in doc.items():
            self.sources.add(("list", str(name)), Location(self.path, None,
                                                           self.line(doc, str(name))))
            if not isinstance(items, list) or not items:
                self.problem(doc, f"choice list {name!r} must be a non-empty list", str(name))
                continue
            seen: set[str] = set()
            choices = []
            for item in items:
                if not isinstance(item, dict) or "value" not in item:
                    self.problem(item if isinstance(item, dict) else doc,
                                 f"each choice of {name!r} needs a value", None)
                    continue
                value = str(item["value"])
                self.place(("choice", str(name), value), item)
                if value in seen:
                    self.problem(item, f"choice list {name!r} has the value {value!r} twice",
                                 "value", "each choice of a list needs its own value")
                    continue
                seen.add(value)
                missing = item.get("missing")
                if missing not in (None, *MISSING_KINDS):
                    self.problem(item, "missing must be refused or dont_know", "missing",
                                 "refused = 'prefer not to say', dont_know = 'don't know'")
                    missing = None
                filters = {
                    str(k): str(v)
                    for k, v in item.items()
                    if k not in ("value", "label", "missing")
                }
                label = self.text(item, "label", f"the label of choice {value!r}")
                choices.append(Choice(value=value, label=label, missing=missing,
                                      filters=filters))
            lists[str(name)] = tuple(choices)
        return lists

    def page(self, doc: Any, lists: dict[str, tuple[Choice, ...]]) -> Page | None:
        if not isinstance(doc, _LineDict) or "id" not in doc:
            self.problem(doc, "each page needs an id")
            return None
        page_id = str(doc["id"])
        self.place(("page", page_id), doc)
        self.sources.lines.update({(("page", page_id), f"label{k[1][5:]}"): v
                                   for k, v in list(self.sources.lines.items())
                                   if k[0] == ("page", page_id) and k[1].startswith("title")})
        self.unknown_keys(doc, _PAGE_KEYS, f"page {page_id!r}")
        if not NAME_RE.match(page_id):
            self.problem(doc, f"page id {page_id!r} must be letters, digits and _", "id")
        items = doc.get("questions") or []
        if not isinstance(items, list):
            self.problem(doc, "questions must be a list", "questions")
            items = []
        questions: list[Question] = []
        blocks: list[Block] = []
        for item in items:
            if isinstance(item, _LineDict) and "block" in item:
                block = self.block(item, lists)
                if block is not None:
                    blocks.append(block[0])
                    questions.extend(block[1])
                continue
            question = self.question(item, lists, None)
            if question is not None:
                questions.append(question)
        return Page(
            id=page_id,
            title=self.text(doc, "title", f"the title of page {page_id!r}"),
            questions=tuple(questions),
            relevant=self.expression(doc, "relevant"),
            blocks=tuple(blocks),
        )

    def block(self, doc: _LineDict, lists: dict[str, tuple[Choice, ...]]
              ) -> tuple[Block, list[Question]] | None:
        name = str(doc["block"])
        self.place(("block", name), doc)
        self.unknown_keys(doc, _BLOCK_KEYS, f"block {name!r}")
        if not NAME_RE.match(name) or "__" in name:
            self.problem(doc, f"block name {name!r} must be letters, digits and single "
                         "underscores", "block")
        questions = []
        for item in doc.get("questions") or []:
            if isinstance(item, dict) and "block" in item:
                self.problem(item, "blocks do not nest", "block",
                             "move this block out of its block")
                continue
            question = self.question(item, lists, name)
            if question is not None:
                questions.append(question)
        appearance = doc.get("appearance")
        return Block(
            name=name,
            label=self.text(doc, "label", f"the label of block {name!r}"),
            hint=self.text(doc, "hint", f"the hint of block {name!r}"),
            relevant=self.expression(doc, "relevant"),
            appearance=None if appearance in (None, "") else str(appearance),
        ), questions

    def question(self, doc: Any, lists: dict[str, tuple[Choice, ...]], block: str | None
                 ) -> Question | None:
        if not isinstance(doc, _LineDict):
            self.problem(doc, "each question must be a mapping")
            return None
        for required in ("name", "type"):
            if required not in doc:
                self.problem(doc, f"question is missing {required!r}")
                return None
        name = str(doc["name"])
        part: FieldKey = ("question", name)
        self.place(part, doc)
        self.unknown_keys(doc, _QUESTION_KEYS, f"question {name!r}")
        if not NAME_RE.match(name) or "__" in name:
            self.problem(doc, f"the name {name!r} must be letters, digits and single "
                         "underscores (at most 64 characters)", "name",
                         "names become dataset columns; multi-select columns are name__choice")
        parts = str(doc["type"]).split()
        qtype = parts[0] if parts else ""
        if qtype not in QUESTION_TYPES:
            self.problem(doc, f"the question type {qtype!r} is not supported", "type",
                         f"supported: {', '.join(QUESTION_TYPES)}")
            return None
        list_name = parts[1] if len(parts) > 1 else doc.get("choices")
        choices: tuple[Choice, ...] = ()
        if qtype in ("select_one", "select_multiple", "rank"):
            if not isinstance(list_name, str) or list_name not in lists:
                self.problem(doc, f"the choice list {list_name!r} does not exist", "type",
                             f"lists: {', '.join(sorted(lists)) or 'none'}")
            else:
                choices = lists[list_name]
        missing = doc.get("missing")
        if missing is not None:
            kinds: list[MissingKind] = []
            values = missing.split() if isinstance(missing, str) else missing
            if qtype in ("select_one", "select_multiple", "rank"):
                self.problem(doc, "a select question's missing kinds are marked on its choices",
                             "missing", "add missing: refused to the choice")
            elif not isinstance(values, list) or qtype in ("note", "calculate"):
                self.problem(doc, "missing must be a list of refused and dont_know", "missing")
            else:
                for kind in values:
                    if kind in MISSING_KINDS and kind not in kinds:
                        kinds.append(kind)
                    else:
                        self.problem(doc, f"missing kinds are refused and dont_know, not "
                                     f"{kind!r}", "missing")
                choices = tuple(missing_choice(k, ui.missing_label(k, self.languages))
                                for k in kinds)
        max_length = doc.get("max_length", 2000)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not (
            1 <= max_length <= 100_000
        ):
            self.problem(doc, "max_length must be a whole number from 1 to 100000", "max_length")
            max_length = 2000
        default = doc.get("default")
        if isinstance(default, list):
            default = " ".join(str(v) for v in default)
        appearance = doc.get("appearance")
        return Question(
            name=name,
            type=qtype,
            label=self.text(doc, "label", f"the label of {name!r}"),
            hint=self.text(doc, "hint", f"the hint of {name!r}"),
            choices=choices,
            choice_list=list_name if qtype in ("select_one", "select_multiple", "rank")
            and isinstance(list_name, str) else None,
            required=self.flag(doc, "required"),
            required_message=self.text(doc, "required_message", "required_message"),
            relevant=self.expression(doc, "relevant"),
            constraint=self.expression(doc, "constraint"),
            constraint_message=self.text(doc, "constraint_message", "constraint_message"),
            choice_filter=self.expression(doc, "choice_filter"),
            calculation=self.expression(doc, "calculation"),
            default=None if default in (None, "") else str(default),
            randomize=self.flag(doc, "randomize"),
            appearance=None if appearance in (None, "") else str(appearance),
            max_length=max_length,
            block=block,
        )


def read_yaml(path: Path) -> FormRead:
    """Read a YAML instrument: the instrument (None if it could not be built) and its problems."""
    file = str(path)
    problems: list[Problem] = []
    sources = SourceMap(file)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(Location(file), "no such instrument file"))
        return FormRead(None, problems, sources)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(Location(file), f"cannot read the instrument ({exc})"))
        return FormRead(None, problems, sources)
    try:
        doc = yaml.load(source, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(Location(file, None, None if mark is None else mark.line + 1),
                                f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return FormRead(None, problems, sources)
    reader = _Reader(file, problems, sources)
    instrument = reader.instrument(doc)
    return FormRead(instrument, problems, sources)


def load_yaml_instrument(path: Path) -> Instrument:
    """Read and check a YAML instrument; FormInvalid (an InputError) if it has errors."""
    from offramp.survey.load import load_instrument

    return load_instrument(path)

"""YAML instruments -> Instrument, with errors that name the file and line.

A YAML instrument says the same things as an XLSForm, arranged for people who write by hand:

    id: demo
    title: {en: Demo survey}
    languages: [en]
    choices:
      yesno:
        - {value: "yes", label: {en: "Yes"}}
        - {value: pnts, label: {en: Prefer not to say}, missing: refused}
    pages:
      - id: p1
        questions:
          - {name: q1, type: select_one yesno, label: {en: "..."}}

A label may be a plain string (the default language) or a mapping language -> text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from offramp.errors import InputError
from offramp.survey.instrument import (
    QUESTION_TYPES,
    Choice,
    Instrument,
    Page,
    Question,
    Text,
)

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _LineDict(dict[str, Any]):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers where each mapping started, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict(loader.construct_pairs(node))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, message: str, node: Any, hint: str | None = None) -> InputError:
        line = getattr(node, "line", None) or None
        return InputError(message, file=self.path, line=line, hint=hint)

    def text(self, value: Any, default_language: str, node: Any, what: str) -> Text:
        if value is None:
            return {}
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return {default_language: str(value)}
        if isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str | int | float) for k, v in value.items()
        ):
            return {k: str(v) for k, v in value.items()}
        raise self.error(f"{what} must be text or a mapping language -> text", node)

    def instrument(self, doc: Any) -> Instrument:
        if not isinstance(doc, dict):
            raise InputError("an instrument must be a YAML mapping", file=self.path, line=1)
        for key in ("id", "pages"):
            if key not in doc:
                raise self.error(f"missing required key {key!r}", doc)
        instrument_id = str(doc["id"])
        if not NAME_RE.match(instrument_id):
            raise self.error(f"id {instrument_id!r} must be letters, digits and _", doc)
        languages = doc.get("languages") or [doc.get("default_language", "en")]
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            raise self.error("languages must be a list of language codes", doc)
        default = str(doc.get("default_language", languages[0]))
        if default not in languages:
            raise self.error(f"default_language {default!r} is not in languages", doc)
        choice_lists = self.choice_lists(doc.get("choices") or {}, default)
        pages_doc = doc["pages"]
        if not isinstance(pages_doc, list) or not pages_doc:
            raise self.error("pages must be a non-empty list", doc)
        pages = tuple(self.page(p, default, choice_lists) for p in pages_doc)
        return Instrument(
            id=instrument_id,
            title=self.text(doc.get("title", instrument_id), default, doc, "title"),
            languages=tuple(languages),
            default_language=default,
            pages=pages,
            consent=self.text(doc.get("consent"), default, doc, "consent") or None,
            debrief=self.text(doc.get("debrief"), default, doc, "debrief") or None,
            version_label=str(doc.get("version", "")),
        )

    def choice_lists(self, doc: Any, default: str) -> dict[str, tuple[Choice, ...]]:
        if not isinstance(doc, dict):
            raise self.error("choices must map list names to lists of choices", doc)
        lists: dict[str, tuple[Choice, ...]] = {}
        for name, items in doc.items():
            if not isinstance(items, list) or not items:
                raise self.error(f"choice list {name!r} must be a non-empty list", doc)
            seen: set[str] = set()
            choices = []
            for item in items:
                if not isinstance(item, dict) or "value" not in item:
                    raise self.error(f"each choice of {name!r} needs a value", item or doc)
                value = str(item["value"])
                if value in seen:
                    raise self.error(f"choice list {name!r} has {value!r} twice", item)
                seen.add(value)
                missing = item.get("missing")
                if missing not in (None, "refused", "dont_know"):
                    raise self.error("missing must be refused or dont_know", item)
                filters = {
                    str(k): str(v)
                    for k, v in item.items()
                    if k not in ("value", "label", "missing")
                }
                choices.append(
                    Choice(
                        value=value,
                        label=self.text(item.get("label", value), default, item, "label"),
                        missing=missing,
                        filters=filters,
                    )
                )
            lists[str(name)] = tuple(choices)
        return lists

    def page(self, doc: Any, default: str, lists: dict[str, tuple[Choice, ...]]) -> Page:
        if not isinstance(doc, dict) or "id" not in doc:
            raise self.error("each page needs an id", doc)
        questions = doc.get("questions") or []
        if not isinstance(questions, list):
            raise self.error("questions must be a list", doc)
        return Page(
            id=str(doc["id"]),
            title=self.text(doc.get("title"), default, doc, "title"),
            relevant=doc.get("relevant"),
            questions=tuple(self.question(q, default, lists) for q in questions),
        )

    def question(self, doc: Any, default: str, lists: dict[str, tuple[Choice, ...]]) -> Question:
        if not isinstance(doc, dict):
            raise self.error("each question must be a mapping", doc)
        for key in ("name", "type"):
            if key not in doc:
                raise self.error(f"question is missing {key!r}", doc)
        name = str(doc["name"])
        if not NAME_RE.match(name) or "__" in name:
            raise self.error(
                f"question name {name!r} must be letters, digits and single underscores", doc
            )
        parts = str(doc["type"]).split()
        qtype = parts[0]
        if qtype not in QUESTION_TYPES:
            raise self.error(
                f"unknown question type {qtype!r}", doc, hint=f"known: {', '.join(QUESTION_TYPES)}"
            )
        list_name = parts[1] if len(parts) > 1 else doc.get("choices")
        choices: tuple[Choice, ...] = ()
        if qtype in ("select_one", "select_multiple", "rank"):
            if not isinstance(list_name, str) or list_name not in lists:
                raise self.error(
                    f"question {name!r} names choice list {list_name!r}, which does not exist",
                    doc,
                    hint=f"lists: {', '.join(sorted(lists)) or 'none'}",
                )
            choices = lists[list_name]
        return Question(
            name=name,
            type=qtype,
            label=self.text(doc.get("label"), default, doc, "label"),
            hint=self.text(doc.get("hint"), default, doc, "hint"),
            choices=choices,
            choice_list=list_name if choices else None,
            required=bool(doc.get("required", False)),
            required_message=self.text(doc.get("required_message"), default, doc, "message"),
            relevant=doc.get("relevant"),
            constraint=doc.get("constraint"),
            constraint_message=self.text(doc.get("constraint_message"), default, doc, "message"),
            choice_filter=doc.get("choice_filter"),
            calculation=doc.get("calculation"),
            default=None if doc.get("default") is None else str(doc["default"]),
            randomize=bool(doc.get("randomize", False)),
            appearance=doc.get("appearance"),
            max_length=int(doc.get("max_length", 2000)),
        )


def load_yaml_instrument(path: Path) -> Instrument:
    """Read a YAML instrument; any problem is an InputError naming the file and line."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such instrument file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read instrument ({exc})", file=str(path)) from None
    try:
        doc = yaml.load(source, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            line=None if mark is None else mark.line + 1,
        ) from None
    return _Reader(str(path)).instrument(doc)

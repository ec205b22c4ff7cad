"""Term-list files: load, validate with file:line errors, and name each list by a content hash.

Two source formats (docs/screening.md has the reference):

* plain text: one term or phrase a line, ``#`` starts a comment, blank lines are ignored. Each
  line is its own rule with id ``line:<n>`` and category ``default``; a trailing ``*`` makes the
  term a prefix.
* YAML: ``version``, ``languages``, ``categories`` (id -> description) and ``rules``, each with
  ``id``, ``category``, ``terms``, optional ``all_of``, ``unless``, ``match`` (word, prefix or
  substring), ``age_below`` and ``with_category``.

A third form, the compiled list (``compiled.py``), holds only keyed hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offramp.errors import InputError
from offramp.screen.age import NUMBER_WORDS
from offramp.screen.normalize import fold

DEFAULT_CATEGORY = "default"
MATCH_KINDS = ("word", "prefix", "substring")
_RULE_KEYS = {"id", "category", "terms", "all_of", "unless", "match", "age_below", "with_category"}
_TOP_KEYS = {"version", "languages", "categories", "rules", "description"}


@dataclass(frozen=True, slots=True)
class Term:
    """One term as written, its folded form and how it matches."""

    text: str
    folded: str
    kind: str  # word | prefix | substring
    line: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule fires when any of ``terms`` matches, or one term of every ``all_of`` group does,
    or (with ``with_category``) a rule of that category fired; then ``age_below`` must hold,
    and no ``unless`` phrase may occur."""

    id: str
    category: str
    terms: tuple[Term, ...] = ()
    all_of: tuple[tuple[Term, ...], ...] = ()
    unless: tuple[Term, ...] = ()
    match: str = "word"
    age_below: int | None = None
    with_category: str | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class TermList:
    """A validated list. ``version`` is the content hash verdicts carry."""

    rules: tuple[Rule, ...]
    version: str
    categories: dict[str, str] = field(default_factory=dict)
    languages: tuple[str, ...] = ("en",)
    label: str | None = None
    source: str = "<terms>"


def content_hash(data: bytes) -> str:
    """The list version: the first 16 hex digits of SHA-256 over the file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def make_term(text: str, *, kind: str, source: str, line: int) -> Term:
    """Validate and fold one term; a trailing ``*`` makes it a prefix."""
    raw = text.strip()
    if raw.endswith("*"):
        raw, kind = raw[:-1].rstrip(), "prefix"
    if not raw:
        raise InputError("empty term", file=source, line=line)
    folded = fold(raw)
    if not folded:
        raise InputError(
            f"term {text!r} folds to nothing (only punctuation or invisible characters)",
            file=source,
            line=line,
        )
    if kind == "substring" and " " in folded:
        raise InputError(
            f"substring term {text!r} has more than one word; use a word or prefix rule",
            file=source,
            line=line,
        )
    return Term(text=text, folded=folded, kind=kind, line=line)


# --- plain text ------------------------------------------------------------------------------


def parse_plain(text: str, *, source: str = "<terms>") -> TermList:
    """One term or phrase a line; rule ids are ``line:<n>``."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        term = make_term(line, kind="word", source=source, line=number)
        rules.append(
            Rule(id=f"line:{number}", category=DEFAULT_CATEGORY, terms=(term,), line=number)
        )
    return TermList(
        rules=tuple(rules),
        version=content_hash(text.encode("utf-8", "surrogatepass")),
        categories={DEFAULT_CATEGORY: "Terms of a plain list"},
        source=source,
    )


# --- YAML ------------------------------------------------------------------------------------


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    """Turns composed YAML nodes into values, raising InputError with the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, message: str) -> InputError:
        return InputError(message, file=self.source, line=_line(node))

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping (key: value)")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, f"a key in {what}")
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            out[key] = (key_node, value_node)
        return out

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be a single value")
        return str(node.value)

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        text = self.scalar(node, what)
        try:
            value = int(text)
        except ValueError:
            raise self.fail(node, f"{what} must be a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise self.fail(node, f"{what} must be between {low} and {high}")
        return value


def parse_yaml(text: str, *, source: str = "<terms>") -> TermList:
    """Parse and validate a YAML list; every error names the file and line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML: {problem}", file=source, line=line) from None
    if root is None:
        raise InputError("the term list is empty", file=source, line=1)
    r = _Reader(source)
    top = r.mapping(root, "the term list")
    for key, (key_node, _) in top.items():
        if key not in _TOP_KEYS:
            raise r.fail(key_node, f"unknown key {key!r}; expected one of {sorted(_TOP_KEYS)}")

    label = r.scalar(top["version"][1], "version") if "version" in top else None
    languages: list[str] = ["en"]
    if "languages" in top:
        languages = []
        for node in r.sequence(top["languages"][1], "languages"):
            lang = r.scalar(node, "a language").strip().lower()
            if not lang.isalpha() or not 2 <= len(lang) <= 3:
                raise r.fail(node, f"language {lang!r} is not an ISO 639 code such as en or de")
            languages.append(lang)

    categories: dict[str, str] = {}
    if "categories" in top:
        for key, (_, value_node) in r.mapping(top["categories"][1], "categories").items():
            categories[key] = r.scalar(value_node, f"description of category {key!r}")
    if "rules" not in top:
        raise InputError("the term list has no 'rules'", file=source, line=_line(root))

    rules: list[Rule] = []
    seen: set[str] = set()
    for rule_node in r.sequence(top["rules"][1], "rules"):
        rule = _parse_rule(r, rule_node, categories)
        if rule.id in seen:
            raise r.fail(rule_node, f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        rules.append(rule)
    if not rules:
        raise InputError("the term list has no rules", file=source, line=_line(root))
    return TermList(
        rules=tuple(rules),
        version=content_hash(text.encode("utf-8", "surrogatepass")),
        categories=categories,
        languages=tuple(dict.fromkeys(languages)),
        label=label,
        source=source,
    )


def _parse_rule(r: _Reader, node: yaml.Node, categories: dict[str, str]) -> Rule:
    fields = r.mapping(node, "a rule")
    for key, (key_node, _) in fields.items():
        if key not in _RULE_KEYS:
            expected = ", ".join(sorted(_RULE_KEYS))
            raise r.fail(key_node, f"unknown rule key {key!r}; expected one of {expected}")
    if "id" not in fields:
        raise r.fail(node, "a rule needs an 'id'")
    rule_id = r.scalar(fields["id"][1], "id").strip()
    if not rule_id:
        raise r.fail(fields["id"][1], "rule id is empty")
    if "category" not in fields:
        raise r.fail(node, f"rule {rule_id!r} needs a 'category'")
    cat_node = fields["category"][1]
    category = r.scalar(cat_node, "category")
    if category not in categories:
        raise r.fail(cat_node, f"unknown category {category!r}; declare it under 'categories'")

    match = "word"
    if "match" in fields:
        match = r.scalar(fields["match"][1], "match")
        if match not in MATCH_KINDS:
            raise r.fail(fields["match"][1], f"match must be one of {', '.join(MATCH_KINDS)}")

    def terms_of(key: str, kind: str) -> tuple[Term, ...]:
        if key not in fields:
            return ()
        out = []
        for term_node in r.sequence(fields[key][1], key):
            text = r.scalar(term_node, f"a term in {key}")
            out.append(make_term(text, kind=kind, source=r.source, line=_line(term_node)))
        return tuple(out)

    terms = terms_of("terms", match)
    unless = terms_of("unless", "word")
    groups: list[tuple[Term, ...]] = []
    if "all_of" in fields:
        for group_node in r.sequence(fields["all_of"][1], "all_of"):
            group = []
            for term_node in r.sequence(group_node, "an all_of group"):
                text = r.scalar(term_node, "a term in all_of")
                group.append(make_term(text, kind=match, source=r.source, line=_line(term_node)))
            if not group:
                raise r.fail(group_node, f"rule {rule_id!r} has an empty all_of group")
            groups.append(tuple(group))
    age_below = None
    if "age_below" in fields:
        age_below = r.integer(fields["age_below"][1], "age_below", 1, 99)
    with_category = None
    if "with_category" in fields:
        wc_node = fields["with_category"][1]
        with_category = r.scalar(wc_node, "with_category")
        if with_category not in categories:
            raise r.fail(wc_node, f"unknown category {with_category!r} in with_category")
        if with_category == category:
            raise r.fail(wc_node, "with_category must name another category than the rule's own")
    if not terms and not groups and with_category is None:
        raise r.fail(node, f"rule {rule_id!r} has no terms, all_of or with_category")
    return Rule(
        id=rule_id,
        category=category,
        terms=terms,
        all_of=tuple(groups),
        unless=unless,
        match=match,
        age_below=age_below,
        with_category=with_category,
        line=_line(node),
    )


# --- files -----------------------------------------------------------------------------------


def read_text(path: Path) -> tuple[bytes, str]:
    """The file's bytes and its UTF-8 text, or an InputError a person can act on."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read term list: {exc.strerror}", file=str(path)) from exc
    try:
        return data, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("term list is not UTF-8 text", file=str(path), line=line) from exc


def is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


def load(path: str | Path) -> TermList:
    """Read a plain (.txt or any other name) or YAML (.yaml, .yml) term list."""
    path = Path(path)
    _, text = read_text(path)
    if is_yaml(path):
        return parse_yaml(text, source=str(path))
    return parse_plain(text, source=str(path))


def unknown_languages(term_list: TermList) -> list[str]:
    """Declared languages the age helper has no words for (lint reports them)."""
    return [lang for lang in term_list.languages if lang not in NUMBER_WORDS]


def as_dict(term_list: TermList) -> dict[str, Any]:
    """A plain summary for the CLI (never the terms themselves)."""
    return {
        "list_version": term_list.version,
        "label": term_list.label,
        "rules": len(term_list.rules),
        "terms": sum(
            len(r.terms) + sum(len(g) for g in r.all_of) + len(r.unless) for r in term_list.rules
        ),
        "categories": sorted(term_list.categories),
        "languages": list(term_list.languages),
    }

"""Term-list files (first version: plain text lists)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from offramp.errors import InputError
from offramp.screen.normalize import fold

DEFAULT_CATEGORY = "default"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: any of ``terms`` (folded phrases) makes it fire."""

    id: str
    category: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TermList:
    """A validated list: its rules and the content hash that names its version."""

    rules: tuple[Rule, ...]
    version: str


def content_hash(data: bytes) -> str:
    """The list version: the first 16 hex digits of SHA-256 over the file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def parse_plain(text: str, *, source: str = "<terms>") -> TermList:
    """One term or phrase a line; ``#`` starts a comment; blank lines are ignored.

    Rule ids are ``line:<n>`` (the line number), so a verdict points at the line that fired.
    """
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        folded = fold(line)
        if not folded:
            raise InputError(f"term {line!r} folds to nothing", file=source, line=number)
        rules.append(Rule(id=f"line:{number}", category=DEFAULT_CATEGORY, terms=(folded,)))
    return TermList(rules=tuple(rules), version=content_hash(text.encode("utf-8")))


def load(path: str | Path) -> TermList:
    """Read a term list from a file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read term list: {exc.strerror}", file=str(path)) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("term list is not UTF-8", file=str(path)) from exc
    return parse_plain(text, source=str(path))

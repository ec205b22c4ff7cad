"""The online path: ``Screener.check(query) -> Verdict`` (first version: whole-token phrases)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from offramp.screen import terms as _terms
from offramp.screen.normalize import fold
from offramp.screen.verdict import Verdict

MAX_QUERY_CHARS = 2048


class Screener:
    """Screens queries against one loaded term list. Immutable once built; share freely."""

    def __init__(self, term_list: _terms.TermList) -> None:
        self._list = term_list
        self._index: dict[str, list[_terms.Rule]] = {}
        self._max_words = 1
        for rule in term_list.rules:
            for term in rule.terms:
                self._index.setdefault(term, []).append(rule)
                self._max_words = max(self._max_words, term.count(" ") + 1)
        self._clear = Verdict(False, (), (), None, term_list.version)

    @classmethod
    def from_file(cls, path: str | Path) -> Screener:
        return cls(_terms.load(path))

    @classmethod
    def from_terms(cls, terms: Iterable[str]) -> Screener:
        return cls(_terms.parse_plain("\n".join(terms), source="<terms>"))

    @property
    def list_version(self) -> str:
        return self._list.version

    def check(self, query: str) -> Verdict:
        tokens = fold(query[:MAX_QUERY_CHARS]).split()
        hits: dict[str, _terms.Rule] = {}
        for i in range(len(tokens)):
            for n in range(1, self._max_words + 1):
                if i + n > len(tokens):
                    break
                for rule in self._index.get(" ".join(tokens[i : i + n]), ()):
                    hits[rule.id] = rule
        if not hits:
            return self._clear
        rules = tuple(sorted(hits))
        categories = tuple(sorted({r.category for r in hits.values()}))
        return Verdict(True, categories, rules, None, self._list.version)
